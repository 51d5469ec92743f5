"""``Input(shape=...)``: declares the shape of one sample for a model."""

from __future__ import annotations

from typing import Any

from glassnet.layers.base import normalize_shape
from glassnet.layers.symbolic import KerasTensor, Node


class InputLayer:
    """The input of a model: no weights, no computation, only a shape.

    Args:
        shape: the shape of one sample, without the batch axis.
        name: a name for the input. Defaults to `None`.
        dtype: accepted for compatibility; inputs are cast to the layers' dtype.
            Defaults to `None`.
    """

    def __init__(self, shape: Any, name: str | None = None, dtype: Any = None) -> None:
        self.shape = normalize_shape("shape", shape)
        self.name = name
        self.dtype = dtype
        node = Node(self)
        node.output = KerasTensor((None, *self.shape), dtype, node, name or "input")
        self.output = node.output  # the symbolic tensor a functional model starts at

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "name": self.name}


def Input(shape: Any, name: str | None = None, dtype: Any = None) -> KerasTensor:  # noqa: N802
    """Keras' ``Input``: a symbolic tensor of samples of ``shape``.

    The first element of a ``Sequential``, or the start of a functional model:
    ``x = Input((28, 28, 1)); y = Dense(10)(Flatten()(x)); Model(x, y)``.
    """
    layer = InputLayer(shape, name=name, dtype=dtype)
    return layer.output


def input_layer_of(x: Any) -> InputLayer | None:
    """The InputLayer behind ``x`` (an InputLayer or the tensor ``Input`` made)."""
    if isinstance(x, InputLayer):
        return x
    node = getattr(x, "node", None)
    layer = getattr(node, "layer", None)
    return layer if isinstance(layer, InputLayer) else None


__all__ = ["Input", "InputLayer", "input_layer_of"]
