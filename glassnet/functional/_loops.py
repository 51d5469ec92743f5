"""Loop kernels compiled with Numba for the memory-bound passes of conv and pooling.

Each kernel below is the loop nest of its naive twin (:mod:`~.pool`, :mod:`~.conv`)
written channels-last and compiled with ``numba.njit(parallel=True, cache=True)``:

- max pooling forward, with the winning offset of each window (training) or
  without it (inference, nothing kept), and its backward, a scatter of each
  window's gradient to its winner, parallel over samples so that no two threads
  write the same cell;
- average pooling forward and backward (padded cells are not counted, as in
  :mod:`~.pool`); the backward is a gather over input pixels;
- the im2col window copy of :mod:`~.conv_fast`, padding fused in, for any
  stride, dilation and group count, and col2im as a gather: every input pixel
  sums the column entries that read it, so threads never race.

They are optional. :func:`enabled` decides, for each call, whether they run:
``GLASSNET_KERNELS`` must be ``numba`` (Numba required: an error when it is
missing), and the arrays must be NumPy arrays of float32 or float64 in one dtype
(CuPy arrays and other dtypes take the NumPy path). The default, ``auto``, is the
NumPy path for now: these kernels measured slower than it on the benchmark
shapes (benchmarks/RESULTS.md); ``numpy`` forces it.

Numba is imported, and each kernel compiled, on first use, so ``import
glassnet`` never pays for it. Compiled code is cached on disk (``cache=True``)
in ``__pycache__`` next to this file; when that directory is not writable (a
read-only site-packages), ``NUMBA_CACHE_DIR`` is set, before Numba is imported
and unless already set, to ``$XDG_CACHE_HOME/glassnet/numba`` (by default
``~/.cache/glassnet/numba``).

Numba's threads follow :func:`glassnet._internal.threads.num_threads` (the
``--threads`` setting, :func:`~glassnet._internal.threads.set_num_threads`,
:func:`~glassnet._internal.threads.limit_threads`), capped at Numba's own pool
size ``NUMBA_NUM_THREADS``, so Numba and BLAS never oversubscribe the cores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._internal.checks import fail
from glassnet._internal.threads import threads_here
from glassnet.backend import Array

__all__ = [
    "avg_pool_backward",
    "avg_pool_forward",
    "col2im",
    "enabled",
    "im2col",
    "kernels_in_use",
    "max_pool_backward",
    "max_pool_forward",
]

_MODES = ("auto", "numba", "numpy")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# numba.prange once Numba is loaded: the loop nests below are plain Python
# until compiled, and Numba reads this global when it compiles them.
prange = range

_state: dict[str, Any] = {"numba": None, "tried": False, "compiled": {}}


def _mode() -> str:
    mode = os.environ.get("GLASSNET_KERNELS", "auto").strip().lower() or "auto"
    if mode not in _MODES:
        raise fail("GLASSNET_KERNELS", "'auto', 'numba' or 'numpy'", repr(mode))
    return mode


def _set_cache_dir() -> None:
    """Point Numba's cache at a user directory when this package's is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).parent
    pycache = here / "__pycache__"
    target = pycache if pycache.is_dir() else here
    if os.access(target, os.W_OK):
        return
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    os.environ["NUMBA_CACHE_DIR"] = str(Path(base) / "glassnet" / "numba")


def _numba() -> Any:
    """The numba module, imported on first call; None when it is not installed."""
    if not _state["tried"]:
        _state["tried"] = True
        if "numba" not in sys.modules:
            _set_cache_dir()
        try:
            import numba
        except ImportError:
            numba = None
        if numba is not None:
            globals()["prange"] = numba.prange
        _state["numba"] = numba
    return _state["numba"]


def kernels_in_use() -> str:
    """``'numba'`` or ``'numpy'``: which kernels NumPy arrays get now.

    Raises:
        ValueError: for a ``GLASSNET_KERNELS`` other than ``auto``, ``numba``
            and ``numpy``, or ``numba`` when Numba is not installed.
    """
    mode = _mode()
    if mode == "numpy":
        return "numpy"
    if mode == "auto":
        # Measured slower than the NumPy path on the benchmark shapes so far
        # (benchmarks/RESULTS.md, 2026-12-05): opt in with 'numba' until faster.
        return "numpy"
    if _numba() is None:
        raise fail("GLASSNET_KERNELS", "numba installed for 'numba'", "'numba'")
    return "numba"


