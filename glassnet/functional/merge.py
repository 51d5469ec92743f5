"""Merge kernels: element-wise merges, concatenation and batch dot products.

Each ``<op>_forward(xs, ...)`` takes a list of inputs, all with the batch axis
first, and returns ``(out, cache)``; ``<op>_backward(dout, cache)`` returns a list
with one gradient per input, shaped and typed like that input and never a view of
``dout`` (a graph sums the gradients of a fanned-out tensor, possibly in place).

The element-wise merges follow Keras 3's broadcasting rule: the batch sizes must be
equal; an input of lower rank gets axes of size 1 inserted after its batch axis
(Keras' ``expand_dims(x, axis=1)``); then each per-sample axis must have equal
sizes, or size 1, which is stretched. Anything else is refused with a
``ValueError`` naming the inputs and their shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet._internal.checks import check_array, fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._sums import unbroadcast

__all__ = [
    "add_backward",
    "add_forward",
    "average_backward",
    "average_forward",
    "concatenate_backward",
    "concatenate_forward",
    "dot_backward",
    "dot_forward",
    "maximum_backward",
    "maximum_forward",
    "minimum_backward",
    "minimum_forward",
    "multiply_backward",
    "multiply_forward",
    "subtract_backward",
    "subtract_forward",
]

# Keras' backend.epsilon(): the smallest norm ``Dot(normalize=True)`` divides by.
DOT_NORM_EPSILON = 1e-7


# -- shared checks and broadcasting --


def _check_inputs(
    op: str,
    xs: Any,
    *,
    count: int | None = None,
    min_ndim: int = 1,
    same_batch: bool = True,
) -> list[Array]:
    """Check that ``xs`` is a list of floating arrays with equal batch sizes."""
    if not isinstance(xs, list | tuple):
        raise fail(f"{op}: inputs", "a list of arrays", type(xs).__name__)
    if count is not None and len(xs) != count:
        raise fail(f"{op}: inputs", f"exactly {count} arrays", f"{len(xs)} arrays")
    if not xs:
        raise fail(f"{op}: inputs", "a list of at least 1 array", "an empty list")
    for i, x in enumerate(xs):
        check_array(f"{op}: inputs[{i}]", x, min_ndim=min_ndim, floating=True)
    for i, x in enumerate(xs[1:], start=1):
        if same_batch and x.shape[0] != xs[0].shape[0]:
            raise fail(
                f"{op}: inputs[{i}]",
                f"the batch size {xs[0].shape[0]} of inputs[0] (shape "
                f"{tuple(xs[0].shape)}); merges never broadcast the batch axis",
                f"shape {tuple(x.shape)}",
            )
    return list(xs)


def _expand(x: Array, ndim: int) -> Array:
    """Keras' rank rule: insert size-1 axes after the batch axis up to ``ndim``."""
    return x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:])


def _broadcast_inputs(
    op: str, xs: Sequence[Array]
) -> tuple[list[Array], tuple[int, ...]]:
    """The inputs expanded to one rank, and the shape they broadcast to."""
    ndim = max(x.ndim for x in xs)
    expanded = [_expand(x, ndim) for x in xs]
    out_shape = list(expanded[0].shape)
    for i, x in enumerate(expanded[1:], start=1):
        for axis, size in enumerate(x.shape):
            if size == out_shape[axis] or size == 1:
                continue
            if out_shape[axis] != 1:
                shapes = ", ".join(str(tuple(v.shape)) for v in xs[:i])
                raise fail(
                    f"{op}: inputs[{i}]",
                    f"a shape that broadcasts with the inputs before it ({shapes}):"
                    " per-sample sizes equal or 1, aligned from the last axis",
                    f"shape {tuple(xs[i].shape)}",
                )
            out_shape[axis] = size
    return expanded, tuple(out_shape)


def _unbroadcast(g: Array, x_shape: tuple[int, ...], dtype: Any) -> Array:
    """Sum ``g`` over the axes an input of ``x_shape`` was stretched along.

    The result is a fresh array of ``x_shape`` and ``dtype``, never a view of ``g``.
    """
    expanded = x_shape[:1] + (1,) * (g.ndim - len(x_shape)) + x_shape[1:]
    summed = unbroadcast(g, expanded)  # Keras' alignment, then NumPy's rule
    copy = bool(get_array_module(g).may_share_memory(summed, g))
    return summed.reshape(x_shape).astype(dtype, copy=copy)


