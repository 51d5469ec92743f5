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


def abs(x: Any) -> Array:  # noqa: A001
    """``|x|``; its gradient is ``sign(x)`` (0 at 0, as TensorFlow's)."""
    (a,) = _arrays(x)
    xp = get_array_module(a)
    return record(xp.abs(a), (x,), lambda g: (g * xp.sign(a),))


def log1p(x: Any) -> Array:
    """``log(1 + x)``, accurate for small ``x``."""
    (a,) = _arrays(x)
    return record(get_array_module(a).log1p(a), (x,), lambda g: (g / (1 + a),))


def maximum(x1: Any, x2: Any) -> Array:
    """The elementwise maximum (broadcast). Where ``x1 == x2`` the gradient goes
    to ``x1``, as TensorFlow's."""
    a, b = _arrays(x1, x2)
    first = a >= b
    return record(get_array_module(a).maximum(a, b), (x1, x2), _pick(first, a, b))


def minimum(x1: Any, x2: Any) -> Array:
    """The elementwise minimum (broadcast); ties send the gradient to ``x1``."""
    a, b = _arrays(x1, x2)
    first = a <= b
    return record(get_array_module(a).minimum(a, b), (x1, x2), _pick(first, a, b))


def _pick(first: Array, a: Array, b: Array) -> Any:
    """An elementwise choice's gradient: ``x1``'s where ``first``, else ``x2``'s."""

    def backward(g: Array) -> tuple[Array, Array]:
        return (
            unbroadcast(np.where(first, g, 0), a.shape),
            unbroadcast(np.where(first, 0, g), b.shape),
        )

    return backward


def clip(x: Any, x_min: Any, x_max: Any) -> Array:
    """``x`` limited to ``[x_min, x_max]`` (broadcast).

    The gradient passes where ``x_min <= x <= x_max``; below, it goes to
    ``x_min``, above to ``x_max`` (TensorFlow's ``clip_by_value`` rule).
    """
    a, lo, hi = _arrays(x, x_min, x_max)
    xp = get_array_module(a)
    below, above = a < lo, a > hi
    out = xp.minimum(xp.maximum(a, lo), hi).astype(a.dtype, copy=False)

    def backward(g: Array) -> tuple[Array, Array, Array]:
        inside = ~(below | above)
        return (
            unbroadcast(np.where(inside, g, 0), a.shape),
            unbroadcast(np.where(below & ~above, g, 0), lo.shape),
            unbroadcast(np.where(above, g, 0), hi.shape),
        )

    return record(out, (x, x_min, x_max), backward)


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


def _extreme(x: Any, axis: Any, keepdims: bool, largest: bool) -> Array:
    (a,) = _arrays(x)
    axes = _axes(axis, a.ndim)
    out = (a.max if largest else a.min)(axis=axes, keepdims=True)

    def backward(g: Array) -> tuple[Array]:
        winners = a == out
        share = winners / winners.sum(axis=axes, keepdims=True)
        return (share * _expand(g, axes, keepdims),)

    return record(out if keepdims else out.squeeze(axes), (x,), backward)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A001
    """The maximum over ``axis``. Tied maxima share the gradient equally, as in
    TensorFlow's ``reduce_max``."""
    return _extreme(x, axis, keepdims, largest=True)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A001
    """The minimum over ``axis``; tied minima share the gradient equally."""
    return _extreme(x, axis, keepdims, largest=False)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The (population) variance over ``axis``: ``mean(square(x - mean(x)))``,
    composed of recorded ops, so its gradient is theirs."""
    centred = subtract(x, mean(x, axis, keepdims=True))
    return mean(square(centred), axis, keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The (population) standard deviation over ``axis``: ``sqrt(var(x))``."""
    return sqrt(var(x, axis, keepdims))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A002
    """A vector norm (Keras' ``ops.norm``), composed of recorded ops.

    ``ord=None`` is the 2-norm of the flattened entries over ``axis`` (the
    Frobenius norm of a matrix, ``"fro"`` too); for one axis, ``ord`` may also
    be 1 (sum of absolute values), 2, or ``inf`` (largest absolute value). At
    ``x = 0`` the 2-norm's gradient is not finite, as in TensorFlow.

    Raises:
        ValueError: for another ``ord`` (matrix norms such as the spectral one
            are not implemented).
    """
    one_axis = isinstance(axis, int | np.integer)
    if ord is None or ord == "fro" or (ord == 2 and one_axis):
        return sqrt(sum(square(x), axis, keepdims))
    if one_axis and ord == 1:
        return sum(abs(x), axis, keepdims)
    if one_axis and ord == np.inf:
        return max(abs(x), axis, keepdims)
    raise fail(
        "ord",
        "None or 'fro', or 1, 2 or inf with one axis",
        f"ord={ord!r}, axis={axis!r}",
    )


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


def stack(x: Any, axis: int = 0) -> Array:
    """Join arrays of one shape along a new axis ``axis`` (Keras' default: 0).

    Shapes:
        x: n arrays of shape S;  out: S with n inserted at ``axis``
    """
    if not isinstance(x, list | tuple) or not x:
        raise fail("x", "a non-empty list of arrays", type(x).__name__)
    arrays = _arrays(*x)
    xp = get_array_module(*arrays)
    out = xp.stack(arrays, axis=axis)
    ax = axis % out.ndim
    return record(
        out, tuple(x), lambda g: tuple(xp.take(g, i, axis=ax) for i in range(len(x)))
    )


def broadcast_to(x: Any, shape: Any) -> Array:
    """``x`` repeated to ``shape`` by NumPy's broadcasting rule."""
    (a,) = _arrays(x)
    out = get_array_module(a).broadcast_to(a, tuple(shape)).copy()
    return record(out, (x,), lambda g: (unbroadcast(g, a.shape),))


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
        np.absolute: abs,
        np.log1p: log1p,
        np.maximum: maximum,
        np.minimum: minimum,
    }
)
METHOD_OPS.update(
    {
        "sum": sum,
        "mean": mean,
        "max": max,
        "min": min,
        "var": var,
        "std": std,
        "clip": clip,
        "reshape": _method_reshape,
        "transpose": _method_transpose,
        "T": transpose,
        "__getitem__": take_slice,
    }
)

__all__ = [
    "abs",
    "add",
    "broadcast_to",
    "clip",
    "concatenate",
    "divide",
    "exp",
    "expand_dims",
    "log",
    "log1p",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "norm",
    "power",
    "reshape",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "take_slice",
    "transpose",
    "var",
    "where",
]
