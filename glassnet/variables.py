"""Keras' ``Variable``: a weight that knows its name and path and can be assigned.

A :class:`Variable` is a NumPy array (an ``ndarray`` subclass) that views the
memory of one weight, so everything that worked on weights as arrays still works:
``np.asarray(w)``, ``w.shape``, arithmetic, indexing, ``tape.gradient(loss,
model.trainable_weights)``. On top it has Keras 3's ``name``, ``path``
(``"dense/kernel"``), ``trainable``, ``value``, ``numpy()`` and ``assign``,
``assign_add``, ``assign_sub``.

A layer keeps its weights as plain arrays in ``layer.params``/``layer.states``
(its kernels compute on those); ``layer.weights``, ``layer.kernel``,
``self.w = self.add_weight(...)`` and ``model.trainable_weights`` hand out one
Variable per weight, made on first access and kept while that array is the
weight, so two accesses give the same object. Training writes the new values
into the array of every weight a Variable views, in place (``fit``,
``apply_gradients`` and ``set_weights`` alike), so a Variable fetched before
training sees the trained values; weights nobody fetched as Variables get new
arrays, which costs ``fit`` no copy. ``assign`` writes into whatever array
the layer holds now, so a later ``predict`` uses the assigned value even if
something replaced the array.

Results of arithmetic, ``copy()``, ``reshape()``, ``astype()``, ``T`` and
indexing are plain arrays, never Variables. A standalone ``Variable(initializer,
shape, dtype, trainable, name)`` owns its memory, as Keras' ``keras.Variable``.
On the CuPy backend a layer's weights stay CuPy arrays (they cannot be viewed
as a NumPy subclass).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from glassnet import initializers as initializers_mod
from glassnet._internal.checks import as_numeric_array, fail
from glassnet.backend import auto_name, floatx, to_numpy


def unwrap(x: Any) -> Any:
    """A Variable's values as a plain array view (no copy); anything else as is."""
    return np.ndarray.view(x, np.ndarray) if isinstance(x, Variable) else x


_plain = unwrap


