"""cs231n's ``layer_utils``: the sandwiches of :mod:`glassnet.functional.layer_utils`.

As in the course, ``from glassnet.cs231n.layer_utils import *`` also brings every
name of :mod:`~glassnet.cs231n.layers` and :mod:`~glassnet.cs231n.fast_layers`.
``affine_norm_relu_forward`` / ``_backward`` are glassnet's affine - batch or layer
norm - ReLU sandwich (the one the course asks students to write).

``conv_bn_relu_forward`` / ``_backward`` are the course's only sandwich glassnet
has no function for; like the course's, they only call the three kernels in order
and their backwards in reverse.
"""

from __future__ import annotations

from glassnet.backend import Array, Cache
from glassnet.cs231n.fast_layers import *  # noqa: F403  (the course's star import)
from glassnet.cs231n.fast_layers import __all__ as _fast_names
from glassnet.cs231n.layers import *  # noqa: F403
from glassnet.cs231n.layers import __all__ as _layer_names
from glassnet.functional import (
    conv_backward_fast,
    conv_forward_fast,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from glassnet.functional.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)


def conv_bn_relu_forward(
    x: Array,
    w: Array,
    b: Array,
    gamma: Array,
    beta: Array,
    conv_param: dict,
    bn_param: dict,
) -> tuple[Array, Cache]:
    """Convolution (fast kernel), spatial batch normalisation, then ReLU.

    Shapes:
        x: (N, C, H, W);  w: (F, C, HH, WW);  b, gamma, beta: (F,);
        out: (N, F, H_out, W_out)

    Mutates:
        ``bn_param``'s running statistics in train mode, as
        ``spatial_batchnorm_forward``.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`conv_bn_relu_forward`.

    Returns:
        ``(dx, dw, db, dgamma, dbeta)``.
    """
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


__all__ = [
    *_layer_names,
    *_fast_names,
    "affine_norm_relu_backward",
    "affine_norm_relu_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]
