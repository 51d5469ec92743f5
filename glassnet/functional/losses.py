"""The loss kernels, ``<name>_loss(x, y, ..., sample_weight=None) -> (loss, dx)``.

The course API calls them directly (``softmax_loss``, ``svm_loss``); the Keras
API's loss objects (:mod:`glassnet.losses`) wrap the same functions.

Every kernel computes per-sample losses and their gradients, and one function,
:func:`reduce_loss`, weights and reduces them as Keras 3's ``reduction`` says
(``"sum_over_batch_size"`` by default: the weighted sum divided by the number of
per-sample values, so weights of all ones change nothing and a zero weight
removes a sample). ``loss`` is a Python float (an array of per-sample losses for
``reduction="none"``) and ``dx`` has ``x``'s shape and dtype.

One formula, one place: the cross-entropies over classes live in two private
kernels (from logits, from probabilities) that take dense targets; integer labels
(``softmax_loss``, ``sparse_categorical_crossentropy_loss``) become one-hot rows
and reuse them; label smoothing is one formula (:func:`_smooth`) applied to the
dense targets. A cross-entropy over outputs (N, ..., C) (per pixel, say) has one
value per position, (N, ...), and ``sparse_categorical_crossentropy_loss``'s
``ignore_class`` masks positions out of the loss and of the mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import (
    check_array,
    check_finite,
    check_labels,
    check_number,
    fail,
)
from glassnet.backend import Array, get_array_module
from glassnet.functional.activations import sigmoid_forward

__all__ = [
    "REDUCTIONS",
    "binary_crossentropy_loss",
    "categorical_crossentropy_loss",
    "hinge_loss",
    "mean_absolute_error_loss",
    "mean_squared_error_loss",
    "reduce_loss",
    "softmax_loss",
    "sparse_categorical_crossentropy_loss",
    "svm_loss",
]

_EPSILON = 1e-7
"""Keras' ``backend.epsilon()``: probabilities are clipped to [eps, 1 - eps]."""


def _check_x(x: Any, *, ndim: int | None = None, min_ndim: int = 1) -> None:
    check_array("x", x, ndim=ndim, min_ndim=min_ndim, floating=True)
    if x.size == 0:
        raise fail("x", "a non-empty array", f"shape {tuple(x.shape)}")


def _targets_like(
    x: Array, y: Any, low: float | None = None, high: float | None = None
) -> Array:
    """Check that ``y`` has ``x``'s shape and values in [low, high]; cast it."""
    xp = get_array_module(x)
    y = xp.asarray(y)
    if tuple(y.shape) != tuple(x.shape):
        raise fail("y", f"shape {tuple(x.shape)} like x", f"shape {tuple(y.shape)}")
    if y.dtype.kind not in "biuf":
        raise fail("y", "real numbers", f"dtype {y.dtype}")
    if low is not None and y.size and (bool(xp.any(y < low)) or bool(xp.any(y > high))):
        raise fail(
            "y", f"targets in [{low}, {high}]", f"targets in [{y.min()}, {y.max()}]"
        )
    return y.astype(x.dtype, copy=False)


def _labels(x: Array, y: Any) -> Array:
    """Check integer labels for ``x`` of shape (N, C); return them as int indices."""
    xp = get_array_module(x)
    y = xp.asarray(y)
    check_labels("y", y, x.shape[1], x.shape[0])
    return y.astype(xp.intp, copy=False)


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(name, "a bool", repr(value))
    return value


def _smooth(t: Array, label_smoothing: float, k: float) -> Array:
    """Keras' label smoothing: t (1 - ls) + ls / k, k classes (2 for binary)."""
    if label_smoothing == 0.0:
        return t
    return t * (1.0 - label_smoothing) + label_smoothing / k


REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")
"""Keras 3's reductions (``None`` is accepted for ``"none"``)."""


def check_reduction(reduction: Any) -> str:
    """``reduction`` checked, with None (Keras' other spelling) as ``"none"``."""
    if reduction is None:
        return "none"
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise fail("reduction", f"one of {list(REDUCTIONS)} or None", repr(reduction))
    return reduction


