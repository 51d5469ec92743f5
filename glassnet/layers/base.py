"""The ``Layer`` base class: weights, lazy building, calling and configuration.

A layer is short glue around kernels. A subclass:

* validates its arguments in ``__init__`` and keeps them as attributes;
* creates its weights in ``build(input_shape, rng)`` with :meth:`Layer.add_weight`;
* computes ``forward(x, training)``, keeping what backward needs in ``self._cache``;
* computes ``backward(dout)``, filling ``self.grads`` (same keys as ``self.params``),
  dropping the cache, and returning ``dx``;
* returns its constructor arguments from ``get_config()``.

Trainable weights live in ``self.params`` and non-trainable ones (a batchnorm's
moving statistics) in ``self.states``; ``get_weights()`` lists both in the order
they were added, which is Keras' order. Shapes given to ``build`` and returned by
``compute_output_shape`` include the batch axis as ``None``, as in Keras.

``need_dx`` is True unless a model sets it on its first layer, whose input
gradient nobody reads; a layer may then return None from ``backward`` instead of
computing it (``Dense`` and ``Conv2D`` do, skipping a matrix product each).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet._internal.checks import as_numeric_array, check_array, fail
from glassnet._internal.memory import check_memory, format_bytes
from glassnet.backend import Array, floatx, get_array_module, to_numpy

Shape = tuple[int | None, ...]


def _snake_case(name: str) -> str:
    """Keras' rule: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def normalize_shape(name: str, shape: Any) -> tuple[int, ...]:
    """Check a per-sample shape (no batch axis) such as ``input_shape=(28, 28)``."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
    ):
        raise fail(name, "a tuple of positive ints", repr(shape))
    return tuple(int(d) for d in shape)


class Layer:
    """Base class of every Keras-style layer.

    Args:
        name: the layer's name; a model gives unnamed layers unique names derived
            from the class (``dense``, ``dense_1``). Defaults to `None`.
        trainable: whether the optimizer updates this layer's weights.
            Defaults to `True`.
        dtype: the dtype of weights and computation; in a model, a layer with
            weights casts inputs of another dtype to it (and gradients back), as
            Keras does, while one without weights keeps its input's dtype.
            Defaults to `None`, meaning the backend's ``floatx()`` (float32).
        input_shape: the shape of one sample (no batch axis), for a first layer.
            Defaults to `None`.
    """

    need_dx: bool = True
    """Whether ``backward`` must return the input gradient (see the module doc)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        input_shape: Any = None,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise fail("name", "a non-empty string", repr(name))
        if not isinstance(trainable, bool):
            raise fail("trainable", "True or False", repr(trainable))
        self.name = name
        self.trainable = trainable
        self.dtype = np.dtype(dtype) if dtype is not None else floatx()
        if self.dtype.kind != "f":
            raise fail("dtype", "a floating-point dtype", repr(dtype))
        self.input_shape_arg = (
            None if input_shape is None else normalize_shape("input_shape", input_shape)
        )
        self.params: dict[str, Array] = {}
        self.states: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.regularizers: dict[str, regularizers_mod.Regularizer] = {}
        self.constraints: dict[str, constraints_mod.Constraint] = {}
        self.activity_regularizer: regularizers_mod.Regularizer | None = None
        self.built = False
        self.input_shape: Shape | None = None
        self._weight_order: list[str] = []
        self._cache: Any = None
        self._shapes_only = False  # build placeholders, not weights (estimates)

    # -- what a model may fuse --

    @property
    def relu_last(self) -> bool:
        """Whether this layer ends in a ReLU that it can apply apart, as
        ``activate(forward_logits(x))`` with ``deactivate`` for the gradient:
        a model may then max-pool before the ReLU (the two commute). False
        unless a layer says otherwise."""
        return False

    #: Whether ``pool(relu(z)) == relu(pool(z))`` exactly, gradients included
    #: (max pooling: both keep the largest value, and ReLU keeps order).
    commutes_with_relu = False

    # -- building --

    @classmethod
    def default_name(cls) -> str:
        """The base of the automatic name: ``Dense`` -> ``dense``."""
        return _snake_case(cls.__name__)

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: Any,
        rng: np.random.Generator | None,
        *,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
    ) -> Array:
        """Create a weight, register it under ``name`` and return it.

        Raises:
            InsufficientMemoryError: (a ``MemoryError`` and a ``ValueError``)
                naming the layer, the weight, its shape, the bytes needed and the
                bytes available, when creating it cannot fit in memory.
        """
        init = initializers_mod.get(initializer)
        if self._shapes_only:  # see glassnet.layers._estimate: no memory at all
            value = np.broadcast_to(np.zeros((), self.dtype), tuple(shape))
        else:
            weight_bytes = math.prod(shape) * self.dtype.itemsize
            check_memory(
                f"weight {name!r} of layer {self.name!r}",
                initializers_mod.creation_bytes(shape, self.dtype),
                f"shape {tuple(shape)} {self.dtype.name} ({format_bytes(weight_bytes)}"
                " for the weight, plus the initializer's float64 draw)",
            )
            value = init(shape, self.dtype, rng)
        (self.params if trainable else self.states)[name] = value
        self._weight_order.append(name)
        if regularizer is not None:
            self.regularizers[name] = regularizer
        if constraint is not None:
            self.constraints[name] = constraint
        return value

    def build(self, input_shape: Shape, rng: np.random.Generator | None = None) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for ``input_shape`` (batch axis included)."""
        return tuple(input_shape)

    # -- computing --

    def forward(self, x: Array, training: bool = False) -> Array:
        """Compute the output, keeping in ``self._cache`` what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout: Array) -> Array:
        """Fill ``self.grads`` from ``dout`` and return the gradient of the input."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x: Any, training: bool = False) -> Array:
        """Build on first use, check the input and run ``forward``."""
        x = self.cast_input(x)
        if not self.built:
            self.build((None, *x.shape[1:]))
        self.check_input(x)
        return self.forward(x, training)

    def cast_input(self, x: Any) -> Array:
        """Return ``x`` as an array of the layer's dtype (ints and float64 accepted)."""
        if not hasattr(x, "dtype") or x.dtype.kind not in "biuf":
            x = as_numeric_array(f"input of layer {self.name!r}", x)
        return x.astype(self.dtype, copy=False)

    def check_input(self, x: Array) -> None:
        """Check that ``x`` matches the shape this layer was built for."""
        if self.input_shape is None:
            return
        check_array(
            f"input of layer {self.name!r}", x, shape=(None, *self.input_shape[1:])
        )

    # -- weights --

    def _weight(self, key: str) -> Array:
        return self.params[key] if key in self.params else self.states[key]

    @property
    def weight_names(self) -> list[str]:
        """Names of every weight, in Keras' ``get_weights`` order."""
        return list(self._weight_order)

    @property
    def weights(self) -> list[Array]:
        return [self._weight(k) for k in self._weight_order]

    @property
    def trainable_weights(self) -> list[Array]:
        if not self.trainable:
            return []
        return [self.params[k] for k in self._weight_order if k in self.params]

    @property
    def non_trainable_weights(self) -> list[Array]:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as NumPy arrays, in Keras' order."""
        return [to_numpy(w).copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Replace the weights; shapes must match exactly.

        Raises:
            ValueError: naming the layer, the weight and both shapes on a mismatch,
                or a weight that is not a rectangular numeric array (strings, a
                ragged list).
        """
        if not isinstance(weights, list | tuple) or len(weights) != len(
            self._weight_order
        ):
            got = (
                len(weights)
                if isinstance(weights, list | tuple)
                else type(weights).__name__
            )
            raise fail(
                f"weights of layer {self.name!r}",
                f"a list of {len(self._weight_order)} arrays {self._weight_order}",
                got,
            )
        checked = []  # every weight checked before any is replaced
        for key, value in zip(self._weight_order, weights, strict=True):
            old = self._weight(key)
            value = as_numeric_array(f"weight {key!r} of layer {self.name!r}", value)
            if value.shape != old.shape:
                raise fail(
                    f"weight {key!r} of layer {self.name!r}",
                    f"shape {old.shape}",
                    f"shape {value.shape}",
                )
            checked.append((key, old, value))
        for key, old, value in checked:
            new = get_array_module(old).array(value, dtype=self.dtype)  # a copy
            (self.params if key in self.params else self.states)[key] = new

    def count_params(self) -> int:
        """The number of scalars in every weight, trainable or not."""
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- configuration --

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-safe dict."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
        }
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Build a layer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


__all__ = ["Layer", "Shape", "normalize_shape"]
