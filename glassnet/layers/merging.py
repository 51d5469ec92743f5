"""Merge layers: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate`` and ``Dot``, and their Keras function forms.

Each layer takes a list of inputs and calls one kernel pair of
:mod:`glassnet.functional.merge`; ``backward`` returns one gradient per input.
``multi_input = True`` tells a model that ``forward`` takes a list.

Calling a merge layer (or a function form such as ``add([a, b])``) on concrete
arrays runs it at once. Calling it on symbolic tensors, to build a functional
model, is handed to ``Layer.__call__`` and comes with the graph engine in
:mod:`glassnet.models`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional import merge as kernels
from glassnet.layers.base import Layer, Shape

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


def _is_concrete(x: Any) -> bool:
    """An array (NumPy or CuPy), a number or a nested list: not a symbolic tensor."""
    return (
        isinstance(x, np.ndarray | np.generic | int | float | list | tuple)
        or get_array_module(x) is not np
    )


class _Merge(Layer):
    """Base of the merge layers: a list in, one array out, no weights.

    Subclasses set ``_kernels`` to their ``(forward, backward)`` pair and may
    override ``_kernel_kwargs`` and ``compute_output_shape``.
    """

    multi_input = True
    """Whether ``forward`` takes a list of inputs (read by the graph engine)."""

    _kernels: tuple[Callable[..., tuple[Array, Cache]], Callable[..., list[Array]]]
    _count: int | None = None  # the exact number of inputs, where fixed

    def _kernel_kwargs(self) -> dict[str, Any]:
        return {}

    def _shapes_name(self) -> str:
        return f"input shapes of layer {self.name or type(self).__name__!r}"

    def _check_shapes(self, input_shape: Any) -> list[Shape]:
        """``input_shape`` as a list of tuples, or a ValueError naming the layer."""
        name = self._shapes_name()
        if not isinstance(input_shape, list | tuple) or not all(
            isinstance(s, list | tuple) for s in input_shape
        ):
            raise fail(name, "a list of shapes, one per input", repr(input_shape))
        if self._count is not None and len(input_shape) != self._count:
            raise fail(name, f"exactly {self._count} shapes", repr(input_shape))
        if not input_shape:
            raise fail(name, "at least 1 shape", repr(input_shape))
        batch = {s[0] for s in input_shape if s} - {None}
        if len(batch) > 1:
            raise fail(name, "one batch size", repr(input_shape))
        return [tuple(s) for s in input_shape]

    def build(self, input_shape: Any, rng: np.random.Generator | None = None) -> None:
        """Check that the shapes (a list, batch axes first) can be merged."""
        self.compute_output_shape(input_shape)
        self.input_shape = [tuple(s) for s in input_shape]  # type: ignore[assignment]
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """Keras' element-wise rule: per-sample axes broadcast (aligned from the
        last axis, 1 stretches, None is unknown); the batch axis is kept."""
        shapes = self._check_shapes(input_shape)
        out = shapes[0][1:]
        for i, shape in enumerate(shapes[1:], start=1):
            a, b = (out, shape[1:]) if len(out) >= len(shape) - 1 else (shape[1:], out)
            lead = len(a) - len(b)
            dims = list(a[:lead])
            for p, q in zip(a[lead:], b, strict=True):
                if p is not None and q is not None and 1 not in (p, q) and p != q:
                    raise fail(
                        self._shapes_name(),
                        "shapes that broadcast: per-sample sizes equal or 1, "
                        "aligned from the last axis",
                        f"{shapes} (input {i} does not fit the ones before it)",
                    )
                dims.append(None if None in (p, q) else q if p == 1 else p)
            out = tuple(dims)
        batch = ({s[0] for s in shapes if s} - {None}) or {None}
        return (batch.pop(), *out)

    def forward(self, inputs: list[Array], training: bool = False) -> Array:
        """Merge ``inputs`` with the kernel, keeping its cache for backward."""
        forward, _ = self._kernels
        out, self._cache = forward(inputs, **self._kernel_kwargs())
        return out

    def backward(self, dout: Array) -> list[Array]:
        """One gradient per input, in the order of the inputs; drops the cache."""
        _, backward = self._kernels
        cache, self._cache = self._cache, None
        return backward(dout, cache)

    def __call__(self, inputs: Any, training: bool = False) -> Array:
        """On concrete arrays: cast each to the layer's dtype, build, and run
        ``forward``. Symbolic tensors go to ``Layer.__call__`` (the graph engine).
        """
        if not isinstance(inputs, list | tuple):
            raise fail(
                f"inputs of layer {self.name or type(self).__name__!r}",
                "a list of inputs (a merge layer merges several tensors)",
                type(inputs).__name__,
            )
        if not all(_is_concrete(x) for x in inputs):
            return super().__call__(inputs, training)
        xs = [self.cast_input(x) for x in inputs]
        if not self.built:
            self.build([(None, *x.shape[1:]) for x in xs])
        return self.forward(xs, training)


class Add(_Merge):
    """Adds a list of inputs element-wise (shapes broadcast as in Keras).

    Example:
        >>> import numpy as np
        >>> Add()([np.ones((2, 3)), np.full((2, 3), 2.0)])
        array([[3., 3., 3.],
               [3., 3., 3.]], dtype=float32)
    """

    _kernels = (kernels.add_forward, kernels.add_backward)


class Subtract(_Merge):
    """Subtracts two inputs: ``inputs[0] - inputs[1]``.

    Example:
        >>> import numpy as np
        >>> Subtract()([np.ones((1, 2)), np.full((1, 2), 3.0)])
        array([[-2., -2.]], dtype=float32)
    """

    _kernels = (kernels.subtract_forward, kernels.subtract_backward)
    _count = 2


class Multiply(_Merge):
    """Multiplies a list of inputs element-wise.

    Example:
        >>> import numpy as np
        >>> Multiply()([np.full((1, 2), 2.0), np.full((1, 2), 3.0)])
        array([[6., 6.]], dtype=float32)
    """

    _kernels = (kernels.multiply_forward, kernels.multiply_backward)


class Average(_Merge):
    """Averages a list of inputs element-wise.

    Example:
        >>> import numpy as np
        >>> Average()([np.zeros((1, 2)), np.full((1, 2), 3.0)])
        array([[1.5, 1.5]], dtype=float32)
    """

    _kernels = (kernels.average_forward, kernels.average_backward)


class Maximum(_Merge):
    """Element-wise maximum of a list of inputs; on ties the gradient goes to the
    first input holding the maximum.

    Example:
        >>> import numpy as np
        >>> Maximum()([np.array([[1.0, 5.0]]), np.array([[4.0, 2.0]])])
        array([[4., 5.]], dtype=float32)
    """

    _kernels = (kernels.maximum_forward, kernels.maximum_backward)


class Minimum(_Merge):
    """Element-wise minimum of a list of inputs; on ties the gradient goes to the
    first input holding the minimum.

    Example:
        >>> import numpy as np
        >>> Minimum()([np.array([[1.0, 5.0]]), np.array([[4.0, 2.0]])])
        array([[1., 2.]], dtype=float32)
    """

    _kernels = (kernels.minimum_forward, kernels.minimum_backward)


def _check_axis(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise fail(name, "an integer", repr(value))
    return int(value)


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``; every other axis must match.

    Args:
        axis: the axis to join along, counting the batch axis as 0.
            Defaults to `-1`.

    Example:
        >>> import numpy as np
        >>> Concatenate()([np.zeros((2, 3)), np.ones((2, 4))]).shape
        (2, 7)
    """

    _kernels = (kernels.concatenate_forward, kernels.concatenate_backward)

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _check_axis("axis", axis)

    def _kernel_kwargs(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._check_shapes(input_shape)
        rank = len(shapes[0])
        name = self._shapes_name()
        if not -rank <= self.axis < rank:
            raise fail(name, f"rank > {self.axis} for axis={self.axis}", shapes)
        axis = self.axis % rank
        out = list(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != rank:
                raise fail(name, f"shapes of one rank ({rank})", shapes)
            for k, (a, b) in enumerate(zip(out, shape, strict=True)):
                if k == axis:
                    out[k] = None if a is None or b is None else a + b
                elif a is None:
                    out[k] = b
                elif b is not None and a != b:
                    raise fail(name, f"equal sizes except on axis {axis}", shapes)
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Batch dot products of two inputs over one axis each (``keras.layers.Dot``).

    Args:
        axes: one axis for both inputs or a pair ``(axis of x, axis of y)``;
            never 0, the batch axis.
        normalize: L2-normalise both inputs along the axes first, so that the
            output is the cosine similarity. Defaults to `False`.

    Example:
        >>> import numpy as np
        >>> Dot(axes=1)([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])])
        array([[11.]], dtype=float32)
    """

    _kernels = (kernels.dot_forward, kernels.dot_backward)
    _count = 2

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, list | tuple):
            if len(axes) != 2:
                raise fail("axes", "an integer or a pair of integers", repr(axes))
            self.axes: int | tuple[int, int] = (
                _check_axis("axes[0]", axes[0]),
                _check_axis("axes[1]", axes[1]),
            )
        else:
            self.axes = _check_axis("axes", axes)
        if not isinstance(normalize, bool):
            raise fail("normalize", "True or False", repr(normalize))
        self.normalize = normalize

    def _kernel_kwargs(self) -> dict[str, Any]:
        return {"axes": self.axes, "normalize": self.normalize}

    def compute_output_shape(self, input_shape: Any) -> Shape:
        x, y = self._check_shapes(input_shape)
        name = self._shapes_name()
        pair = self.axes if isinstance(self.axes, tuple) else (self.axes,) * 2
        axes = []
        for shape, a in zip((x, y), pair, strict=True):
            if (
                len(shape) < 2
                or not -len(shape) <= a < len(shape)
                or a % len(shape) == 0
            ):
                raise fail(name, f"ranks >= 2 with a non-batch axis {a}", [x, y])
            axes.append(a % len(shape))
        dx, dy = x[axes[0]], y[axes[1]]
        if dx is not None and dy is not None and dx != dy:
            raise fail(name, f"equal sizes on axes {tuple(axes)}", [x, y])
        batch = x[0] if x[0] is not None else y[0]
        rest = [d for k, d in enumerate(x) if k not in (0, axes[0])]
        rest += [d for k, d in enumerate(y) if k not in (0, axes[1])]
        return (batch, *rest) if rest else (batch, 1)

    def get_config(self) -> dict[str, Any]:
        axes = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


# -- the Keras function forms --


def add(inputs: list[Any], **kwargs: Any) -> Array:
    """``Add(**kwargs)(inputs)``: the sum of the inputs."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Array:
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Array:
    """``Multiply(**kwargs)(inputs)``: the element-wise product of the inputs."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Array:
    """``Average(**kwargs)(inputs)``: the element-wise mean of the inputs."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Array:
    """``Maximum(**kwargs)(inputs)``: the element-wise maximum of the inputs."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Array:
    """``Minimum(**kwargs)(inputs)``: the element-wise minimum of the inputs."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Array:
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the inputs joined on ``axis``.

    Example:
        >>> import numpy as np
        >>> concatenate([np.zeros((2, 3)), np.ones((2, 1))], axis=1).shape
        (2, 4)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(
    inputs: list[Any], axes: Any = -1, normalize: bool = False, **kwargs: Any
) -> Array:
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``: batch dot
    products of the two inputs (Keras' default ``axes=-1``, the last axes)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