def _weights(values: Array, sample_weight: Any) -> Array | None:
    """Sample weights checked and shaped like ``values`` (None stays None).

    A weight per sample, (N,), applies to every value of its sample; weights
    shaped like the values (per pixel, say) apply one to one.
    """
    if sample_weight is None:
        return None
    xp = get_array_module(values)
    w = xp.asarray(sample_weight)
    n = values.shape[0]
    if tuple(w.shape) not in {(n,), tuple(values.shape)}:
        expected = f"shape {(n,)}" + (
            f" or {tuple(values.shape)}" if values.ndim > 1 else ""
        )
        raise fail("sample_weight", expected, f"shape {tuple(w.shape)}")
    if w.dtype.kind not in "biuf":
        raise fail("sample_weight", "real numbers", f"dtype {w.dtype}")
    check_finite("sample_weight", w)
    if bool(xp.any(w < 0)):
        raise fail("sample_weight", "non-negative weights", f"minimum {w.min()}")
    w = w.astype(values.dtype, copy=False)
    return w.reshape(w.shape + (1,) * (values.ndim - w.ndim))


def reduce_loss(
    values: Array,
    d_values: Array,
    sample_weight: Any = None,
    reduction: Any = "sum_over_batch_size",
    *,
    mask: Array | None = None,
) -> tuple[Any, Array]:
    """Weight per-sample losses and reduce them as Keras 3's ``reduction`` says.

    With w the sample weights (ones if None) times the mask (where given):

    * ``"sum"``: sum(w v);
    * ``"sum_over_batch_size"`` and ``"mean"``: sum(w v) divided by the number
      of values, or by the number of unmasked values when there is a mask;
    * ``"mean_with_sample_weight"``: sum(w v) / sum(w);
    * ``"none"`` (or None): the weighted values w v, shaped like ``values``.

    A division by zero (every value masked, or weights summing to 0) gives 0,
    as Keras' ``divide_no_nan`` does. ``dx`` is the gradient of the float (of
    the sum of the weighted values for ``"none"``).

    Shapes:
        values: S = (N, ...), one loss per sample (or per position);
        d_values: (*S, ...), the gradient of each value w.r.t. its part of x;
        sample_weight: (N,) or S;  mask: S;  dx: like d_values

    Args:
        values: the per-sample losses.
        d_values: the gradient of each value, unweighted.
        sample_weight: non-negative weights. Defaults to `None`.
        reduction: one of :data:`REDUCTIONS`, or None. Defaults to
            `"sum_over_batch_size"`.
        mask: which values count (1) and which are left out (0), as Keras'
            loss masks. Defaults to `None`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for an unknown ``reduction``, or sample weights of another
            shape, not finite or negative.
    """
    reduction = check_reduction(reduction)
    w = _weights(values, sample_weight)
    if mask is not None:
        mask = mask.astype(values.dtype, copy=False)
        w = mask if w is None else w * mask
    if reduction in ("sum", "none"):
        denominator = 1.0
    elif reduction == "mean_with_sample_weight" and w is not None:
        denominator = float(w.sum())
    elif mask is not None:
        denominator = float(mask.sum())
    else:
        denominator = float(values.size)
    if w is None:
        scale: Any = 1.0 / denominator
    else:
        scale = w / denominator if denominator else w * 0.0
    if not hasattr(scale, "shape"):
        dx = d_values * values.dtype.type(scale)
        weighted = values * values.dtype.type(scale)
    else:
        extra = (1,) * (d_values.ndim - values.ndim)
        dx = d_values * scale.reshape(scale.shape + extra)
        weighted = values * scale
    if reduction == "none":
        return weighted, dx
    return float(weighted.sum()), dx


def _one_hot(x: Array, y: Array) -> Array:
    xp = get_array_module(x)
    t = xp.zeros_like(x)
    t[xp.arange(x.shape[0]), y] = 1.0
    return t


