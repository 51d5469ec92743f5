"""``Flatten`` and ``Reshape``: shape changes with no weights and no copies."""

from __future__ import annotations

import math
from typing import Any

from glassnet._checks import fail
from glassnet.backend import Array
from glassnet.layers.base import Layer, Shape, normalize_shape


class Flatten(Layer):
    """Flattens each sample: (N, d1, ..., dk) -> (N, d1 * ... * dk).

    Example:
        >>> import numpy as np
        >>> Flatten()(np.zeros((2, 3, 4))).shape
        (2, 12)
    """

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], math.prod(input_shape[1:]))

    def forward(self, x: Array, training: bool = False) -> Array:
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> Array:
        shape, self._cache = self._cache, None
        return dout.reshape(shape)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Args:
        target_shape: the new shape of one sample, without the batch axis.
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        dims = (
            tuple(target_shape)
            if isinstance(target_shape, list | tuple)
            else target_shape
        )
        if (
            not isinstance(dims, tuple)
            or sum(d == -1 for d in dims) > 1
            or not all(isinstance(d, int) and (d > 0 or d == -1) for d in dims)
        ):
            raise fail(
                "target_shape",
                "a tuple of positive ints with at most one -1",
                repr(target_shape),
            )
        self.target_shape = dims

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise fail(
                    "target_shape",
                    f"a shape that divides {size} values",
                    repr(self.target_shape),
                )
            dims = tuple(size // known if d == -1 else d for d in self.target_shape)
        else:
            dims = self.target_shape
        if math.prod(dims) != size:
            raise fail(
                "target_shape",
                f"a shape of {size} values per sample",
                repr(self.target_shape),
            )
        return (input_shape[0], *dims)

    def forward(self, x: Array, training: bool = False) -> Array:
        self._cache = x.shape
        return x.reshape(self.compute_output_shape(x.shape))

    def backward(self, dout: Array) -> Array:
        shape, self._cache = self._cache, None
        return dout.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


__all__ = ["Flatten", "Reshape", "normalize_shape"]