class Variable(np.ndarray):
    """A weight as Keras 3 has it: an array with a name, a path and ``assign``.

    Args:
        initializer: the initial value (an array, a list, a number) or an
            initializer (a name such as ``"zeros"``, a config or an object),
            which needs ``shape``.
        shape: the shape; required with an initializer, checked against a
            value. Defaults to `None`.
        dtype: a floating-point dtype. Defaults to `None`, meaning ``floatx()``
            (float32), as Keras converts values.
        trainable: whether an optimizer should update it. Defaults to `True`.
        autocast: accepted for Keras code; no effect. Defaults to `True`.
        aggregation: accepted for Keras code; no effect. Defaults to `"none"`.
        synchronization: accepted for Keras code; no effect. Defaults to
            `"auto"`.
        name: its name. Defaults to `None`, meaning ``"variable"``,
            ``"variable_1"``... per process.

    Raises:
        ValueError: for a missing or mismatched shape, a non-float dtype, a
            bad name or ``trainable``.

    Example:
        >>> import numpy as np
        >>> from glassnet import Variable
        >>> v = Variable(np.zeros(3), name="v")
        >>> v.assign_add([1.0, 2.0, 3.0]).numpy().tolist(), v.path, v.dtype
        ([1.0, 2.0, 3.0], 'v', dtype('float32'))
        >>> type(v * 2) is np.ndarray
        True
    """

    # The layer and weight key this variable views (None for a standalone one),
    # and the array it views: the weight's array when the view was made.
    _layer: Any = None
    _key: str | None = None
    _array: Any = None
    _name: str = "variable"
    _trainable: bool = True

    def __new__(
        cls,
        initializer: Any,
        shape: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
    ) -> Variable:
        if not isinstance(trainable, bool):
            raise fail("trainable", "True or False", repr(trainable))
        if name is not None and (not isinstance(name, str) or not name):
            raise fail("name", "a non-empty string or None", repr(name))
        wdtype = np.dtype(dtype) if dtype is not None else floatx()
        if wdtype.kind != "f":
            raise fail("dtype", "a floating-point dtype", repr(dtype))
        if shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if _is_initializer(initializer):
            if shape is None:
                raise fail("shape", "a shape for the initializer", "None")
            value = initializers_mod.get(initializer)(shape, wdtype)
        else:
            value = as_numeric_array("initializer", to_numpy(_plain(initializer)))
            if shape is not None and tuple(value.shape) != shape:
                raise fail("shape", f"the value's shape {value.shape}", repr(shape))
        storage = np.array(to_numpy(value), dtype=wdtype)  # its own memory
        v = storage.view(cls)
        v._array, v._trainable = storage, trainable
        v._name = name or auto_name("Variable")
        return v

    def __array_finalize__(self, obj: Any) -> None:
        # A view NumPy made of a Variable (not through the overrides below) is
        # a detached array: it views memory, but no weight.
        self._layer, self._key, self._array = None, None, None

    @classmethod
    def _of_layer(cls, layer: Any, key: str, array: np.ndarray) -> Variable:
        v = np.ndarray.view(array, cls)
        v._layer, v._key, v._array = layer, key, array
        v._name = key.rpartition("/")[2]
        return v

    # -- Keras' attributes --

    @property
    def name(self) -> str:
        """The weight's name (``"kernel"``)."""
        return self._name

    @property
    def path(self) -> str:
        """The layer path and the name, as Keras 3 gives it: ``"dense/kernel"``
        (``"block/linear/kernel"`` for a sublayer's weight)."""
        if self._layer is None:
            return self._name
        return f"{_layer_path(self._layer)}/{self._key}"

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates it: a weight of ``params`` of a
        trainable layer (not a moving statistic, not frozen)."""
        if self._layer is None:
            return self._trainable
        return bool(self._layer.trainable) and self._key in self._layer.params

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if self._layer is not None:
            raise AttributeError(
                f"{self.path}: a layer's weight is trainable as its layer is; "
                "set the layer's trainable instead"
            )
        if not isinstance(value, bool):
            raise fail("trainable", "True or False", repr(value))
        self._trainable = value

    @property
    def value(self) -> Any:
        """The weight's current array (no copy; a layer's may have been replaced
        since this variable was fetched)."""
        if self._layer is None:
            return self._array if self._array is not None else _plain(self)
        return self._layer._weight(self._key)

    def numpy(self) -> np.ndarray:
        """A NumPy copy of the current value."""
        return to_numpy(self.value).copy()

    def assign(self, value: Any) -> Variable:
        """Write ``value`` into the weight in place (cast to its dtype).

        Raises:
            ValueError: when ``value``'s shape is not the variable's.
        """
        current = self.value
        value = to_numpy(_plain(value)) if isinstance(current, np.ndarray) else value
        if np.shape(value) != tuple(current.shape):
            raise fail(
                "value",
                f"shape {tuple(current.shape)} like variable {self.path!r}",
                f"shape {np.shape(value)}",
            )
        current[...] = value
        own = np.ndarray.view(self, np.ndarray)
        if not np.shares_memory(own, current):  # a replaced array: keep both
            own[...] = current
        return self

    def assign_add(self, delta: Any) -> Variable:
        """``assign(value + delta)``."""
        return self.assign(self.value + _plain(delta))

    def assign_sub(self, delta: Any) -> Variable:
        """``assign(value - delta)``."""
        return self.assign(self.value - _plain(delta))

    # -- an array whose results are plain arrays --

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any):
        # Another array type with its own dispatch (the tape's TapedArray) goes
        # first, so that an op on a variable and an op output is recorded.
        for a in inputs:
            if (
                isinstance(a, np.ndarray)
                and not isinstance(a, Variable)
                and type(a).__array_ufunc__ is not np.ndarray.__array_ufunc__
            ):
                return NotImplemented
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(a) for a in inputs), **kwargs)
        if out is not None:  # ``v += 1``: the variable itself, updated in place
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any):
        # NumPy functions (np.dot, np.zeros_like...) see plain views: their
        # results are plain arrays, and in-place ones still write the memory.
        values = _unwrap(kwargs.values())
        return func(*_unwrap(args), **dict(zip(kwargs, values, strict=True)))

    def __getitem__(self, key: Any) -> Any:
        return np.ndarray.view(self, np.ndarray)[key]

    @property
    def T(self) -> np.ndarray:  # noqa: N802 (NumPy's name)
        return np.ndarray.view(self, np.ndarray).T

    def __reduce__(self) -> Any:
        return to_numpy(self.value).copy().__reduce__()  # pickles as an array

    def __copy__(self) -> Any:
        return self._detached_copy()

    def __deepcopy__(self, memo: dict) -> Any:
        return self._detached_copy()

    def _detached_copy(self) -> Any:
        if self._layer is not None:
            return np.array(self.value)  # a weight's copy is an array
        v = Variable(self.numpy(), dtype=self.dtype, trainable=self._trainable)
        v._name = self._name
        return v

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={tuple(self.shape)}, "
            f"dtype={self.dtype.name}, value={np.array2string(self.numpy())}>"
        )


def _plain_method(name: str) -> Any:
    method = getattr(np.ndarray, name)

    def plain_result(self: Variable, *args: Any, **kwargs: Any) -> Any:
        return method(np.ndarray.view(self, np.ndarray), *args, **kwargs)

    plain_result.__name__ = name
    plain_result.__doc__ = f"``ndarray.{name}`` of the values, a plain array."
    return plain_result


for _name in (
    "astype",
    "copy",
    "dot",
    "flatten",
    "ravel",
    "reshape",
    "squeeze",
    "swapaxes",
    "transpose",
):
    setattr(Variable, _name, _plain_method(_name))


def _unwrap(values: Any) -> list[Any]:
    return [
        type(v)(_unwrap(v)) if isinstance(v, list | tuple) else _plain(v)
        for v in values
    ]


def _is_initializer(x: Any) -> bool:
    if isinstance(x, str | dict):
        return True
    return callable(x) and not hasattr(x, "shape")


def _layer_path(layer: Any) -> str:
    parent = layer.__dict__.get("_parent_layer")
    return layer.name if parent is None else f"{_layer_path(parent)}/{layer.name}"


# id(weight array) -> the Variable that views it, while that Variable lives.
_VIEWS: weakref.WeakValueDictionary[int, Variable] = weakref.WeakValueDictionary()


def is_viewed(array: Any) -> bool:
    """Whether a layer's Variable views ``array`` (so updates must write it in
    place for the Variable to see them)."""
    v = _VIEWS.get(id(array))
    return v is not None and v._array is array


def variable_of(layer: Any, key: str, array: Any) -> Any:
    """The Variable of ``layer``'s weight ``key`` (its own key, not a sublayer's),
    whose array is ``array``: the same object while that array is the weight.
    CuPy arrays come back as they are."""
    if not isinstance(array, np.ndarray) or isinstance(array, Variable):
        return array
    cache = layer.__dict__.setdefault("_variables", {})
    v = cache.get(key)
    if type(v) is Variable and v._array is array and v._layer is layer:
        return v
    v = Variable._of_layer(layer, key, array)
    cache[key] = _VIEWS[id(array)] = v
    return v


def storage(x: Any) -> Any:
    """The array whose identity stands for ``x`` on a tape or in an optimizer's
    slots: a Variable's weight array (so a Variable and its layer's array are
    one source), anything else itself."""
    if isinstance(x, Variable) and x._array is not None:
        return x._array
    return x


def write(var: Any, value: Any) -> None:
    """Store ``value`` into ``var`` in place (through ``assign`` for a Variable)."""
    if isinstance(var, Variable):
        var.assign(value)
    else:
        var[...] = value


__all__ = ["Variable", "is_viewed", "storage", "unwrap", "variable_of", "write"]