def _xent_from_logits(x: Array, t: Array) -> tuple[Array, Array]:
    """Per-row cross-entropy of softmax(x) against targets t, and its gradient."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    sum_e = e.sum(axis=1, keepdims=True)
    # log-softmax = shifted - log(sum exp(shifted)): every term is finite because
    # the largest shifted logit is 0, so sum_e >= 1.
    log_p = shifted - xp.log(sum_e)
    # d/dx of -sum_c t_c log p_c is p * sum(t) - t (p - t for targets summing to 1).
    return -(t * log_p).sum(axis=1), e / sum_e * t.sum(axis=1, keepdims=True) - t


def _xent_from_probs(x: Array, t: Array) -> tuple[Array, Array]:
    """Keras' per-row cross-entropy of probabilities: renormalise, clip, -t log q."""
    xp = get_array_module(x)
    s = x.sum(axis=1, keepdims=True)
    q = x / s
    r = xp.clip(q, _EPSILON, 1.0 - _EPSILON)
    g = xp.where(q == r, -t / r, 0.0)  # clipping kills the gradient
    # q = x / s has Jacobian (I - q 1^T) / s along the row, hence the projection.
    return -(t * xp.log(r)).sum(axis=1), (g - (g * q).sum(axis=1, keepdims=True)) / s


def softmax_loss(
    x: Array, y: Array, sample_weight: Array | None = None
) -> tuple[float, Array]:
    """Softmax cross-entropy with integer labels (cs231n's ``softmax_loss``).

    Shapes:
        x: (N, C) logits;  y: (N,) labels in [0, C);  sample_weight: (N,);
        dx: (N, C)

    Args:
        x: the class scores.
        y: the correct class of each sample.
        sample_weight: a non-negative weight per sample. Defaults to `None`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``, labels
            outside [0, C) or negative weights.
    """
    _check_x(x, ndim=2)
    return sparse_categorical_crossentropy_loss(
        x, y, from_logits=True, sample_weight=sample_weight
    )


def svm_loss(
    x: Array, y: Array, sample_weight: Array | None = None
) -> tuple[float, Array]:
    """Multiclass hinge loss, sum over j != y of max(0, x_j - x_y + 1) (cs231n).

    Shapes:
        x: (N, C) scores;  y: (N,) labels in [0, C);  sample_weight: (N,);
        dx: (N, C)

    Args:
        x: the class scores.
        y: the correct class of each sample.
        sample_weight: a non-negative weight per sample. Defaults to `None`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``, labels
            outside [0, C) or negative weights.
    """
    _check_x(x, ndim=2)
    y = _labels(x, y)
    xp = get_array_module(x)
    rows = xp.arange(x.shape[0])
    margins = xp.maximum(x - x[rows, y][:, None] + 1.0, 0.0)
    margins[rows, y] = 0.0
    # Each violated margin adds +1 to its class and -1 to the correct class.
    d_margins = (margins > 0).astype(x.dtype)
    d_margins[rows, y] = -d_margins.sum(axis=1)
    return reduce_loss(margins.sum(axis=1), d_margins, sample_weight)


def _crossentropy(
    x: Array,
    t: Array,
    from_logits: bool,
    sample_weight: Any,
    reduction: Any,
    mask: Array | None = None,
) -> tuple[Any, Array]:
    """Cross-entropy over the last axis at every position of ``x``, reduced."""
    c = x.shape[-1]
    xent = _xent_from_logits if from_logits else _xent_from_probs
    values, d_values = xent(x.reshape(-1, c), t.reshape(-1, c))
    return reduce_loss(
        values.reshape(x.shape[:-1]),
        d_values.reshape(x.shape),
        sample_weight,
        reduction,
        mask=mask,
    )


