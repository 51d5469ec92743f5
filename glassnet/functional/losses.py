"""The loss kernels, ``<name>_loss(x, y, ..., sample_weight=None) -> (loss, dx)``.

The course API calls them directly (``softmax_loss``, ``svm_loss``); the Keras
API's loss objects (:mod:`glassnet.losses`) wrap the same functions.

Every loss is averaged over the N samples of the batch. Per-sample weights
multiply each sample's loss and the total is still divided by N (Keras'
``"sum_over_batch_size"`` reduction), so weights of all ones change nothing and a
zero weight removes a sample. ``loss`` is a Python float and ``dx`` has ``x``'s
shape and dtype. The Keras-side kernels also take ``reduction="sum"`` or
``"none"`` (the weighted per-sample losses, which the function-form losses of
:mod:`glassnet.losses` return).

One formula, one place: the cross-entropies over classes live in two private
kernels (from logits, from probabilities) that take dense targets; integer labels
(``softmax_loss``, ``sparse_categorical_crossentropy_loss``) become one-hot rows
and reuse them; label smoothing is one formula (:func:`_smooth`) applied to the
dense targets. Every kernel computes per-sample losses and their gradients, and
one reduction (:func:`_reduce`) weights and sums them.
"""

from __future__ import annotations

from typing import Any

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
    "binary_crossentropy_loss",
    "categorical_crossentropy_loss",
    "hinge_loss",
    "mean_absolute_error_loss",
    "mean_squared_error_loss",
    "softmax_loss",
    "sparse_categorical_crossentropy_loss",
    "svm_loss",
]

_EPSILON = 1e-7
"""Keras' ``backend.epsilon()``: probabilities are clipped to [eps, 1 - eps]."""


def _check_x(x: Any, *, ndim: int | None = None) -> None:
    check_array("x", x, ndim=ndim, min_ndim=1, floating=True)
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


def _sample_scale(x: Array, sample_weight: Any) -> Array:
    """Each sample's share of the loss: weight / N, shape (N,), in x's dtype."""
    xp = get_array_module(x)
    n = x.shape[0]
    if sample_weight is None:
        return xp.full((n,), 1.0 / n, dtype=x.dtype)
    w = xp.asarray(sample_weight)
    check_array("sample_weight", w, shape=(n,))
    if w.dtype.kind not in "biuf":
        raise fail("sample_weight", "real numbers", f"dtype {w.dtype}")
    check_finite("sample_weight", w)
    if bool(xp.any(w < 0)):
        raise fail("sample_weight", "non-negative weights", f"minimum {w.min()}")
    return w.astype(x.dtype) / n


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(name, "a bool", repr(value))
    return value


def _smooth(t: Array, label_smoothing: float, k: float) -> Array:
    """Keras' label smoothing: t (1 - ls) + ls / k, k classes (2 for binary)."""
    if label_smoothing == 0.0:
        return t
    return t * (1.0 - label_smoothing) + label_smoothing / k


_REDUCTIONS = ("sum_over_batch_size", "sum", "none")


def _reduce(
    per_sample: Array,
    d_per_sample: Array,
    x: Array,
    sample_weight: Any,
    reduction: str,
) -> tuple[Any, Array]:
    """Weight the per-sample losses and reduce them as Keras' ``reduction`` says.

    ``"sum_over_batch_size"`` divides the weighted sum by N, ``"sum"`` does not,
    and ``"none"`` returns the weighted per-sample losses (N,). ``dx`` is the
    gradient of the float in the first two cases and of the sum in the last.
    """
    if reduction not in _REDUCTIONS:
        raise fail("reduction", f"one of {list(_REDUCTIONS)}", repr(reduction))
    scale = _sample_scale(x, sample_weight)
    if reduction != "sum_over_batch_size":
        scale = scale * x.shape[0]
    dx = d_per_sample * scale.reshape((x.shape[0],) + (1,) * (x.ndim - 1))
    if reduction == "none":
        return per_sample * scale, dx
    return float((per_sample * scale).sum()), dx


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
    return _reduce(
        margins.sum(axis=1), d_margins, x, sample_weight, "sum_over_batch_size"
    )


