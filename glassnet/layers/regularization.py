"""``Dropout``: Keras' rate (probability of DROPPING) over the course's kernel."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_number
from glassnet.backend import Array
from glassnet.backend import rng as make_rng
from glassnet.functional.dropout import dropout_backward, dropout_forward
from glassnet.layers.base import Layer, Shape


class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to zero in training, scaling the rest.

    Calls :func:`glassnet.functional.dropout_forward` with keep probability
    ``p = 1 - rate`` (the course's convention); in inference it is the identity.

    Args:
        rate: the probability of dropping each unit, in [0, 1).
        seed: seeds the masks. Defaults to `None` (the model's generator).
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = check_number("rate", rate, low=0, high=1, high_open=True)
        self.seed = seed
        self._rng: np.random.Generator | None = None if seed is None else make_rng(seed)

    def build(self, input_shape: Shape, rng: np.random.Generator | None = None) -> None:
        if self._rng is None:
            self._rng = rng if rng is not None else make_rng()
        super().build(input_shape)

    def forward(self, x: Array, training: bool = False) -> Array:
        mode = "train" if training and self.rate > 0 else "test"
        out, self._cache = dropout_forward(
            x, {"p": 1.0 - self.rate, "mode": mode}, rng=self._rng
        )
        return out

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return dropout_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


__all__ = ["Dropout"]
