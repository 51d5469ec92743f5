"""Metrics with Keras' names: per-sample functions and stateful ``Metric`` objects.

A metric function ``fn(y_true, y_pred) -> (N,) array`` scores each sample; a
:class:`MeanMetricWrapper` averages it over batches (weighted by ``sample_weight``),
as Keras' stateful metrics do: ``update_state``, ``result``, ``reset_state``, which
accept lists as well as arrays. :class:`Precision`, :class:`Recall` and
:class:`AUC` accumulate weighted confusion counts at fixed thresholds instead.
``compile(metrics=["accuracy"])`` resolves ``"accuracy"`` from the shapes of the
first batch, as Keras 3 does (:func:`resolve_accuracy`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._internal.checks import as_numeric_array, check_int, check_number, fail
from glassnet.backend import Array, get_array_module, to_numpy
from glassnet.losses import broadcast_targets

# -- per-sample metric functions --


def _labels(y_true: Array) -> Array:
    """Sparse labels as a rank-1 int array: (N,) or (N, 1) accepted."""
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    return y_true.astype("int64", copy=False)


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where the arg-max of ``y_pred`` (N, C) equals the integer label."""
    return (y_pred.argmax(axis=-1) == _labels(y_true)).astype(y_pred.dtype)


def categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where the arg-maxes of one-hot ``y_true`` and ``y_pred`` agree."""
    return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype(y_pred.dtype)


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> Array:
    """Mean over the last axis of ``(y_pred > threshold) == y_true``."""
    y_true = broadcast_targets(y_true, y_pred)
    hits = (y_pred > threshold) == (y_true > 0.5)
    return hits.reshape(len(hits), -1).mean(axis=-1).astype(y_pred.dtype)


def sparse_top_k_categorical_accuracy(
    y_true: Array, y_pred: Array, k: int = 5
) -> Array:
    """1.0 where the integer label is among the ``k`` highest scores."""
    xp = get_array_module(y_pred)
    labels = _labels(y_true)
    k = min(check_int("k", k, min_value=1), y_pred.shape[-1])
    target = xp.take_along_axis(y_pred, labels[:, None], axis=-1)
    # Counting strictly larger scores gives ties to the target, as Keras' in_top_k.
    return ((y_pred > target).sum(axis=-1) < k).astype(y_pred.dtype)


def top_k_categorical_accuracy(y_true: Array, y_pred: Array, k: int = 5) -> Array:
    """1.0 where the one-hot target's class is among the ``k`` highest scores."""
    return sparse_top_k_categorical_accuracy(y_true.argmax(axis=-1), y_pred, k)


def _flat_pairs(y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    y_true = broadcast_targets(y_true, y_pred)
    return y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)


def mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    """Per-sample mean of squared errors."""
    t, p = _flat_pairs(y_true, y_pred)
    return ((p - t) ** 2).mean(axis=-1)


def mean_absolute_error(y_true: Array, y_pred: Array) -> Array:
    """Per-sample mean of absolute errors."""
    t, p = _flat_pairs(y_true, y_pred)
    xp = get_array_module(p)
    return xp.abs(p - t).mean(axis=-1)


def root_mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    """Per-sample mean of squared errors, whose running mean RMSE takes the root of."""
    return mean_squared_error(y_true, y_pred)


# -- stateful metrics --


def _as_array(name: str, value: Any) -> Array:
    """Lists (as Keras accepts them) or arrays, as arrays."""
    return value if hasattr(value, "dtype") else as_numeric_array(name, value)


