"""Activations by name, for layers' ``activation=`` argument (Keras' names).

Each name maps to a kernel pair of :mod:`glassnet.functional.activations`;
nothing is computed here. The lower-case functions (``relu(x)``) mirror
``keras.activations`` for direct use on arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache
from glassnet.functional import activations as F

KernelPair = tuple[Callable[..., tuple[Array, Cache]], Callable[[Array, Cache], Array]]


def linear_forward(x: Array) -> tuple[Array, Cache]:
    """The identity, Keras' ``"linear"`` activation (also ``None``)."""
    return x, None


def linear_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`linear_forward`: the gradient passes unchanged."""
    return dout


ACTIVATIONS: dict[str, KernelPair] = {
    "linear": (linear_forward, linear_backward),
    "relu": (F.relu_forward, F.relu_backward),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward),
    "tanh": (F.tanh_forward, F.tanh_backward),
    "softmax": (F.softmax_forward, F.softmax_backward),
    "elu": (F.elu_forward, F.elu_backward),
    "gelu": (F.gelu_forward, F.gelu_backward),
}


def get(identifier: Any) -> str:
    """Return the canonical name of an activation (``None`` means ``"linear"``).

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    if identifier is None:
        return "linear"
    if isinstance(identifier, str) and identifier in ACTIVATIONS:
        return identifier
    if (
        callable(identifier)
        and _FUNCTIONS.get(getattr(identifier, "__name__", "")) is identifier
    ):
        return identifier.__name__
    raise fail("activation", f"None or one of {sorted(ACTIVATIONS)}", repr(identifier))


def _output_only(name: str) -> Callable[..., Array]:
    forward = ACTIVATIONS[name][0]

    def activation(x: Array, *args: Any, **kwargs: Any) -> Array:
        return forward(x, *args, **kwargs)[0]

    activation.__name__ = name
    activation.__doc__ = (
        f"Keras' ``{name}`` activation: the output of ``{forward.__name__}``."
    )
    return activation


linear = _output_only("linear")
relu = _output_only("relu")
leaky_relu = _output_only("leaky_relu")
sigmoid = _output_only("sigmoid")
tanh = _output_only("tanh")
softmax = _output_only("softmax")
elu = _output_only("elu")
gelu = _output_only("gelu")

# Keras accepts the activation functions themselves: activation=activations.relu.
_FUNCTIONS = {
    f.__name__: f for f in (linear, relu, leaky_relu, sigmoid, tanh, softmax, elu, gelu)
}

__all__ = [
    "ACTIVATIONS",
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
