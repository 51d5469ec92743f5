"""Ops that make arrays, convert them or read them without a gradient, with
Keras 3's ``keras.ops`` names.

Creation (``ones``, ``zeros``, ``full``, ``arange``, ``eye``...) gives constants
in ``floatx()`` (float32) unless ``dtype`` says otherwise, as Keras does; they
are not recorded on a tape. Comparisons, ``argmax``/``argmin``, ``one_hot`` and
``shape`` read their inputs (a TapedArray too) and give results that carry no
gradient, as in Keras. ``cast`` and ``convert_to_tensor`` are recorded, so that
a gradient flows through a cast between float dtypes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array, floatx, get_array_module
from glassnet.backend import xp as default_xp
from glassnet.ops.numpy import _arrays
from glassnet.ops.tape import METHOD_OPS, plain, record

# ---- conversion --------------------------------------------------------------------


def cast(x: Any, dtype: Any) -> Array:
    """``x`` in ``dtype``. Between float dtypes the gradient is cast back to
    ``x``'s dtype; to or from an integer or bool dtype no gradient flows."""
    (a,) = _arrays(x)
    dt = np.dtype(dtype)

    def backward(g: Array) -> tuple[Array | None]:
        if a.dtype.kind == "f" and dt.kind == "f":
            return (g.astype(a.dtype),)
        return (None,)

    return record(a.astype(dt), (x,), backward)


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None) -> Array:
    """``x`` as an array (Keras' ``ops.convert_to_tensor``).

    An array already in ``dtype`` (or with ``dtype=None``) is returned as it is,
    so that a tape still tracks it. Python floats become ``floatx()`` (float32)
    and Python ints int32, as Keras converts them; arrays keep their dtype.

    Raises:
        ValueError: for ``sparse=True`` (glassnet has dense arrays only).
    """
    if sparse:
        raise fail("sparse", "None or False (dense arrays only)", repr(sparse))
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        return cast(x, dtype)
    a = np.asarray(x)
    if dtype is None and a.dtype.kind == "f":
        dtype = floatx()
    elif dtype is None and a.dtype.kind in "iu":
        dtype = "int32"
    return default_xp().asarray(a, dtype=dtype)


def stop_gradient(x: Any) -> Array:
    """``x``'s values, through which no gradient flows (a plain array)."""
    return plain(x)


def shape(x: Any) -> tuple[int | None, ...]:
    """The shape of ``x`` as a tuple (None for the batch axis of a symbolic
    tensor)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


# ---- creation ----------------------------------------------------------------------


def _float(dtype: Any) -> Any:
    return floatx() if dtype is None else np.dtype(dtype)


def _shape_arg(value: Any) -> tuple[int, ...]:
    dims = (value,) if isinstance(value, int | np.integer) else tuple(value)
    for d in dims:
        check_int("shape", d, min_value=0)
    return tuple(int(d) for d in dims)


def zeros(shape: Any, dtype: Any = None) -> Array:
    """An array of zeros, in ``floatx()`` unless ``dtype`` is given."""
    return default_xp().zeros(_shape_arg(shape), dtype=_float(dtype))


def ones(shape: Any, dtype: Any = None) -> Array:
    """An array of ones, in ``floatx()`` unless ``dtype`` is given.

    Example:
        >>> from glassnet import ops
        >>> ops.ones((2, 2)).dtype
        dtype('float32')
    """
    return default_xp().ones(_shape_arg(shape), dtype=_float(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Array:
    """An array filled with ``fill_value``, in ``floatx()`` unless ``dtype``."""
    return default_xp().full(_shape_arg(shape), plain(fill_value), dtype=_float(dtype))


def zeros_like(x: Any, dtype: Any = None) -> Array:
    """Zeros shaped like ``x``, in ``x``'s dtype unless ``dtype`` is given."""
    (a,) = _arrays(x)
    return get_array_module(a).zeros(a.shape, dtype=dtype or a.dtype)