def categorical_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    sample_weight: Array | None = None,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Cross-entropy against one-hot or soft targets (Keras semantics).

    With ``label_smoothing`` = ls the targets become ``y (1 - ls) + ls / C``, as
    Keras smooths them. From probabilities, each row of ``x`` is first
    renormalised to sum to 1 and clipped to [1e-7, 1 - 1e-7], as Keras does; the
    gradient flows through the renormalisation and is zero where clipping bit.
    Outputs with more axes, (N, ..., C), have one loss per position (N, ...).

    Shapes:
        x: (N, C) or (N, ..., C);  y: like x, targets in [0, 1];
        sample_weight: (N,) or x.shape[:-1];  dx: like x

    Args:
        x: logits, or probabilities when ``from_logits`` is false.
        y: the target distribution of each sample.
        from_logits: whether ``x`` holds logits. Defaults to `False`.
        label_smoothing: ls in [0, 1]. Defaults to `0.0`.
        sample_weight: non-negative weights, per sample or per position.
            Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``,
            targets outside [0, 1], negative weights, ``label_smoothing``
            outside [0, 1] or an unknown ``reduction``.
    """
    _check_x(x, min_ndim=2)
    from_logits = _check_flag("from_logits", from_logits)
    ls = check_number("label_smoothing", label_smoothing, low=0.0, high=1.0)
    t = _smooth(_targets_like(x, y, 0, 1), ls, x.shape[-1])
    return _crossentropy(x, t, from_logits, sample_weight, reduction)


def _check_ignore_class(ignore_class: Any) -> int | None:
    if ignore_class is None:
        return None
    if isinstance(ignore_class, bool) or not isinstance(ignore_class, int | np.integer):
        raise fail("ignore_class", "an integer class id or None", repr(ignore_class))
    return int(ignore_class)


def sparse_categorical_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    ignore_class: int | None = None,
    sample_weight: Array | None = None,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Cross-entropy against integer labels (Keras semantics).

    The labels become one-hot rows and the cross-entropy of
    :func:`categorical_crossentropy_loss` does the rest (smoothing included),
    so ``from_logits=True`` is exactly :func:`softmax_loss`. Labels equal to
    ``ignore_class`` (a "void" class such as 255 or -1 in segmentation maps)
    contribute nothing, their gradient is zero, and the means of
    ``"sum_over_batch_size"`` and ``"mean_with_sample_weight"`` are over the
    other positions only, as in Keras (which masks them).

    Shapes:
        x: (N, C) or (N, ..., C);  y: x.shape[:-1], labels in [0, C) (or
        ignore_class);  sample_weight: (N,) or x.shape[:-1];  dx: like x

    Args:
        x: logits, or probabilities when ``from_logits`` is false.
        y: the correct class at each position.
        from_logits: whether ``x`` holds logits. Defaults to `False`.
        label_smoothing: ls in [0, 1]; the one-hot rows become
            ``(1 - ls) onehot + ls / C``. Defaults to `0.0`.
        ignore_class: a label to leave out of the loss, or None.
            Defaults to `None`.
        sample_weight: non-negative weights, per sample or per position.
            Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``, labels
            outside [0, C) (other than ``ignore_class``), negative weights,
            ``label_smoothing`` outside [0, 1], a non-integer ``ignore_class``
            or an unknown ``reduction``.
    """
    _check_x(x, min_ndim=2)
    from_logits = _check_flag("from_logits", from_logits)
    ls = check_number("label_smoothing", label_smoothing, low=0.0, high=1.0)
    ignore = _check_ignore_class(ignore_class)
    xp = get_array_module(x)
    y = xp.asarray(y)
    if x.ndim > 2 and tuple(y.shape) != tuple(x.shape[:-1]):
        raise fail(
            "y", f"labels of shape {tuple(x.shape[:-1])}", f"shape {tuple(y.shape)}"
        )
    mask = None
    if ignore is not None:
        mask = y != ignore
        y = xp.where(mask, y, 0)
    rows = x.reshape(-1, x.shape[-1])
    t = _smooth(_one_hot(rows, _labels(rows, y.reshape(-1))), ls, x.shape[-1])
    return _crossentropy(x, t, from_logits, sample_weight, reduction, mask)


def _per_sample_mean(
    elementwise: Array,
    d_elementwise: Array,
    sample_weight: Any,
    reduction: str,
) -> tuple[Any, Array]:
    """Reduce elementwise losses: mean over the non-batch axes, then
    :func:`reduce_loss`."""
    n = elementwise.shape[0]
    k = elementwise.size // n
    per_sample = elementwise.reshape(n, k).mean(axis=1)
    return reduce_loss(per_sample, d_elementwise / k, sample_weight, reduction)


