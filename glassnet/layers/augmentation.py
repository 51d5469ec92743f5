"""Keras' image augmentation layers, active only in training: ``RandomFlip``
(mirror images), ``RandomTranslation``, ``RandomRotation`` and ``RandomZoom``
(images resampled through an affine transform) and ``RandomCrop``.

Every sample draws its own transform from the layer's generator (seeded by
``seed``, else the model's), except ``RandomCrop``, which, as Keras, crops a
whole batch at one random offset. The resampling layers share one kernel,
:func:`glassnet.functional.translate.affine_transform_forward`; its backward
pass lets them sit after trainable layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_choice, check_int, check_number, fail
from glassnet.backend import Array, get_array_module
from glassnet.backend import rng as make_rng
from glassnet.functional.resize import aspect_resize_backward, aspect_resize_forward
from glassnet.functional.spatial import crop2d_backward, crop2d_forward
from glassnet.functional.translate import (
    FILL_MODES,
    INTERPOLATIONS,
    affine_transform_backward,
    affine_transform_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape

_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class _RandomImageLayer(Layer):
    """The frame of the augmentation layers: images of rank 4 in either data
    format, and a generator seeded by ``seed`` or, when None, the model's."""

    def __init__(
        self, seed: int | None = None, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = check_choice(
            "data_format",
            "channels_last" if data_format is None else data_format,
            ("channels_last", "channels_first"),
        )
        self.seed = seed
        self._rng: np.random.Generator | None = None if seed is None else make_rng(seed)

    def build(self, input_shape: Shape, rng: np.random.Generator | None = None) -> None:
        if len(input_shape) != 4:
            name = f"input of {type(self).__name__}"
            raise fail(name, "images (N, H, W, C)", input_shape)
        if self._rng is None:
            self._rng = rng if rng is not None else make_rng()
        super().build(input_shape)

    def _channels_last(self, a: Array) -> Array:
        return a if self.data_format == "channels_last" else a.transpose(0, 2, 3, 1)

    def _back(self, a: Array) -> Array:
        return a if self.data_format == "channels_last" else a.transpose(0, 3, 1, 2)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "seed": self.seed,
            "data_format": self.data_format,
        }


class RandomFlip(_RandomImageLayer):
    """Mirrors each training image left-right and/or upside down with probability 1/2.

    In inference (``training=False``) it is the identity, as in Keras. Each
    sample's flips are drawn independently (one draw per direction); the
    backward pass mirrors the gradient of the flipped samples back.

    Shapes:
        x: (N, H, W, C) (or (N, C, H, W) with ``data_format="channels_first"``);
        out: like x

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (upside down) or
            ``"horizontal_and_vertical"``. Defaults to
            `"horizontal_and_vertical"`.
        seed: seeds the flips. Defaults to `None` (the model's generator).
        data_format: ``"channels_last"`` or ``"channels_first"``; None means
            channels_last. Defaults to `None`.

    Example:
        >>> import numpy as np
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> RandomFlip("horizontal", seed=0)(x).ravel().tolist()  # inference
        [0.0, 1.0, 2.0, 3.0]
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.mode = check_choice("mode", mode, _MODES)

    def _axes(self) -> list[int]:
        height, width = (1, 2) if self.data_format == "channels_last" else (2, 3)
        return {
            "horizontal": [width],
            "vertical": [height],
            "horizontal_and_vertical": [width, height],
        }[self.mode]

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training:
            self._cache = None
            return x
        xp = get_array_module(x)
        out, flips = x.copy(), []
        for axis in self._axes():
            chosen = xp.asarray(self._rng.random(len(x)) < 0.5)
            out[chosen] = xp.flip(out[chosen], axis=axis)
            flips.append((axis, chosen))
        self._cache = flips
        return out

    def backward(self, dout: Array) -> Array:
        flips, self._cache = self._cache, None
        if flips is None:
            return dout
        xp = get_array_module(dout)
        dx = dout.copy()
        # Each flip is its own inverse and flips along different axes commute.
        for axis, chosen in reversed(flips):
            dx[chosen] = xp.flip(dx[chosen], axis=axis)
        return dx

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def _factor(name: str, factor: Any, *, low_open: bool = False) -> tuple[float, float]:
    """Keras' factor: f means (-|f|, |f|); a pair is (lower, upper), sorted as
    Keras sorts it. Each number is in [-1, 1] (in (-1, 1] with ``low_open``)."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise fail(name, "a number or a pair (lower, upper)", repr(factor))
        numbers = [
            check_number(name, f, low=-1, high=1, low_open=low_open) for f in factor
        ]
        lower, upper = sorted(numbers)
    else:
        upper = abs(check_number(name, factor, low=-1, high=1, low_open=low_open))
        lower = -upper
    return lower, upper


