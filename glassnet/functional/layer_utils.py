"""The course's "sandwich" layers: common kernel sequences composed, never re-derived.

Each forward calls the kernels in order and keeps their caches; each backward calls
the matching backward kernels in reverse. No gradient is written here a second time.
The convolution sandwiches use the fast kernels, as the course's ``layer_utils`` does.
"""

from __future__ import annotations

from glassnet._checks import check_choice
from glassnet.backend import Array, Cache
from glassnet.functional.activations import relu_backward, relu_forward
from glassnet.functional.affine import affine_backward, affine_forward
from glassnet.functional.conv_fast import conv_backward_fast, conv_forward_fast
from glassnet.functional.normalization import (
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from glassnet.functional.pool_fast import max_pool_backward_fast, max_pool_forward_fast

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
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


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
    normalization, fc_cache, norm_cache, relu_cache = cache
    norm_backward = (
        batchnorm_backward_alt if normalization == "batchnorm" else layernorm_backward
    )
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = norm_backward(dan, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
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
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_relu_pool_forward`: returns ``(dx, dw, db)``."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)


__all__ = [
    "affine_norm_relu_backward",
    "affine_norm_relu_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]