def _check_dout(dout: Array, shape: tuple[int, ...]) -> None:
    check_array("dout", dout, shape=shape, floating=True)


def _shapes_and_dtypes(xs: Sequence[Array]) -> list[tuple[tuple[int, ...], Any]]:
    return [(tuple(x.shape), x.dtype) for x in xs]


# -- sums: add, subtract, average --


def add_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise sum of the inputs: ``out = xs[0] + xs[1] + ...``.

    Shapes:
        xs: a list of at least 1 array (N, ...), broadcasting by Keras' rule (see
            the module doc); out: (N, ...) the broadcast shape

    Args:
        xs: the inputs.

    Returns:
        out, and a cache that only :func:`add_backward` should open.

    Raises:
        ValueError: when ``xs`` is not a non-empty list of floating arrays, or
            the inputs' shapes do not broadcast (naming the input and the shapes).
    """
    xs = _check_inputs("add", xs)
    expanded, _ = _broadcast_inputs("add", xs)
    out = expanded[0]
    for x in expanded[1:]:
        out = out + x
    if len(xs) == 1:
        out = out.copy()  # a merge returns a new array, never its input
    return out, (_shapes_and_dtypes(xs), tuple(out.shape))


def add_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`add_forward`: each input receives ``dout``, summed
    over the axes it was broadcast along.

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, one gradient per input.
    """
    inputs, out_shape = cache
    _check_dout(dout, out_shape)
    return [_unbroadcast(dout, shape, dtype) for shape, dtype in inputs]


def subtract_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise difference of exactly two inputs: ``out = xs[0] - xs[1]``.

    Shapes:
        xs: [a, b], both (N, ...), broadcasting by Keras' rule; out: (N, ...)

    Returns:
        out, and a cache that only :func:`subtract_backward` should open.

    Raises:
        ValueError: when ``xs`` is not a list of exactly 2 floating arrays, or
            their shapes do not broadcast.
    """
    xs = _check_inputs("subtract", xs, count=2)
    (a, b), _ = _broadcast_inputs("subtract", xs)
    out = a - b
    return out, (_shapes_and_dtypes(xs), tuple(out.shape))


def subtract_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`subtract_forward`: ``[dout, -dout]``, unbroadcast.

    Shapes:
        dout: like out;  dxs: [da, db] shaped like the inputs

    Returns:
        ``[da, db]``.
    """
    (a, b), out_shape = cache
    _check_dout(dout, out_shape)
    return [_unbroadcast(dout, *a), _unbroadcast(-dout, *b)]


def average_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise mean of the inputs: ``out = (xs[0] + ... + xs[n-1]) / n``.

    Shapes:
        xs: a list of at least 1 array (N, ...), broadcasting by Keras' rule;
        out: (N, ...) the broadcast shape

    Returns:
        out, and a cache that only :func:`average_backward` should open.

    Raises:
        ValueError: as :func:`add_forward`.
    """
    xs = _check_inputs("average", xs)
    out, (inputs, out_shape) = add_forward(xs)
    out /= len(xs)  # in place: out is add_forward's own new array
    return out, (inputs, out_shape)


def average_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`average_forward`: each input receives ``dout / n``.

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, one gradient per input.
    """
    inputs, out_shape = cache
    _check_dout(dout, out_shape)
    return add_backward(dout / len(inputs), cache)


# -- products --


def multiply_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise product of the inputs: ``out = xs[0] * xs[1] * ...``.

    Shapes:
        xs: a list of at least 1 array (N, ...), broadcasting by Keras' rule;
        out: (N, ...) the broadcast shape

    Returns:
        out, and a cache that only :func:`multiply_backward` should open.

    Raises:
        ValueError: as :func:`add_forward`.
    """
    xs = _check_inputs("multiply", xs)
    expanded, _ = _broadcast_inputs("multiply", xs)
    out = expanded[0]
    for x in expanded[1:]:
        out = out * x
    if len(xs) == 1:
        out = out.copy()
    return out, (expanded, _shapes_and_dtypes(xs), tuple(out.shape))


def multiply_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`multiply_forward`.

    ``dxs[i] = dout * prod(xs[j] for j != i)``, unbroadcast. The products of the
    others come from prefix and suffix products, not ``out / xs[i]``, which would
    divide by zero wherever an input is 0.

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, one gradient per input.
    """
    expanded, inputs, out_shape = cache
    _check_dout(dout, out_shape)
    n = len(expanded)
    before: list[Any] = [None] * n  # before[i] = xs[0] * ... * xs[i-1]
    after: list[Any] = [None] * n  # after[i] = xs[i+1] * ... * xs[n-1]
    for i in range(1, n):
        prev = before[i - 1]
        before[i] = expanded[i - 1] if prev is None else prev * expanded[i - 1]
    for i in range(n - 2, -1, -1):
        nxt = after[i + 1]
        after[i] = expanded[i + 1] if nxt is None else nxt * expanded[i + 1]
    dxs = []
    for i, (shape, dtype) in enumerate(inputs):
        g = dout
        for other in (before[i], after[i]):
            if other is not None:
                g = g * other
        dxs.append(_unbroadcast(g, shape, dtype))
    return dxs


