"""Separable convolution: a depthwise convolution, then a 1 x 1 pointwise one.

Keras' ``SeparableConv2D`` is exactly two existing kernels in a row: the depthwise
step of :mod:`glassnet.functional.depthwise` without a bias (each channel c with its
own M filters, output channels ``c * M + m``), then a plain convolution with a
(1, 1, C * M, F) kernel, stride 1 and no padding, which adds the bias. The
backward pass runs the two backward kernels in reverse order; nothing is derived
here, and the naive twin chains the two loop kernels.

``conv_param`` is the depthwise step's (``'stride'``, ``'pad'``, optionally
``'dilation'``); the pointwise step never strides or pads.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_array
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)
from glassnet.functional.depthwise import (
    depthwise_conv_backward,
    depthwise_conv_backward_naive,
    depthwise_conv_forward,
    depthwise_conv_forward_naive,
)

__all__ = [
    "separable_conv_backward",
    "separable_conv_backward_naive",
    "separable_conv_forward",
    "separable_conv_forward_naive",
]

_POINTWISE = {"stride": 1, "pad": 0}


def _no_bias(x: Array, w_depth: Array) -> Array:
    check_array("w_depth", w_depth, ndim=4)
    xp = get_array_module(x)
    return xp.zeros(w_depth.shape[2] * w_depth.shape[3], dtype=x.dtype)


def separable_conv_forward(
    x: Array,
    w_depth: Array,
    w_point: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """Separable convolution through the fast depthwise and conv kernels.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        w_depth: (HH, WW, C, M), Keras' depthwise layout
        w_point: (1, 1, C * M, F), Keras' pointwise layout;  b: (F,)
        out: (N, F, H_out, W_out), or (N, H_out, W_out, F)

    Args:
        x: the images.
        w_depth: the depthwise kernel, M = the depth multiplier.
        w_point: the pointwise kernel.
        b: the biases, added by the pointwise step.
        conv_param: the depthwise step's ``'stride'``, ``'pad'`` and optionally
            ``'dilation'``, as for :func:`glassnet.functional.conv_forward_naive`.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.

    Returns:
        out, and a cache for :func:`separable_conv_backward`.

    Raises:
        ValueError: for what the conv kernels refuse: a wrong rank or shape of
            x, the kernels or b, or invalid ``conv_param`` entries.
    """
    check_array("w_point", w_point, ndim=4)
    mid, depth_cache = depthwise_conv_forward(
        x, w_depth, _no_bias(x, w_depth), conv_param, channels_last=channels_last
    )
    if channels_last:
        out, point_cache = conv_forward_nhwc(mid, w_point, b, _POINTWISE)
    else:
        wp = w_point.transpose(3, 2, 0, 1)
        out, point_cache = conv_forward_fast(mid, wp, b, _POINTWISE)
    return out, (depth_cache, point_cache, channels_last)


def separable_conv_backward(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array, Array]:
    """Backward pass of :func:`separable_conv_forward`.

    Shapes:
        dout: like out;  dx: like x;  dw_depth: (HH, WW, C, M)
        dw_point: (1, 1, C * M, F);  db: (F,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`separable_conv_forward`.
        need_dx: compute the input gradient (channels-last may skip it and
            return None). Defaults to `True`.

    Returns:
        (dx, dw_depth, dw_point, db).
    """
    depth_cache, point_cache, channels_last = cache
    if channels_last:
        dmid, dw_point, db = conv_backward_nhwc(dout, point_cache)
    else:
        dmid, dw_point, db = conv_backward_fast(dout, point_cache)
        dw_point = dw_point.transpose(2, 3, 1, 0)
    # The depthwise step's bias is fixed at zero, so its gradient is dropped.
    dx, dw_depth, _ = depthwise_conv_backward(dmid, depth_cache, need_dx=need_dx)
    return dx, dw_depth, dw_point, db


def separable_conv_forward_naive(
    x: Array,
    w_depth: Array,
    w_point: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """The loop twin of :func:`separable_conv_forward`: the depthwise loop twin,
    then the conv's loop kernel with the 1 x 1 kernel."""
    check_array("w_point", w_point, ndim=4)
    mid, depth_cache = depthwise_conv_forward_naive(
        x, w_depth, _no_bias(x, w_depth), conv_param, channels_last=channels_last
    )
    mc = mid.transpose(0, 3, 1, 2) if channels_last else mid
    out, point_cache = conv_forward_naive(
        mc, w_point.transpose(3, 2, 0, 1), b, _POINTWISE
    )
    out = out.transpose(0, 2, 3, 1) if channels_last else out
    return out, (depth_cache, point_cache, channels_last)


def separable_conv_backward_naive(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array, Array]:
    """Backward pass of :func:`separable_conv_forward_naive`, by the loops."""
    depth_cache, point_cache, channels_last = cache
    dc = dout.transpose(0, 3, 1, 2) if channels_last else dout
    dmid, dw_point, db = conv_backward_naive(dc, point_cache)
    dmid = dmid.transpose(0, 2, 3, 1) if channels_last else dmid
    dx, dw_depth, _ = depthwise_conv_backward_naive(dmid, depth_cache)
    return dx, dw_depth, dw_point.transpose(2, 3, 1, 0), db
