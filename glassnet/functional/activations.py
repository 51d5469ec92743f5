"""Elementwise activations and softmax as forward/backward kernel pairs.

Every forward keeps in its cache only what its backward needs, and every kernel
returns arrays of its input's dtype. The exact GELU needs ``erf``, which NumPy
lacks; :func:`erf` supplies a vectorised one (W. J. Cody's rational
approximations), accurate to about 1e-16 in float64.
"""

from __future__ import annotations

import math

from glassnet._internal.checks import check_array, check_int, check_number
from glassnet._internal.threads import split_batch
from glassnet.backend import Array, Cache, get_array_module

__all__ = [
    "elu_backward",
    "elu_forward",
    "erf",
    "gelu_backward",
    "gelu_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "relu_backward",
    "relu_forward",
    "relu_general_backward",
    "relu_general_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_forward",
    "tanh_backward",
    "tanh_forward",
]

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-637, as in his CALERF routine (SPECFUN, netlib).
# Coefficients are listed from the highest power down.
_ERF_NUM = (
    1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
    3.77485237685302021e02, 3.20937758913846947e03,
)  # fmt: skip
_ERF_DEN = (
    1.0, 2.36012909523441209e01, 2.44024637934444173e02,
    1.28261652607737228e03, 2.84423683343917062e03,
)  # fmt: skip
_ERFC_MID_NUM = (
    2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
    6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
    1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
)  # fmt: skip
_ERFC_MID_DEN = (
    1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
    1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
    3.43936767414372164e03, 1.23033935480374942e03,
)  # fmt: skip
_ERFC_TAIL_NUM = (
    1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
    1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4,
)  # fmt: skip
_ERFC_TAIL_DEN = (
    1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
    6.05183413124413191e-2, 2.33520497626869185e-3,
)  # fmt: skip


def _polyval(coefs: tuple[float, ...], z: Array) -> Array:
    """Horner's rule with Python-float coefficients, so ``z``'s dtype is kept."""
    acc = z * coefs[0] + coefs[1]
    for c in coefs[2:]:
        acc = acc * z + c
    return acc


def erf(x: Array) -> Array:
    """The error function, elementwise, in ``x``'s dtype.

    Three regions of ``|x|``, each a rational approximation of W. J. Cody: ``erf``
    itself up to 0.46875, ``erfc(y) = exp(-y^2) P(y) / Q(y)`` up to 4, and the
    asymptotic form ``erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - R(1/y^2) / y^2)``
    beyond. Past ``|x| = 6``, ``erfc < 3e-17`` so ``erf`` is +-1 to double
    precision; clipping there keeps ``y * y`` from overflowing.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: a floating-point array.

    Returns:
        ``erf(x)``, accurate to about 1e-16 absolute in float64.

    Raises:
        ValueError: when ``x`` is not a floating-point array.
    """
    check_array("x", x, floating=True)
    xp = get_array_module(x)
    y = xp.abs(x)
    out = xp.empty_like(x)
    small = y <= 0.46875
    mid = (y > 0.46875) & (y <= 4.0)
    tail = ~(small | mid)  # also holds NaN, which then propagates

    ys = y[small]
    z = ys * ys
    out[small] = ys * _polyval(_ERF_NUM, z) / _polyval(_ERF_DEN, z)

    ym = y[mid]
    erfc_mid = xp.exp(-ym * ym) * _polyval(_ERFC_MID_NUM, ym)
    out[mid] = 1.0 - erfc_mid / _polyval(_ERFC_MID_DEN, ym)

    yt = xp.minimum(y[tail], 6.0)
    z = 1.0 / (yt * yt)
    ratio = z * _polyval(_ERFC_TAIL_NUM, z) / _polyval(_ERFC_TAIL_DEN, z)
    out[tail] = 1.0 - xp.exp(-yt * yt) / yt * (_INV_SQRT_PI - ratio)
    return xp.copysign(out, x)


def relu_forward(x: Array) -> tuple[Array, Cache]:
    """Rectified linear unit: out = max(x, 0).

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.

    Returns:
        out, and a cache (the boolean mask ``x > 0``) for relu_backward.
    """
    check_array("x", x, floating=True)
    xp = get_array_module(x)
    out, mask = xp.empty_like(x), xp.empty(x.shape, dtype=bool)
    # maximum, unlike where(mask, x, 0), lets a NaN through so divergence shows.
    # Against a row of zeros rather than the scalar 0: NumPy's maximum loop for a
    # scalar operand is the slower one (benchmarks/RESULTS.md).
    zeros = xp.zeros(x.shape[-1:], dtype=x.dtype)

    # One slice of the batch; see glassnet._internal.threads.
    def part(s: slice) -> None:
        xp.greater(x[s], 0, out=mask[s])
        xp.maximum(x[s], zeros, out=out[s])

    split_batch(part, x)
    return out, mask


