"""Symbolic tensors: what ``Input`` returns and layers return when called on one.

The functional API builds a model by calling layers on tensors that hold no
data, only a shape: ``x = Input((28, 28, 1)); y = Conv2D(8, 3)(x)``. Each call
records a :class:`Node` (the layer, the tensors it took, the tensor it made),
so that a model can later walk from its outputs back to its inputs, order the
nodes and run them on arrays. A layer called twice (a shared layer) has two
nodes; its weights are built once, on the first call.

Calling a layer on a symbolic tensor only computes shapes: nothing is drawn
but the layer's weights, when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glassnet._internal.checks import fail

Shape = tuple[int | None, ...]


@dataclass(eq=False)
class KerasTensor:
    """A symbolic tensor: the ``shape`` (batch axis None) and where it came from.

    Attributes:
        shape: the shape, batch axis first (None).
        dtype: the dtype of the layer that made it (``None`` for an input);
            a layer without weights passes on its input's.
        node: the :class:`Node` that produced it.
        name: a readable name (the producing layer's name).
    """

    shape: Shape
    dtype: Any
    node: Node | None = None
    name: str = ""

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, name={self.name}>"


@dataclass(eq=False)
class Node:
    """One call of ``layer`` on ``inputs`` (symbolic tensors) giving ``output``."""

    layer: Any
    inputs: list[KerasTensor] = field(default_factory=list)
    output: KerasTensor | None = None


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor or a non-empty list of them."""
    if isinstance(x, KerasTensor):
        return True
    return (
        isinstance(x, list | tuple)
        and len(x) > 0
        and all(isinstance(t, KerasTensor) for t in x)
    )


def call_symbolic(layer: Any, x: Any, rng: Any = None) -> KerasTensor:
    """Record ``layer(x)`` for symbolic ``x``: build the layer on the first call,
    compute the output shape, and return the output tensor.

    Raises:
        ValueError: for a list given to a layer of one input, or one tensor to
            a merge layer.
    """
    multi = bool(getattr(layer, "multi_input", False))
    inputs = list(x) if isinstance(x, list | tuple) else [x]
    if multi != isinstance(x, list | tuple):
        expected = "a list of tensors" if multi else "one tensor"
        raise fail(f"input of layer {layer.name!r}", expected, repr(x))
    shapes = [t.shape for t in inputs]
    shape = shapes if multi else shapes[0]
    if not layer.built:
        layer.build(shape, rng)
    elif not multi and layer.input_shape is not None:
        _check_shape(layer, layer.input_shape, shape)
    out_shape = tuple(layer.compute_output_shape(shape))
    node = Node(layer, inputs)
    # A layer without weights computes in its input's dtype (training's rule),
    # so the gradient reaching it is cast to that, not to its nominal dtype.
    dtype = layer.dtype if (layer.params or layer.states) else inputs[0].dtype
    node.output = KerasTensor(out_shape, dtype, node, layer.name or "")
    layer._inbound_nodes = [*getattr(layer, "_inbound_nodes", []), node]
    return node.output


def _check_shape(layer: Any, built: Shape, given: Shape) -> None:
    """A shared layer takes inputs of the shape it was built for."""
    if tuple(built[1:]) != tuple(given[1:]):
        raise fail(
            f"input of layer {layer.name!r}",
            f"shape {tuple(built)} (the shape it was built for)",
            f"shape {tuple(given)}",
        )


__all__ = ["KerasTensor", "Node", "call_symbolic", "is_symbolic"]