def enabled(*arrays: Any) -> bool:
    """Whether the compiled kernels run for these arrays.

    True when :func:`kernels_in_use` is ``'numba'`` and every array is a NumPy
    array of one dtype, float32 or float64.
    """
    first = arrays[0]
    if not all(type(a) is np.ndarray and a.dtype == first.dtype for a in arrays):
        return False
    return first.dtype in _FLOATS and kernels_in_use() == "numba"


def _compiled(fn: Any) -> Any:
    """``fn`` compiled (once per process; from the disk cache when it holds it),
    with Numba's thread count set from glassnet's for the call that follows."""
    numba = _numba()
    numba.set_num_threads(min(threads_here(), numba.config.NUMBA_NUM_THREADS))
    jitted = _state["compiled"].get(fn)
    if jitted is None:
        jitted = numba.njit(parallel=True, cache=True)(fn)
        _state["compiled"][fn] = jitted
    return jitted


def _c(a: Array) -> Array:
    # One compiled variant per dtype: the kernels take C-contiguous arrays.
    return np.ascontiguousarray(a)


# ---- the loop nests --------------------------------------------------------------
#
# Shapes are channels-last: x (N, H, W, C), out (N, H_out, W_out, C). Window
# (i, j) starts at row i*sh - top and column j*sw - left of the unpadded input;
# the parts of it outside the input are padding, skipped (pooling) or zero (conv).


def _max_pool_argmax_loops(x, out, idx, kh, kw, sh, sw, top, left):  # noqa: ANN001, ANN202
    N, H, W, C = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for r in prange(N * Ho):
        n, i = r // Ho, r % Ho
        h0 = i * sh - top
        p_lo, p_hi = max(0, -h0), min(kh, H - h0)
        for j in range(Wo):
            w0 = j * sw - left
            q_lo, q_hi = max(0, -w0), min(kw, W - w0)
            for c in range(C):
                out[n, i, j, c] = x[n, h0 + p_lo, w0 + q_lo, c]
                idx[n, i, j, c] = p_lo * kw + q_lo
            for p in range(p_lo, p_hi):
                for q in range(q_lo, q_hi):
                    for c in range(C):
                        v = x[n, h0 + p, w0 + q, c]
                        # Strictly greater: the first maximum in row-major
                        # window order wins ties. A NaN wins and stays, as
                        # with np.maximum.
                        if v > out[n, i, j, c]:
                            out[n, i, j, c] = v
                            idx[n, i, j, c] = p * kw + q
                        elif v != v:
                            out[n, i, j, c] = v


def _max_pool_loops(x, out, kh, kw, sh, sw, top, left):  # noqa: ANN001, ANN202
    N, H, W, C = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for r in prange(N * Ho):
        n, i = r // Ho, r % Ho
        h0 = i * sh - top
        p_lo, p_hi = max(0, -h0), min(kh, H - h0)
        for j in range(Wo):
            w0 = j * sw - left
            q_lo, q_hi = max(0, -w0), min(kw, W - w0)
            for c in range(C):
                out[n, i, j, c] = x[n, h0 + p_lo, w0 + q_lo, c]
            for p in range(p_lo, p_hi):
                for q in range(q_lo, q_hi):
                    for c in range(C):
                        v = x[n, h0 + p, w0 + q, c]
                        if v > out[n, i, j, c] or v != v:
                            out[n, i, j, c] = v


def _max_pool_backward_loops(dout, idx, dx, kh, kw, sh, sw, top, left):  # noqa: ANN001, ANN202
    N, H, W, C = dx.shape
    Ho, Wo = dout.shape[1], dout.shape[2]
    for r in prange(N * H):
        n, h = r // H, r % H
        for w in range(W):
            for c in range(C):
                dx[n, h, w, c] = 0
            # A gather: every window (i, j) that reads (h, w), at offset (p, q),
            # passes it its gradient if (h, w) was its winner; offsets in
            # row-major order, so that threads never write the same cell.
            for p in range(kh):
                t = h + top - p
                if t < 0 or t % sh != 0 or t // sh >= Ho:
                    continue
                i = t // sh
                for q in range(kw):
                    u = w + left - q
                    if u < 0 or u % sw != 0 or u // sw >= Wo:
                        continue
                    j = u // sw
                    for c in range(C):
                        if idx[n, i, j, c] == p * kw + q:
                            dx[n, h, w, c] += dout[n, i, j, c]


