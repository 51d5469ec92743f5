"""``RandomFlip``: Keras' mirror-image augmentation, active only in training."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._checks import check_choice, fail
from glassnet.backend import Array, get_array_module
from glassnet.backend import rng as make_rng
from glassnet.layers.base import Layer, Shape

_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(Layer):
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
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, _MODES)
        self.data_format = check_choice(
            "data_format",
            "channels_last" if data_format is None else data_format,
            ("channels_last", "channels_first"),
        )
        self.seed = seed
        self._rng: np.random.Generator | None = None if seed is None else make_rng(seed)

    def build(self, input_shape: Shape, rng: np.random.Generator | None = None) -> None:
        if len(input_shape) != 4:
            raise fail("input of RandomFlip", "images (N, H, W, C)", input_shape)
        if self._rng is None:
            self._rng = rng if rng is not None else make_rng()
        super().build(input_shape)

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
        return {
            **super().get_config(),
            "mode": self.mode,
            "seed": self.seed,
            "data_format": self.data_format,
        }


__all__ = ["RandomFlip"]
