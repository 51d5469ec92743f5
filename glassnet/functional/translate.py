"""Image translation by a per-sample shift: the kernel of ``RandomTranslation``.

Output pixel (i, j) of sample n reads the input at (i - dy[n], j - dx[n]): a
positive shift moves the content down and to the right, as in Keras. A
fractional shift interpolates between the four pixels around that point
(``"bilinear"``) or takes the nearest one (``"nearest"``). Pixels read from
outside the image follow ``fill_mode``, one index axis at a time (Keras' modes,
named after ``scipy.ndimage``'s):

- ``"reflect"``: d c b a | a b c d | d c b a (mirrored about the edge);
- ``"wrap"``: a b c d | a b c d | a b c d (periodic);
- ``"nearest"``: a a a a | a b c d | d d d d (the edge pixel repeated);
- ``"constant"``: k k k k | a b c d | k k k k (``fill_value``; for bilinear
  interpolation each outside neighbour counts as k).

The shift is the same for every pixel of a sample, so the output is a weighted
sum of at most four gathers of shifted index grids ("taps"), and the backward
pass scatters the gradient back through the same taps.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import check_array, check_choice, check_number, fail
from glassnet.backend import Array, Cache, get_array_module

__all__ = ["FILL_MODES", "INTERPOLATIONS", "translate_backward", "translate_forward"]

FILL_MODES = ("reflect", "wrap", "nearest", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


class _Tap(NamedTuple):
    rows: Array  # (N, H) source row of every output row, inside the image
    cols: Array  # (N, W) source column of every output column
    weight: Array  # (N, 1, 1, 1) the interpolation weight of this tap
    inside: Array | None  # (N, H, W, 1) 1.0 where the source is real (constant mode)


class _TranslateCache(NamedTuple):
    x_shape: tuple[int, ...]
    taps: list[_Tap]


def _source(n: int, start: Array, mode: str, xp: Any) -> tuple[Array, Array | None]:
    """Source indices ``start[:, None] + arange(n)`` mapped into [0, n) by ``mode``.

    Returns the indices (N, n) and, in constant mode, a float mask (N, n) of the
    ones that were inside already (the rest read ``fill_value``).
    """
    idx = start[:, None] + xp.arange(n)[None, :]
    if mode == "constant":
        inside = (idx >= 0) & (idx < n)
        return xp.clip(idx, 0, n - 1), inside
    if mode == "nearest":
        return xp.clip(idx, 0, n - 1), None
    if mode == "wrap":
        return idx % n, None
    folded = idx % (2 * n)  # reflect: period 2n, the second half mirrored
    return xp.where(folded < n, folded, 2 * n - 1 - folded), None


def translate_forward(
    x: Array,
    dy: Array,
    dx: Array,
    fill_mode: str = "reflect",
    interpolation: str = "bilinear",
    fill_value: float = 0.0,
) -> tuple[Array, Cache]:
    """Shift each image by (dy[n], dx[n]) pixels, channels last.

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
    N, H, W, _ = x.shape
    xp = get_array_module(x)
    shifts = []
    for name, s in (("dy", dy), ("dx", dx)):
        s = xp.asarray(s, dtype=np.float64)
        if s.shape != (N,) or not bool(xp.isfinite(s).all()):
            raise fail(name, f"{N} finite shifts, one per sample", f"shape {s.shape}")
        shifts.append(s)
    check_choice("fill_mode", fill_mode, FILL_MODES)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    fill_value = check_number("fill_value", fill_value)
    # Output (i, j) reads (i - dy, j - dx): start at -dy, -dx for i = j = 0.
    start_y, start_x = -shifts[0], -shifts[1]
    if interpolation == "nearest":
        # Round half away from zero, as C's round(): +-0.5 picks a side.
        ys = [(xp.sign(start_y) * xp.floor(xp.abs(start_y) + 0.5), xp.ones(N))]
        xs = [(xp.sign(start_x) * xp.floor(xp.abs(start_x) + 0.5), xp.ones(N))]
    else:
        fy, fx = xp.floor(start_y), xp.floor(start_x)
        ay, ax = start_y - fy, start_x - fx  # weight of the second neighbour
        ys, xs = [(fy, 1.0 - ay), (fy + 1, ay)], [(fx, 1.0 - ax), (fx + 1, ax)]
    taps, out = [], xp.zeros_like(x)
    for y0, wy in ys:
        rows, in_y = _source(H, y0.astype(np.int64), fill_mode, xp)
        for x0, wx in xs:
            cols, in_x = _source(W, x0.astype(np.int64), fill_mode, xp)
            weight = (wy * wx).astype(x.dtype).reshape(N, 1, 1, 1)
            inside = None
            if fill_mode == "constant":
                inside = (in_y[:, :, None] & in_x[:, None, :])[..., None]
                inside = inside.astype(x.dtype)
            tap = _Tap(rows, cols, weight, inside)
            read = x[xp.arange(N)[:, None, None], rows[:, :, None], cols[:, None, :]]
            if inside is not None:
                read = read * inside + fill_value * (1.0 - inside)
            out += weight * read
            taps.append(tap)
    return out, _TranslateCache(x.shape, taps)


def translate_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`translate_forward`: the gradient w.r.t. x.

    Each tap gathered ``x[n, rows, cols]``; its adjoint adds the weighted
    gradient back at those indices (several outputs may read one input pixel
    near the edges, so the adds accumulate).

    Shapes:
        dout: (N, H, W, C);  dx: like dout

    Raises:
        ValueError: when cache does not come from translate_forward or dout has
            the wrong shape.
    """
    if not isinstance(cache, _TranslateCache):
        raise fail("cache", "the cache of translate_forward", type(cache).__name__)
    check_array("dout", dout, shape=cache.x_shape)
    xp = get_array_module(dout)
    N = cache.x_shape[0]
    dx = xp.zeros(cache.x_shape, dtype=dout.dtype)
    n = xp.arange(N)[:, None, None]
    for tap in cache.taps:
        g = tap.weight * dout
        if tap.inside is not None:
            g = g * tap.inside
        xp.add.at(dx, (n, tap.rows[:, :, None], tap.cols[:, None, :]), g)
    return dx