class _RandomAffine(_RandomImageLayer):
    """The frame of the resampling layers: the fill and interpolation
    arguments, and forward/backward through the affine kernel; each subclass
    draws the transforms (``_transforms``)."""

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.fill_mode = check_choice("fill_mode", fill_mode, FILL_MODES)
        self.interpolation = check_choice(
            "interpolation", interpolation, INTERPOLATIONS
        )
        self.fill_value = check_number("fill_value", fill_value)

    def _transforms(self, N: int, H: int, W: int) -> np.ndarray:
        """(N, 8) transforms, one per sample, in Keras' convention."""
        raise NotImplementedError

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training:
            self._cache = None
            return x
        x_last = self._channels_last(x)
        N, H, W = x_last.shape[:3]
        xp = get_array_module(x)
        out, self._cache = affine_transform_forward(
            x_last,
            xp.asarray(self._transforms(N, H, W)),
            self.fill_mode,
            self.interpolation,
            self.fill_value,
        )
        return self._back(out)

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        if cache is None:
            return dout
        return self._back(affine_transform_backward(self._channels_last(dout), cache))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


def _stack(*columns: Any) -> np.ndarray:
    """(N, 8) transforms from 8 columns, each (N,) or a scalar."""
    n = max(np.size(c) for c in columns)
    return np.stack(
        [np.broadcast_to(np.asarray(c, np.float64), (n,)) for c in columns], 1
    )


