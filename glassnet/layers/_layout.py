"""Channel layout and window geometry shared by the conv and pooling layers.

Keras image layers take ``data_format="channels_last"`` (N, H, W, C; the default)
or ``"channels_first"`` (N, C, H, W). The kernels exist in both layouts, so data is
never transposed: channels-last calls the ``*_nhwc`` kernels, which take the Keras
kernel layout (HH, WW, C // groups, F) as is; channels-first calls the cs231n
``*_fast`` kernels, whose filters are (F, C // groups, HH, WW). This module is the
one place that knows the difference: which axes are spatial, which kernel pair a
layout uses, and the kernel-layout conversion (a transposed view both ways).

Padding follows TensorFlow exactly, per spatial axis with a window of dilated size
``k_eff = dilation * (k - 1) + 1``:

- ``'valid'``: no padding; ``out = (size - k_eff) // stride + 1``;
- ``'same'``: ``out = ceil(size / stride)``, padded by
  ``total = max((out - 1) * stride + k_eff - size, 0)`` cells, ``total // 2``
  before and the rest after (one more cell at the bottom/right when it is odd).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache
from glassnet.functional._im2col import Pads, Pair, as_pair, tf_axis_geometry
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)
from glassnet.functional.pool_fast import (
    avg_pool_backward_fast,
    avg_pool_backward_nhwc,
    avg_pool_forward_fast,
    avg_pool_forward_nhwc,
    max_pool_backward_fast,
    max_pool_backward_nhwc,
    max_pool_forward_fast,
    max_pool_forward_nhwc,
)
from glassnet.layers.base import Shape

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
_PADDINGS = ("valid", "same")

_POOL_KERNELS: dict[tuple[str, str], tuple[Callable[..., Any], Callable[..., Any]]] = {
    ("max", CHANNELS_LAST): (max_pool_forward_nhwc, max_pool_backward_nhwc),
    ("max", CHANNELS_FIRST): (max_pool_forward_fast, max_pool_backward_fast),
    ("avg", CHANNELS_LAST): (avg_pool_forward_nhwc, avg_pool_backward_nhwc),
    ("avg", CHANNELS_FIRST): (avg_pool_forward_fast, avg_pool_backward_fast),
}


# ---- arguments -----------------------------------------------------------------


def standardize_data_format(value: Any) -> str:
    """``None`` -> ``'channels_last'``; otherwise one of the two names, any case."""
    if value is None:
        return CHANNELS_LAST
    name = value.lower() if isinstance(value, str) else value
    if name not in (CHANNELS_LAST, CHANNELS_FIRST):
        raise fail(
            "data_format", f"None, {CHANNELS_LAST!r} or {CHANNELS_FIRST!r}", repr(value)
        )
    return name


def standardize_padding(value: Any) -> str:
    """``'valid'`` or ``'same'``, any case (Keras lower-cases it too)."""
    name = value.lower() if isinstance(value, str) else value
    if name not in _PADDINGS:
        raise fail("padding", f"one of {_PADDINGS}", repr(value))
    return name


def pair(name: str, value: Any) -> Pair:
    """An int or a pair of positive ints, as ``(vertical, horizontal)``."""
    return as_pair(name, value, min_value=1)


# ---- shapes ----------------------------------------------------------------------


def split_shape(name: str, shape: Shape, data_format: str) -> tuple[Any, Any, Any]:
    """``(H, W, C)`` of an image batch shape in ``data_format``; checks rank 4."""
    if len(shape) != 4:
        form = "(N, H, W, C)" if data_format == CHANNELS_LAST else "(N, C, H, W)"
        raise fail(name, f"rank-4 shape {form} ({data_format})", tuple(shape))
    if data_format == CHANNELS_LAST:
        return shape[1], shape[2], shape[3]
    return shape[2], shape[3], shape[1]


def join_shape(n: Any, h: Any, w: Any, c: Any, data_format: str) -> Shape:
    """The inverse of :func:`split_shape`: ``(N, H, W, C)`` or ``(N, C, H, W)``."""
    return (n, h, w, c) if data_format == CHANNELS_LAST else (n, c, h, w)


def check_images(name: str, shape: Shape, data_format: str, channels: Any) -> None:
    """Check an input's rank and, when ``channels`` is known, its channel count."""
    _, _, c = split_shape(name, shape, data_format)
    if channels is not None and c != channels:
        raise fail(name, f"{channels} channels ({data_format})", tuple(shape))