def relu_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`relu_forward`.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`relu_forward`.

    Returns:
        dx.
    """
    mask = cache
    check_array("dout", dout, shape=mask.shape)
    xp = get_array_module(dout)
    dx = xp.empty_like(dout)
    # Multiplying by the boolean mask is one streaming pass, several times faster
    # than where(mask, dout, 0); the product stays in dout's dtype.
    split_batch(lambda s: xp.multiply(dout[s], mask[s], out=dx[s]), dout)
    return dx


def relu_general_forward(
    x: Array,
    *,
    max_value: float | None = None,
    negative_slope: float = 0.0,
    threshold: float = 0.0,
) -> tuple[Array, Cache]:
    """Keras 3's ``relu(x, negative_slope, max_value, threshold)``, piece by piece.

    Keras computes ``clip(where(x > t, x, 0), 0, max_value) - slope * max(t - x, 0)``
    (the clip only when ``max_value`` is given), so for ``t >= 0``::

        out = max_value              where x >= max_value
        out = x                      where t < x < max_value
        out = slope * (x - t)        where x <= t

    and for ``t < 0`` the inputs in ``(t, 0)`` give ``x`` without ``max_value``
    and ``0`` with it (the clip's lower bound), exactly as Keras does.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.
        max_value: the largest output, a number >= 0, or None for no limit.
            Defaults to `None`.
        negative_slope: the slope below the threshold, a number >= 0. Defaults
            to `0.0`.
        threshold: inputs at or below it go to the negative piece. Defaults to
            `0.0`.

    Returns:
        out, and a cache (the derivative ``dout/dx``, elementwise) for
        relu_general_backward.

    Raises:
        ValueError: when ``max_value`` or ``negative_slope`` is negative or any
            option is not a finite number.
    """
    check_array("x", x, floating=True)
    if max_value is not None:
        max_value = check_number("max_value", max_value, low=0)
    slope = check_number("negative_slope", negative_slope, low=0)
    t = check_number("threshold", threshold)
    xp = get_array_module(x)
    above = x > t
    out = xp.where(above, x, xp.zeros((), dtype=x.dtype))
    grad = above.astype(x.dtype)
    if max_value is not None:
        # The clip's gradient is 1 inside [0, max_value] (TensorFlow's rule);
        # at x == max_value the lower piece's 0 is taken, as relu6 does.
        grad *= (x >= 0) & (x < max_value)
        out = xp.clip(out, 0.0, max_value).astype(x.dtype, copy=False)
    if slope:
        below = ~above
        out = out + xp.where(below, (x - t) * slope, 0.0).astype(x.dtype)
        grad = grad + below.astype(x.dtype) * slope
    return out, grad


def relu_general_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`relu_general_forward`: dout times the stored slope.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`relu_general_forward`.

    Returns:
        dx.
    """
    grad = cache
    check_array("dout", dout, shape=grad.shape)
    return dout * grad


def leaky_relu_forward(x: Array, alpha: float = 0.01) -> tuple[Array, Cache]:
    """Leaky ReLU: out = x where x > 0, else alpha * x.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.
        alpha: the slope for negative inputs. Defaults to `0.01`.

    Returns:
        out, and a cache (the mask ``x > 0`` and ``alpha``) for leaky_relu_backward.

    Raises:
        ValueError: when ``alpha`` is not a finite number.
    """
    check_array("x", x, floating=True)
    alpha = check_number("alpha", alpha)
    xp = get_array_module(x)
    mask = x > 0
    return xp.where(mask, x, x * alpha), (mask, alpha)


def leaky_relu_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`leaky_relu_forward`.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`leaky_relu_forward`.

    Returns:
        dx.
    """
    mask, alpha = cache
    check_array("dout", dout, shape=mask.shape)
    xp = get_array_module(dout)
    return xp.where(mask, dout, dout * alpha)


def sigmoid_forward(x: Array) -> tuple[Array, Cache]:
    """Logistic sigmoid: out = 1 / (1 + exp(-x)), without overflow.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.

    Returns:
        out, and a cache (out itself) for sigmoid_backward.
    """
    check_array("x", x, floating=True)
    xp = get_array_module(x)
    # exp(-|x|) lies in (0, 1], so neither branch can overflow: for x < 0 use the
    # equivalent form exp(x) / (1 + exp(x)).
    z = xp.exp(-xp.abs(x))
    out = xp.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return out, out


def sigmoid_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`sigmoid_forward`, using s'(x) = s(x) (1 - s(x)).

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`sigmoid_forward`.

    Returns:
        dx.
    """
    out = cache
    check_array("dout", dout, shape=out.shape)
    return dout * out * (1.0 - out)


def tanh_forward(x: Array) -> tuple[Array, Cache]:
    """Hyperbolic tangent.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.

    Returns:
        out, and a cache (out itself) for tanh_backward.
    """
    check_array("x", x, floating=True)
    out = get_array_module(x).tanh(x)
    return out, out


def tanh_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`tanh_forward`, using tanh'(x) = 1 - tanh(x)^2.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`tanh_forward`.

    Returns:
        dx.
    """
    out = cache
    check_array("dout", dout, shape=out.shape)
    return dout * (1.0 - out * out)


def softmax_forward(x: Array, axis: int = -1) -> tuple[Array, Cache]:
    """Softmax along one axis, shifted by the maximum so exp cannot overflow.

    Shapes:
        x: any shape, e.g. (N, C);  out: like x

    Args:
        x: the input (logits).
        axis: the axis that sums to one. Defaults to `-1`.

    Returns:
        out, and a cache (out and the axis) for softmax_backward.

    Raises:
        ValueError: when ``x`` has rank 0 or ``axis`` is out of range.
    """
    check_array("x", x, min_ndim=1, floating=True)
    axis = check_int("axis", axis, min_value=-x.ndim, max_value=x.ndim - 1)
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out, (out, axis)


def softmax_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`softmax_forward`.

    The Jacobian is diag(y) - y y^T along the axis, so its product with ``dout``
    collapses to dx = y * (dout - sum(dout * y)) without forming the matrix.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`softmax_forward`.

    Returns:
        dx.
    """
    y, axis = cache
    check_array("dout", dout, shape=y.shape)
    return y * (dout - (dout * y).sum(axis=axis, keepdims=True))


def elu_forward(x: Array, alpha: float = 1.0) -> tuple[Array, Cache]:
    """Exponential linear unit: out = x where x > 0, else alpha * (exp(x) - 1).

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.
        alpha: the scale of the negative part. Defaults to `1.0`.

    Returns:
        out, and a cache (the mask ``x > 0``, out and alpha) for elu_backward.

    Raises:
        ValueError: when ``alpha`` is not a finite number.
    """
    check_array("x", x, floating=True)
    alpha = check_number("alpha", alpha)
    xp = get_array_module(x)
    mask = x > 0
    # expm1 is evaluated on min(x, 0) only, so large positive x cannot overflow.
    out = xp.where(mask, x, alpha * xp.expm1(xp.minimum(x, 0.0)))
    return out, (mask, out, alpha)


def elu_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`elu_forward`.

    For x <= 0 the derivative alpha * exp(x) equals out + alpha, so no exp is
    recomputed.

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`elu_forward`.

    Returns:
        dx.
    """
    mask, out, alpha = cache
    check_array("dout", dout, shape=out.shape)
    xp = get_array_module(dout)
    return xp.where(mask, dout, dout * (out + alpha))


def gelu_forward(x: Array, approximate: bool = False) -> tuple[Array, Cache]:
    """Gaussian error linear unit: out = x * Phi(x), Phi the normal CDF.

    The exact form uses Phi(x) = (1 + erf(x / sqrt(2))) / 2; the approximate one
    (Hendrycks and Gimpel) Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.
        approximate: use the tanh approximation. Defaults to `False`.

    Returns:
        out, and a cache (x, approximate and Phi(x) or the tanh) for gelu_backward.

    Raises:
        ValueError: when ``approximate`` is not a bool.
    """
    check_array("x", x, floating=True)
    if not isinstance(approximate, bool):
        raise ValueError(f"approximate: expected a bool; received {approximate!r}")
    xp = get_array_module(x)
    if approximate:
        t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        return 0.5 * x * (1.0 + t), (x, True, t)
    cdf = 0.5 * (1.0 + erf(x / _SQRT_2))
    return x * cdf, (x, False, cdf)


def gelu_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`gelu_forward`.

    Exact: d(x Phi(x))/dx = Phi(x) + x phi(x), phi the normal density. Tanh form:
    0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`gelu_forward`.

    Returns:
        dx.
    """
    x, approximate, s = cache
    check_array("dout", dout, shape=x.shape)
    xp = get_array_module(dout)
    if approximate:
        inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
        return dout * (0.5 * (1.0 + s) + 0.5 * x * (1.0 - s * s) * inner)
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
    return dout * (s + x * pdf)