def ones_like(x: Any, dtype: Any = None) -> Array:
    """Ones shaped like ``x``, in ``x``'s dtype unless ``dtype`` is given."""
    (a,) = _arrays(x)
    return get_array_module(a).ones(a.shape, dtype=dtype or a.dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Array:
    """``fill_value`` shaped like ``x``, in ``x``'s dtype unless ``dtype``."""
    (a,) = _arrays(x)
    return get_array_module(a).full(a.shape, plain(fill_value), dtype=dtype or a.dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Array:
    """Evenly spaced values in ``[start, stop)`` (``[0, start)`` with one
    argument). Keras' dtype rule: int32 when every bound is an int, else
    ``floatx()``."""
    bounds = [b for b in (start, stop, step) if b is not None]
    if dtype is None:
        ints = all(isinstance(b, int | np.integer) for b in bounds)
        dtype = "int32" if ints else floatx()
    if stop is None:
        start, stop = 0, start
    return default_xp().arange(start, stop, step, dtype=dtype)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Array:  # noqa: N803
    """The (N, M) matrix with ones on diagonal ``k``, in ``floatx()``."""
    return default_xp().eye(N, M, k, dtype=_float(dtype))


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Array:
    """One-hot rows of the integer labels ``x`` along a new axis ``axis``.

    A label outside ``[0, num_classes)`` gives a row of zeros, as in Keras'
    backends (``glassnet.utils.to_categorical`` refuses it instead).

    Shapes:
        x: (d1, ..., dk);  out: (d1, ..., dk, C), C moved to ``axis``
    """
    if sparse:
        raise fail("sparse", "False (dense arrays only)", repr(sparse))
    num_classes = check_int("num_classes", num_classes, min_value=1)
    labels = get_array_module(plain(x)).asarray(plain(x))
    if labels.dtype.kind not in "iu":
        raise fail("x", "integer labels", f"dtype {labels.dtype}")
    xp = get_array_module(labels)
    out = (labels[..., None] == xp.arange(num_classes)).astype(_float(dtype))
    return xp.moveaxis(out, -1, axis)


# ---- reading, no gradient ----------------------------------------------------------


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Array:
    """The index of the largest entry along ``axis`` (of the flat array for
    None), in int32 as Keras returns it."""
    (a,) = _arrays(x)
    return get_array_module(a).asarray(
        a.argmax(axis=axis, keepdims=keepdims), dtype="int32"
    )


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Array:
    """The index of the smallest entry along ``axis``, in int32."""
    (a,) = _arrays(x)
    return get_array_module(a).asarray(
        a.argmin(axis=axis, keepdims=keepdims), dtype="int32"
    )


def sign(x: Any) -> Array:
    """-1, 0 or 1 by the sign of each entry; its gradient is zero, so none is
    recorded."""
    (a,) = _arrays(x)
    return get_array_module(a).sign(a)


def _compare(name: str, doc: str) -> Any:
    def compare(x1: Any, x2: Any) -> Array:
        a, b = _arrays(x1, x2)
        return getattr(get_array_module(a), name)(a, b)

    compare.__name__ = name
    compare.__doc__ = f"``{doc}`` elementwise, as a bool array (no gradient)."
    return compare


equal = _compare("equal", "x1 == x2")
not_equal = _compare("not_equal", "x1 != x2")
greater = _compare("greater", "x1 > x2")
greater_equal = _compare("greater_equal", "x1 >= x2")
less = _compare("less", "x1 < x2")
less_equal = _compare("less_equal", "x1 <= x2")
logical_and = _compare("logical_and", "x1 and x2")
logical_or = _compare("logical_or", "x1 or x2")


def logical_not(x: Any) -> Array:
    """``not x`` elementwise, as a bool array (no gradient)."""
    (a,) = _arrays(x)
    return get_array_module(a).logical_not(a)


def _method_astype(x: Any, dtype: Any, **kwargs: Any) -> Array:
    return cast(x, dtype)  # order/casting/copy do not change the values


METHOD_OPS.update({"astype": _method_astype})

__all__ = [
    "arange",
    "argmax",
    "argmin",
    "cast",
    "convert_to_tensor",
    "equal",
    "eye",
    "full",
    "full_like",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "not_equal",
    "one_hot",
    "ones",
    "ones_like",
    "shape",
    "sign",
    "stop_gradient",
    "zeros",
    "zeros_like",
]