def categorical_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    sample_weight: Array | None = None,
    reduction: str = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Cross-entropy against one-hot or soft targets (Keras semantics).

    With ``label_smoothing`` = ls the targets become ``y (1 - ls) + ls / C``, as
    Keras smooths them. From probabilities, each row of ``x`` is first
    renormalised to sum to 1 and clipped to [1e-7, 1 - 1e-7], as Keras does; the
    gradient flows through the renormalisation and is zero where clipping bit.

    Shapes:
        x: (N, C);  y: (N, C) targets in [0, 1];  sample_weight: (N,);  dx: (N, C)

    Args:
        x: logits, or probabilities when ``from_logits`` is false.
        y: the target distribution of each sample.
        from_logits: whether ``x`` holds logits. Defaults to `False`.
        label_smoothing: ls in [0, 1]. Defaults to `0.0`.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``,
            targets outside [0, 1], negative weights, ``label_smoothing``
            outside [0, 1] or an unknown ``reduction``.
    """
    _check_x(x, ndim=2)
    from_logits = _check_flag("from_logits", from_logits)
    ls = check_number("label_smoothing", label_smoothing, low=0.0, high=1.0)
    t = _smooth(_targets_like(x, y, 0, 1), ls, x.shape[1])
    xent = _xent_from_logits if from_logits else _xent_from_probs
    return _reduce(*xent(x, t), x, sample_weight, reduction)


def sparse_categorical_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    sample_weight: Array | None = None,
    reduction: str = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Cross-entropy against integer labels (Keras semantics).

    The labels become one-hot rows and :func:`categorical_crossentropy_loss`
    does the rest (smoothing included), so ``from_logits=True`` is exactly
    :func:`softmax_loss`.

    Shapes:
        x: (N, C);  y: (N,) labels in [0, C);  sample_weight: (N,);  dx: (N, C)

    Args:
        x: logits, or probabilities when ``from_logits`` is false.
        y: the correct class of each sample.
        from_logits: whether ``x`` holds logits. Defaults to `False`.
        label_smoothing: ls in [0, 1]; the one-hot rows become
            ``(1 - ls) onehot + ls / C``. Defaults to `0.0`.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
            Defaults to `"sum_over_batch_size"`.

    Returns:
        ``(loss, dx)``.

    Raises:
        ValueError: for a wrong shape of ``x``, ``y`` or ``sample_weight``, labels
            outside [0, C), negative weights, ``label_smoothing`` outside
            [0, 1] or an unknown ``reduction``.
    """
    _check_x(x, ndim=2)
    return categorical_crossentropy_loss(
        x,
        _one_hot(x, _labels(x, y)),
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def _per_sample_mean(
    elementwise: Array,
    d_elementwise: Array,
    sample_weight: Any,
    reduction: str,
) -> tuple[Any, Array]:
    """Reduce elementwise losses: mean over the non-batch axes, then :func:`_reduce`."""
    n = elementwise.shape[0]
    k = elementwise.size // n
    per_sample = elementwise.reshape(n, k).mean(axis=1)
    return _reduce(per_sample, d_elementwise / k, elementwise, sample_weight, reduction)


def binary_crossentropy_loss(
    x: Array,
    y: Array,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    sample_weight: Array | None = None,
    reduction: str = "sum_over_batch_size",
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
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
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
    reduction: str = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Mean squared error: per-sample mean of (x - y)^2, then over the batch.

    Shapes:
        x: (N, ...);  y: like x;  sample_weight: (N,);  dx: like x

    Args:
        x: the predictions.
        y: the targets.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
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
    reduction: str = "sum_over_batch_size",
) -> tuple[Any, Array]:
    """Mean absolute error: per-sample mean of |x - y|, then over the batch.

    Shapes:
        x: (N, ...);  y: like x;  sample_weight: (N,);  dx: like x

    Args:
        x: the predictions.
        y: the targets.
        sample_weight: a non-negative weight per sample. Defaults to `None`.
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
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
    reduction: str = "sum_over_batch_size",
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
        reduction: Keras' ``"sum_over_batch_size"`` (the weighted sum over N),
            ``"sum"`` or ``"none"`` (the weighted per-sample losses, shape (N,)).
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