def _avg_pool_loops(x, out, cells, kh, kw, sh, sw, top, left):  # noqa: ANN001, ANN202
    N, H, W, C = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for r in prange(N * Ho):
        n, i = r // Ho, r % Ho
        h0 = i * sh - top
        p_lo, p_hi = max(0, -h0), min(kh, H - h0)
        for j in range(Wo):
            w0 = j * sw - left
            q_lo, q_hi = max(0, -w0), min(kw, W - w0)
            for c in range(C):
                out[n, i, j, c] = 0
            for p in range(p_lo, p_hi):
                for q in range(q_lo, q_hi):
                    for c in range(C):
                        out[n, i, j, c] += x[n, h0 + p, w0 + q, c]
            for c in range(C):
                out[n, i, j, c] /= cells[i, j]


def _avg_pool_backward_loops(dout, dx, cells, kh, kw, sh, sw, top, left):  # noqa: ANN001, ANN202
    N, H, W, C = dx.shape
    Ho, Wo = dout.shape[1], dout.shape[2]
    for r in prange(N * H):
        n, h = r // H, r % H
        for w in range(W):
            for c in range(C):
                dx[n, h, w, c] = 0
            # Every window (i, j) that reads (h, w) at offset (p, q) passes it
            # an equal share of its gradient; offsets in row-major order.
            for p in range(kh):
                t = h + top - p
                if t < 0 or t % sh != 0 or t // sh >= Ho:
                    continue
                i = t // sh
                for q in range(kw):
                    u = w + left - q
                    if u < 0 or u % sw != 0 or u // sw >= Wo:
                        continue
                    j = u // sw
                    for c in range(C):
                        dx[n, h, w, c] += dout[n, i, j, c] / cells[i, j]


def _im2col_loops(x, cols, n0, n1, kh, kw, sh, sw, dh, dw, top, left, Ho, Wo):  # noqa: ANN001, ANN202, PLR0913
    # cols (G, N*H_out*W_out, HH*WW*C/G + 1): row (n, i, j) holds window (i, j)
    # of sample n, offset-major then channel, and a last column of ones.
    N, H, W, C = x.shape
    G = cols.shape[0]
    Cg = C // G
    K = kh * kw * Cg
    for r in prange((n1 - n0) * Ho):
        n, i = n0 + r // Ho, r % Ho
        for j in range(Wo):
            m = (n * Ho + i) * Wo + j
            for g in range(G):
                for p in range(kh):
                    h = i * sh - top + p * dh
                    for q in range(kw):
                        w = j * sw - left + q * dw
                        k0 = (p * kw + q) * Cg
                        if 0 <= h < H and 0 <= w < W:
                            for c in range(Cg):
                                cols[g, m, k0 + c] = x[n, h, w, g * Cg + c]
                        else:  # zero padding
                            for c in range(Cg):
                                cols[g, m, k0 + c] = 0
                cols[g, m, K] = 1


def _col2im_loops(dcols, dx, kh, kw, sh, sw, dh, dw, top, left, Ho, Wo):  # noqa: ANN001, ANN202, PLR0913
    # dcols (G, N*H_out*W_out, HH*WW*C/G) -> dx (N, H, W, C): each pixel sums,
    # offsets in row-major order, the column entries that read it.
    N, H, W, C = dx.shape
    G = dcols.shape[0]
    Cg = C // G
    for r in prange(N * H):
        n, h = r // H, r % H
        for w in range(W):
            for c in range(C):
                dx[n, h, w, c] = 0
            for p in range(kh):
                t = h + top - p * dh
                if t < 0 or t % sh != 0 or t // sh >= Ho:
                    continue
                i = t // sh
                for q in range(kw):
                    u = w + left - q * dw
                    if u < 0 or u % sw != 0 or u // sw >= Wo:
                        continue
                    m = (n * Ho + i) * Wo + u // sw
                    k0 = (p * kw + q) * Cg
                    for g in range(G):
                        for c in range(Cg):
                            dx[n, h, w, g * Cg + c] += dcols[g, m, k0 + c]


