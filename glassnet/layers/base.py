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

A layer may instead be written the Keras way, by subclassing with ``call``:
``build(input_shape)`` creates weights with ``self.w = self.add_weight(shape=...,
initializer=..., trainable=..., name=...)`` and ``call(inputs, training=None)``
computes the output with :mod:`glassnet.ops`. Such a layer needs no ``backward``:
``forward`` runs ``call`` on a private :class:`~glassnet.ops.GradientTape` and
``backward`` replays it, filling ``self.grads`` for every weight and returning the
input gradient. Layers assigned as attributes (Keras' ``MLPBlock`` holding
``Linear`` layers) are built with it, and their weights are the outer layer's too,
under ``"sublayer_name/weight"`` keys. Called while a tape records, a layer (of
either kind) is one op on that tape, so ``tape.gradient(loss,
layer.trainable_weights)`` works. Built-in layers keep their hand-written kernels:
``forward``/``backward`` is the glass-box way and stays the documented one.

``need_dx`` is True unless a model sets it on its first layer, whose input
gradient nobody reads; a layer may then return None from ``backward`` instead of
computing it (``Dense`` and ``Conv2D`` do, skipping a matrix product each).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet import variables as variables_mod
from glassnet._internal.checks import as_numeric_array, check_array, fail
from glassnet._internal.memory import check_memory, format_bytes
from glassnet.backend import (
    Array,
    Cache,
    floatx,
    get_array_module,
    to_numpy,
    to_snake_case,
    uniquify,
)
from glassnet.layers.symbolic import call_symbolic, is_symbolic
from glassnet.ops import tape as tape_mod

Shape = tuple[int | None, ...]


def _snake_case(name: str) -> str:
    """Keras' rule: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    return to_snake_case(name)


def normalize_shape(name: str, shape: Any) -> tuple[int, ...]:
    """Check a per-sample shape (no batch axis) such as ``input_shape=(28, 28)``."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
    ):
        raise fail(name, "a tuple of positive ints", repr(shape))
    return tuple(int(d) for d in shape)


class _NestedWeights(MutableMapping):
    """A layer's own weights and its sublayers' (under ``"sublayer/key"``) as one
    dict. Writing ``"sub/key"`` writes the sublayer's own dict, so an optimizer
    updating the outer layer's weights updates the layer that computes with them.
    """

    def __init__(self, own: dict[str, Array], sublayers: list[Layer], kind: str):
        self.own, self.sublayers, self.kind = own, sublayers, kind

    def _owner(self, key: str) -> tuple[Any, str]:
        if key in self.own:
            return self.own, key
        name, sep, rest = key.partition("/")
        for sub in self.sublayers:
            store = getattr(sub, self.kind)
            if sep and sub.name == name and rest in store:
                return store, rest
        raise KeyError(key)

    def __getitem__(self, key: str) -> Array:
        store, k = self._owner(key)
        return store[k]

    def __setitem__(self, key: str, value: Array) -> None:
        try:
            store, k = self._owner(key)
        except KeyError:
            store, k = self.own, key
        store[k] = value

    def __delitem__(self, key: str) -> None:
        store, k = self._owner(key)
        del store[k]

    def __iter__(self) -> Iterator[str]:
        yield from self.own
        for sub in self.sublayers:
            yield from (f"{sub.name}/{k}" for k in getattr(sub, self.kind))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _keras_build(build: Any) -> Any:
    """Wrap a Keras-style ``build(self, input_shape)`` into glassnet's
    ``build(input_shape, rng)``: ``add_weight`` draws from ``rng``, and the layer
    is marked built (with its sublayers) afterwards, as Keras does."""

    @functools.wraps(build)
    def wrapper(self: Layer, input_shape: Shape, rng: Any = None) -> None:
        self._build_rng = rng
        build(self, input_shape)
        Layer.build(self, input_shape, rng)

    return wrapper


