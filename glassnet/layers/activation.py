"""Activation layers: ``Activation``, ``ReLU``, ``LeakyReLU``, ``Softmax``.

Each calls the activation kernels of :mod:`glassnet.functional.activations`
through the same :class:`~glassnet.layers.core.ActivationMixin` that ``Dense``
uses, so a trailing ``Activation("softmax")`` is fused with cross-entropy too.
"""

from __future__ import annotations

from typing import Any

from glassnet import activations as activations_mod
from glassnet._internal.checks import check_number, fail
from glassnet.backend import Array
from glassnet.functional import activations as F
from glassnet.layers.base import Layer
from glassnet.layers.core import ActivationMixin


class Activation(ActivationMixin, Layer):
    """Applies a named activation.

    Args:
        activation: an activation name (``"relu"``, ``"softmax"``, ...).
    """

    has_logits = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations_mod.get(activation)

    def forward_logits(self, x: Array, training: bool = False) -> Array:
        """The input itself: this layer is its activation alone."""
        return x

    def backward(self, dout: Array) -> Array:
        return self.deactivate(dout)

    def backward_logits(self, dz: Array) -> Array:
        """The gradient with respect to the input, which here are the logits."""
        self._act_cache = self.logits = None
        return dz

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": self.activation}


class ReLU(Activation):
    """``max(x, 0)``. Keras' optional ``max_value``/``threshold`` are not supported."""

    def __init__(self, negative_slope: float = 0.0, **kwargs: Any) -> None:
        if negative_slope != 0.0:
            raise fail(
                "negative_slope",
                "0.0 (use LeakyReLU for a slope)",
                repr(negative_slope),
            )
        super().__init__("relu", **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["activation"]
        return config


class LeakyReLU(Layer):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Keras' default 0.3).

    ``alpha`` is accepted as the older Keras name of ``negative_slope``.
    """

    def __init__(
        self, negative_slope: float = 0.3, *, alpha: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        slope = negative_slope if alpha is None else alpha
        self.negative_slope = check_number("negative_slope", slope, low=0)

    def forward(self, x: Array, training: bool = False) -> Array:
        out, self._cache = F.leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, dout: Array) -> Array:
        cache, self._cache = self._cache, None
        return F.leaky_relu_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(Activation):
    """Softmax over the last axis (only ``axis=-1`` is supported)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        if axis != -1:
            raise fail("axis", "-1", repr(axis))
        super().__init__("softmax", **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["activation"]
        return config


__all__ = ["Activation", "LeakyReLU", "ReLU", "Softmax"]
