"""Array ops with Keras 3's ``keras.ops`` names: algebra, reductions and shapes.

Each op computes its output with NumPy, then records on the active tape (if any)
a backward closure written directly under it. These are the simple derivatives
that no kernel in :mod:`glassnet.functional` owns (a sum, a reshape, a product);
anything a kernel owns (activations, affine, conv, pooling) is in
:mod:`glassnet.ops.nn` and uses that kernel's backward.

Elementwise binary ops follow NumPy broadcasting; each operand's gradient is
summed back to its shape (:func:`~glassnet.ops.tape.unbroadcast`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import fail
from glassnet.backend import Array, get_array_module
from glassnet.ops.tape import METHOD_OPS, UFUNC_OPS, plain, record, unbroadcast


def _arrays(*xs: Any) -> list[Array]:
    """Plain arrays; Python numbers become arrays of the other operands' dtype."""
    arrays = [plain(x) for x in xs]
    dtype = next((a.dtype for a in arrays if hasattr(a, "dtype")), None)
    xp = get_array_module(*arrays)
    return [a if hasattr(a, "shape") else xp.asarray(a, dtype=dtype) for a in arrays]


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise fail("axis", f"an axis in [{-ndim}, {ndim})", repr(axis))
    return tuple(a % ndim for a in axes)


def _expand(g: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """A reduction's gradient with the reduced axes put back as size 1."""
    if keepdims:
        return g
    for a in sorted(axes):
        g = get_array_module(g).expand_dims(g, a)
    return g


# ---- elementwise, two operands ---------------------------------------------------


def add(x1: Any, x2: Any) -> Array:
    """``x1 + x2`` with broadcasting.

    Shapes:
        x1, x2: broadcastable;  out: their broadcast shape
    """
    a, b = _arrays(x1, x2)
    return record(
        a + b,
        (x1, x2),
        lambda g: (unbroadcast(g, a.shape), unbroadcast(g, b.shape)),
    )


def subtract(x1: Any, x2: Any) -> Array:
    """``x1 - x2`` with broadcasting (shapes as :func:`add`)."""
    a, b = _arrays(x1, x2)
    return record(
        a - b,
        (x1, x2),
        lambda g: (unbroadcast(g, a.shape), unbroadcast(-g, b.shape)),
    )


def multiply(x1: Any, x2: Any) -> Array:
    """``x1 * x2`` with broadcasting (shapes as :func:`add`)."""
    a, b = _arrays(x1, x2)
    return record(
        a * b,
        (x1, x2),
        lambda g: (unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)),
    )


def divide(x1: Any, x2: Any) -> Array:
    """``x1 / x2`` with broadcasting (shapes as :func:`add`)."""
    a, b = _arrays(x1, x2)
    out = a / b
    # d(a/b)/db = -a / b^2 = -out / b: reuses the quotient.
    return record(
        out,
        (x1, x2),
        lambda g: (unbroadcast(g / b, a.shape), unbroadcast(-g * out / b, b.shape)),
    )


def power(x1: Any, x2: Any) -> Array:
    """``x1 ** x2``; the exponent's gradient ``out * log(x1)`` needs ``x1 > 0``."""
    a, b = _arrays(x1, x2)
    out = a**b
    xp = get_array_module(a)

    def backward(g: Array) -> tuple[Array, Array | None]:
        da = unbroadcast(g * b * a ** (b - 1), a.shape)
        if not hasattr(x2, "shape"):  # a constant exponent, the usual case
            return da, None
        with np.errstate(divide="ignore", invalid="ignore"):
            db = g * out * xp.log(a)
        return da, unbroadcast(db, b.shape)

    return record(out, (x1, x2), backward)


def where(condition: Any, x1: Any, x2: Any) -> Array:
    """``x1`` where ``condition`` holds, else ``x2`` (broadcast); no gradient
    flows to ``condition``."""
    a, b = _arrays(x1, x2)
    cond = get_array_module(a).asarray(plain(condition), dtype=bool)
    return record(
        np.where(cond, a, b),
        (x1, x2),
        lambda g: (
            unbroadcast(np.where(cond, g, 0), a.shape),
            unbroadcast(np.where(cond, 0, g), b.shape),
        ),
    )


# ---- elementwise, one operand ----------------------------------------------------


def negative(x: Any) -> Array:
    """``-x``."""
    (a,) = _arrays(x)
    return record(-a, (x,), lambda g: (-g,))


def exp(x: Any) -> Array:
    """``e ** x``; its derivative is itself."""
    (a,) = _arrays(x)
    out = get_array_module(a).exp(a)
    return record(out, (x,), lambda g: (g * out,))


def log(x: Any) -> Array:
    """The natural logarithm."""
    (a,) = _arrays(x)
    return record(get_array_module(a).log(a), (x,), lambda g: (g / a,))


def sqrt(x: Any) -> Array:
    """The square root; d sqrt(x) = 1 / (2 sqrt(x))."""
    (a,) = _arrays(x)
    out = get_array_module(a).sqrt(a)
    return record(out, (x,), lambda g: (g / (2 * out),))


