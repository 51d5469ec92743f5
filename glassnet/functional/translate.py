"""Image sampling through a per-sample affine (or projective) transform: the
kernel of ``RandomTranslation``, ``RandomRotation`` and ``RandomZoom``.

Keras' convention (``keras.ops.image.affine_transform``): each sample's
transform is 8 numbers ``[a0, a1, a2, b0, b1, b2, c0, c1]`` that map an *output*
pixel, column x and row y (pixel centres at integers, rows growing downwards),
to the input point it reads::

    k = c0 * x + c1 * y + 1
    x_in = (a0 * x + a1 * y + a2) / k
    y_in = (b0 * x + b1 * y + b2) / k

``"bilinear"`` interpolation weighs the four pixels around (y_in, x_in);
``"nearest"`` takes the nearest one, a tie (exactly half a pixel) broken away
from the output pixel, so that a shift of +-0.5 moves the whole image by one
pixel. Pixels read from outside the image follow ``fill_mode``, one index axis
at a time, as Keras' NumPy backend pads the image before interpolating (the
modes are named after ``scipy.ndimage``'s):

- ``"reflect"``: d c b a | a b c d | d c b a (mirrored about the edge);
- ``"wrap"``: a b c d | a b c d | a b c d (periodic);
- ``"nearest"``: a a a a | a b c d | d d d d (the edge pixel repeated);
- ``"constant"``: k k k k | a b c d | k k k k (``fill_value``; for bilinear
  interpolation each outside neighbour counts as k).

The output is linear in x: a sum of (at most) four weighted gathers ("taps").
The backward pass is its transpose, a scatter-add of ``dout`` through the same
taps, which backward recomputes from the cached source coordinates.
:func:`affine_transform_forward_naive` is the loop twin, pixel by pixel.
:func:`translate_forward` is the special case ``x_in = x - dx, y_in = y - dy``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import check_array, check_choice, check_number, fail
from glassnet.backend import Array, Cache, get_array_module

__all__ = [
    "FILL_MODES",
    "INTERPOLATIONS",
    "affine_transform_backward",
    "affine_transform_backward_naive",
    "affine_transform_forward",
    "affine_transform_forward_naive",
    "translate_backward",
    "translate_forward",
]

FILL_MODES = ("reflect", "wrap", "nearest", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


class _AffineCache(NamedTuple):
    x_shape: tuple[int, ...]
    rows: Array  # (N, H, W) the source row of every output pixel, float64
    cols: Array  # (N, H, W) its source column
    fill_mode: str
    interpolation: str


class _NaiveCache(NamedTuple):
    x_shape: tuple[int, ...]
    taps: list[tuple[int, int, int, int, int, float]]  # n, i, j, row, col, weight


def _check_args(
    x: Array, transform: Any, fill_mode: str, interpolation: str, fill_value: Any
) -> tuple[Array, float]:
    """Validate the arguments; return the transform as (N, 8) float64."""
    check_array("x", x, ndim=4, floating=True)
    xp = get_array_module(x)
    t = xp.asarray(transform, dtype=np.float64)
    N = x.shape[0]
    if t.shape != (N, 8) or not bool(xp.isfinite(t).all()):
        raise fail("transform", f"({N}, 8) finite numbers, one row per sample", t.shape)
    check_choice("fill_mode", fill_mode, FILL_MODES)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    return t, check_number("fill_value", fill_value)


def _coordinates(t: Array, H: int, W: int, xp: Any) -> tuple[Array, Array]:
    """The source (rows, cols), each (N, H, W), of every output pixel."""
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, k, None, None] for k in range(8))
    y = xp.arange(H, dtype=np.float64)[None, :, None]
    x = xp.arange(W, dtype=np.float64)[None, None, :]
    k = c0 * x + c1 * y + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cols, rows = (a0 * x + a1 * y + a2) / k, (b0 * x + b1 * y + b2) / k
    if not bool(xp.isfinite(rows).all() & xp.isfinite(cols).all()):
        raise fail("transform", "finite source coordinates (k != 0)", "k = 0")
    return rows, cols


def _fold(idx: Array, n: int, mode: str, xp: Any) -> tuple[Array, Array | None]:
    """Integer indices mapped into [0, n) by ``mode``; in constant mode also a
    mask of the ones that were inside already (the rest read ``fill_value``)."""
    if mode == "constant":
        return xp.clip(idx, 0, n - 1), (idx >= 0) & (idx < n)
    if mode == "nearest":
        return xp.clip(idx, 0, n - 1), None
    if mode == "wrap":
        return idx % n, None
    folded = idx % (2 * n)  # reflect: period 2n, the second half mirrored
    return xp.where(folded < n, folded, 2 * n - 1 - folded), None


def _round_from(p: Any, coord: Any, xp: Any) -> Any:
    """``coord`` rounded to an integer, a tie broken away from ``p``."""
    d = coord - p
    return p + xp.sign(d) * xp.floor(xp.abs(d) + 0.5)


def _axis_taps(coord: Array, p: Array, interpolation: str, xp: Any) -> list:
    """(index, weight) pairs along one axis: 1 for nearest, 2 for bilinear."""
    if interpolation == "nearest":
        return [(_round_from(p, coord, xp), xp.ones_like(coord))]
    lo = xp.floor(coord)
    a = coord - lo  # the weight of the second neighbour
    return [(lo, 1.0 - a), (lo + 1.0, a)]


def _taps(cache: _AffineCache, xp: Any) -> Iterator[tuple[Array, Array]]:
    """Each tap's flat index into x.reshape(N * H * W, C), and its weight, both
    (N, H, W); in constant mode a weight is 0 where its pixel is outside."""
    N, H, W, _ = cache.x_shape
    n = xp.arange(N)[:, None, None]
    y = xp.arange(H, dtype=np.float64)[None, :, None]
    x = xp.arange(W, dtype=np.float64)[None, None, :]
    mode, how = cache.fill_mode, cache.interpolation
    row_taps = [
        (*_fold(r.astype(np.int64), H, mode, xp), w)
        for r, w in _axis_taps(cache.rows, y, how, xp)
    ]
    col_taps = [
        (*_fold(c.astype(np.int64), W, mode, xp), w)
        for c, w in _axis_taps(cache.cols, x, how, xp)
    ]
    for rows, in_r, wr in row_taps:
        base = (n * H + rows) * W
        for cols, in_c, wc in col_taps:
            weight = wr * wc
            if in_r is not None and in_c is not None:
                weight = weight * (in_r & in_c)
            yield base + cols, weight


def affine_transform_forward(
    x: Array,
    transform: Array,
    fill_mode: str = "constant",
    interpolation: str = "bilinear",
    fill_value: float = 0.0,
) -> tuple[Array, Cache]:
    """Sample each image at the points its transform maps the output grid to.

    Shapes:
        x: (N, H, W, C);  transform: (N, 8);  out: like x

    Args:
        x: the images, floating point, channels last.
        transform: each sample's ``[a0, a1, a2, b0, b1, b2, c0, c1]``, from
            output pixel (x, y) to input point (see the module docstring).
        fill_mode: ``"reflect"``, ``"wrap"``, ``"nearest"`` or ``"constant"``.
            Defaults to `"constant"` (as ``keras.ops.image.affine_transform``).
        interpolation: ``"bilinear"`` or ``"nearest"``. Defaults to
            `"bilinear"`.
        fill_value: the value outside the image in constant mode. Defaults to
            `0.0`.

    Returns:
        out, and a cache for :func:`affine_transform_backward`.

    Raises:
        ValueError: for x not of rank 4, a transform not of shape (N, 8) or not
            finite (or whose projective part divides by 0), or an unknown mode.

    Example:
        >>> import numpy as np
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> shift_right = np.array([[1.0, 0, -1, 0, 1, 0, 0, 0]])
        >>> affine_transform_forward(x, shift_right)[0].ravel().tolist()
        [0.0, 0.0, 1.0, 2.0]
    """
    t, fill_value = _check_args(x, transform, fill_mode, interpolation, fill_value)
    N, H, W, C = x.shape
    xp = get_array_module(x)
    cache = _AffineCache(x.shape, *_coordinates(t, H, W, xp), fill_mode, interpolation)
    flat = x.reshape(N * H * W, C)
    out = xp.zeros_like(x)
    # The weights of a pixel sum to 1; what the outside taps lost reads k.
    missing = xp.ones((N, H, W)) if fill_mode == "constant" and fill_value else None
    for idx, weight in _taps(cache, xp):
        out += weight.astype(x.dtype)[..., None] * flat[idx]
        if missing is not None:
            missing -= weight
    if missing is not None:
        out += (fill_value * missing).astype(x.dtype)[..., None]
    return out, cache


def affine_transform_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`affine_transform_forward`: the gradient w.r.t. x.

    Each tap gathered ``x`` at its indices; its adjoint adds the weighted
    gradient back there (several outputs may read one input pixel, so the adds
    accumulate). The fill value is a constant and gets no gradient.

    Shapes:
        dout: (N, H, W, C);  dx: like dout

    Raises:
        ValueError: when cache does not come from affine_transform_forward (or
            translate_forward) or dout has the wrong shape.
    """
    if not isinstance(cache, _AffineCache):
        raise fail(
            "cache", "the cache of affine_transform_forward", type(cache).__name__
        )
    check_array("dout", dout, shape=cache.x_shape)
    xp = get_array_module(dout)
    N, H, W, C = cache.x_shape
    dx = xp.zeros((N * H * W, C), dtype=dout.dtype)
    for idx, weight in _taps(cache, xp):
        g = weight.astype(dout.dtype)[..., None] * dout
        xp.add.at(dx, idx.reshape(-1), g.reshape(-1, C))
    return dx.reshape(cache.x_shape)


