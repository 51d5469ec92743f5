"""The Keras API's loss objects, over the kernels of :mod:`glassnet.functional.losses`.

A loss is called Keras' way, ``loss(y_true, y_pred, sample_weight=None)``: a float,
or the weighted per-sample losses with ``reduction="none"``; the training loop
calls ``loss.compute(y_true, y_pred, sample_weight)`` for the value and the
gradient with respect to ``y_pred``. Every loss takes Keras 3's ``reduction``
(``"sum_over_batch_size"`` by default, ``"sum"``, ``"mean"``,
``"mean_with_sample_weight"``, ``"none"`` or None), ``name`` and ``dtype``; the
one reduction is :func:`glassnet.functional.losses.reduce_loss`, and training
minimises what the reduction gives, so ``"sum"`` has gradients N times those of
``"sum_over_batch_size"``. Targets are reshaped as Keras does: targets of shape
(N,) become (N, 1), a single target per sample broadcasts against every output
unit, and sparse labels (N, 1) become (N,).

Cross-entropy on probabilities (``from_logits=False``) after a softmax or sigmoid
output is computed by the model from the logits instead (see
:meth:`Loss.fused_activation`), the numerically stable fused form. The three
cross-entropies take Keras' ``label_smoothing``.

The function forms (``categorical_crossentropy(y_true, y_pred, ...)``, ``mse``, ...)
return Keras' per-sample values, reduced over the last axis only. :func:`get`
(what ``compile(loss=...)`` calls) turns each of them, or a ``functools.partial``
of one, into its ``Loss`` class with the same options, so training has the
kernel's gradient. Any other callable is refused: glassnet has no automatic
differentiation of arbitrary Python, and a loss without a gradient cannot train.
Subclass :class:`Loss` with a ``kernel`` returning ``(loss, dy_pred)`` instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._internal import registry as _registry
from glassnet._internal.checks import as_numeric_array, check_array, check_number, fail
from glassnet.backend import Array, floatx, get_array_module
from glassnet.functional import losses as K
from glassnet.ops import tape as tape_mod


def broadcast_targets(y_true: Array, y_pred: Array) -> Array:
    """Targets shaped like the outputs, as Keras 3 broadcasts them.

    Keras 3's ``squeeze_or_expand_to_same_rank`` gives (N,) targets a last axis
    only against outputs (N, 1); one target per sample, (N, 1), is then repeated
    across the outputs (N, k). Against outputs (N, k) with k > 1, (N,) targets
    keep their rank and broadcast as NumPy's: along the last axis, so target j
    meets output column j of every sample (when N == k; refused otherwise, where
    Keras fails on the shapes). Anything else must already match.

    Raises:
        ValueError: naming ``y`` and both shapes when they cannot be matched.
    """
    xp = get_array_module(y_true)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true.reshape(*y_true.shape, 1)
    elif y_true.ndim == y_pred.ndim - 1:
        try:
            y_true = xp.broadcast_to(y_true, y_pred.shape)
        except ValueError:
            raise fail(
                "y",
                f"targets of shape {tuple(y_pred.shape)} like the outputs "
                "(Keras 3 broadcasts lower-rank targets along the last axis, "
                "and these do not fit it; reshape them to "
                f"{(*y_pred.shape[:-1], 1)} for one target per sample)",
                f"shape {tuple(y_true.shape)}",
            ) from None
    if y_true.shape[:-1] == y_pred.shape[:-1] and y_true.shape[-1:] == (1,):
        y_true = xp.broadcast_to(y_true, y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise fail(
            "y",
            f"targets of shape {tuple(y_pred.shape)} like the outputs",
            f"shape {tuple(y_true.shape)}",
        )
    return y_true.astype(y_pred.dtype, copy=False)


def _check_name(name: Any, default: str) -> str:
    if name is None:
        return default
    if not isinstance(name, str) or not name:
        raise fail("name", "a non-empty string or None", repr(name))
    return name


def _check_dtype(dtype: Any) -> str | None:
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise fail("dtype", "None or a floating-point dtype name", repr(dtype))
    return dt.name


class Loss:
    """Base class of the losses: Keras 3's ``reduction``, ``name`` and ``dtype``.

    A subclass sets ``kernel(y_pred, y_true, **kwargs) -> (loss, dy_pred)``, a
    kernel of :mod:`glassnet.functional.losses` that takes ``sample_weight`` and
    ``reduction`` (``from_logits`` too where the subclass has it), and its
    class attribute ``name`` (the default name).

    Args:
        name: the loss's name. Defaults to `None`, meaning the class's.
        reduction: ``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or None (see
            :func:`glassnet.functional.losses.reduce_loss`). Defaults to
            `"sum_over_batch_size"`.
        dtype: the dtype the loss computes in (``y_pred`` is cast to it).
            Defaults to `None`, meaning ``y_pred``'s.
        from_logits: whether ``y_pred`` holds logits (for losses that have the
            option). Defaults to `False`.

    Raises:
        ValueError: for an unknown ``reduction``, a bad ``name`` or ``dtype``.
    """

    name = "loss"

    def __init__(
        self,
        name: str | None = None,
        reduction: Any = "sum_over_batch_size",
        dtype: Any = None,
        *,
        from_logits: bool = False,
    ) -> None:
        if not isinstance(from_logits, bool):
            raise fail("from_logits", "True or False", repr(from_logits))
        self.from_logits = from_logits
        self.name = _check_name(name, type(self).name)
        self.reduction = None if reduction is None else K.check_reduction(reduction)
        self.dtype = _check_dtype(dtype)

    @property
    def kind(self) -> str:
        """The loss's kind: its class's name (``"sparse_categorical_crossentropy"``),
        whatever ``name`` this instance was given; accuracy and the label checks
        of ``fit`` go by it."""
        return type(self).name

    def kernel(
        self, y_pred: Array, y_true: Array, **kwargs: Any
    ) -> tuple[float, Array]:
        raise NotImplementedError

    def kernel_options(self) -> dict[str, Any]:
        """Keyword options the kernel takes besides ``from_logits``."""
        return {"from_logits": self.from_logits}

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        """Reshape ``y_true`` to ``y_pred``'s shape when Keras would broadcast it."""
        return broadcast_targets(y_true, y_pred)

    def _reduced(
        self,
        y_true: Array,
        y_pred: Array,
        sample_weight: Array | None,
        from_logits: bool | None,
    ) -> tuple[Any, Array]:
        """The kernel's ``(reduced loss, dy_pred)``, in the loss's dtype."""
        check_array("y_pred", y_pred, min_ndim=1)
        if self.dtype is not None:
            y_pred = y_pred.astype(self.dtype, copy=False)
        y_true = self.prepare_targets(y_true, y_pred)
        options = self.kernel_options()
        if from_logits is not None:
            options["from_logits"] = from_logits
        return self.kernel(
            y_pred,
            y_true,
            sample_weight=sample_weight,
            reduction=self.reduction,
            **options,
        )

    def compute(
        self,
        y_true: Array,
        y_pred: Array,
        sample_weight: Array | None = None,
        *,
        from_logits: bool | None = None,
    ) -> tuple[float, Array]:
        """What training takes: ``(loss, dy_pred)``, the loss a float.

        ``from_logits`` overrides the constructor's. With ``reduction="none"``
        there is no one number to minimise: the gradient is that of the sum of
        the per-sample losses (as TensorFlow's tape differentiates a vector)
        and the loss is their mean (what Keras' loss tracker logs).
        """
        loss, dy_pred = self._reduced(y_true, y_pred, sample_weight, from_logits)
        if hasattr(loss, "shape"):
            loss = float(loss.mean())
        return loss, dy_pred.astype(y_pred.dtype, copy=False)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The loss of a batch: a float, or with ``reduction="none"`` the
        weighted per-sample losses; lists are accepted as Keras accepts them.
        While a tape records, an array recorded on it (one op)."""
        taped = y_pred
        y_true, y_pred = _as_arrays(y_true, tape_mod.plain(y_pred))
        if sample_weight is not None:
            sample_weight = as_numeric_array("sample_weight", sample_weight)
        loss, dy_pred = self._reduced(y_true, y_pred, sample_weight, None)
        dy_pred = dy_pred.astype(y_pred.dtype, copy=False)
        if not tape_mod.is_recording():
            return loss if hasattr(loss, "shape") else float(loss)
        loss = np.asarray(loss, dtype=dy_pred.dtype)

        def backward(g: Array) -> tuple[Array]:
            # dy_pred holds each position's weighted derivative, so an upstream
            # gradient per value (reduction "none") scales its own positions.
            g = g.reshape(g.shape + (1,) * (dy_pred.ndim - g.ndim))
            return ((g * dy_pred).astype(dy_pred.dtype, copy=False),)

        # Under a tape the loss is one op: its gradient is the kernel's dy_pred.
        return tape_mod.record(loss, (taped,), backward)

    def fused_activation(self) -> str | None:
        """The output activation whose logits this loss can use directly, if any."""
        return None

    def get_config(self) -> dict[str, Any]:
        """Keras' keys: ``name``, ``reduction`` (and ``dtype`` when set)."""
        config: dict[str, Any] = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class _Crossentropy(Loss):
    """A cross-entropy: ``from_logits`` and Keras' ``label_smoothing``."""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Any = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name, reduction, dtype, from_logits=from_logits)
        _check_axis(axis)
        self.label_smoothing = check_number(
            "label_smoothing", label_smoothing, low=0.0, high=1.0
        )

    def kernel_options(self) -> dict[str, Any]:
        return {**super().kernel_options(), "label_smoothing": self.label_smoothing}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": -1,
        }


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer labels (N,) against (N, C) outputs, or per
    position: labels (N, ...) against outputs (N, ..., C).

    Keras 3's arguments ``(from_logits, ignore_class, reduction, name, dtype)``;
    ``label_smoothing`` smooths the one-hot rows of the labels, as Keras 3's
    newer releases do for this loss. Labels equal to ``ignore_class`` count for
    nothing, and the mean is over the others (see
    :func:`glassnet.functional.losses.sparse_categorical_crossentropy_loss`).

    Example:
        >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
        >>> round(loss([1, -1], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]), 4)
        0.0513
    """

    name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: Any = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        *,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(name, reduction, dtype, from_logits=from_logits)
        self.ignore_class = K._check_ignore_class(ignore_class)
        self.label_smoothing = check_number(
            "label_smoothing", label_smoothing, low=0.0, high=1.0
        )

    def kernel_options(self) -> dict[str, Any]:
        return {
            **super().kernel_options(),
            "label_smoothing": self.label_smoothing,
            "ignore_class": self.ignore_class,
        }

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true.reshape(y_true.shape[:-1])
        return y_true.astype("int64", copy=False)

    def kernel(self, y_pred, y_true, **kwargs):
        return K.sparse_categorical_crossentropy_loss(y_pred, y_true, **kwargs)

    def fused_activation(self) -> str | None:
        return None if self.from_logits else "softmax"

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }
        if self.label_smoothing:
            config["label_smoothing"] = self.label_smoothing
        return config


class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy with one-hot (or soft) targets (N, C), or per position
    (N, ..., C). Keras 3's arguments ``(from_logits, label_smoothing, axis,
    reduction, name, dtype)``; ``axis`` must be -1."""

    name = "categorical_crossentropy"

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        if y_true.shape != y_pred.shape:
            raise fail(
                "y",
                f"one-hot targets of shape {tuple(y_pred.shape)} (integer labels "
                "need sparse_categorical_crossentropy)",
                f"shape {tuple(y_true.shape)}",
            )
        return y_true.astype(y_pred.dtype, copy=False)

    def kernel(self, y_pred, y_true, **kwargs):
        return K.categorical_crossentropy_loss(y_pred, y_true, **kwargs)

    def fused_activation(self) -> str | None:
        return None if self.from_logits else "softmax"


