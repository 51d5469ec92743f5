"""Spatial reshaping of image batches: ``ZeroPadding2D``, ``Cropping2D``,
``UpSampling2D``.

Glue around :mod:`glassnet.functional.spatial` and (for interpolating
upsampling) :mod:`glassnet.functional.resize`, whose kernels take either
layout, so data is never transposed. As with Keras' ``InputSpec``, the rank and the
channel count are fixed when built; the image size is not.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_choice, fail
from glassnet.backend import Array
from glassnet.functional import spatial as F
from glassnet.functional._im2col import Pads, as_pads
from glassnet.functional.resize import (
    RESIZE_INTERPOLATIONS,
    resize_backward,
    resize_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape


class _Spatial2D(Layer):
    """The ``data_format`` argument and the rank-4 input check, shared."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = L.standardize_data_format(data_format)
        self._channels: int | None = None

    @property
    def channels_last(self) -> bool:
        return self.data_format == L.CHANNELS_LAST

    def _split(self, shape: Shape) -> tuple[Any, Any, Any]:
        return L.split_shape(f"input of layer {self.name!r}", shape, self.data_format)

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        self._channels = self._split(input_shape)[2]
        super().build(input_shape)

    def check_input(self, x: Array) -> None:
        L.check_images(
            f"input of layer {self.name!r}", x.shape, self.data_format, self._channels
        )

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return self._backward_kernel(dout, cache)

    _backward_kernel: Any = None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


def _pads_config(pads: Pads) -> list[list[int]]:
    return [list(pads[0]), list(pads[1])]


class ZeroPadding2D(_Spatial2D):
    """Adds rows and columns of zeros at the top, bottom, left and right.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, H + top + bottom, W + left + right, C), or channels-first

    Args:
        padding: an int (every side), a pair ``(vertical, horizontal)`` (both
            sides of each axis) or ``((top, bottom), (left, right))``. Defaults
            to `(1, 1)`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a ``padding`` not in one of the three forms of ints >= 0.

    Example:
        >>> import numpy as np
        >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((2, 3, 3, 4))).shape
        (2, 4, 7, 4)
    """

    _backward_kernel = staticmethod(F.zero_pad2d_backward)

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(data_format, **kwargs)
        self.padding = as_pads("padding", padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        h, w, c = self._split(input_shape)
        (t, b), (left, r) = self.padding
        h = None if h is None else h + t + b
        w = None if w is None else w + left + r
        return L.join_shape(input_shape[0], h, w, c, self.data_format)

    def forward(self, x: Array, training: bool = False) -> Array:
        out, self._cache = F.zero_pad2d_forward(
            x, self.padding, channels_last=self.channels_last
        )
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": _pads_config(self.padding)}


class Cropping2D(_Spatial2D):
    """Removes rows and columns at the top, bottom, left and right.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, H - top - bottom, W - left - right, C), or channels-first

    Args:
        cropping: an int (every side), a pair ``(vertical, horizontal)`` or
            ``((top, bottom), (left, right))``. Defaults to `((0, 0), (0, 0))`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a ``cropping`` not in one of the three forms of ints
            >= 0, or one that leaves no row or column of the input (as Keras).

    Example:
        >>> import numpy as np
        >>> Cropping2D(((2, 2), (4, 4)))(np.ones((2, 28, 28, 3))).shape
        (2, 24, 20, 3)
    """

    _backward_kernel = staticmethod(F.crop2d_backward)

    def __init__(
        self,
        cropping: Any = ((0, 0), (0, 0)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format, **kwargs)
        self.cropping = as_pads("cropping", cropping)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        h, w, c = self._split(input_shape)
        sizes = []
        for axis, size, (a, b) in (
            ("height", h, self.cropping[0]),
            ("width", w, self.cropping[1]),
        ):
            if size is not None and a + b >= size:
                raise fail(
                    "cropping", f"a total below the input's {axis} {size}", a + b
                )
            sizes.append(None if size is None else size - a - b)
        return L.join_shape(input_shape[0], *sizes, c, self.data_format)

    def forward(self, x: Array, training: bool = False) -> Array:
        self.compute_output_shape(x.shape)  # the message names ``cropping``
        out, self._cache = F.crop2d_forward(
            x, self.cropping, channels_last=self.channels_last
        )
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": _pads_config(self.cropping)}


class UpSampling2D(_Spatial2D):
    """Upsamples images by integer factors: ``size[0]`` rows and ``size[1]``
    columns for each input row and column.

    ``"nearest"`` repeats each pixel in a block; the other modes are Keras'
    ``ops.image.resize`` to ``(H * size[0], W * size[1])`` (half-pixel centres:
    output row o samples input row ``(o + 0.5) / size[0] - 0.5``, see
    :mod:`glassnet.functional.resize`).

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, H * size[0], W * size[1], C), or channels-first

    Args:
        size: the factors, an int or a pair of ints >= 1. Defaults to `(2, 2)`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        interpolation: ``"nearest"``, ``"bilinear"``, ``"bicubic"``,
            ``"lanczos3"`` or ``"lanczos5"`` (any case). Defaults to
            `"nearest"`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid ``size`` or an unsupported ``interpolation``.

    Example:
        >>> import numpy as np
        >>> UpSampling2D((1, 2))(np.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0]
        array([[0., 0., 1., 1.],
               [2., 2., 3., 3.]], dtype=float32)
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> UpSampling2D((1, 2), interpolation="bilinear")(x).ravel().tolist()
        [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]
    """

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format, **kwargs)
        self.size = L.pair("size", size)
        name = interpolation.lower() if isinstance(interpolation, str) else None
        check_choice("interpolation", name or interpolation, RESIZE_INTERPOLATIONS)
        self.interpolation = name

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        h, w, c = self._split(input_shape)
        h = None if h is None else h * self.size[0]
        w = None if w is None else w * self.size[1]
        return L.join_shape(input_shape[0], h, w, c, self.data_format)

    def forward(self, x: Array, training: bool = False) -> Array:
        if self.interpolation == "nearest":
            out, cache = F.upsample_nearest_forward(
                x, self.size, channels_last=self.channels_last
            )
        else:
            h, w, _ = self._split(x.shape)
            out, cache = resize_forward(
                x,
                (h * self.size[0], w * self.size[1]),
                self.interpolation,
                channels_last=self.channels_last,
            )
        self._cache = cache
        return out

    def _backward_kernel(self, dout: Array, cache: Any) -> Array:
        if self.interpolation == "nearest":
            return F.upsample_nearest_backward(dout, cache)
        return resize_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": list(self.size),
            "interpolation": self.interpolation,
        }


__all__ = ["Cropping2D", "UpSampling2D", "ZeroPadding2D"]