# -- extrema: maximum, minimum --


def _extremum_forward(
    op: str, xs: Sequence[Array], *, largest: bool
) -> tuple[Array, Cache]:
    xs = _check_inputs(op, xs)
    expanded, out_shape = _broadcast_inputs(op, xs)
    xp = get_array_module(*xs)
    pick, beats = (xp.maximum, xp.greater) if largest else (xp.minimum, xp.less)
    out = expanded[0]
    # winner = the first input holding the extremum: only strict wins move it.
    winner = xp.zeros(out_shape, dtype=np.min_scalar_type(len(xs) - 1))
    for i, x in enumerate(expanded[1:], start=1):
        winner[xp.broadcast_to(beats(x, out), out_shape)] = i
        out = pick(out, x)
    if len(xs) == 1:
        out = out.copy()
    return out, (winner, _shapes_and_dtypes(xs))


def _extremum_backward(dout: Array, cache: Cache) -> list[Array]:
    winner, inputs = cache
    _check_dout(dout, tuple(winner.shape))
    xp = get_array_module(dout)
    zero = xp.zeros((), dout.dtype)
    return [
        _unbroadcast(xp.where(winner == i, dout, zero), shape, dtype)
        for i, (shape, dtype) in enumerate(inputs)
    ]


def maximum_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise maximum of the inputs.

    On ties the gradient goes to the first input holding the maximum (the lowest
    index), not shared: the subgradient a max-pool picks in the same way.

    Shapes:
        xs: a list of at least 1 array (N, ...), broadcasting by Keras' rule;
        out: (N, ...) the broadcast shape

    Returns:
        out, and a cache that only :func:`maximum_backward` should open.

    Raises:
        ValueError: as :func:`add_forward`.
    """
    return _extremum_forward("maximum", xs, largest=True)


def maximum_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`maximum_forward`: ``dout`` flows only to the first
    input holding the maximum at each position (unbroadcast); the others get 0.

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, one gradient per input.
    """
    return _extremum_backward(dout, cache)


def minimum_forward(xs: Sequence[Array]) -> tuple[Array, Cache]:
    """Element-wise minimum of the inputs; on ties the gradient goes to the first
    input holding the minimum, as in :func:`maximum_forward`.

    Shapes:
        xs: a list of at least 1 array (N, ...), broadcasting by Keras' rule;
        out: (N, ...) the broadcast shape

    Returns:
        out, and a cache that only :func:`minimum_backward` should open.

    Raises:
        ValueError: as :func:`add_forward`.
    """
    return _extremum_forward("minimum", xs, largest=False)