def binary_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    sample_weight: Array | None = None,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Binary cross-entropy, averaged over the non-batch axes (Keras semantics).

    With ``label_smoothing`` = ls the targets become ``y (1 - ls) + ls / 2``, as
    Keras smooths them. From logits the stable form
    max(x, 0) - x y + log1p(exp(-|x|)) is used, whose gradient is sigmoid(x) - y.
    From probabilities ``x`` is clipped to [1e-7, 1 - 1e-7] as Keras does, and
    the gradient is zero where clipped.

    Shapes:
        x: (N, ...);  y: like x, targets in [0, 1];  sample_weight: (N,);
        dx: like x

    Args:
        x: logits, or probabilities when ``from_logits`` is false.
        y: the targets.
        from_logits: whether ``x`` holds logits. Defaults to `False`.
        label_smoothing: ls in [0, 1]. Defaults to `0.0`.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``,
            targets outside [0, 1], negative weights, ``label_smoothing``
            outside [0, 1] or an unknown ``reduction``.
    """
    _check_x(x)
    from_logits = _check_flag("from_logits", from_logits)
    ls = check_number("label_smoothing", label_smoothing, low=0.0, high=1.0)
    t = _smooth(_targets_like(x, y, 0, 1), ls, 2.0)
    xp = get_array_module(x)
    if from_logits:
        elementwise = xp.maximum(x, 0.0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        d_elementwise = sigmoid_forward(x)[0] - t
    else:
        r = xp.clip(x, _EPSILON, 1.0 - _EPSILON)
        elementwise = -(t * xp.log(r) + (1.0 - t) * xp.log(1.0 - r))
        d_elementwise = xp.where(x == r, (r - t) / (r * (1.0 - r)), 0.0)
    return _per_sample_mean(elementwise, d_elementwise, sample_weight, reduction)


def mean_squared_error_loss(
    x: Array,
    y: Array,
    sample_weight: Array | None = None,
    *,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Mean squared error: per-sample mean of (x - y)^2, then over the batch.

    Shapes:
        x: (N, ...);  y: like x;  sample_weight: (N,);  dx: like x

    Args:
        x: the predictions.
        y: the targets.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight`` or
            negative weights.
    """
    _check_x(x)
    diff = x - _targets_like(x, y)
    return _per_sample_mean(diff * diff, 2.0 * diff, sample_weight, reduction)


def mean_absolute_error_loss(
    x: Array,
    y: Array,
    sample_weight: Array | None = None,
    *,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Mean absolute error: per-sample mean of |x - y|, then over the batch.

    Shapes:
        x: (N, ...);  y: like x;  sample_weight: (N,);  dx: like x

    Args:
        x: the predictions.
        y: the targets.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``; the subgradient at x == y is 0.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight`` or
            negative weights.
    """
    _check_x(x)
    diff = x - _targets_like(x, y)
    xp = get_array_module(x)
    return _per_sample_mean(xp.abs(diff), xp.sign(diff), sample_weight, reduction)


def hinge_loss(
    x: Array,
    y: Array,
    sample_weight: Array | None = None,
    *,
    reduction: Any = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Keras' binary hinge loss: per-sample mean of max(1 - y x, 0).

    Labels in {0, 1} are mapped to {-1, 1} (y -> 2y - 1), as Keras does when
    every label is 0 or 1.

    Shapes:
        x: (N, ...);  y: like x, labels in {-1, 1} or {0, 1};
        sample_weight: (N,);  dx: like x

    Args:
        x: the decision values.
        y: the labels.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: one of Keras 3's reductions (see :func:`reduce_loss`):
            ``"sum_over_batch_size"`` (the default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, or ``"none"`` (None) for the
            weighted losses themselves (one per sample, or per position).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``,
            labels outside {-1, 1} and {0, 1}, or negative weights.
    """
    _check_x(x)
    t = _targets_like(x, y, -1, 1)
    xp = get_array_module(x)
    if bool(xp.all((t == 0) | (t == 1))):
        t = 2.0 * t - 1.0
    elif not bool(xp.all((t == -1) | (t == 1))):
        raise fail("y", "labels in {-1, 1} or in {0, 1}", f"values {xp.unique(t)}")
    margin = 1.0 - t * x
    active = margin > 0
    elementwise = xp.where(active, margin, 0.0)
    d_elementwise = xp.where(active, -t, 0.0)
    return _per_sample_mean(elementwise, d_elementwise, sample_weight, reduction)