class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy; targets in [0, 1] shaped like the outputs. Keras 3's
    arguments ``(from_logits, label_smoothing, axis, reduction, name, dtype)``."""

    name = "binary_crossentropy"

    def kernel(self, y_pred, y_true, **kwargs):
        return K.binary_crossentropy_loss(y_pred, y_true, **kwargs)

    def fused_activation(self) -> str | None:
        return None if self.from_logits else "sigmoid"


class _Regression(Loss):
    """A loss without options: Keras 3's ``(reduction, name, dtype)``."""

    def __init__(
        self,
        reduction: Any = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name, reduction, dtype)

    def kernel_options(self) -> dict[str, Any]:
        return {}


class MeanSquaredError(_Regression):
    """Mean of squared errors over the last axes, then over the batch."""

    name = "mean_squared_error"

    def kernel(self, y_pred, y_true, **kwargs):
        return K.mean_squared_error_loss(y_pred, y_true, **kwargs)


class MeanAbsoluteError(_Regression):
    """Mean of absolute errors over the last axes, then over the batch."""

    name = "mean_absolute_error"

    def kernel(self, y_pred, y_true, **kwargs):
        return K.mean_absolute_error_loss(y_pred, y_true, **kwargs)


class Hinge(_Regression):
    """Keras' binary hinge ``mean(max(1 - y * x, 0))``; labels in {-1, 1} or {0, 1}."""

    name = "hinge"

    def kernel(self, y_pred, y_true, **kwargs):
        return K.hinge_loss(y_pred, y_true, **kwargs)


