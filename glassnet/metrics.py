"""Metrics with Keras' names: per-sample functions and running-mean ``Metric`` objects.

A metric function ``fn(y_true, y_pred) -> (N,) array`` scores each sample; a
:class:`MeanMetricWrapper` averages it over batches (weighted by ``sample_weight``),
as Keras' stateful metrics do: ``update_state``, ``result``, ``reset_state``.
``compile(metrics=["accuracy"])`` resolves ``"accuracy"`` from the loss, as Keras
does (:func:`resolve_accuracy`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array, get_array_module
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


# -- stateful metrics --


class Metric:
    """A running, weighted mean of per-sample scores."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def scores(self, y_true: Array, y_pred: Array) -> Array:
        raise NotImplementedError

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ):
        values = self.scores(y_true, y_pred)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.shape[0])
        else:
            self.total += float((values * sample_weight).sum())
            self.count += float(sample_weight.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Metric):
    """Wraps a per-sample ``fn(y_true, y_pred, **kwargs)`` as a :class:`Metric`."""

    def __init__(self, fn: Callable[..., Array], name: str, **kwargs: Any) -> None:
        self.fn = fn
        self.kwargs = kwargs
        super().__init__(name)

    def scores(self, y_true: Array, y_pred: Array) -> Array:
        return self.fn(y_true, y_pred, **self.kwargs)


METRICS: dict[str, Callable[..., Array]] = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
}
_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


def resolve_accuracy(
    loss_name: str, y_true: Array | None = None, y_pred: Array | None = None
) -> str:
    """The accuracy Keras picks for ``metrics=["accuracy"]``, from the shapes and loss.

    One output column, or binary cross-entropy: binary accuracy. Labels of lower
    rank than the outputs (or a last axis of 1 against several outputs), or the
    sparse loss: sparse categorical accuracy. Otherwise categorical accuracy.
    """
    if loss_name == "binary_crossentropy" or (
        y_pred is not None and y_pred.shape[-1] == 1
    ):
        return "binary_accuracy"
    if loss_name == "sparse_categorical_crossentropy":
        return "sparse_categorical_accuracy"
    if (
        y_true is not None
        and y_pred is not None
        and (
            y_true.ndim < y_pred.ndim
            or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        )
    ):
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


class AutoAccuracy(MeanMetricWrapper):
    """``"accuracy"``: resolved on the first batch from the shapes and the loss."""

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
    def __init__(self, name: str = default_name, **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name, **{**defaults, **kwargs})

    doc = f"Keras' ``{cls_name}``: the running mean of :func:`{fn.__name__}`."
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


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


def get(identifier: Any, loss_name: str = "") -> Metric:
    """Resolve a metric name (``"accuracy"``/``"acc"`` via the loss) or instance.

    The metric keeps the name it was asked by (``"accuracy"`` logs as
    ``accuracy``, ``"mse"`` as ``mse``), as Keras' logs do.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(identifier, loss_name)
        key = _ALIASES.get(identifier, identifier)
        if key in METRICS:
            return MeanMetricWrapper(METRICS[key], name=identifier)
    valid = sorted([*METRICS, *_ALIASES, "accuracy", "acc"])
    raise fail("metrics", f"names from {valid} or Metric objects", repr(identifier))


__all__ = [
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
