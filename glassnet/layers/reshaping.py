"""``Flatten``, ``Reshape`` and ``Permute``: shape changes with no weights.

``Flatten`` and ``Reshape`` return views; ``Permute`` returns a transposed view.
"""

from __future__ import annotations

import math
from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array, get_array_module
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


class Permute(Layer):
    """Permutes the sample axes: output axis ``i`` is input axis ``dims[i - 1]``.

    As in Keras, ``dims`` counts the sample axes from 1 (the batch axis 0 never
    moves): ``Permute((3, 1, 2))`` turns channels-last (N, H, W, C) into
    channels-first (N, C, H, W). The output is a transposed view of the input;
    backward applies the inverse permutation to ``dout``.

    Shapes:
        x: (N, d1, ..., dk);  out: (N, d_dims[0], ..., d_dims[k-1])

    Args:
        dims: a permutation of ``1..k`` for inputs of rank ``k + 1``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for ``dims`` that is not a permutation of ``1..k`` (ints
            >= 1, each once), or, when built, an input whose rank is not
            ``len(dims) + 1``.

    Example:
        >>> import numpy as np
        >>> Permute((3, 1, 2))(np.zeros((2, 5, 6, 3))).shape
        (2, 3, 5, 6)
        >>> Permute((2, 1))(np.array([[[1.0, 2.0], [3.0, 4.0]]]))
        array([[[1., 3.],
                [2., 4.]]], dtype=float32)
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        ok = isinstance(dims, list | tuple) and all(
            isinstance(d, int) and not isinstance(d, bool) for d in dims
        )
        if not ok or sorted(dims) != list(range(1, len(dims) + 1)):
            raise fail("dims", "a permutation of 1..k (the sample axes)", repr(dims))
        self.dims = tuple(int(d) for d in dims)

    def _check_rank(self, input_shape: Shape) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise fail(
                "dims",
                f"a permutation of the {len(input_shape) - 1} sample axes of "
                f"inputs of shape {tuple(input_shape)} (layer {self.name!r})",
                repr(self.dims),
            )

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        self._check_rank(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._check_rank(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x: Array, training: bool = False) -> Array:
        self._check_rank(x.shape)
        return get_array_module(x).transpose(x, (0, *self.dims))

    def backward(self, dout: Array) -> Array:
        # Output axis i came from input axis p[i], so inverse[p[i]] = i sends
        # each gradient axis back where it came from.
        xp = get_array_module(dout)
        inverse = [0] * (len(self.dims) + 1)
        for i, d in enumerate((0, *self.dims)):
            inverse[d] = i
        return xp.transpose(dout, inverse)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}


__all__ = ["Flatten", "Permute", "Reshape", "normalize_shape"]
