"""Max and average pooling, vectorised; same results as :mod:`~.pool` (the oracle).

Same ``pool_param`` keys, padding rule ('same': padded cells never win a max and
are not counted in an average) and tie rule (the first maximal cell in row-major
window order gets the gradient) as :mod:`glassnet.functional.pool`.

One core works channels-last on a window view (N, H_out, W_out, HH, WW, C):

- reshape path: windows that tile the input exactly (no padding, stride = window,
  sizes divisible) are a reshape of x, and their gradients reshape back with no
  accumulation;
- strided path, for everything else (overlapping windows, padding, leftovers): a
  strided view of the padded input, and a backward that adds the window gradients
  back with one slice-add per window offset (the col2im of the conv kernels).

Where :func:`glassnet.functional._loops.enabled` says so (Numba installed, NumPy
float arrays, ``GLASSNET_KERNELS=numba``), the core runs the compiled
loop kernels of :mod:`~._loops` instead of either path; the caches are the same.

The cs231n entry points (NCHW) transpose views around the core. As with
:mod:`~.conv_fast`, their outputs are transposed views of channels-last memory, so
a chain of these kernels hands each other contiguous channels-last arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import fail
from glassnet._internal.threads import split_batch
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional import _loops
from glassnet.functional._im2col import (
    Window,
    col2im_nhwc,
    crop_nhwc,
    has_padding,
    pad_nhwc,
    pool_window,
    windows_nhwc,
)

__all__ = [
    "avg_pool_backward_fast",
    "avg_pool_backward_nhwc",
    "avg_pool_forward_fast",
    "avg_pool_forward_nhwc",
    "max_pool_backward_fast",
    "max_pool_backward_nhwc",
    "max_pool_forward_fast",
    "max_pool_forward_nhwc",
]


class _FastPoolCache(NamedTuple):
    kind: str  # "max" or "avg"
    layout: str  # "NCHW" or "NHWC": which entry point made it
    x_shape: tuple[int, ...]  # channels-last
    win: Window
    tiled: bool
    saved: Any  # max: winning offset per output; avg: real cells per window


def _tiles(win: Window, hw: tuple[int, int]) -> bool:
    (HH, WW) = win.kernel
    exact = hw[0] % HH == 0 and hw[1] % WW == 0
    return exact and win.stride == win.kernel and not has_padding(win)


def _windows(x: Array, win: Window, tiled: bool, fill: float) -> Array:
    """View (N, H_out, W_out, HH, WW, C) of the windows of x (N, H, W, C)."""
    if tiled:
        N, H, W, C = x.shape
        (HH, WW), (Ho, Wo) = win.kernel, win.out
        # Splitting an axis never copies, whatever x's strides.
        return x.reshape(N, Ho, HH, Wo, WW, C).transpose(0, 1, 3, 2, 4, 5)
    return windows_nhwc(pad_nhwc(x, win.pads, fill), win)


def _split(a: Array) -> Array:
    """(N, H_out, W_out, C) -> (N, H_out, 1, W_out, 1, C), to broadcast over tiles."""
    return a[:, :, None, :, None, :]


def _tiled_dx(dtiles: Array, cache: _FastPoolCache) -> Array:
    """dx from window gradients laid out (N, H_out, HH, W_out, WW, C): a reshape."""
    xp = get_array_module(dtiles)
    N, H, W, C = cache.x_shape
    (HH, WW), (Ho, Wo) = cache.win.kernel, cache.win.out
    full = (N, Ho, HH, Wo, WW, C)
    if dtiles.shape != full:  # a share broadcast over each tile: materialise it
        dtiles = xp.broadcast_to(dtiles, full).copy()
    return dtiles.reshape(N, H, W, C)


def _strided_dx(
    grad_at: Callable[[int], Array], cache: _FastPoolCache, like: Array
) -> Array:
    """dx from ``grad_at(o)``, the gradient reaching window offset o = p*WW + q.

    ``like`` gives dx's array module and dtype.
    """
    xp, dtype = get_array_module(like), like.dtype
    N, H, W, C = cache.x_shape
    (top, bottom), (left, right) = cache.win.pads
    WW = cache.win.kernel[1]
    dxpad = xp.zeros((N, H + top + bottom, W + left + right, C), dtype=dtype)
    col2im_nhwc(dxpad, lambda p, q: grad_at(p * WW + q), cache.win)
    return crop_nhwc(dxpad, cache.win.pads, (H, W))


def _max_forward_core(
    x: Array, win: Window, layout: str, keep_argmax: bool = True
) -> tuple[Array, Cache]:
    xp = get_array_module(x)
    tiled = _tiles(win, x.shape[1:3])
    if _loops.enabled(x):
        out, idx = _loops.max_pool_forward(x, win, keep_argmax)
        saved = idx if keep_argmax else x
        return out, _FastPoolCache("max", layout, x.shape, win, tiled, saved)
    windows = _windows(x, win, tiled, -float("inf"))
    K, WW = win.kernel[0] * win.kernel[1], win.kernel[1]
    out = xp.empty((x.shape[0], *win.out, x.shape[3]), dtype=x.dtype)
    # The smallest integer type that holds K - 1 keeps the cache tiny.
    idx = xp.zeros(out.shape, np.min_scalar_type(K - 1)) if keep_argmax else None

    # One slice of the batch; see glassnet._internal.threads.
    def part(s: slice) -> None:
        w, o = windows[s], out[s]
        o[...] = w[:, :, :, 0, 0]
        for offset in range(1, K):
            cand = w[:, :, :, offset // WW, offset % WW]
            if idx is not None:
                # Strictly greater: on ties the earlier (row-major) offset keeps
                # winning. Offsets only grow, so "idx = offset where better" is
                # a maximum (copyto with where= is many times slower). A window
                # always holds a real cell; the -inf padding only ties with -inf.
                better = (cand > o) * idx.dtype.type(offset)
                xp.maximum(idx[s], better, out=idx[s])
            xp.maximum(o, cand, out=o)

    split_batch(part, out, x.size)
    # Without the winners (inference), the cache holds x itself: a backward
    # pass, if one ever comes, finds them then.
    saved = idx if keep_argmax else x
    return out, _FastPoolCache("max", layout, x.shape, win, tiled, saved)


def _max_backward_core(dout: Array, cache: _FastPoolCache) -> Array:
    xp = get_array_module(dout)
    idx, (HH, WW) = cache.saved, cache.win.kernel
    if idx.dtype.kind == "f":  # the forward pass kept x, not the winners
        idx = _max_forward_core(idx, cache.win, cache.layout)[1].saved
    if _loops.enabled(dout):
        return _loops.max_pool_backward(dout, idx, cache.win, cache.x_shape)
    # Each window's gradient goes to its winning offset only.
    if not cache.tiled:
        return _strided_dx(lambda o: (idx == o) * dout, cache, dout)
    N, H, W, C = cache.x_shape
    (Ho, Wo) = cache.win.out
    dx = xp.empty(cache.x_shape, dtype=dout.dtype)
    # Tiles cover the input exactly once, so every cell of dx is written once.
    tiles = dx.reshape(N, Ho, HH, Wo, WW, C)

    def part(s: slice) -> None:
        for o in range(HH * WW):
            cell = tiles[s, :, o // WW, :, o % WW]
            xp.multiply(idx[s] == o, dout[s], out=cell)

    split_batch(part, dout, dx.size)
    return dx


def _real_cells(win: Window, hw: tuple[int, int], xp: Any, dtype: Any) -> Any:
    """Cells of each window inside the unpadded input: (H_out, W_out, 1) or an int."""
    if not has_padding(win):
        return win.kernel[0] * win.kernel[1]
    counts = []
    for size, k, s, (lo, _), n_out in zip(
        hw, win.kernel, win.stride, win.pads, win.out, strict=True
    ):
        start = xp.arange(n_out) * s - lo
        counts.append(xp.minimum(start + k, size) - xp.maximum(start, 0))
    return (counts[0][:, None, None] * counts[1][None, :, None]).astype(dtype)


def _avg_forward_core(x: Array, win: Window, layout: str) -> tuple[Array, Cache]:
    xp = get_array_module(x)
    tiled = _tiles(win, x.shape[1:3])
    cells = _real_cells(win, x.shape[1:3], xp, x.dtype)
    if _loops.enabled(x):
        out = _loops.avg_pool_forward(x, win)
        return out, _FastPoolCache("avg", layout, x.shape, win, tiled, cells)
    windows = _windows(x, win, tiled, 0.0)
    WW = win.kernel[1]
    out = windows[:, :, :, 0, 0].copy()
    for offset in range(1, win.kernel[0] * WW):
        out += windows[:, :, :, offset // WW, offset % WW]
    # Zero padding adds nothing to a sum, so dividing by the real cells is exact.
    out /= cells
    return out, _FastPoolCache("avg", layout, x.shape, win, tiled, cells)


def _avg_backward_core(dout: Array, cache: _FastPoolCache) -> Array:
    if _loops.enabled(dout):
        return _loops.avg_pool_backward(dout, cache.win, cache.x_shape)
    # d mean / d cell = 1 / cells: every cell of a window gets an equal share.
    share = dout / cache.saved
    if cache.tiled:
        return _tiled_dx(_split(share), cache)
    return _strided_dx(lambda o: share, cache, share)


def _check_backward_args(dout: Any, cache: Any, kind: str, layout: str) -> None:
    suffix = "fast" if layout == "NCHW" else "nhwc"
    if not (
        isinstance(cache, _FastPoolCache)
        and cache.kind == kind
        and cache.layout == layout
    ):
        want = f"the cache of {kind}_pool_forward_{suffix}"
        raise fail("cache", want, type(cache).__name__)
    N, C = cache.x_shape[0], cache.x_shape[3]
    want = (N, *cache.win.out, C) if layout == "NHWC" else (N, C, *cache.win.out)
    if getattr(dout, "shape", None) != want:
        got = getattr(dout, "shape", type(dout).__name__)
        raise fail("dout", f"shape {want}", got)


def max_pool_forward_fast(
    x: Array, pool_param: dict[str, Any], *, keep_argmax: bool = True
) -> tuple[Array, Cache]:
    """Max pooling, vectorised (cs231n layout).

    Shapes:
        x: (N, C, H, W)
        out: (N, C, H_out, W_out)

    Args:
        x: input.
        pool_param: ``'pool_height'``, ``'pool_width'``, ``'stride'`` and
            optionally ``'pad'`` (defaults to `0`); see
            :mod:`glassnet.functional.pool`.
        keep_argmax: find every window's winning cell now, for the backward
            pass. With `False` (inference) the cache keeps a reference to x
            instead and the backward pass, if called, finds them then.
            Defaults to `True`.

    Returns:
        out, and a cache (the winning offset of each window, not x) that only
        :func:`max_pool_backward_fast` should open.

    Raises:
        ValueError: for x not of rank 4, missing or invalid pool_param entries,
            a pad side not smaller than the window, or an output smaller than 1.
    """
    win = pool_window(x, pool_param, channels_last=False)
    x_nhwc = x.transpose(0, 2, 3, 1)
    out, cache = _max_forward_core(x_nhwc, win, "NCHW", keep_argmax)
    return out.transpose(0, 3, 1, 2), cache


def max_pool_backward_fast(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`max_pool_forward_fast`.

    Shapes:
        dout: (N, C, H_out, W_out)
        dx: (N, C, H, W)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`max_pool_forward_fast`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from max_pool_forward_fast or dout
            has the wrong shape.
    """
    _check_backward_args(dout, cache, "max", "NCHW")
    return _max_backward_core(dout.transpose(0, 2, 3, 1), cache).transpose(0, 3, 1, 2)