def square(x: Any) -> Array:
    """``x * x``."""
    (a,) = _arrays(x)
    return record(a * a, (x,), lambda g: (2 * g * a,))


# ---- reductions --------------------------------------------------------------------


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A001
    """The sum over ``axis`` (all axes for None)."""
    (a,) = _arrays(x)
    axes = _axes(axis, a.ndim)
    out = a.sum(axis=axes, keepdims=keepdims)
    xp = get_array_module(a)
    return record(
        out,
        (x,),
        lambda g: (xp.broadcast_to(_expand(g, axes, keepdims), a.shape).copy(),),
    )


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The mean over ``axis``: the sum divided by the number of entries summed."""
    (a,) = _arrays(x)
    count = int(np.prod([a.shape[i] for i in _axes(axis, a.ndim)]))
    return divide(sum(x, axis, keepdims), count)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A001
    """The maximum over ``axis``. Tied maxima share the gradient equally, as in
    TensorFlow's ``reduce_max``."""
    (a,) = _arrays(x)
    axes = _axes(axis, a.ndim)
    out = a.max(axis=axes, keepdims=True)

    def backward(g: Array) -> tuple[Array]:
        winners = a == out
        share = winners / winners.sum(axis=axes, keepdims=True)
        return (share * _expand(g, axes, keepdims),)

    return record(out if keepdims else out.squeeze(axes), (x,), backward)


# ---- shapes ------------------------------------------------------------------------


def reshape(x: Any, newshape: Any) -> Array:
    """``x`` with a new shape (one entry may be -1)."""
    (a,) = _arrays(x)
    return record(a.reshape(newshape), (x,), lambda g: (g.reshape(a.shape),))


def transpose(x: Any, axes: Any = None) -> Array:
    """Permute the axes (reverse them for None)."""
    (a,) = _arrays(x)
    perm = tuple(range(a.ndim))[::-1] if axes is None else _axes(axes, a.ndim)
    if sorted(perm) != list(range(a.ndim)):
        raise fail("axes", f"a permutation of range({a.ndim})", repr(axes))
    inverse = tuple(np.argsort(perm))
    return record(a.transpose(perm), (x,), lambda g: (g.transpose(inverse),))


def expand_dims(x: Any, axis: int) -> Array:
    """Insert a size-1 axis at ``axis``."""
    (a,) = _arrays(x)
    out = get_array_module(a).expand_dims(a, axis)
    return record(out, (x,), lambda g: (g.reshape(a.shape),))


def squeeze(x: Any, axis: Any = None) -> Array:
    """Remove size-1 axes (all of them for None)."""
    (a,) = _arrays(x)
    return record(a.squeeze(axis), (x,), lambda g: (g.reshape(a.shape),))


def concatenate(xs: Any, axis: int = 0) -> Array:
    """Join arrays along ``axis`` (Keras' default: 0)."""
    if not isinstance(xs, list | tuple) or not xs:
        raise fail("xs", "a non-empty list of arrays", type(xs).__name__)
    arrays = _arrays(*xs)
    xp = get_array_module(*arrays)
    out = xp.concatenate(arrays, axis=axis)
    ends = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    return record(out, tuple(xs), lambda g: tuple(xp.split(g, ends, axis=axis)))


def take_slice(x: Any, key: Any) -> Array:
    """``x[key]``: what indexing a TapedArray records. The gradient adds each
    picked entry's gradient back at its place (``add.at``, so repeated indices
    count every time)."""
    (a,) = _arrays(x)
    key = plain(key)

    def backward(g: Array) -> tuple[Array]:
        xp = get_array_module(g)
        dx = xp.zeros(a.shape, dtype=g.dtype)
        xp.add.at(dx, key, g)
        return (dx,)

    return record(a[key], (x,), backward)


def _method_reshape(x: Any, *shape: Any, **kwargs: Any) -> Array:
    if kwargs:
        raise TypeError("reshape on the tape takes the shape only")
    return reshape(x, shape[0] if len(shape) == 1 else shape)


def _method_transpose(x: Any, *axes: Any) -> Array:
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return transpose(x, axes or None)


UFUNC_OPS.update(
    {
        np.add: add,
        np.subtract: subtract,
        np.multiply: multiply,
        np.true_divide: divide,
        np.power: power,
        np.negative: negative,
        np.exp: exp,
        np.log: log,
        np.sqrt: sqrt,
        np.square: square,
    }
)
METHOD_OPS.update(
    {
        "sum": sum,
        "mean": mean,
        "max": max,
        "reshape": _method_reshape,
        "transpose": _method_transpose,
        "T": transpose,
        "__getitem__": take_slice,
    }
)

__all__ = [
    "add",
    "concatenate",
    "divide",
    "exp",
    "expand_dims",
    "log",
    "max",
    "mean",
    "multiply",
    "negative",
    "power",
    "reshape",
    "sqrt",
    "square",
    "squeeze",
    "subtract",
    "sum",
    "take_slice",
    "transpose",
    "where",
]
