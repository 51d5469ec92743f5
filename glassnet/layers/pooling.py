"""Pooling layers: ``MaxPooling2D``, ``AveragePooling2D`` and their global forms.

Glue around the pooling kernels of :mod:`glassnet.functional.pool_fast`
(``*_nhwc`` for channels-last, ``*_fast`` for channels-first), picked in
:mod:`glassnet.layers._layout`, which also holds TensorFlow's 'same' padding rule.
Padded cells are not part of the input: they never win a max and are not counted
in an average, as in TensorFlow. The max gradient goes to the first maximal cell of
a window in row-major order.

The global layers are the same kernels with one window covering the whole image.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape


class _Pooling2D(Layer):
    """Shared body of ``MaxPooling2D`` and ``AveragePooling2D``."""

    kind = ""  # "max" or "avg": the kernel family

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = L.pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else L.pair("strides", strides)
        self.padding = L.standardize_padding(padding)
        self.data_format = L.standardize_data_format(data_format)

    def _geometry(self, shape: Shape) -> tuple[tuple[Any, Any], L.Pads]:
        name = f"input of layer {self.name!r}"
        h, w, _ = L.split_shape(name, shape, self.data_format)
        return L.window_geometry(
            name, (h, w), self.pool_size, self.strides, (1, 1), self.padding
        )

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        self._geometry(input_shape)
        super().build(input_shape)

    def check_input(self, x: Array) -> None:
        # As Keras' InputSpec(ndim=4): any image size and channel count.
        L.check_images(f"input of layer {self.name!r}", x.shape, self.data_format, None)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h_out, w_out), _ = self._geometry(input_shape)
        _, _, c = L.split_shape("input_shape", input_shape, self.data_format)
        return L.join_shape(input_shape[0], h_out, w_out, c, self.data_format)

    def forward(self, x: Array, training: bool = False) -> Array:
        _, pads = self._geometry(x.shape)
        pool_param = {
            "pool_height": self.pool_size[0],
            "pool_width": self.pool_size[1],
            "stride": self.strides,
            "pad": pads,
        }
        out, self._cache = L.pool_forward(
            self.kind, x, pool_param, self.data_format, training
        )
        return out

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return L.pool_backward(self.kind, dout, cache, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling2D):
    """Max over each ``pool_size`` window; padded cells never win.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, H_out, W_out, C), or (N, C, H_out, W_out)

    Args:
        pool_size: (HH, WW), an int or a pair. Defaults to `(2, 2)`.
        strides: an int or a pair. Defaults to `None`, meaning ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's). Defaults to `"valid"`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument or an input that is not of rank 4.

    Example:
        >>> import numpy as np
        >>> MaxPooling2D(2)(np.zeros((1, 26, 26, 32))).shape
        (1, 13, 13, 32)
    """

    commutes_with_relu = True
    kind = "max"


class AveragePooling2D(_Pooling2D):
    """Mean over the real (unpadded) cells of each ``pool_size`` window.

    Arguments, shapes and errors as for :class:`MaxPooling2D`.

    Example:
        >>> import numpy as np
        >>> AveragePooling2D(3, strides=2, padding="same")(np.ones((1, 5, 5, 2))).shape
        (1, 3, 3, 2)
    """

    kind = "avg"


class _GlobalPooling2D(Layer):
    """Shared body of the global pooling layers: one window over the whole image."""

    kind = ""

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = L.standardize_data_format(data_format)
        if not isinstance(keepdims, bool):
            raise fail("keepdims", "True or False", repr(keepdims))
        self.keepdims = keepdims

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        L.split_shape(f"input of layer {self.name!r}", input_shape, self.data_format)
        super().build(input_shape)

    def check_input(self, x: Array) -> None:
        L.check_images(f"input of layer {self.name!r}", x.shape, self.data_format, None)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, _, c = L.split_shape("input_shape", input_shape, self.data_format)
        if self.keepdims:
            return L.join_shape(input_shape[0], 1, 1, c, self.data_format)
        return (input_shape[0], c)

    def forward(self, x: Array, training: bool = False) -> Array:
        h, w, c = L.split_shape(
            f"input of layer {self.name!r}", x.shape, self.data_format
        )
        # A stride of the whole image lets the kernels take their reshape path.
        pool_param = {"pool_height": h, "pool_width": w, "stride": (h, w)}
        out, cache = L.pool_forward(self.kind, x, pool_param, self.data_format)
        self._cache = (out.shape, cache)
        return out if self.keepdims else out.reshape(x.shape[0], c)

    def backward(self, dout: Array) -> Array:
        (shape, cache), self._cache = self._cache, None
        return L.pool_backward(self.kind, dout.reshape(shape), cache, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "keepdims": self.keepdims,
        }


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over the spatial axes of each channel.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, C); with ``keepdims`` (N, 1, 1, C), or (N, C, 1, 1)

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        keepdims: keep the spatial axes, with size 1. Defaults to `False`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument or an input that is not of rank 4.

    Example:
        >>> import numpy as np
        >>> GlobalAveragePooling2D()(np.ones((2, 5, 5, 3))).shape
        (2, 3)
    """

    kind = "avg"


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The max over the spatial axes of each channel.

    The gradient goes to the first maximal cell in row-major order. Arguments,
    shapes and errors as for :class:`GlobalAveragePooling2D`.

    Example:
        >>> import numpy as np
        >>> GlobalMaxPooling2D(keepdims=True)(np.ones((2, 5, 5, 3))).shape
        (2, 1, 1, 3)
    """

    commutes_with_relu = True
    kind = "max"


# Keras' aliases.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "AveragePooling2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "MaxPool2D",
    "MaxPooling2D",
]
