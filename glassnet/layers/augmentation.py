"""Keras' image augmentation layers, active only in training: ``RandomFlip``
(mirror images) and ``RandomTranslation`` (shifted images)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_choice, check_number, fail
from glassnet.backend import Array, get_array_module
from glassnet.backend import rng as make_rng
from glassnet.functional.translate import (
    FILL_MODES,
    INTERPOLATIONS,
    translate_backward,
    translate_forward,
)
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


def _factor(name: str, factor: Any) -> tuple[float, float]:
    """Keras' factor: f means (-f, f); a pair (lower, upper), both in [-1, 1]."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise fail(name, "a number or a pair (lower, upper)", repr(factor))
        lower, upper = (check_number(name, f, low=-1, high=1) for f in factor)
    else:
        upper = abs(check_number(name, factor, low=-1, high=1))
        lower = -upper
    if lower > upper:
        raise fail(name, "lower <= upper", repr(factor))
    return lower, upper


class RandomTranslation(_RandomImageLayer):
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
        super().__init__(seed, data_format, **kwargs)
        self.height_factor = _factor("height_factor", height_factor)
        self.width_factor = _factor("width_factor", width_factor)
        self.fill_mode = check_choice("fill_mode", fill_mode, FILL_MODES)
        self.interpolation = check_choice(
            "interpolation", interpolation, INTERPOLATIONS
        )
        self.fill_value = check_number("fill_value", fill_value)

    def _channels_last(self, a: Array) -> Array:
        return a if self.data_format == "channels_last" else a.transpose(0, 2, 3, 1)

    def _back(self, a: Array) -> Array:
        return a if self.data_format == "channels_last" else a.transpose(0, 3, 1, 2)

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training:
            self._cache = None
            return x
        x_last = self._channels_last(x)
        N, H, W = x_last.shape[:3]
        dy = self._rng.uniform(*self.height_factor, size=N) * H
        dx = self._rng.uniform(*self.width_factor, size=N) * W
        out, self._cache = translate_forward(
            x_last, dy, dx, self.fill_mode, self.interpolation, self.fill_value
        )
        return self._back(out)

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        if cache is None:
            return dout
        return self._back(translate_backward(self._channels_last(dout), cache))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height_factor": list(self.height_factor),
            "width_factor": list(self.width_factor),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


__all__ = ["RandomFlip", "RandomTranslation"]