def avg_pool_forward_fast(x: Array, pool_param: dict[str, Any]) -> tuple[Array, Cache]:
    """Average pooling over real cells only, vectorised (cs231n layout).

    Shapes:
        x: (N, C, H, W)
        out: (N, C, H_out, W_out)

    Args:
        x: input.
        pool_param: as for :func:`max_pool_forward_fast`.

    Returns:
        out, and a cache that only :func:`avg_pool_backward_fast` should open.

    Raises:
        ValueError: as :func:`max_pool_forward_fast`.
    """
    win = pool_window(x, pool_param, channels_last=False)
    out, cache = _avg_forward_core(x.transpose(0, 2, 3, 1), win, "NCHW")
    return out.transpose(0, 3, 1, 2), cache


def avg_pool_backward_fast(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`avg_pool_forward_fast`.

    Shapes:
        dout: (N, C, H_out, W_out)
        dx: (N, C, H, W)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`avg_pool_forward_fast`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from avg_pool_forward_fast or dout
            has the wrong shape.
    """
    _check_backward_args(dout, cache, "avg", "NCHW")
    return _avg_backward_core(dout.transpose(0, 2, 3, 1), cache).transpose(0, 3, 1, 2)


def max_pool_forward_nhwc(
    x: Array, pool_param: dict[str, Any], *, keep_argmax: bool = True
) -> tuple[Array, Cache]:
    """Channels-last max pooling: the fast core itself.

    Shapes:
        x: (N, H, W, C)
        out: (N, H_out, W_out, C)

    Args:
        x: input, channels last.
        pool_param: as for :func:`max_pool_forward_fast`.
        keep_argmax: as for :func:`max_pool_forward_fast`.

    Returns:
        out, and a cache that only :func:`max_pool_backward_nhwc` should open.

    Raises:
        ValueError: as :func:`max_pool_forward_fast`.
    """
    win = pool_window(x, pool_param, channels_last=True)
    return _max_forward_core(x, win, "NHWC", keep_argmax)


def max_pool_backward_nhwc(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`max_pool_forward_nhwc`.

    Shapes:
        dout: (N, H_out, W_out, C)
        dx: (N, H, W, C)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`max_pool_forward_nhwc`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from max_pool_forward_nhwc or dout
            has the wrong shape.
    """
    _check_backward_args(dout, cache, "max", "NHWC")
    return _max_backward_core(dout, cache)


def avg_pool_forward_nhwc(x: Array, pool_param: dict[str, Any]) -> tuple[Array, Cache]:
    """Channels-last average pooling: the fast core itself.

    Shapes:
        x: (N, H, W, C)
        out: (N, H_out, W_out, C)

    Args:
        x: input, channels last.
        pool_param: as for :func:`max_pool_forward_fast`.

    Returns:
        out, and a cache that only :func:`avg_pool_backward_nhwc` should open.

    Raises:
        ValueError: as :func:`max_pool_forward_fast`.
    """
    win = pool_window(x, pool_param, channels_last=True)
    return _avg_forward_core(x, win, "NHWC")


def avg_pool_backward_nhwc(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`avg_pool_forward_nhwc`.

    Shapes:
        dout: (N, H_out, W_out, C)
        dx: (N, H, W, C)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`avg_pool_forward_nhwc`.

    Returns:
        dx.

    Raises:
        ValueError: when cache does not come from avg_pool_forward_nhwc or dout
            has the wrong shape.
    """
    _check_backward_args(dout, cache, "avg", "NHWC")
    return _avg_backward_core(dout, cache)
