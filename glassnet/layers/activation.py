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
        return {**super().get_config(), "activation": self.activation_name}


class ReLU(Activation):
    """Keras' ``ReLU``: ``max(x, 0)``, optionally capped, thresholded or leaky.

    With the defaults this is ``Activation("relu")`` (a model may max-pool before
    it); otherwise it calls :func:`glassnet.functional.relu_general_forward`:
    ``max_value`` for x >= max_value, ``x`` for threshold < x < max_value and
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: the largest output, a number >= 0, or None. Defaults to `None`.
        negative_slope: the slope below the threshold, >= 0. Defaults to `0.0`.
        threshold: the input below which the negative slope applies. Defaults to
            `0.0`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a negative ``max_value`` or ``negative_slope``, or an
            option that is not a finite number.

    Example:
        >>> import numpy as np
        >>> ReLU(max_value=6.0, negative_slope=0.5)(np.array([[-2.0, 3.0, 9.0]]))
        array([[-1.,  3.,  6.]], dtype=float32)
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__("relu", **kwargs)
        self.max_value = (
            None if max_value is None else check_number("max_value", max_value, low=0)
        )
        self.negative_slope = check_number("negative_slope", negative_slope, low=0)
        self.threshold = check_number("threshold", threshold)
        self._plain = (
            self.max_value is None and self.negative_slope == 0 and self.threshold == 0
        )

    @property
    def relu_last(self) -> bool:
        """Only the plain ReLU commutes with max pooling in the model's sense."""
        return self._plain

    def activate(self, z: Array) -> Array:
        if self._plain:
            return super().activate(z)
        out, self._act_cache = F.relu_general_forward(
            z,
            max_value=self.max_value,
            negative_slope=self.negative_slope,
            threshold=self.threshold,
        )
        self.logits = None
        return out

    def deactivate(self, dout: Array) -> Array:
        if self._plain:
            return super().deactivate(dout)
        cache, self._act_cache, self.logits = self._act_cache, None, None
        return F.relu_general_backward(dout, cache)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["activation"]
        return {
            **config,
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


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
