"""``Input(shape=...)``: declares the shape of one sample for a model."""

from __future__ import annotations

from typing import Any

from glassnet.layers.base import normalize_shape


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

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "name": self.name}


def Input(shape: Any, name: str | None = None, dtype: Any = None) -> InputLayer:  # noqa: N802
    """Keras' ``Input``: used as the first element of a ``Sequential``."""
    return InputLayer(shape, name=name, dtype=dtype)


__all__ = ["Input", "InputLayer"]