def _fold_one(i: int, n: int, mode: str) -> int | None:
    """One index mapped into [0, n) by ``mode``; None if it reads fill_value."""
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "nearest":
        return min(max(i, 0), n - 1)
    if mode == "wrap":
        return i % n
    i = i % (2 * n)
    return i if i < n else 2 * n - 1 - i


def affine_transform_forward_naive(
    x: Array,
    transform: Array,
    fill_mode: str = "constant",
    interpolation: str = "bilinear",
    fill_value: float = 0.0,
) -> tuple[Array, Cache]:
    """:func:`affine_transform_forward` by loops, one output pixel at a time.

    The readable specification: same arguments, shapes and output; the cache
    (the list of taps) is for :func:`affine_transform_backward_naive` only.
    """
    t, fill_value = _check_args(x, transform, fill_mode, interpolation, fill_value)
    N, H, W, _ = x.shape
    t = np.asarray(t).tolist()
    out = np.zeros_like(x)
    taps = []
    for n in range(N):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[n]
        for i in range(H):
            for j in range(W):
                k = c0 * j + c1 * i + 1.0
                r, c = (b0 * j + b1 * i + b2) / k, (a0 * j + a1 * i + a2) / k
                if interpolation == "nearest":
                    near = [(i + _round_away(r - i), j + _round_away(c - j), 1.0)]
                else:
                    r0, c0_ = math.floor(r), math.floor(c)
                    ar, ac = r - r0, c - c0_
                    near = [
                        (r0, c0_, (1 - ar) * (1 - ac)),
                        (r0 + 1, c0_, ar * (1 - ac)),
                        (r0, c0_ + 1, (1 - ar) * ac),
                        (r0 + 1, c0_ + 1, ar * ac),
                    ]
                for rr, cc, w in near:
                    row, col = _fold_one(rr, H, fill_mode), _fold_one(cc, W, fill_mode)
                    if row is None or col is None:
                        out[n, i, j] += w * fill_value
                    else:
                        out[n, i, j] += w * x[n, row, col]
                        taps.append((n, i, j, row, col, w))
    return out, _NaiveCache(x.shape, taps)