def minimum_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`minimum_forward` (first minimal input on ties).

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, one gradient per input.
    """
    return _extremum_backward(dout, cache)


# -- concatenation --


def concatenate_forward(xs: Sequence[Array], axis: int = -1) -> tuple[Array, Cache]:
    """Join the inputs along ``axis``, as ``keras.layers.Concatenate``.

    ``axis`` counts the batch axis (``axis=1`` is the first per-sample axis;
    ``-1``, the last, is channels in channels_last). No broadcasting: every other
    axis must have equal sizes in all inputs.

    Shapes:
        xs: a list of at least 1 array of one rank R, (N, ..., C_i, ...) with C_i
            at ``axis``; out: (N, ..., C_0 + C_1 + ..., ...)

    Args:
        xs: the inputs.
        axis: the axis to join along, in ``[-R, R)``. Defaults to `-1`.

    Returns:
        out, and a cache that only :func:`concatenate_backward` should open.

    Raises:
        ValueError: when ``xs`` is not a non-empty list of floating arrays, the
            ranks differ, ``axis`` is out of range, or another axis differs in
            size (naming the input and the shapes).
    """
    # The batch sizes may differ only when joining along the batch axis.
    xs = _check_inputs("concatenate", xs, same_batch=False)
    ndim = xs[0].ndim
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise fail("concatenate: axis", "an integer", repr(axis))
    if not -ndim <= axis < ndim:
        raise fail(
            "concatenate: axis",
            f"an axis in [{-ndim}, {ndim}) for inputs of rank {ndim} "
            f"(inputs[0] shape {tuple(xs[0].shape)})",
            repr(axis),
        )
    axis = int(axis) % ndim
    first = tuple(xs[0].shape)
    for i, x in enumerate(xs[1:], start=1):
        shape = tuple(x.shape)
        if len(shape) != ndim or any(
            shape[k] != first[k] for k in range(ndim) if k != axis
        ):
            raise fail(
                f"concatenate: inputs[{i}]",
                f"the shape of inputs[0] {first} except on axis {axis}",
                f"shape {shape}",
            )
    xp = get_array_module(*xs)
    out = xp.concatenate(xs, axis=axis)
    sizes = [x.shape[axis] for x in xs]
    return out, (axis, sizes, [x.dtype for x in xs], tuple(out.shape))


def concatenate_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`concatenate_forward`: ``dout`` cut back into the
    inputs' pieces along the concatenation axis.

    Shapes:
        dout: like out;  dxs: a list, dxs[i] shaped like xs[i]

    Returns:
        ``[dx0, dx1, ...]``, fresh arrays (not views of ``dout``).
    """
    axis, sizes, dtypes, out_shape = cache
    _check_dout(dout, out_shape)
    dxs, start = [], 0
    index = [slice(None)] * dout.ndim
    for size, dtype in zip(sizes, dtypes, strict=True):
        index[axis] = slice(start, start + size)
        dxs.append(dout[tuple(index)].astype(dtype, copy=True))
        start += size
    return dxs


# -- batch dot product --


def _dot_axes(axes: Any, x: Array, y: Array) -> tuple[int, int]:
    """Keras' ``Dot`` axes: one int for both inputs or a pair, negatives counted
    from each input's own last axis; the batch axis 0 is refused."""
    pair = (axes, axes) if isinstance(axes, int | np.integer) else axes
    if (
        isinstance(axes, bool)
        or not isinstance(pair, list | tuple)
        or len(pair) != 2
        or not all(
            isinstance(a, int | np.integer) and not isinstance(a, bool) for a in pair
        )
    ):
        raise fail("dot: axes", "an integer or a pair of integers", repr(axes))
    out = []
    for name, a, v in (("inputs[0]", pair[0], x), ("inputs[1]", pair[1], y)):
        if not -v.ndim <= a < v.ndim or a % v.ndim == 0:
            raise fail(
                "dot: axes",
                f"an axis of {name} (shape {tuple(v.shape)}) in 1..{v.ndim - 1} "
                f"or -{v.ndim - 1}..-1; the batch axis 0 cannot be reduced",
                repr(axes),
            )
        out.append(int(a) % v.ndim)
    return out[0], out[1]


def _l2_normalize(x: Array, axis: int) -> tuple[Array, Cache]:
    """``x / max(||x||, eps)`` along ``axis`` (Keras' ``ops.normalize``)."""
    xp = get_array_module(x)
    norm = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
    clipped = norm <= DOT_NORM_EPSILON  # there the divisor is the constant eps
    denom = xp.where(clipped, xp.asarray(DOT_NORM_EPSILON, dtype=x.dtype), norm)
    xn = x / denom
    return xn, (xn, denom, clipped, axis)


def _l2_normalize_backward(g: Array, cache: Cache) -> Array:
    """Gradient of ``xn = x / ||x||``: ``(g - xn * sum(g * xn)) / ||x||``, the
    component of ``g`` along ``xn`` removed, since scaling ``x`` leaves ``xn``
    unchanged; where the norm was clipped to eps, just ``g / eps``."""
    xn, denom, clipped, axis = cache
    xp = get_array_module(g)
    radial = xp.where(clipped, 0, (g * xn).sum(axis=axis, keepdims=True))
    return (g - xn * radial) / denom