def _as_pair(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    y_true, y_pred = _as_array("y_true", y_true), _as_array("y_pred", y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float64)
    return y_true, y_pred


def _weights_like(sample_weight: Any, values: Array) -> Array:
    """``sample_weight`` (N,), (N, 1) or like ``values``, broadcast to its shape."""
    xp = get_array_module(values)
    if sample_weight is None:
        return xp.ones(values.shape)
    w = _as_array("sample_weight", sample_weight).astype(np.float64)
    if w.ndim < values.ndim:
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        return xp.broadcast_to(w, values.shape)
    except ValueError:
        raise fail(
            "sample_weight",
            f"a weight per sample, shape ({values.shape[0]},) or {values.shape}",
            f"shape {tuple(w.shape)}",
        ) from None


class Metric:
    """Base of the stateful metrics: ``update_state``, ``result``, ``reset_state``.

    ``get_state``/``set_state`` give the running state as JSON-safe numbers, for
    backups. Calling a metric updates it and returns the result, as in Keras.
    """

    default_name = "metric"
    state_names: tuple[str, ...] = ()

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.default_name
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_state(self) -> list[Any]:
        """The running state, JSON-safe: one entry per name in ``state_names``."""
        return [
            np.asarray(to_numpy(getattr(self, k))).tolist() for k in self.state_names
        ]

    def set_state(self, state: list[Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        for key, value in zip(self.state_names, state, strict=True):
            old = getattr(self, key)
            setattr(self, key, value if isinstance(old, float) else np.asarray(value))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Mean(Metric):
    """Keras' ``Mean``: the weighted running mean of per-sample values.

    Values of rank > 1 are first averaged over their trailing axes, and so are
    weights shaped like them, as Keras reduces them to per-sample values.
    """

    default_name = "mean"
    state_names = ("total", "count")

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        values = _as_array("values", values).astype(np.float64, copy=False)
        if values.ndim == 0:
            values = values.reshape(1)
        w = _weights_like(sample_weight, values)
        n = values.shape[0]
        self.total += float((values * w).reshape(n, -1).mean(axis=1).sum())
        self.count += float(w.reshape(n, -1).mean(axis=1).sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Wraps a per-sample ``fn(y_true, y_pred, **kwargs)`` as a running mean."""

    def __init__(
        self, fn: Callable[..., Array], name: str | None = None, **kwargs: Any
    ) -> None:
        self.fn = fn
        self.kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"))

    def scores(self, y_true: Array, y_pred: Array) -> Array:
        return self.fn(y_true, y_pred, **self.kwargs)

    def update_state(  # type: ignore[override]
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> None:
        y_true, y_pred = _as_pair(y_true, y_pred)
        super().update_state(self.scores(y_true, y_pred), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.kwargs}


METRICS: dict[str, Callable[..., Array]] = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
}
_ALIASES = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
}


def resolve_accuracy(
    loss_name: str, y_true: Array | None = None, y_pred: Array | None = None
) -> str:
    """The accuracy Keras 3 picks for ``metrics=["accuracy"]``.

    Given the shapes, they alone decide, as Keras 3's ``compile_utils.get_metric``
    does: one output column is binary accuracy; labels of lower rank than the
    outputs, or a last axis of 1 against several outputs, sparse categorical
    accuracy; otherwise categorical accuracy (multi-label targets of binary
    cross-entropy too: Keras 3 compares their argmax, not tf.keras 2's
    thresholded binary accuracy). Without shapes, the loss gives the guess.
    """
    if y_true is not None and y_pred is not None:
        if y_pred.shape[-1] == 1:
            return "binary_accuracy"
        if y_true.ndim < y_pred.ndim or (
            y_true.shape[-1] == 1 and y_pred.shape[-1] > 1
        ):
            return "sparse_categorical_accuracy"
        return "categorical_accuracy"
    if loss_name == "binary_crossentropy":
        return "binary_accuracy"
    if loss_name == "sparse_categorical_crossentropy":
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


class AutoAccuracy(MeanMetricWrapper):
    """``"accuracy"``: resolved on the first batch from the shapes, as Keras 3."""

    def __init__(self, name: str = "accuracy", loss_name: str = "") -> None:
        self.loss_name = loss_name
        super().__init__(None, name)  # type: ignore[arg-type]

    def scores(self, y_true: Array, y_pred: Array) -> Array:
        if self.fn is None:
            self.fn = METRICS[resolve_accuracy(self.loss_name, y_true, y_pred)]
        return self.fn(y_true, y_pred)


def _metric_class(
    cls_name: str, fn: Callable[..., Array], default_name: str, **defaults
):
    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(
            self, fn, name or default_name, **{**defaults, **kwargs}
        )

    doc = f"Keras' ``{cls_name}``: the running mean of :func:`{fn.__name__}`."
    return type(
        cls_name,
        (MeanMetricWrapper,),
        {"__init__": __init__, "__doc__": doc, "default_name": default_name},
    )


SparseCategoricalAccuracy = _metric_class(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
)
CategoricalAccuracy = _metric_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy"
)
BinaryAccuracy = _metric_class(
    "BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5
)
TopKCategoricalAccuracy = _metric_class(
    "TopKCategoricalAccuracy",
    top_k_categorical_accuracy,
    "top_k_categorical_accuracy",
    k=5,
)
SparseTopKCategoricalAccuracy = _metric_class(
    "SparseTopKCategoricalAccuracy",
    sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    k=5,
)
MeanSquaredError = _metric_class(
    "MeanSquaredError", mean_squared_error, "mean_squared_error"
)
MeanAbsoluteError = _metric_class(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error"
)


class RootMeanSquaredError(MeanMetricWrapper):
    """Keras' ``RootMeanSquaredError``: the root of the running mean squared error."""

    default_name = "root_mean_squared_error"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(root_mean_squared_error, name or self.default_name)

    def result(self) -> float:
        return math.sqrt(super().result())


# -- confusion-matrix metrics: Precision, Recall, AUC --

_NEG_INF = -1e10
"""Keras' ``NEG_INF``: the threshold with ``top_k``, below every kept score."""


def _counts(
    pos: Array, neg: Array, preds: Array, thresholds: Array
) -> tuple[Array, Array, Array, Array]:
    """Weighted (tp, fp, tn, fn) per threshold; a prediction > t counts positive.

    Sorting once and cumulating the weights counts every threshold in
    O(M log M + T log M) instead of comparing all M predictions with all T.
    """
    xp = get_array_module(preds)
    order = xp.argsort(preds, kind="stable")
    below_pos = xp.concatenate([xp.zeros(1), xp.cumsum(pos[order])])
    below_neg = xp.concatenate([xp.zeros(1), xp.cumsum(neg[order])])
    at = xp.searchsorted(preds[order], thresholds, side="right")  # preds <= t
    fn, tn = below_pos[at], below_neg[at]
    return below_pos[-1] - fn, below_neg[-1] - tn, tn, fn


def _filter_top_k(y_pred: Array, k: int) -> Array:
    """Scores outside each row's top k set to NEG_INF (ties keep the lower index)."""
    xp = get_array_module(y_pred)
    top = xp.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = xp.zeros(y_pred.shape, dtype=bool)
    xp.put_along_axis(keep, top, True, axis=-1)
    return xp.where(keep, y_pred, _NEG_INF)


def _check_thresholds(thresholds: Any) -> list[float]:
    values = list(thresholds) if isinstance(thresholds, list | tuple) else [thresholds]
    if not values:
        raise fail("thresholds", "at least one threshold", repr(thresholds))
    return [check_number("thresholds", t, low=0.0, high=1.0) for t in values]


def _safe_div(a: Array, b: Array) -> Array:
    xp = get_array_module(a)
    return xp.where(b > 0, a / xp.where(b > 0, b, 1.0), 0.0)


class _Confusion(Metric):
    """Precision and Recall: weighted confusion counts at fixed thresholds."""

    state_names = ("true_positives", "false_positives", "false_negatives")

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
    ) -> None:
        self.top_k = None if top_k is None else check_int("top_k", top_k, min_value=1)
        self.class_id = (
            None if class_id is None else check_int("class_id", class_id, min_value=0)
        )
        self.init_thresholds = thresholds
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = (
            [default] if thresholds is None else _check_thresholds(thresholds)
        )
        self._one = thresholds is None or not isinstance(thresholds, list | tuple)
        super().__init__(name)

    def reset_state(self) -> None:
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives = zeros, zeros.copy()
        self.false_negatives = zeros.copy()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _as_pair(y_true, y_pred)
        y_true = broadcast_targets(y_true, y_pred)
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        w = _weights_like(sample_weight, y_pred)
        if self.class_id is not None:
            if self.class_id >= y_pred.shape[-1]:
                raise fail(
                    "class_id",
                    f"a class in [0, {y_pred.shape[-1]})",
                    self.class_id,
                )
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            w = w[..., self.class_id]
        xp = get_array_module(y_pred)
        # Keras casts the labels to bool here: any non-zero label is a positive.
        is_pos = (y_true != 0).reshape(-1)
        tp, fp, _, fn = _counts(
            xp.where(is_pos, w.reshape(-1), 0.0),
            xp.where(is_pos, 0.0, w.reshape(-1)),
            y_pred.reshape(-1),
            xp.asarray(self.thresholds),
        )
        self.true_positives = self.true_positives + to_numpy(tp)
        self.false_positives = self.false_positives + to_numpy(fp)
        self.false_negatives = self.false_negatives + to_numpy(fn)

    def _finish(self, values: Array) -> Any:
        return float(values[0]) if self._one else [float(v) for v in values]

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_Confusion):
    """Keras' ``Precision``: tp / (tp + fp), 0 when nothing was predicted positive.

    A prediction counts as positive above ``thresholds`` (0.5 by default; with
    ``top_k``, only each row's top k scores do); ``class_id`` scores one column.
    A list of thresholds gives a list of results.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 4)
        0.6667
    """

    default_name = "precision"

    def result(self) -> Any:
        tp = self.true_positives
        return self._finish(_safe_div(tp, tp + self.false_positives))


class Recall(_Confusion):
    """Keras' ``Recall``: tp / (tp + fn), 0 when there was no positive label.

    Arguments as :class:`Precision`.

    Example:
        >>> m = Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 4)
        0.6667
    """

    default_name = "recall"

    def result(self) -> Any:
        tp = self.true_positives
        return self._finish(_safe_div(tp, tp + self.false_negatives))


class AUC(Metric):
    """Keras' ``AUC``: area under the ROC or PR curve over fixed thresholds.

    The thresholds are ``num_thresholds`` points evenly spaced from -1e-7 to
    1 + 1e-7 (or the given ``thresholds`` between those two ends); a prediction
    counts as positive above one. Soft labels in [0, 1] count as that fraction
    of a positive and the rest of a negative, as Keras' evenly spaced path does.
    ``summation_method="interpolation"`` (the default) is the trapezoid rule on
    ROC and Davis & Goadrich's interpolation on PR; ``"minoring"`` and
    ``"majoring"`` take the lower or upper Riemann sum. With ``multi_label`` each
    column is a curve of its own and the result their mean (weighted by
    ``label_weights``); otherwise every prediction joins one curve.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
    """

    default_name = "auc"
    state_names = ("true_positives", "false_positives", "true_negatives",
                   "false_negatives")  # fmt: skip

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        if not isinstance(curve, str) or curve.upper() not in ("ROC", "PR"):
            raise fail("curve", "'ROC' or 'PR'", repr(curve))
        methods = ("interpolation", "minoring", "majoring")
        if summation_method not in methods:
            raise fail("summation_method", f"one of {methods}", repr(summation_method))
        for flag, value in (("multi_label", multi_label), ("from_logits", from_logits)):
            if not isinstance(value, bool):
                raise fail(flag, "True or False", repr(value))
        if thresholds is None:
            num_thresholds = check_int("num_thresholds", num_thresholds, min_value=2)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(_check_thresholds(thresholds))
            num_thresholds = len(inner) + 2
        eps = 1e-7  # Keras' backend.epsilon(): every prediction in [0, 1] is > -eps
        self.thresholds = np.array([-eps, *inner, 1.0 + eps])
        self.num_thresholds = num_thresholds
        self.init_thresholds = thresholds
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = (
            None
            if num_labels is None
            else check_int("num_labels", num_labels, min_value=1)
        )
        self.label_weights = (
            None
            if label_weights is None
            else _as_array("label_weights", label_weights).astype(np.float64)
        )
        self.from_logits = from_logits
        super().__init__(name)

    def reset_state(self) -> None:
        shape = (self.num_thresholds,)
        if self.multi_label:
            shape += (self.num_labels or 0,)
        self.true_positives = np.zeros(shape)
        self.false_positives = np.zeros(shape)
        self.true_negatives = np.zeros(shape)
        self.false_negatives = np.zeros(shape)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _as_pair(y_true, y_pred)
        y_true = broadcast_targets(y_true, y_pred)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + get_array_module(y_pred).exp(-y_pred))
        w = _weights_like(sample_weight, y_pred)
        if self.label_weights is not None and not self.multi_label:
            w = w * self.label_weights
        thresholds = get_array_module(y_pred).asarray(self.thresholds)
        if not self.multi_label:
            columns = [(y_true.reshape(-1), y_pred.reshape(-1), w.reshape(-1))]
        else:
            labels = y_pred.shape[-1]
            if self.true_positives.shape[1] == 0:
                self.num_labels = labels
                self.reset_state()
            elif self.true_positives.shape[1] != labels:
                raise fail("y_pred", f"{self.true_positives.shape[1]} labels", labels)
            t, p, v = (a.reshape(-1, labels) for a in (y_true, y_pred, w))
            columns = [(t[:, j], p[:, j], v[:, j]) for j in range(labels)]
        counts = [_counts(t * v, (1.0 - t) * v, p, thresholds) for t, p, v in columns]
        stacked = [
            np.stack([to_numpy(c[i]) for c in counts], axis=-1) for i in range(4)
        ]
        if not self.multi_label:
            stacked = [s[:, 0] for s in stacked]
        self.true_positives = self.true_positives + stacked[0]
        self.false_positives = self.false_positives + stacked[1]
        self.true_negatives = self.true_negatives + stacked[2]
        self.false_negatives = self.false_negatives + stacked[3]

    def _interpolate_pr(self) -> Array:
        """Davis & Goadrich: precision interpolated between thresholds, as Keras."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _safe_div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _safe_div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        return _safe_div(
            slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)
        )

    def result(self) -> float:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr()
        else:
            recall = _safe_div(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _safe_div(fp, fp + tn), recall
            else:
                x, y = recall, _safe_div(tp, tp + fp)
            heights = {
                "interpolation": (y[:-1] + y[1:]) / 2.0,
                "minoring": np.minimum(y[:-1], y[1:]),
                "majoring": np.maximum(y[:-1], y[1:]),
            }[self.summation_method]
            terms = (x[:-1] - x[1:]) * heights
        by_label = terms.sum(axis=0)
        if not self.multi_label:
            return float(by_label)
        if by_label.size == 0:
            return 0.0
        if self.label_weights is None:
            return float(by_label.mean())
        return float(_safe_div((by_label * self.label_weights).sum(),
                               self.label_weights.sum()))  # fmt: skip

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "thresholds": self.init_thresholds,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None
            if self.label_weights is None
            else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }


# -- resolving names --

CLASSES: dict[str, type[Metric]] = {
    cls.default_name: cls
    for cls in (
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        TopKCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        MeanSquaredError,
        MeanAbsoluteError,
        RootMeanSquaredError,
        Precision,
        Recall,
        AUC,
    )
}
"""Keras' snake-case metric names (``"auc"``, ``"precision"``) and their classes."""


def get(identifier: Any, loss_name: str = "") -> Metric:
    """Resolve a metric name, class, instance or per-sample function.

    ``"accuracy"``/``"acc"`` are resolved from the shapes (Keras 3). Names are
    Keras': the per-sample functions (``"mse"``, ``"top_k_categorical_accuracy"``),
    the snake-case class names (``"precision"``, ``"recall"``, ``"auc"``,
    ``"root_mean_squared_error"``) and the class names (``"AUC"``). A metric
    asked for by a string keeps that string as its name (``"mse"`` logs as
    ``mse``), as Keras' logs do. A callable ``fn(y_true, y_pred)`` returning
    per-sample values is averaged under its ``__name__``: metrics need no
    gradient, so any callable works.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(identifier, loss_name)
        key = _ALIASES.get(identifier, identifier)
        if key in METRICS:
            return MeanMetricWrapper(METRICS[key], name=identifier)
        by_class = {cls.__name__: cls for cls in CLASSES.values()}
        cls = CLASSES.get(identifier) or by_class.get(identifier)
        if cls is not None:
            return cls(name=identifier)
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    valid = sorted({*METRICS, *_ALIASES, *CLASSES, "accuracy", "acc"})
    raise fail(
        "metrics", f"names from {valid}, Metric objects or callables", repr(identifier)
    )


__all__ = [
    "AUC",
    "CLASSES",
    "Mean",
    "Precision",
    "Recall",
    "RootMeanSquaredError",
    "root_mean_squared_error",
    "AutoAccuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "METRICS",
    "MeanMetricWrapper",
    "Metric",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "resolve_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