class Layer:
    """Base class of every Keras-style layer.

    Args:
        name: the layer's name. Defaults to `None`, meaning a name unique in
            the process, derived from the class (``dense``, ``dense_1``...), as
            Keras 3 names layers; ``clear_session()`` starts the count again.
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

    #: True for a subclass that defines ``call`` and not ``forward``: its
    #: forward and backward run ``call`` on a tape (see the module doc).
    _auto_backward = False
    _call_takes_training = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = getattr(cls, "call", None)
        cls._auto_backward = callable(call) and cls.forward is Layer.forward
        if cls._auto_backward:
            params = inspect.signature(call).parameters
            cls._call_takes_training = "training" in params
        build = cls.__dict__.get("build")
        if build is not None and len(inspect.signature(build).parameters) == 2:
            cls.build = _keras_build(build)  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        input_shape: Any = None,
    ) -> None:
        # Before any other attribute: __setattr__ tracks weights and sublayers.
        object.__setattr__(self, "_sublayers", [])
        object.__setattr__(self, "_weight_attrs", {})
        self._build_rng: np.random.Generator | None = None
        if name is not None and (not isinstance(name, str) or not name):
            raise fail("name", "a non-empty string", repr(name))
        if not isinstance(trainable, bool):
            raise fail("trainable", "True or False", repr(trainable))
        # Named when created, per process, as Keras 3 does: dense, dense_1...
        self.name = name if name is not None else uniquify(self.default_name())
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
        self._own_order: list[str] = []  # without the sublayers' weights
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
        name: Any = None,
        shape: Any = None,
        initializer: Any = None,
        rng: np.random.Generator | None = None,
        *,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        dtype: Any = None,
        autocast: bool = True,
        aggregation: str = "none",
    ) -> Array:
        """Create a weight, register it under ``name`` and return it.

        Takes glassnet's order ``add_weight(name, shape, initializer, rng)`` and
        Keras' keywords ``add_weight(shape=..., initializer=..., trainable=...,
        name=...)`` (or Keras' positional ``(shape, initializer)``).

        Args:
            name: the key in ``params``/``states``. Defaults to `None`, meaning
                ``"variable"``, ``"variable_1"``... as Keras names them.
            shape: the weight's shape, an int or a tuple of ints.
            initializer: a name, config or initializer. Defaults to `None`,
                meaning ``"glorot_uniform"`` (Keras' default for floats).
            rng: the generator to draw from. Defaults to `None`, meaning the
                one the layer is being built with.
            trainable: ``params`` (updated by the optimizer) or ``states``.
                Defaults to `True`.
            regularizer: a penalty or its name. Defaults to `None`.
            constraint: a projection or its name. Defaults to `None`.
            dtype: the weight's dtype. Defaults to `None`, the layer's.
            autocast: accepted for Keras code; no effect. Defaults to `True`.
            aggregation: accepted for Keras code; no effect. Defaults to `"none"`.

        Raises:
            ValueError: for a missing or bad shape, or a name already used.
            InsufficientMemoryError: (a ``MemoryError`` and a ``ValueError``)
                naming the layer, the weight, its shape, the bytes needed and the
                bytes available, when creating it cannot fit in memory.
        """
        if name is not None and not isinstance(name, str):  # Keras' positional order
            if initializer is not None or rng is not None:
                raise fail(
                    "add_weight",
                    "(shape, initializer) positionally and the rest by keyword",
                    "more positional arguments",
                )
            name, shape, initializer = None, name, shape
        shape = self._check_weight_shape(shape)
        name = self._check_weight_name(name)
        if not isinstance(trainable, bool):
            raise fail("trainable", "True or False", repr(trainable))
        init = initializers_mod.get(
            "glorot_uniform" if initializer is None else initializer
        )
        wdtype = self.dtype if dtype is None else np.dtype(dtype)
        rng = rng if rng is not None else self._build_rng
        if self._shapes_only:  # see glassnet.layers._estimate: no memory at all
            value = np.broadcast_to(np.zeros((), wdtype), shape)
        else:
            weight_bytes = math.prod(shape) * wdtype.itemsize
            check_memory(
                f"weight {name!r} of layer {self.name!r}",
                initializers_mod.creation_bytes(shape, wdtype),
                f"shape {shape} {wdtype.name} ({format_bytes(weight_bytes)}"
                " for the weight, plus the initializer's float64 draw)",
            )
            value = init(shape, wdtype, rng)
        (self.params if trainable else self.states)[name] = value
        self._weight_order.append(name)
        self._own_order.append(name)
        if regularizer is not None:
            self.regularizers[name] = regularizers_mod.get(regularizer)
        if constraint is not None:
            self.constraints[name] = constraints_mod.get(constraint)
        return self._variable(name)  # Keras returns the Variable

    @staticmethod
    def _check_weight_shape(shape: Any) -> tuple[int, ...]:
        if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, tuple | list) or not all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0
            for d in shape
        ):
            raise fail("shape", "a tuple of ints >= 0", repr(shape))
        return tuple(int(d) for d in shape)

    def _check_weight_name(self, name: str | None) -> str:
        if name is None:
            name, i = "variable", 0
            while name in self._own_order:
                i += 1
                name = f"variable_{i}"
        if not name:
            raise fail("name", "a non-empty string", repr(name))
        if name in self._own_order:
            raise fail(
                "name", f"a weight name not used yet in layer {self.name!r}", name
            )
        return name

    def build(self, input_shape: Shape, rng: np.random.Generator | None = None) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included).

        This base version marks the layer built and builds its sublayers (Keras
        builds them by running ``call`` once; so does this, on one sample of
        zeros, when every size is known).
        """
        self.input_shape = tuple(input_shape)
        self.built = True
        if self._sublayers:
            self._build_sublayers(rng if rng is not None else self._build_rng)

    def _build_sublayers(self, rng: np.random.Generator | None) -> None:
        taken: set[str] = set()
        for sub in self._sublayers:
            if sub.name is None or sub.name in taken:
                base, i, sub.name = sub.default_name(), 0, sub.default_name()
                while sub.name in taken:
                    i += 1
                    sub.name = f"{base}_{i}"
            taken.add(sub.name)
            sub._build_rng = rng
            sub.__dict__["_parent_layer"] = self  # a weight's path: outer/sub/key
        if not all(sub.built for sub in self._sublayers):
            self._run_on_zeros(self.input_shape)
        if not isinstance(self.params, _NestedWeights):
            self.params = _NestedWeights(self.params, self._sublayers, "params")
            self.states = _NestedWeights(self.states, self._sublayers, "states")
        self._weight_order = self._own_order + [
            f"{sub.name}/{k}" for sub in self._sublayers for k in sub._weight_order
        ]

    def _run_on_zeros(self, input_shape: Shape | None) -> Array | None:
        """``call`` on one sample of zeros (None if a size is unknown)."""
        if not self._auto_backward or input_shape is None:
            return None
        if any(d is None for d in input_shape[1:]):
            return None
        x = get_array_module().zeros((1, *input_shape[1:]), dtype=self.dtype)
        kwargs = {"training": False} if self._call_takes_training else {}
        with np.errstate(all="ignore"):
            return tape_mod.plain(self.call(x, **kwargs))  # type: ignore[attr-defined]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for ``input_shape`` (batch axis included).

        A layer written with ``call`` and without this method gets the shape of
        ``call`` on one sample of zeros, as Keras infers it by running ``call``.
        """
        if self._auto_backward and self.built:
            out = self._run_on_zeros(tuple(input_shape))
            if out is not None:
                return (input_shape[0], *out.shape[1:])
        return tuple(input_shape)

    # -- computing --

    def forward(self, x: Array, training: bool = False) -> Array:
        """Compute the output, keeping in ``self._cache`` what backward needs.

        For a layer that defines ``call`` instead, run it on a tape.
        """
        if not self._auto_backward:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither forward nor call"
            )
        out, self._cache = self._run_call(x, training)
        return tape_mod.plain(out)

    def backward(self, dout: Array) -> Array:
        """Fill ``self.grads`` from ``dout`` and return the gradient of the input.

        For a layer that defines ``call``, replay the tape its forward recorded.
        """
        if not self._auto_backward:
            raise NotImplementedError(
                f"{type(self).__name__} does not implement backward"
            )
        if self._cache is None:
            raise RuntimeError(f"layer {self.name!r}: backward before forward")
        cache, self._cache = self._cache, None
        dx, self.grads = self._replay(cache, dout)
        return dx

    def _run_call(self, x: Array, training: bool) -> tuple[Array, Cache]:
        """``call`` on a private tape; the cache holds what ``_replay`` needs."""
        keys = list(self.params)
        weights = [self.params[k] for k in keys]
        # A TapedArray view, so that operators on the input are recorded too.
        x = x.view(tape_mod.TapedArray) if isinstance(x, np.ndarray) else x
        kwargs = {"training": training} if self._call_takes_training else {}
        tape = tape_mod.GradientTape()._push()
        try:
            out = self.call(x, **kwargs)  # type: ignore[attr-defined]
        finally:
            tape._pop()
        return out, (tape, x, out, keys, weights)

    @staticmethod
    def _replay(cache: Cache, dout: Array) -> tuple[Array, dict[str, Array]]:
        """The input gradient and each weight's gradient, from ``dout``."""
        tape, x, out, keys, weights = cache
        grads = tape.gradient(
            out, [x, *weights], output_gradients=dout, unconnected_gradients="zero"
        )
        return grads[0], dict(zip(keys, grads[1:], strict=True))

    def _call_on_tape(self, x_in: Any, x: Array, training: bool) -> Array:
        """Run the layer as one op on the tape that records now: its inputs are
        the input and every weight; its backward is the layer's."""
        keys = list(self.params)
        weights = [self.params[k] for k in keys]
        if self._auto_backward:
            out, cache = self._run_call(x, training)

            def backward(dout: Array) -> tuple[Array | None, ...]:
                dx, grads = self._replay(cache, dout)
                return (dx, *(grads[k] for k in keys))

        else:
            # Kernels take plain arrays: a TapedArray would record their NumPy.
            out = self.forward(tape_mod.plain(x), training)
            # This call's caches, so that a layer called twice under one tape
            # (a shared layer) replays each call with its own.
            saved = {
                k: v
                for k, v in vars(self).items()
                if k.endswith("_cache") or k == "logits"
            }

            def backward(dout: Array) -> tuple[Array | None, ...]:
                vars(self).update(saved)
                dx = self.backward(tape_mod.plain(dout))
                return (dx, *(self.grads.get(k) for k in keys))

        return tape_mod.record(tape_mod.plain(out), (x_in, *weights), backward)

    def __call__(self, x: Any, training: bool = False) -> Any:
        """Build on first use, check the input and run ``forward``; on symbolic
        tensors (``Input``'s), record the call for a functional model instead
        and return the output tensor (see :mod:`glassnet.layers.symbolic`)."""
        if is_symbolic(x):
            return call_symbolic(self, x)
        x_in = x
        x = self.cast_input(x)
        if not self.built:
            self.build((None, *x.shape[1:]), self._build_rng)
        self.check_input(x)
        if tape_mod.is_recording():  # the layer is one op on that tape
            out = self._call_on_tape(x_in, x, training)
        else:
            out = self.forward(x, training)
        if self.activity_regularizer is not None:
            self._record_activity_penalty(out)
        return out

    def _record_activity_penalty(self, out: Array) -> None:
        """Keep the activity penalty of this call's output: its value in
        ``_activity_losses`` (``model.losses``) and, as one op on the tape that
        records (if any), in ``_taped_losses``, which a subclassed model adds to
        its loss so that its gradient flows. Per sample, as the models' passes
        count it (``glassnet.models.training.activity_penalty``). A model's pass
        sets ``_collecting_losses`` to keep every call's (a shared layer);
        otherwise a call keeps its own only."""
        p, g = self.activity_regularizer.penalty(tape_mod.plain(out))  # type: ignore[union-attr]
        n, dtype = out.shape[0], out.dtype
        value = np.asarray(p / n, dtype=dtype)
        taped = tape_mod.record(value, (out,), lambda d: ((d * g / n).astype(dtype),))
        d = self.__dict__
        if not d.get("_collecting_losses"):
            d["_activity_losses"], d["_taped_losses"] = [], []
        d.setdefault("_activity_losses", []).append(float(p) / n)
        d.setdefault("_taped_losses", []).append(taped)

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

    def __setattr__(self, name: str, value: Any) -> None:
        # ``self.w = self.add_weight(...)``: remember the key, not the array, so
        # ``self.w`` stays the current weight after an optimizer or set_weights
        # replaces it. A Layer (or list of them) assigned is a sublayer.
        d = self.__dict__
        if "_weight_attrs" in d and not name.startswith("_"):
            key = self._own_weight_key(value) if hasattr(value, "shape") else None
            if key is not None:
                d.pop(name, None)
                d["_weight_attrs"][name] = key
                return
            d["_weight_attrs"].pop(name, None)
            subs = value if isinstance(value, list | tuple) else [value]
            for sub in subs:
                if isinstance(sub, Layer) and all(
                    sub is not s for s in self._sublayers
                ):
                    self._sublayers.append(sub)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        attrs = self.__dict__.get("_weight_attrs")
        if attrs is not None and name in attrs:
            return self._variable(attrs[name])
        if name in ("input", "output"):  # the property raised: keep its message
            return self._node_attribute(name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def _own_weight_key(self, value: Any) -> str | None:
        if isinstance(value, variables_mod.Variable) and value._layer is self:
            return value._key
        for store in (self.__dict__.get("params"), self.__dict__.get("states")):
            own = store.own if isinstance(store, _NestedWeights) else store or {}
            for key, weight in own.items():
                if weight is value:
                    return key
        return None

    def _weight(self, key: str) -> Array:
        return self.params[key] if key in self.params else self.states[key]

    def _variable(self, key: str) -> Any:
        """The weight ``key`` as a :class:`~glassnet.variables.Variable` (a
        sublayer's ``"sub/key"`` as the sublayer's own), the same object while
        its array is unchanged."""
        for store in (self.params, self.states):
            own = store.own if isinstance(store, _NestedWeights) else store
            if key in own:
                return variables_mod.variable_of(self, key, own[key])
        name, _, rest = key.partition("/")
        for sub in self._sublayers:
            if sub.name == name and (rest in sub.params or rest in sub.states):
                return sub._variable(rest)
        raise KeyError(key)

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this layer's weights.

        Setting it sets every sublayer's too, as Keras does; a frozen layer's
        weights move to ``non_trainable_weights``, ``fit`` leaves them alone, and
        a frozen ``BatchNormalization`` runs in inference mode.
        """
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise fail("trainable", "True or False", repr(value))
        self.__dict__["_trainable"] = value
        for sub in self.__dict__.get("_sublayers", []):
            sub.trainable = value

    def trainable_keys(self) -> list[str]:
        """The keys of ``params`` that the optimizer updates, in weight order:
        none for a frozen layer, and a sublayer's only while it is trainable."""
        if not self.trainable:
            return []
        own = (
            self.params.own if isinstance(self.params, _NestedWeights) else self.params
        )
        keys = {k for k in self._own_order if k in own}
        for sub in self._sublayers:
            keys.update(f"{sub.name}/{k}" for k in sub.trainable_keys())
        return [k for k in self._weight_order if k in keys]

    @property
    def weight_names(self) -> list[str]:
        """Names of every weight, in Keras' ``get_weights`` order."""
        return list(self._weight_order)

    @property
    def weights(self) -> list[Any]:
        """Every weight as a :class:`~glassnet.variables.Variable`, in Keras'
        order (``get_weights`` gives NumPy copies)."""
        return [self._variable(k) for k in self._weight_order]

    @property
    def trainable_weights(self) -> list[Any]:
        return [self._variable(k) for k in self.trainable_keys()]

    @property
    def non_trainable_weights(self) -> list[Any]:
        trainable = set(self.trainable_keys())
        return [self._variable(k) for k in self._weight_order if k not in trainable]

    # -- the symbolic calls of a functional model --

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call on symbolic tensors
        (Keras 3: the first node's; a list for a merge layer).

        Raises:
            AttributeError: for a layer never called on symbolic tensors.
        """
        return self._node_attribute("input")

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call on symbolic tensors.

        Raises:
            AttributeError: for a layer never called on symbolic tensors.
        """
        return self._node_attribute("output")

    def _node_attribute(self, attr: str) -> Any:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no "
                f"defined {attr}."
            )
        node = nodes[0]
        if attr == "output":
            return node.output
        return node.inputs if len(node.inputs) > 1 else node.inputs[0]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as NumPy arrays, in Keras' order."""
        return [to_numpy(self._weight(k)).copy() for k in self._weight_order]

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
            if (
                isinstance(old, np.ndarray)
                and old.dtype == self.dtype
                and old.flags.writeable
            ):
                old[...] = value  # in place: the weight's Variable sees it
                continue
            new = get_array_module(old).array(value, dtype=self.dtype)  # a copy
            (self.params if key in self.params else self.states)[key] = new

    def count_params(self) -> int:
        """The number of scalars in every weight, trainable or not."""
        return int(sum(math.prod(self._weight(k).shape) for k in self._weight_order))

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