def dot_forward(
    xs: Sequence[Array], axes: Any, normalize: bool = False
) -> tuple[Array, Cache]:
    """Batch dot products of two inputs over one axis each, as ``keras.layers.Dot``.

    For each sample ``n``, ``out[n, i..., j...] = sum_k x[n, ..., k, ...] *
    y[n, ..., k, ...]`` with ``k`` running along ``axes[0]`` of ``x`` and
    ``axes[1]`` of ``y``; ``i...`` are the other per-sample axes of ``x`` and
    ``j...`` those of ``y``, each in order. When both inputs are (N, D) the result
    is (N, 1), as in Keras. With ``normalize=True`` each input is first divided by
    its L2 norm along its axis (at least ``1e-7``, Keras' epsilon), so the
    output is the cosine similarity.

    Shapes:
        xs: [x, y] with x: (N, ..., K, ...) and y: (N, ..., K, ...), ranks >= 2;
        out: (N, *x's other per-sample axes, *y's), or (N, 1) for two (N, D)

    Args:
        xs: the two inputs.
        axes: one axis for both inputs, or a pair ``(axis of x, axis of y)``;
            negative values count from each input's end; never 0 (the batch).
        normalize: L2-normalise along the axes before the product.
            Defaults to `False`.

    Returns:
        out, and a cache that only :func:`dot_backward` should open.

    Raises:
        ValueError: when ``xs`` is not a list of 2 floating arrays of rank >= 2
            with one batch size, ``axes`` is malformed or names the batch axis or
            an axis out of range, or the two axes differ in size.
    """
    x, y = _check_inputs("dot", xs, count=2, min_ndim=2)
    if not isinstance(normalize, bool):
        raise fail("dot: normalize", "True or False", repr(normalize))
    ax, ay = _dot_axes(axes, x, y)
    if x.shape[ax] != y.shape[ay]:
        raise fail(
            "dot: inputs[1]",
            f"size {x.shape[ax]} on axis {ay} to match axis {ax} of inputs[0] "
            f"(shapes {tuple(x.shape)} and {tuple(y.shape)}, axes={axes!r})",
            f"size {y.shape[ay]}",
        )
    norms = None
    if normalize:
        (x, cx), (y, cy) = _l2_normalize(x, ax), _l2_normalize(y, ay)
        norms = (cx, cy)
    xp = get_array_module(x, y)
    N, K = x.shape[0], x.shape[ax]
    # (N, I, K) @ (N, K, J): one matrix product per sample.
    xm = xp.moveaxis(x, ax, -1)
    ym = xp.moveaxis(y, ay, 1)
    x_rest, y_rest = xm.shape[1:-1], ym.shape[2:]
    out = xm.reshape(N, -1, K) @ ym.reshape(N, K, -1)
    out_shape = (N, *x_rest, *y_rest) if x_rest or y_rest else (N, 1)
    cache = (xm, ym, (ax, ay), norms, [(v.shape, v.dtype) for v in xs], out_shape)
    return out.reshape(out_shape), cache


def dot_backward(dout: Array, cache: Cache) -> list[Array]:
    """Backward pass of :func:`dot_forward`.

    With ``X`` (N, I, K) and ``Y`` (N, K, J) the reshaped inputs and ``out = X @
    Y``: ``dX = dout @ Y^T`` and ``dY = X^T @ dout``, moved back to the inputs'
    axes, then through the normalisation when ``normalize=True``.

    Shapes:
        dout: like out;  dxs: [dx, dy] shaped like the inputs

    Returns:
        ``[dx, dy]``.
    """
    xm, ym, (ax, ay), norms, inputs, out_shape = cache
    _check_dout(dout, out_shape)
    xp = get_array_module(dout)
    N, K = xm.shape[0], xm.shape[-1]
    X, Y = xm.reshape(N, -1, K), ym.reshape(N, K, -1)
    g = dout.reshape(N, X.shape[1], Y.shape[2])
    dx = xp.moveaxis((g @ xp.swapaxes(Y, 1, 2)).reshape(xm.shape), -1, ax)
    dy = xp.moveaxis((xp.swapaxes(X, 1, 2) @ g).reshape(ym.shape), 1, ay)
    if norms is not None:
        dx = _l2_normalize_backward(dx, norms[0])
        dy = _l2_normalize_backward(dy, norms[1])
    (_, dtx), (_, dty) = inputs
    return [dx.astype(dtx, copy=False), dy.astype(dty, copy=False)]
