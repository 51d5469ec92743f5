"""The Keras API's loss objects, over the kernels of :mod:`glassnet.functional.losses`.

A loss is called Keras' way, ``loss(y_true, y_pred, sample_weight=None) -> float``;
the training loop calls ``loss.compute(y_true, y_pred, sample_weight)`` for the
value and the gradient with respect to ``y_pred``. The reduction is Keras'
``sum_over_batch_size``. Targets are reshaped as Keras does: targets of shape (N,)
become (N, 1), a single target per sample broadcasts against every output unit,
and sparse labels (N, 1) become (N,).

Cross-entropy on probabilities (``from_logits=False``) after a softmax or sigmoid
output is computed by the model from the logits instead (see
:meth:`Loss.fused_activation`), the numerically stable fused form.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal import registry as _registry
from glassnet._internal.checks import check_array, fail
from glassnet.backend import Array, get_array_module
from glassnet.functional import losses as K


def broadcast_targets(y_true: Array, y_pred: Array) -> Array:
    """Targets shaped like the outputs, as Keras broadcasts them.

    (N,) becomes (N, 1); one target per sample, (N, 1), is repeated across the
    outputs (N, k). Anything else must already match.

    Raises:
        ValueError: naming ``y`` and both shapes when they cannot be matched.
    """
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true.reshape(*y_true.shape, 1)
    if y_true.shape[:-1] == y_pred.shape[:-1] and y_true.shape[-1:] == (1,):
        y_true = get_array_module(y_true).broadcast_to(y_true, y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise fail(
            "y",
            f"targets of shape {tuple(y_pred.shape)} like the outputs",
            f"shape {tuple(y_true.shape)}",
        )
    return y_true.astype(y_pred.dtype, copy=False)


class Loss:
    """Base class: subclasses set ``kernel`` and pass keyword options to it."""

    name = "loss"

    def __init__(self, from_logits: bool = False) -> None:
        if not isinstance(from_logits, bool):
            raise fail("from_logits", "True or False", repr(from_logits))
        self.from_logits = from_logits

    def kernel(
        self, y_pred: Array, y_true: Array, **kwargs: Any
    ) -> tuple[float, Array]:
        raise NotImplementedError

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        """Reshape ``y_true`` to ``y_pred``'s shape when Keras would broadcast it."""
        return broadcast_targets(y_true, y_pred)

    def compute(
        self,
        y_true: Array,
        y_pred: Array,
        sample_weight: Array | None = None,
        *,
        from_logits: bool | None = None,
    ) -> tuple[float, Array]:
        """Return ``(loss, dy_pred)``; ``from_logits`` overrides the constructor."""
        check_array("y_pred", y_pred, min_ndim=1)
        y_true = self.prepare_targets(y_true, y_pred)
        logits = self.from_logits if from_logits is None else from_logits
        return self.kernel(
            y_pred, y_true, sample_weight=sample_weight, from_logits=logits
        )

    def __call__(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> float:
        return float(self.compute(y_true, y_pred, sample_weight)[0])

    def fused_activation(self) -> str | None:
        """The output activation whose logits this loss can use directly, if any."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer labels (N,) against (N, C) outputs."""

    name = "sparse_categorical_crossentropy"

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true.reshape(y_true.shape[:-1])
        return y_true.astype("int64", copy=False)

    def kernel(self, y_pred, y_true, **kwargs):
        return K.sparse_categorical_crossentropy_loss(y_pred, y_true, **kwargs)

    def fused_activation(self) -> str | None:
        return None if self.from_logits else "softmax"


class CategoricalCrossentropy(Loss):
    """Cross-entropy with one-hot (or soft) targets (N, C)."""

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


class BinaryCrossentropy(Loss):
    """Binary cross-entropy; targets in [0, 1] shaped like the outputs."""

    name = "binary_crossentropy"

    def kernel(self, y_pred, y_true, **kwargs):
        return K.binary_crossentropy_loss(y_pred, y_true, **kwargs)

    def fused_activation(self) -> str | None:
        return None if self.from_logits else "sigmoid"


class _Regression(Loss):
    def __init__(self) -> None:
        super().__init__(from_logits=False)

    def compute(self, y_true, y_pred, sample_weight=None, *, from_logits=None):
        check_array("y_pred", y_pred, min_ndim=1)
        y_true = self.prepare_targets(y_true, y_pred)
        return self.kernel(y_pred, y_true, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
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


LOSSES: dict[str, type[Loss]] = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "hinge": Hinge,
}


def get(identifier: Any) -> Loss:
    """Resolve a name (``"mse"``), a class name, a config dict or an instance.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _registry.resolve("loss", identifier, Loss, LOSSES, allow_none=False)


def serialize(loss: Loss) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a loss, safe to write as JSON."""
    return _registry.serialize(loss)


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Hinge",
    "LOSSES",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
    "serialize",
]
