"""Max and average pooling, the loop version: the specification of ``pool_fast``.

``pool_param`` keys (cs231n):

- ``'pool_height'``, ``'pool_width'``: the window size. Required.
- ``'stride'``: an int or a pair ``(sh, sw)``. Required.
- ``'pad'``: an int, a pair ``(ph, pw)`` or ``((top, bottom), (left, right))``;
  each side smaller than the window. Defaults to `0`.

Padding follows TensorFlow's 'same' pooling: padded cells are not part of the
input at all. A window is clipped to the real cells it covers, so padding never
wins a max and an average divides by the number of real cells in the window.

Max pooling routes the gradient of each window to its *first* maximal cell in
row-major window order when several cells tie, so the gradient is never split or
doubled; the fast twin does the same.

Output sizes are floored: ``H_out = 1 + (H + pad_top + pad_bottom - HH) // stride``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._im2col import Window, pool_window

__all__ = [
    "avg_pool_backward_naive",
    "avg_pool_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
]


class _NaivePoolCache(NamedTuple):
    kind: str  # "max" or "avg"
    x: Array
    pool_param: dict[str, Any]
    win: Window


def _window(win: Window, hw: tuple[int, int], i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of x (unpadded) that output (i, j) covers."""
    (HH, WW), (sh, sw), ((top, _), (left, _)) = win.kernel, win.stride, win.pads
    h0, w0 = i * sh - top, j * sw - left
    return (
        slice(max(h0, 0), min(h0 + HH, hw[0])),
        slice(max(w0, 0), min(w0 + WW, hw[1])),
    )


def _windows(
    win: Window, x: Array
) -> Iterator[tuple[int, int, int, int, slice, slice]]:
    """Yield ``(n, c, i, j, rows, cols)`` for every output cell."""
    N, C, H, W = x.shape
    for n in range(N):
        for c in range(C):
            for i in range(win.out[0]):
                for j in range(win.out[1]):
                    yield (n, c, i, j, *_window(win, (H, W), i, j))


def _open(cache: Any, kind: str, dout: Any) -> tuple[Array, Window]:
    if not isinstance(cache, _NaivePoolCache) or cache.kind != kind:
        want = f"the cache of {kind}_pool_forward_naive"
        raise fail("cache", want, type(cache).__name__)
    want_shape = (*cache.x.shape[:2], *cache.win.out)
    if getattr(dout, "shape", None) != want_shape:
        got = getattr(dout, "shape", type(dout).__name__)
        raise fail("dout", f"shape {want_shape}", got)
    return cache.x, cache.win


def max_pool_forward_naive(x: Array, pool_param: dict[str, Any]) -> tuple[Array, Cache]:
    """Max pooling by explicit loops: each output is the max of its window.

    Shapes:
        x: (N, C, H, W)
        out: (N, C, H_out, W_out)

    Args:
        x: input.
        pool_param: ``'pool_height'``, ``'pool_width'``, ``'stride'`` and
            optionally ``'pad'`` (defaults to `0`); see the module docstring.

    Returns:
        out, and a cache that only :func:`max_pool_backward_naive` should open.

    Raises:
        ValueError: for x not of rank 4, missing or invalid pool_param entries,
            a pad side not smaller than the window, or an output smaller than 1.
    """
    win = pool_window(x, pool_param, channels_last=False)
    xp = get_array_module(x)
    out = xp.empty((*x.shape[:2], *win.out), dtype=x.dtype)
    for n, c, i, j, rows, cols in _windows(win, x):
        out[n, c, i, j] = xp.max(x[n, c, rows, cols])
    return out, _NaivePoolCache("max", x, pool_param, win)


def max_pool_backward_naive(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`max_pool_forward_naive`.

    The max is locally the identity on its winning cell and constant in the
    others, so each window passes its whole gradient to the first maximal cell.

    Shapes:
        dout: (N, C, H_out, W_out)
        dx: (N, C, H, W)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`max_pool_forward_naive`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from max_pool_forward_naive or dout
            has the wrong shape.
    """
    x, win = _open(cache, "max", dout)
    xp = get_array_module(x)
    dx = xp.zeros_like(x)
    for n, c, i, j, rows, cols in _windows(win, x):
        window = x[n, c, rows, cols]
        # argmax returns the first maximum in row-major order: the tie rule.
        p, q = xp.unravel_index(xp.argmax(window), window.shape)
        dx[n, c, rows.start + p, cols.start + q] += dout[n, c, i, j]
    return dx


def avg_pool_forward_naive(x: Array, pool_param: dict[str, Any]) -> tuple[Array, Cache]:
    """Average pooling by explicit loops: each output is the mean of its window.

    Only real cells count: a window clipped by padding averages fewer cells.

    Shapes:
        x: (N, C, H, W)
        out: (N, C, H_out, W_out)

    Args:
        x: input.
        pool_param: as for :func:`max_pool_forward_naive`.

    Returns:
        out, and a cache that only :func:`avg_pool_backward_naive` should open.

    Raises:
        ValueError: as :func:`max_pool_forward_naive`.
    """
    win = pool_window(x, pool_param, channels_last=False)
    xp = get_array_module(x)
    out = xp.empty((*x.shape[:2], *win.out), dtype=x.dtype)
    for n, c, i, j, rows, cols in _windows(win, x):
        out[n, c, i, j] = xp.mean(x[n, c, rows, cols])
    return out, _NaivePoolCache("avg", x, pool_param, win)


def avg_pool_backward_naive(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`avg_pool_forward_naive`.

    d mean / d cell = 1 / (cells in the window), so every cell of a window gets
    an equal share of its gradient; windows may overlap, hence ``+=``.

    Shapes:
        dout: (N, C, H_out, W_out)
        dx: (N, C, H, W)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`avg_pool_forward_naive`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from avg_pool_forward_naive or dout
            has the wrong shape.
    """
    x, win = _open(cache, "avg", dout)
    xp = get_array_module(x)
    dx = xp.zeros_like(x)
    for n, c, i, j, rows, cols in _windows(win, x):
        cells = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[n, c, rows, cols] += dout[n, c, i, j] / cells
    return dx