def _round_away(d: float) -> int:
    """Round half away from zero, as C's round()."""
    return int(math.copysign(math.floor(abs(d) + 0.5), d))


def affine_transform_backward_naive(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`affine_transform_forward_naive`, by the same taps:
    each output pixel sends its weighted gradient to the pixels it read."""
    if not isinstance(cache, _NaiveCache):
        raise fail(
            "cache", "the cache of affine_transform_forward_naive", type(cache).__name__
        )
    check_array("dout", dout, shape=cache.x_shape)
    dx = np.zeros_like(dout)
    for n, i, j, row, col, w in cache.taps:
        dx[n, row, col] += w * dout[n, i, j]
    return dx


def translate_forward(
    x: Array,
    dy: Array,
    dx: Array,
    fill_mode: str = "reflect",
    interpolation: str = "bilinear",
    fill_value: float = 0.0,
) -> tuple[Array, Cache]:
    """Shift each image by (dy[n], dx[n]) pixels, channels last.

    Output pixel (i, j) of sample n reads the input at (i - dy[n], j - dx[n]):
    a positive shift moves the content down and to the right, as in Keras. It
    is :func:`affine_transform_forward` with the transform
    ``[1, 0, -dx, 0, 1, -dy, 0, 0]``.

    Shapes:
        x: (N, H, W, C);  dy, dx: (N,);  out: like x

    Args:
        x: the images, floating point.
        dy: each sample's downward shift in pixels (may be fractional).
        dx: each sample's rightward shift in pixels.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"nearest"`` or ``"constant"``
            (see the module docstring). Defaults to `"reflect"`.
        interpolation: ``"bilinear"`` or ``"nearest"``. Defaults to
            `"bilinear"`.
        fill_value: the value outside the image in constant mode. Defaults to
            `0.0`.

    Returns:
        out, and a cache for :func:`translate_backward`.

    Raises:
        ValueError: for x not of rank 4, shifts not of shape (N,) or not finite,
            or an unknown mode.
    """
    check_array("x", x, ndim=4, floating=True)
    N = x.shape[0]
    xp = get_array_module(x)
    shifts = []
    for name, s in (("dy", dy), ("dx", dx)):
        s = xp.asarray(s, dtype=np.float64)
        if s.shape != (N,) or not bool(xp.isfinite(s).all()):
            raise fail(name, f"{N} finite shifts, one per sample", f"shape {s.shape}")
        shifts.append(s)
    one, zero = xp.ones(N), xp.zeros(N)
    transform = xp.stack(
        [one, zero, -shifts[1], zero, one, -shifts[0], zero, zero], axis=1
    )
    return affine_transform_forward(x, transform, fill_mode, interpolation, fill_value)


def translate_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`translate_forward`: the gradient w.r.t. x.

    Shapes:
        dout: (N, H, W, C);  dx: like dout

    Raises:
        ValueError: when cache does not come from translate_forward or dout has
            the wrong shape.
    """
    return affine_transform_backward(dout, cache)