# -- function forms: Keras' per-sample values --


def _as_arrays(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    """Lists or arrays as arrays; integer predictions become floatx, as in Keras."""
    if not hasattr(y_pred, "dtype"):
        y_pred = as_numeric_array("y_pred", y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(floatx())
    if not hasattr(y_true, "dtype"):
        y_true = as_numeric_array("y_true", y_true)
    return y_true, y_pred


def _over_last_axis(
    kernel: Callable[..., tuple[Any, Array]],
    y_true: Array,
    y_pred: Array,
    **options: Any,
) -> Array:
    """Per-sample values of ``kernel``: rows along the last axis, shape[:-1] back."""
    shape = y_pred.shape[:-1]
    rows = y_pred.reshape(-1, y_pred.shape[-1])
    # Sparse labels have one rank less than the outputs; dense targets match them.
    targets = y_true.reshape(-1 if y_true.ndim < y_pred.ndim else rows.shape)
    return kernel(rows, targets, reduction="none", **options)[0].reshape(shape)


def _check_axis(axis: Any) -> None:
    if axis != -1:
        raise fail("axis", "-1 (glassnet reduces over the last axis)", repr(axis))


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """Per-sample cross-entropy against one-hot targets, as Keras' function.

    Shapes:
        y_true: like y_pred;  y_pred: (N, C) or (..., C);  out: y_pred.shape[:-1]

    Example:
        >>> categorical_crossentropy(
        ...     [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
        ... ).round(4).tolist()
        [0.0513, 2.3026]
    """
    _check_axis(axis)
    y_true, y_pred = _as_arrays(y_true, y_pred)
    y_true = CategoricalCrossentropy().prepare_targets(y_true, y_pred)
    return _over_last_axis(
        K.categorical_crossentropy_loss,
        y_true,
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
    )


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Array:
    """Per-sample cross-entropy against integer labels, as Keras' function.

    Positions labelled ``ignore_class`` get a loss of 0 (Keras also masks them
    out of a loss object's mean; :class:`SparseCategoricalCrossentropy` does).

    Shapes:
        y_true: y_pred.shape[:-1] (or with a trailing 1);  y_pred: (..., C);
        out: y_pred.shape[:-1]

    Example:
        >>> sparse_categorical_crossentropy(
        ...     [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
        ... ).round(4).tolist()
        [0.0513, 2.3026]
    """
    _check_axis(axis)
    y_true, y_pred = _as_arrays(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    return _over_last_axis(
        K.sparse_categorical_crossentropy_loss,
        y_true,
        y_pred,
        from_logits=from_logits,
        ignore_class=ignore_class,
    )


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """Binary cross-entropy averaged over the last axis, as Keras' function.

    Shapes:
        y_true: like y_pred (or one rank less);  y_pred: (N, k);  out: (N,)

    Example:
        >>> binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).round(
        ...     3
        ... ).tolist()
        [0.916, 0.714]
    """
    _check_axis(axis)
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return _over_last_axis(
        K.binary_crossentropy_loss,
        broadcast_targets(y_true, y_pred),
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
    )


def _elementwise_form(kernel: Callable[..., tuple[Any, Array]], name: str, doc: str):
    def fn(y_true: Any, y_pred: Any) -> Array:
        y_true, y_pred = _as_arrays(y_true, y_pred)
        return _over_last_axis(kernel, broadcast_targets(y_true, y_pred), y_pred)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""{doc}, as Keras' function.

    Shapes:
        y_true: like y_pred (or one rank less);  y_pred: (N, k);  out: (N,)
    """
    return fn


mean_squared_error = _elementwise_form(
    K.mean_squared_error_loss,
    "mean_squared_error",
    "Per-sample mean of squared errors over the last axis",
)
mean_absolute_error = _elementwise_form(
    K.mean_absolute_error_loss,
    "mean_absolute_error",
    "Per-sample mean of absolute errors over the last axis",
)
hinge = _elementwise_form(
    K.hinge_loss, "hinge", "Per-sample mean of max(1 - y_true y_pred, 0)"
)
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

FUNCTIONS: dict[Callable[..., Array], type[Loss]] = {
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    hinge: Hinge,
}
"""Each function-form loss and the Loss class ``get`` wraps it into."""

LOSSES: dict[str, type[Loss]] = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "hinge": Hinge,
}


def _from_function(identifier: Any) -> Loss | None:
    """The Loss for a function-form loss or a ``functools.partial`` of one."""
    fn, options = identifier, {}
    if isinstance(identifier, functools.partial) and not identifier.args:
        fn, options = identifier.func, dict(identifier.keywords)
    try:
        cls = FUNCTIONS.get(fn)
    except TypeError:  # unhashable callables are never function-form losses
        return None
    if cls is None:
        return None
    _check_axis(options.pop("axis", -1))
    try:
        return cls(**options)
    except TypeError:
        raise fail(
            "loss", f"{fn.__name__} with the options of {cls.__name__}", options
        ) from None


def get(identifier: Any) -> Loss:
    """Resolve a name (``"mse"``), a class name, a config dict, an instance, or a
    function-form loss (``losses.sparse_categorical_crossentropy``).

    A function-form loss, or a ``functools.partial`` of one with keyword options
    (``partial(categorical_crossentropy, label_smoothing=0.1)``), becomes its
    Loss class with those options, so it trains with the kernel's gradient.

    Raises:
        ValueError: for an unknown name, or a callable that is not one of
            glassnet's function-form losses (it would have no gradient); the
            message lists the valid names.
    """
    if callable(identifier) and not isinstance(identifier, type | Loss):
        loss = _from_function(identifier)
        if loss is not None:
            return loss
        name = getattr(identifier, "__name__", type(identifier).__name__)
        raise fail(
            "loss",
            "a loss name, a Loss object or one of glassnet.losses' functions "
            f"({sorted(f.__name__ for f in FUNCTIONS)}); a custom fn(y_true, "
            "y_pred) has no gradient in glassnet: subclass glassnet.losses.Loss "
            "with a kernel(y_pred, y_true, **kwargs) -> (loss, dy_pred)",
            f"the callable {name}",
        )
    return _registry.resolve("loss", identifier, Loss, LOSSES, allow_none=False)


def serialize(loss: Loss) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a loss, safe to write as JSON."""
    return _registry.serialize(loss)


__all__ = [
    "FUNCTIONS",
    "MAE",
    "MSE",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Hinge",
    "LOSSES",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "hinge",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
]
