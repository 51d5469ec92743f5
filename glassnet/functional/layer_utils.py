"""The course's "sandwich" layers: common kernel sequences composed, never re-derived.

Each forward calls the kernels in order and keeps their caches; each backward calls
the matching backward kernels in reverse. No gradient is written here a second time.
The convolution sandwiches use the fast kernels, as the course's ``layer_utils`` does.

The cs231n functions keep the course's signatures. Beside them, glassnet's own
variants serve the course models' hot path: ``*_grads`` take ``need_dx`` (a
model's first layer has no use for its input gradient, so its product and, for a
convolution, its col2im are skipped; dx is then None), and
``conv_relu_pool_*_nhwc`` run the channels-last kernels without any transpose.

The ``conv_relu_pool`` sandwiches pool before the ReLU. The two commute exactly:
ReLU keeps the order of values and only flattens the negative ones to 0, so the
largest of a window's ReLU outputs is the ReLU of its largest value, and the
gradient reaches the same (first) winning cell where that value is positive and
no cell where it is not. Pooling first leaves ReLU a quarter of the values.
"""

from __future__ import annotations

from glassnet._internal.checks import check_choice
from glassnet.backend import Array, Cache
from glassnet.functional.activations import relu_backward, relu_forward
from glassnet.functional.affine import (
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)
from glassnet.functional.normalization import (
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from glassnet.functional.pool_fast import (
    max_pool_backward_fast,
    max_pool_backward_nhwc,
    max_pool_forward_fast,
    max_pool_forward_nhwc,
)

NORMALIZATIONS = ("batchnorm", "layernorm")


def affine_relu_forward(x: Array, w: Array, b: Array) -> tuple[Array, Cache]:
    """Affine transform followed by ReLU.

    Shapes:
        x: (N, d1, ..., dk);  w: (D, M);  b: (M,);  out: (N, M)
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`affine_relu_forward`: returns ``(dx, dw, db)``."""
    return affine_relu_grads(dout, cache)


def _affine_grads(
    da: Array, fc_cache: Cache, need_dx: bool
) -> tuple[Array | None, Array, Array]:
    if need_dx:
        return affine_backward(da, fc_cache)
    return (None, *affine_param_grads(da, fc_cache))


def affine_relu_grads(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """:func:`affine_relu_backward`, with dx skipped (None) when ``need_dx`` is false.

    Shapes:
        dout: (N, M);  dx: (N, d1, ..., dk);  dw: (D, M);  db: (M,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`affine_relu_forward`.
        need_dx: compute the input gradient. Defaults to `True`.

    Returns:
        ``(dx, dw, db)``.
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return _affine_grads(da, fc_cache, need_dx)


def affine_norm_relu_forward(
    x: Array,
    w: Array,
    b: Array,
    gamma: Array,
    beta: Array,
    norm_param: dict,
    normalization: str = "batchnorm",
) -> tuple[Array, Cache]:
    """Affine transform, batch or layer normalisation, then ReLU.

    Shapes:
        x: (N, d1, ..., dk);  w: (D, M);  b, gamma, beta: (M,);  out: (N, M)

    Args:
        x, w, b: the affine inputs.
        gamma, beta: scale and shift of the normalisation.
        norm_param: ``bn_param`` for batchnorm (``mode`` required) or ``ln_param``
            for layernorm.
        normalization: ``"batchnorm"`` or ``"layernorm"``. Defaults to `"batchnorm"`.

    Mutates:
        ``norm_param``'s running statistics in batchnorm's train mode.

    Raises:
        ValueError: for an unknown ``normalization``.
    """
    check_choice("normalization", normalization, NORMALIZATIONS)
    norm_forward = (
        batchnorm_forward if normalization == "batchnorm" else layernorm_forward
    )
    a, fc_cache = affine_forward(x, w, b)
    an, norm_cache = norm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(an)
    return out, (normalization, fc_cache, norm_cache, relu_cache)


def affine_norm_relu_backward(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`affine_norm_relu_forward`.

    Returns:
        ``(dx, dw, db, dgamma, dbeta)``.
    """
    return affine_norm_relu_grads(dout, cache)


def affine_norm_relu_grads(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array, Array, Array]:
    """:func:`affine_norm_relu_backward`, dx skipped (None) unless ``need_dx``.

    Shapes:
        dout: (N, M);  dx: (N, d1, ..., dk);  dw: (D, M);
        db, dgamma, dbeta: (M,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`affine_norm_relu_forward`.
        need_dx: compute the input gradient. Defaults to `True`.

    Returns:
        ``(dx, dw, db, dgamma, dbeta)``.
    """
    normalization, fc_cache, norm_cache, relu_cache = cache
    norm_backward = (
        batchnorm_backward_alt if normalization == "batchnorm" else layernorm_backward
    )
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = norm_backward(dan, norm_cache)
    dx, dw, db = _affine_grads(da, fc_cache, need_dx)
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(
    x: Array, w: Array, b: Array, conv_param: dict
) -> tuple[Array, Cache]:
    """Convolution (fast kernel) followed by ReLU.

    Shapes:
        x: (N, C, H, W);  w: (F, C, HH, WW);  b: (F,);  out: (N, F, H_out, W_out)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_relu_forward`: returns ``(dx, dw, db)``."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(
    x: Array, w: Array, b: Array, conv_param: dict, pool_param: dict
) -> tuple[Array, Cache]:
    """Convolution, ReLU, then max pooling (all fast kernels).

    Shapes:
        x: (N, C, H, W);  w: (F, C, HH, WW);  b: (F,);
        out: (N, F, H_pool, W_pool), the pooled size of the convolution's output.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    # Pooling first: same output and gradients (see the module docstring).
    s, pool_cache = max_pool_forward_fast(a, pool_param)
    out, relu_cache = relu_forward(s)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_relu_pool_forward`: returns ``(dx, dw, db)``."""
    conv_cache, relu_cache, pool_cache = cache
    ds = relu_backward(dout, relu_cache)
    da = max_pool_backward_fast(ds, pool_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward_nhwc(
    x: Array, w: Array, b: Array, conv_param: dict, pool_param: dict
) -> tuple[Array, Cache]:
    """Channels-last twin of :func:`conv_relu_pool_forward`.

    Shapes:
        x: (N, H, W, C);  w: (HH, WW, C, F);  b: (F,);
        out: (N, H_pool, W_pool, F)
    """
    a, conv_cache = conv_forward_nhwc(x, w, b, conv_param)
    # Pooling first: same output and gradients (see the module docstring).
    s, pool_cache = max_pool_forward_nhwc(a, pool_param)
    out, relu_cache = relu_forward(s)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward_nhwc(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward pass of :func:`conv_relu_pool_forward_nhwc`.

    Shapes:
        dout: (N, H_pool, W_pool, F);  dx: (N, H, W, C);  dw: (HH, WW, C, F);
        db: (F,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`conv_relu_pool_forward_nhwc`.
        need_dx: compute the input gradient (its product and col2im).
            Defaults to `True`.

    Returns:
        ``(dx, dw, db)``; dx is None when ``need_dx`` is false.
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = relu_backward(dout, relu_cache)
    da = max_pool_backward_nhwc(ds, pool_cache)
    return conv_backward_nhwc(da, conv_cache, need_dx=need_dx)


__all__ = [
    "affine_norm_relu_backward",
    "affine_norm_relu_forward",
    "affine_norm_relu_grads",
    "affine_relu_backward",
    "affine_relu_forward",
    "affine_relu_grads",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_backward_nhwc",
    "conv_relu_pool_forward",
    "conv_relu_pool_forward_nhwc",
]
