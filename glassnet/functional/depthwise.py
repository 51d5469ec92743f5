"""Depthwise convolution: a grouped convolution with one group per channel.

Each input channel c is convolved with its own ``depth_multiplier`` filters, giving
output channels ``c * M + m`` (TensorFlow's order). That is exactly the grouped
convolution of :mod:`glassnet.functional.conv` / :mod:`~glassnet.functional.conv_fast`
with ``groups = C`` and ``F = C * M``, once the Keras depthwise kernel
``(HH, WW, C, M)`` is read as the grouped kernel ``(HH, WW, 1, C * M)`` (a plain
reshape: index ``(c, m)`` becomes ``c * M + m``). So these functions only
reshape and call the conv kernels; nothing is derived a second time, and the
naive twin is the conv's loop kernel.

``conv_param`` is the conv's (``'stride'``, ``'pad'``, optionally
``'dilation'``); its ``'groups'`` is set here.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_array, fail
from glassnet.backend import Array, Cache
from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)

__all__ = [
    "depthwise_conv_backward",
    "depthwise_conv_backward_naive",
    "depthwise_conv_forward",
    "depthwise_conv_forward_naive",
]


def _grouped(w: Array, conv_param: Any) -> tuple[Array, dict[str, Any]]:
    """The (HH, WW, 1, C * M) grouped kernel and the conv_param with groups=C."""
    check_array("w", w, ndim=4)
    if not isinstance(conv_param, dict):
        raise fail("conv_param", "a dict", type(conv_param).__name__)
    HH, WW, C, M = w.shape
    return w.reshape(HH, WW, 1, C * M), {**conv_param, "groups": C}


def depthwise_conv_forward(
    x: Array,
    w: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """Depthwise convolution through the fast grouped conv kernels.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        w: (HH, WW, C, M), Keras' depthwise layout;  b: (C * M,)
        out: (N, C * M, H_out, W_out), or (N, H_out, W_out, C * M)

    Args:
        x: the images.
        w: the depthwise kernel, M = the depth multiplier.
        b: the biases.
        conv_param: ``'stride'``, ``'pad'`` and optionally ``'dilation'``, as
            for :func:`glassnet.functional.conv_forward_naive`.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.

    Returns:
        out, and a cache for :func:`depthwise_conv_backward`.

    Raises:
        ValueError: for what the conv kernels refuse: a wrong rank or shape of
            x, w or b, or invalid ``conv_param`` entries.
    """
    wg, param = _grouped(w, conv_param)
    if channels_last:
        out, cache = conv_forward_nhwc(x, wg, b, param)
    else:
        out, cache = conv_forward_fast(x, wg.transpose(3, 2, 0, 1), b, param)
    return out, (cache, w.shape, channels_last)


def depthwise_conv_backward(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward pass of :func:`depthwise_conv_forward`.

    Shapes:
        dout: like out;  dx: like x;  dw: (HH, WW, C, M);  db: (C * M,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`depthwise_conv_forward`.
        need_dx: compute the input gradient (channels-last may skip it and
            return None). Defaults to `True`.

    Returns:
        (dx, dw, db).
    """
    conv_cache, w_shape, channels_last = cache
    if channels_last:
        dx, dw, db = conv_backward_nhwc(dout, conv_cache, need_dx=need_dx)
    else:
        dx, dw, db = conv_backward_fast(dout, conv_cache)
        dw = dw.transpose(2, 3, 1, 0)
    return dx, dw.reshape(w_shape), db


def depthwise_conv_forward_naive(
    x: Array,
    w: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """The loop twin of :func:`depthwise_conv_forward`: the conv's loop kernel on
    the grouped kernel (channels-last input is transposed for it)."""
    wg, param = _grouped(w, conv_param)
    xc = x.transpose(0, 3, 1, 2) if channels_last else x
    out, cache = conv_forward_naive(xc, wg.transpose(3, 2, 0, 1), b, param)
    out = out.transpose(0, 2, 3, 1) if channels_last else out
    return out, (cache, w.shape, channels_last)


def depthwise_conv_backward_naive(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`depthwise_conv_forward_naive`, by the conv's loops."""
    conv_cache, w_shape, channels_last = cache
    dc = dout.transpose(0, 3, 1, 2) if channels_last else dout
    dx, dw, db = conv_backward_naive(dc, conv_cache)
    dx = dx.transpose(0, 2, 3, 1) if channels_last else dx
    return dx, dw.transpose(2, 3, 1, 0).reshape(w_shape), db