class RandomTranslation(_RandomAffine):
    """Shifts each training image by a random fraction of its height and width.

    Each sample draws its shifts uniformly, ``dy = U(lower, upper) * H`` (and
    likewise dx from ``width_factor``); positive values move the content down and
    right. Fractional shifts interpolate; pixels from outside the image follow
    ``fill_mode`` (see :mod:`glassnet.functional.translate`). In inference it is
    the identity, as in Keras.

    Shapes:
        x: (N, H, W, C) (or (N, C, H, W) with ``data_format="channels_first"``);
        out: like x

    Args:
        height_factor: a number f in [0, 1] for shifts in [-f, f] of the height,
            or a pair (lower, upper) in [-1, 1].
        width_factor: the same for the width.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"nearest"`` or ``"constant"``.
            Defaults to `"reflect"`.
        interpolation: ``"bilinear"`` or ``"nearest"``. Defaults to `"bilinear"`.
        seed: seeds the shifts. Defaults to `None` (the model's generator).
        fill_value: the value outside the image in constant mode. Defaults to
            `0.0`.
        data_format: ``"channels_last"`` or ``"channels_first"``; None means
            channels_last. Defaults to `None`.

    Example:
        >>> import numpy as np
        >>> layer = RandomTranslation(0.1, 0.1, seed=0)
        >>> x = np.ones((2, 8, 8, 1))
        >>> layer(x).shape, bool((layer(x) == x).all())  # inference: identity
        ((2, 8, 8, 1), True)
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            fill_mode, interpolation, seed, fill_value, data_format, **kwargs
        )
        self.height_factor = _factor("height_factor", height_factor)
        self.width_factor = _factor("width_factor", width_factor)

    def _transforms(self, N: int, H: int, W: int) -> np.ndarray:
        dy = self._rng.uniform(*self.height_factor, size=N) * H
        dx = self._rng.uniform(*self.width_factor, size=N) * W
        # Output (i, j) reads (i - dy, j - dx).
        return _stack(1, 0, -dx, 0, 1, -dy, 0, 0)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height_factor": list(self.height_factor),
            "width_factor": list(self.width_factor),
        }


class RandomRotation(_RandomAffine):
    """Rotates each training image by a random angle about its centre.

    Each sample draws ``angle = U(lower, upper) * 2 pi``; a positive angle turns
    the content counter-clockwise (``factor=(0.25, 0.25)`` is ``np.rot90``).
    The centre is ((H - 1) / 2, (W - 1) / 2) in pixel coordinates, as Keras:
    output pixel p reads the input at ``R(angle) (p - centre) + centre``, with
    rows growing downwards. Pixels from outside the image follow ``fill_mode``
    (see :mod:`glassnet.functional.translate`). In inference it is the
    identity, as in Keras.

    Shapes:
        x: (N, H, W, C) (or (N, C, H, W) with ``data_format="channels_first"``);
        out: like x

    Args:
        factor: a fraction of a full turn: a number f for angles in
            [-f, f] * 2 pi, or a pair (lower, upper), each in [-1, 1].
        fill_mode: ``"reflect"``, ``"wrap"``, ``"nearest"`` or ``"constant"``.
            Defaults to `"reflect"`.
        interpolation: ``"bilinear"`` or ``"nearest"``. Defaults to `"bilinear"`.
        seed: seeds the angles. Defaults to `None` (the model's generator).
        fill_value: the value outside the image in constant mode. Defaults to
            `0.0`.
        data_format: ``"channels_last"`` or ``"channels_first"``; None means
            channels_last. Defaults to `None`.

    Raises:
        ValueError: for a factor outside [-1, 1] or not a number or a pair, or
            an unknown mode.

    Example:
        >>> import numpy as np
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> half_turn = RandomRotation((0.5, 0.5), interpolation="nearest")
        >>> half_turn(x, training=True)[0, :, :, 0]
        array([[3., 2.],
               [1., 0.]], dtype=float32)
    """

    def __init__(
        self,
        factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            fill_mode, interpolation, seed, fill_value, data_format, **kwargs
        )
        self.factor = _factor("factor", factor)

    def _transforms(self, N: int, H: int, W: int) -> np.ndarray:
        angle = self._rng.uniform(*self.factor, size=N) * 2 * np.pi
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = (W - 1) / 2, (H - 1) / 2
        return _stack(
            cos,
            -sin,
            cx - cx * cos + cy * sin,
            sin,
            cos,
            cy - cx * sin - cy * cos,
            0,
            0,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor)}


class RandomZoom(_RandomAffine):
    """Zooms each training image in or out about its centre by a random factor.

    Each sample draws ``zy = 1 + U(lower, upper)`` from ``height_factor``
    (and ``zx`` from ``width_factor``, or ``zx = zy`` when it is None: the
    aspect ratio kept); output pixel (y, x) reads the input at
    ``(cy + zy (y - cy), cx + zx (x - cx))`` about the centre ((H - 1) / 2,
    (W - 1) / 2), as Keras. So a positive factor zooms out (the image shrinks)
    and a negative one zooms in. Pixels from outside the image follow
    ``fill_mode``. In inference it is the identity, as in Keras.

    Shapes:
        x: (N, H, W, C) (or (N, C, H, W) with ``data_format="channels_first"``);
        out: like x

    Args:
        height_factor: a number f for zooms in [-f, f], or a pair (lower,
            upper), each in (-1, 1].
        width_factor: the same for the width, or None for the height's zoom.
            Defaults to `None`.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"nearest"`` or ``"constant"``.
            Defaults to `"reflect"`.
        interpolation: ``"bilinear"`` or ``"nearest"``. Defaults to `"bilinear"`.
        seed: seeds the zooms. Defaults to `None` (the model's generator).
        fill_value: the value outside the image in constant mode. Defaults to
            `0.0`.
        data_format: ``"channels_last"`` or ``"channels_first"``; None means
            channels_last. Defaults to `None`.

    Raises:
        ValueError: for a factor outside (-1, 1] or not a number or a pair, or
            an unknown mode.

    Example:
        >>> import numpy as np
        >>> x = np.arange(5.0).reshape(1, 1, 5, 1)
        >>> zoom_in = RandomZoom(0.0, (-0.5, -0.5), fill_mode="constant")
        >>> zoom_in(x, training=True).ravel().tolist()
        [1.0, 1.5, 2.0, 2.5, 3.0]
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            fill_mode, interpolation, seed, fill_value, data_format, **kwargs
        )
        self.height_factor = _factor("height_factor", height_factor, low_open=True)
        self.width_factor = (
            None
            if width_factor is None
            else _factor("width_factor", width_factor, low_open=True)
        )

    def _transforms(self, N: int, H: int, W: int) -> np.ndarray:
        zy = 1.0 + self._rng.uniform(*self.height_factor, size=N)
        zx = zy
        if self.width_factor is not None:
            zx = 1.0 + self._rng.uniform(*self.width_factor, size=N)
        cx, cy = (W - 1) / 2, (H - 1) / 2
        return _stack(zx, 0, cx * (1 - zx), 0, zy, cy * (1 - zy), 0, 0)

    def get_config(self) -> dict[str, Any]:
        width = None if self.width_factor is None else list(self.width_factor)
        return {
            **super().get_config(),
            "height_factor": list(self.height_factor),
            "width_factor": width,
        }


class RandomCrop(_RandomImageLayer):
    """Crops training images to ``(height, width)`` at a random offset.

    In training, an image at least as large as the target is cropped at
    ``top = int(U(0, H - height + 1))``, ``left = int(U(0, W - width + 1))``,
    one offset for the whole batch, as Keras. In inference, and in training
    when the image is smaller than the target on an axis, the image is instead
    resized as Keras documents: the largest centred window of the target's
    aspect ratio, resized (bilinear) to the target (``Resizing(height, width,
    crop_to_aspect_ratio=True)``).

    Shapes:
        x: (N, H, W, C) (or (N, C, H, W) with ``data_format="channels_first"``);
        out: (N, height, width, C), or channels-first

    Args:
        height: the output height, an int >= 1.
        width: the output width, an int >= 1.
        seed: seeds the offsets. Defaults to `None` (the model's generator).
        data_format: ``"channels_last"`` or ``"channels_first"``; None means
            channels_last. Defaults to `None`.

    Raises:
        ValueError: for sizes that are not ints >= 1.

    Example:
        >>> import numpy as np
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> RandomCrop(2, 2, seed=0)(x, training=True).shape
        (1, 2, 2, 1)
        >>> RandomCrop(2, 2)(x)[0, :, :, 0]  # inference: resized to 2 x 2
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.height = check_int("height", height, min_value=1)
        self.width = check_int("width", width, min_value=1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, _, c = L.split_shape("input_shape", input_shape, self.data_format)
        return L.join_shape(
            input_shape[0], self.height, self.width, c, self.data_format
        )

    def forward(self, x: Array, training: bool = False) -> Array:
        channels_last = self.data_format == "channels_last"
        H, W = x.shape[1:3] if channels_last else x.shape[2:4]
        if training and H >= self.height and W >= self.width:
            top = int(self._rng.uniform(0, H - self.height + 1))
            left = int(self._rng.uniform(0, W - self.width + 1))
            crops = ((top, H - self.height - top), (left, W - self.width - left))
            out, cache = crop2d_forward(x, crops, channels_last=channels_last)
            self._cache = [(crop2d_backward, cache)]
            return out
        out, self._cache = aspect_resize_forward(
            x, (self.height, self.width), crop=True, channels_last=channels_last
        )
        return out

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return aspect_resize_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}


__all__ = [
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]
