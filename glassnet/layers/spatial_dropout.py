"""``SpatialDropout2D``: Keras' channel dropout over the spatial dropout kernel."""

from __future__ import annotations

from typing import Any

from glassnet.backend import Array
from glassnet.functional.spatial_dropout import (
    spatial_dropout_backward,
    spatial_dropout_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Shape
from glassnet.layers.regularization import Dropout


class SpatialDropout2D(Dropout):
    """Drops whole feature maps: each channel of each sample with probability rate.

    Calls :func:`glassnet.functional.spatial_dropout_forward` with keep
    probability ``p = 1 - rate``; the kept maps are scaled by ``1 / p``. In
    inference it is the identity.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: like x

    Args:
        rate: the probability of dropping each channel, in [0, 1).
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        seed: seeds the masks. Defaults to `None` (the model's generator).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a rate outside [0, 1), an unknown ``data_format`` or an
            input that is not a rank-4 batch.

    Example:
        >>> import numpy as np
        >>> out = SpatialDropout2D(0.5, seed=1)(np.ones((2, 3, 3, 4)), training=True)
        >>> np.unique(out).tolist()  # whole maps dropped, the rest doubled
        [0.0, 2.0]
    """

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = L.standardize_data_format(data_format)
        self._channels: int | None = None

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        name = f"input of layer {self.name!r}"
        self._channels = L.split_shape(name, input_shape, self.data_format)[2]
        super().build(input_shape, rng)

    def check_input(self, x: Array) -> None:
        L.check_images(
            f"input of layer {self.name!r}", x.shape, self.data_format, self._channels
        )

    def forward(self, x: Array, training: bool = False) -> Array:
        mode = "train" if training and self.rate > 0 else "test"
        out, self._cache = spatial_dropout_forward(
            x,
            {"p": 1.0 - self.rate, "mode": mode},
            channels_last=self.data_format == L.CHANNELS_LAST,
            rng=self._rng,
        )
        return out

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return spatial_dropout_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


__all__ = ["SpatialDropout2D"]