def window_geometry(
    name: str,
    hw: tuple[Any, Any],
    kernel: Pair,
    strides: Pair,
    dilation: Pair,
    padding: str,
) -> tuple[tuple[Any, Any], Pads]:
    """TensorFlow's output size and ``((top, bottom), (left, right))`` padding.

    Sizes may be ``None`` (unknown); their output size is ``None`` too. ``name``
    names the input in error messages.

    Raises:
        ValueError: when a known size is smaller than the dilated window with
            ``padding='valid'``.
    """
    h_out, pad_h = tf_axis_geometry(
        name, "height", hw[0], kernel[0], strides[0], dilation[0], padding
    )
    w_out, pad_w = tf_axis_geometry(
        name, "width", hw[1], kernel[1], strides[1], dilation[1], padding
    )
    return (h_out, w_out), (pad_h, pad_w)


# ---- kernels ---------------------------------------------------------------------


def conv_forward(
    x: Array, kernel: Array, b: Array, conv_param: dict[str, Any], data_format: str
) -> tuple[Array, Cache]:
    """Convolve with a Keras-layout ``kernel`` (HH, WW, C // groups, F)."""
    if data_format == CHANNELS_LAST:
        return conv_forward_nhwc(x, kernel, b, conv_param)
    # (HH, WW, C/G, F) -> (F, C/G, HH, WW): a transposed view, which the fast
    # kernel transposes straight back, so no copy is made either way.
    return conv_forward_fast(x, kernel.transpose(3, 2, 0, 1), b, conv_param)


def conv_backward(
    dout: Array, cache: Cache, data_format: str, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward of :func:`conv_forward`: ``(dx, dkernel in Keras layout, db)``.

    Channels-last skips dx (returns None) when ``need_dx`` is false; the cs231n
    channels-first kernel always computes it.
    """
    if data_format == CHANNELS_LAST:
        return conv_backward_nhwc(dout, cache, need_dx=need_dx)
    dx, dw, db = conv_backward_fast(dout, cache)
    return dx, dw.transpose(2, 3, 1, 0), db


def pool_forward(
    kind: str,
    x: Array,
    pool_param: dict[str, Any],
    data_format: str,
    training: bool = True,
) -> tuple[Array, Cache]:
    """Max (``kind='max'``) or average (``'avg'``) pooling in ``data_format``.

    Outside training, max pooling leaves finding the winning cells to a backward
    pass, if one comes.
    """
    forward = _POOL_KERNELS[kind, data_format][0]
    if kind == "max":
        return forward(x, pool_param, keep_argmax=training)
    return forward(x, pool_param)


def pool_backward(kind: str, dout: Array, cache: Cache, data_format: str) -> Array:
    """Backward of :func:`pool_forward`."""
    return _POOL_KERNELS[kind, data_format][1](dout, cache)


class ConvWindowMixin:
    """``check_input`` and the window geometry of a convolution layer with
    ``kernel_size``, ``strides``, ``dilation_rate``, ``padding``, ``data_format``
    and the input channels it was built for (``_channels``)."""

    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    dilation_rate: tuple[int, int]
    padding: str
    data_format: str
    name: Any
    _channels: int | None

    def set_window_args(
        self,
        kernel_size: Any,
        strides: Any,
        padding: Any,
        data_format: Any,
        dilation_rate: Any,
    ) -> None:
        """Check and keep the window arguments every convolution layer takes."""
        self._channels = None
        self.kernel_size = pair("kernel_size", kernel_size)
        self.strides = pair("strides", strides)
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = pair("dilation_rate", dilation_rate)

    def check_input(self, x: Any) -> None:
        # As Keras' InputSpec: rank and channels are fixed, the image size is not.
        check_images(
            f"input of layer {self.name!r}", x.shape, self.data_format, self._channels
        )

    def _geometry(self, shape: Any) -> tuple[tuple[Any, Any], Pads]:
        name = f"input of layer {self.name!r}"
        h, w, _ = split_shape(name, shape, self.data_format)
        return window_geometry(
            name,
            (h, w),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )


__all__: list[str] = []