# ---- callers: allocate, set threads, run ------------------------------------------


def _origin(win: Any) -> tuple[int, ...]:
    (kh, kw), (sh, sw) = win.kernel, win.stride
    return kh, kw, sh, sw, win.pads[0][0], win.pads[1][0]


def max_pool_forward(x: Array, win: Any, keep_argmax: bool) -> tuple[Array, Any]:
    """(out, winning offsets p*WW + q or None) for x (N, H, W, C) and a Window."""
    x = _c(x)
    N, C = x.shape[0], x.shape[3]
    out = np.empty((N, *win.out, C), dtype=x.dtype)
    if not keep_argmax:
        _compiled(_max_pool_loops)(x, out, *_origin(win))
        return out, None
    K = win.kernel[0] * win.kernel[1]
    idx = np.empty(out.shape, dtype=np.min_scalar_type(K - 1))
    _compiled(_max_pool_argmax_loops)(x, out, idx, *_origin(win))
    return out, idx


def max_pool_backward(dout: Array, idx: Array, win: Any, x_shape: Any) -> Array:
    """dx (N, H, W, C): each window's gradient added to its winning cell."""
    dx = np.empty(x_shape, dtype=dout.dtype)
    _compiled(_max_pool_backward_loops)(_c(dout), _c(idx), dx, *_origin(win))
    return dx


def _real_cells(win: Any, hw: tuple[int, int], dtype: Any) -> Array:
    """(H_out, W_out): how many cells of each window lie inside the input.

    Padding is not part of the input, so only these count in an average. In
    x's dtype, so the loops divide in it as the NumPy path does.
    """
    counts = []
    for size, k, s, (lo, _), n_out in zip(
        hw, win.kernel, win.stride, win.pads, win.out, strict=True
    ):
        start = np.arange(n_out) * s - lo
        counts.append(np.minimum(start + k, size) - np.maximum(start, 0))
    return np.multiply.outer(counts[0], counts[1]).astype(dtype)


def avg_pool_forward(x: Array, win: Any) -> Array:
    """The mean of each window's real cells, x (N, H, W, C) -> (N, H_out, W_out, C)."""
    x = _c(x)
    out = np.empty((x.shape[0], *win.out, x.shape[3]), dtype=x.dtype)
    cells = _real_cells(win, x.shape[1:3], x.dtype)
    _compiled(_avg_pool_loops)(x, out, cells, *_origin(win))
    return out


def avg_pool_backward(dout: Array, win: Any, x_shape: Any) -> Array:
    """dx (N, H, W, C): every real cell gets its windows' equal shares."""
    dx = np.empty(x_shape, dtype=dout.dtype)
    cells = _real_cells(win, x_shape[1:3], dout.dtype)
    _compiled(_avg_pool_backward_loops)(_c(dout), dx, cells, *_origin(win))
    return dx


def im2col(x: Array, cols: Array, images: slice, win: Any) -> None:
    """Fill rows of ``cols`` (G, N*H_out*W_out, K + 1) for samples ``images`` of x.

    ``x`` (N, H, W, C) is the unpadded input; padding reads as zero.
    """
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    top, left = win.pads[0][0], win.pads[1][0]
    _compiled(_im2col_loops)(
        x, cols, images.start, images.stop, kh, kw, sh, sw, dh, dw, top, left, *win.out
    )


def col2im(dcols: Array, dx: Array, win: Any) -> None:
    """Write dx (N, H, W, C) from the column gradients dcols (G, N*H_out*W_out, K).

    Both C-contiguous; they may be one block of samples of larger arrays.
    """
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    top, left = win.pads[0][0], win.pads[1][0]
    _compiled(_col2im_loops)(dcols, dx, kh, kw, sh, sw, dh, dw, top, left, *win.out)
