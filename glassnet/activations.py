"""Activations by name, for layers' ``activation=`` argument (Keras' names).

Each name maps to a kernel pair of :mod:`glassnet.functional.activations`;
nothing is computed here. The lower-case functions (``relu(x)``) are
``keras.activations``, with Keras' arguments, for direct use on arrays; they
are the ops of :mod:`glassnet.ops.nn`, so a subclassed layer's ``call`` can use
them under a GradientTape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache
from glassnet.functional import activations as F
from glassnet.ops import nn as ops_nn

KernelPair = tuple[Callable[..., tuple[Array, Cache]], Callable[[Array, Cache], Array]]


def linear_forward(x: Array) -> tuple[Array, Cache]:
    """The identity, Keras' ``"linear"`` activation (also ``None``)."""
    return x, None


def linear_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`linear_forward`: the gradient passes unchanged."""
    return dout


def _leaky_relu_forward(x: Array) -> tuple[Array, Cache]:
    """``activation="leaky_relu"`` is Keras' ``leaky_relu``: slope 0.2."""
    return F.leaky_relu_forward(x, 0.2)


ACTIVATIONS: dict[str, KernelPair] = {
    "linear": (linear_forward, linear_backward),
    "relu": (F.relu_forward, F.relu_backward),
    "leaky_relu": (_leaky_relu_forward, F.leaky_relu_backward),
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


# The functions take Keras' arguments and are ops: called on an op's output while
# a GradientTape records (inside a layer's ``call``), they are recorded with
# their kernel's backward, like ``glassnet.ops.relu``.


def linear(x: Array) -> Array:
    """Keras' ``linear`` activation: ``x`` itself."""
    return x


def relu(
    x: Array,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Array:
    """Keras' ``relu``: ``max(x, 0)``, by ``relu_forward``; with other
    arguments, Keras' general form by ``relu_general_forward``.

    Example:
        >>> import numpy as np
        >>> relu(np.array([-10, -5, 0.0, 5, 10]), max_value=5.0).tolist()
        [0.0, 0.0, 0.0, 5.0, 5.0]
    """
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ops_nn.relu(x)
    forward = functools.partial(
        F.relu_general_forward,
        negative_slope=negative_slope,
        max_value=max_value,
        threshold=threshold,
    )
    return ops_nn._unary(forward, F.relu_general_backward, x)


def leaky_relu(x: Array, negative_slope: float = 0.2) -> Array:
    """Keras' ``leaky_relu``: ``negative_slope * x`` below 0 (Keras' 0.2)."""
    return ops_nn.leaky_relu(x, negative_slope)


def sigmoid(x: Array) -> Array:
    """Keras' ``sigmoid``: ``1 / (1 + exp(-x))``."""
    return ops_nn.sigmoid(x)


def tanh(x: Array) -> Array:
    """Keras' ``tanh``."""
    return ops_nn.tanh(x)


def softmax(x: Array, axis: int = -1) -> Array:
    """Keras' ``softmax`` along ``axis``."""
    return ops_nn.softmax(x, axis)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """Keras' ``elu``: ``alpha * (exp(x) - 1)`` below 0."""
    return ops_nn.elu(x, alpha)


def gelu(x: Array, approximate: bool = False) -> Array:
    """Keras' ``gelu``: ``x * Phi(x)``, exact unless ``approximate``."""
    return ops_nn.gelu(x, approximate)


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
