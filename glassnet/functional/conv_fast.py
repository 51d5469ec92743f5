"""Convolution, the vectorised version: im2col by strided views plus one matmul.

Same semantics, ``conv_param`` keys and output sizes as
:mod:`glassnet.functional.conv` (the loop oracle); the two caches differ and are
checked, so they cannot be mixed.

One core works channels-last: the windows of a padded (N, H, W, C) input, read as
a strided view, copy into a column matrix (N*H_out*W_out, HH*WW*C) whose product with
the kernel (HH*WW*C, F) is already the (N, H_out, W_out, F) output, no transpose
needed. The cs231n entry points (NCHW) only transpose views around that core;
their outputs are transposed views of channels-last memory, which a following
NCHW kernel of this family transposes straight back for free.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import fail
from glassnet._internal.threads import split_batch
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional import _loops
from glassnet.functional._im2col import (
    Window,
    col2im_nhwc,
    conv_window,
    crop_nhwc,
    pad_nhwc,
    windows_nhwc,
)

__all__ = [
    "conv_backward_fast",
    "conv_backward_nhwc",
    "conv_forward_fast",
    "conv_forward_nhwc",
]


class _FastConvCache(NamedTuple):
    layout: str  # "NCHW" or "NHWC": which entry point made it
    cols: Array  # (groups, N*H_out*W_out, HH*WW*C/groups + 1): last column ones
    kernel: Array  # (groups, HH*WW*C/groups + 1, F/groups): last row the bias
    x_shape: tuple[int, ...]  # channels-last
    w_dtype: Any
    b_dtype: Any
    win: Window
    groups: int


# The forward pass copies windows and multiplies one block of the batch at a
# time, each block's columns about this many bytes: the product then reads them
# from the cache the copy just filled instead of from memory.
_BLOCK_BYTES = 2 << 20


def _group_matmul(a: Array, b: Array, out: Array | None = None) -> Array:
    """(G, M, K) @ (G, K, F) -> (G, M, F); one plain 2-D product when G == 1.

    A stacked product of transposed views may copy them first; a 2-D product
    hands the transposes to BLAS as flags instead. ``out``, when given, gets
    the result.
    """
    xp = get_array_module(a, b)
    if a.shape[0] == 1:
        if out is None:
            return (a[0] @ b[0])[None]
        xp.matmul(a[0], b[0], out=out[0])
        return out
    return xp.matmul(a, b, out=out)


# OpenBLAS multiplies products of up to about a million multiply-adds with its
# small-matrix kernels, which read the operands in place; larger products pack
# both operands first. A long product with a small result, such as a first
# convolution's weight gradient ((10, 86528) @ (86528, 32) on cnn_mnist), then
# spends most of its time packing: cut into pieces below that size, shared
# between threads, it is faster wherever a piece keeps enough rows to be worth
# a thread (benchmarks/RESULTS.md has the measurements).
_PIECE_MULADDS = 750_000
_MIN_PIECE_ROWS = 512


def _long_product(a: Array, b: Array) -> Array:
    """a.T @ b for a (M, K) and b (M, F) with M large: the weight gradient's sum.

    When K * F is small, the M rows are cut into fixed pieces whose products are
    summed in order, so the result is the same for any number of threads (not
    bitwise the same as one product: the sum runs in another order).
    """
    xp = get_array_module(a, b)
    (M, K), F = a.shape, b.shape[1]
    rows = _PIECE_MULADDS // (K * F)
    if xp is not np or rows < _MIN_PIECE_ROWS or M < 2 * rows:
        return a.T @ b
    parts = xp.empty((-(-M // rows), K, F), dtype=xp.result_type(a, b))

    # Pieces s.start .. s.stop - 1; see glassnet._internal.threads.
    def part(s: slice) -> None:
        for i in range(s.start, s.stop):
            piece = slice(i * rows, (i + 1) * rows)
            xp.matmul(a[piece].T, b[piece], out=parts[i])

    split_batch(part, parts, M * (K + F))
    return parts.sum(axis=0)


def _copy_windows(dst: Array, src: Array, xp: Any) -> None:
    """Copy windows (G, N, H_out, W_out, HH, WW, C/G) into the column matrix's view.

    With one channel per group, a window row is HH*WW scalars apart in memory and
    NumPy would copy it a few values per inner loop; copying one kernel offset at
    a time (a whole output row per inner loop) is then several times faster.
    """
    if src.shape[-1] != 1:
        xp.copyto(dst, src)
        return
    for p in range(src.shape[4]):
        for q in range(src.shape[5]):
            xp.copyto(dst[:, :, :, :, p, q], src[:, :, :, :, p, q])


def _forward_core(
    x: Array, w: Array, b: Array, win: Window, groups: int, layout: str
) -> tuple[Array, _FastConvCache]:
    """x (N, H, W, C) and w (HH, WW, C/G, F) -> out (N, H_out, W_out, F)."""
    N, (Ho, Wo), G = x.shape[0], win.out, groups
    HH, WW, Cg, F = w.shape
    M, K, Fg = N * Ho * Wo, HH * WW * Cg, F // G
    xp = get_array_module(x)
    loops = _loops.enabled(x)
    if loops:  # the compiled copy reads x itself and writes the padding's zeros
        x = np.ascontiguousarray(x)
    else:
        windows = windows_nhwc(pad_nhwc(x, win.pads, 0.0), win)
        # Splitting C into (G, C/G) is a view; copying the windows into the
        # column matrix is the one im2col copy.
        src = windows.reshape(N, Ho, Wo, HH, WW, G, Cg)
        src = src.transpose(5, 0, 1, 2, 3, 4, 6)
    # A column of ones after the windows, with the bias as the kernel's last
    # row, makes the product add the bias: no pass over the output for it, and
    # the weight gradient's product yields db as its last row.
    cols = xp.empty((G, M, K + 1), dtype=x.dtype)
    dst = cols[:, :, :K].reshape(G, N, Ho, Wo, HH, WW, Cg)
    taps = w.reshape(HH, WW, Cg, G, Fg).transpose(3, 0, 1, 2, 4).reshape(G, K, Fg)
    kernel = xp.concatenate([taps, b.reshape(G, 1, Fg)], axis=1)
    kernel = kernel.astype(x.dtype, copy=False)  # concatenate made it new already
    out = xp.empty((G, M, Fg), dtype=x.dtype)
    per_image = Ho * Wo
    step = max(1, _BLOCK_BYTES // (per_image * (K + 1) * G * cols.itemsize))
    for start in range(0, N, step):
        images = slice(start, min(start + step, N))
        rows = slice(images.start * per_image, images.stop * per_image)
        if loops:
            _loops.im2col(x, cols, images, win)
        else:
            cols[:, rows, K] = 1.0
            _copy_windows(dst[:, images], src[:, images], xp)
        _group_matmul(cols[:, rows], kernel, out[:, rows])
    out = out.transpose(1, 0, 2).reshape(N, Ho, Wo, F)
    # Memory: the cache keeps the column matrix (HH*WW/(sh*sw) times the input)
    # instead of x, trading memory for skipping a second im2col in backward,
    # which needs it for dw; the padded input itself is never kept.
    cache = _FastConvCache(layout, cols, kernel, x.shape, w.dtype, b.dtype, win, G)
    return out, cache


def _backward_core(
    dout: Array, cache: _FastConvCache, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """dout (N, H_out, W_out, F) -> dx (N, H, W, C), dw (HH, WW, C/G, F), db (F,).

    With ``need_dx=False`` dx is None and neither its product nor col2im runs.
    """
    _, cols, kernel, x_shape, w_dtype, b_dtype, win, G = cache
    N, (Ho, Wo), (HH, WW) = x_shape[0], win.out, win.kernel
    C, F = x_shape[3], kernel.shape[2] * G
    K = kernel.shape[1] - 1  # the last row is the bias
    dout_g = dout.reshape(N * Ho * Wo, G, F // G).transpose(1, 0, 2)
    # out = cols @ kernel, so dkernel = cols.T @ dout and dcols = dout @ kernel.T;
    # the ones column's row of dkernel is the bias gradient, the column sums.
    if G == 1:
        dkernel = _long_product(cols[0], dout_g[0])[None]
    else:
        dkernel = _group_matmul(cols.transpose(0, 2, 1), dout_g)
    db = dkernel[:, K].reshape(F).astype(b_dtype)
    dw = dkernel[:, :K].reshape(G, HH, WW, C // G, F // G).transpose(1, 2, 3, 0, 4)
    dw = dw.reshape(HH, WW, C // G, F).astype(w_dtype, copy=False)
    if not need_dx:
        return None, dw, db
    return _input_grad(dout_g, kernel[:, :K], x_shape, win), dw, db


def _input_grad(
    dout_g: Array, kernel: Array, x_shape: tuple[int, ...], win: Window
) -> Array:
    """dx (N, H, W, C) from dout_g (G, M, F/G): dcols = dout @ kernel.T, col2im'd.

    dcols is computed one kernel offset at a time, (G, M, C/G) each, so every
    slice-add of col2im reads a contiguous block instead of a strided column.
    """
    if _loops.enabled(dout_g, kernel):
        return _input_grad_loops(dout_g, kernel, x_shape, win)
    xp = get_array_module(dout_g, kernel)
    N, H, W, C = x_shape
    (Ho, Wo), (HH, WW), G = win.out, win.kernel, kernel.shape[0]
    # (G, HH*WW*C/G, F/G) -> per offset o: (G, F/G, C/G), the transposed taps.
    taps = kernel.reshape(G, HH * WW, C // G, -1).transpose(1, 0, 3, 2)
    (top, bottom), (left, right) = win.pads
    dxpad = xp.zeros((N, H + top + bottom, W + left + right, G, C // G), kernel.dtype)

    def grad_at(p: int, q: int) -> Array:
        dcols = _group_matmul(dout_g, taps[p * WW + q])
        return dcols.reshape(G, N, Ho, Wo, C // G).transpose(1, 2, 3, 0, 4)

    col2im_nhwc(dxpad, grad_at, win)
    return crop_nhwc(dxpad.reshape(*dxpad.shape[:3], C), win.pads, (H, W))


def _input_grad_loops(
    dout_g: Array, kernel: Array, x_shape: tuple[int, ...], win: Window
) -> Array:
    """:func:`_input_grad` by the compiled col2im, a gather over input pixels.

    One block of the batch at a time (as in the forward pass): its dcols =
    dout @ kernel.T, all offsets in one product, then gathered into dx.
    """
    N = x_shape[0]
    G, K = kernel.shape[:2]
    per_image = win.out[0] * win.out[1]
    dx = np.empty(x_shape, dtype=kernel.dtype)
    taps = kernel.transpose(0, 2, 1)  # (G, F/G, K)
    step = max(1, _BLOCK_BYTES // (per_image * K * G * kernel.itemsize))
    for start in range(0, N, step):
        images = slice(start, min(start + step, N))
        rows = slice(images.start * per_image, images.stop * per_image)
        dcols = np.empty((G, rows.stop - rows.start, K), dtype=kernel.dtype)
        _group_matmul(dout_g[:, rows], taps, dcols)
        _loops.col2im(dcols, dx[images], win)
    return dx


def _check_backward_args(dout: Any, cache: Any, layout: str, forward: str) -> None:
    if not isinstance(cache, _FastConvCache) or cache.layout != layout:
        raise fail("cache", f"the cache of {forward}", type(cache).__name__)
    N, (Ho, Wo), F = (
        cache.x_shape[0],
        cache.win.out,
        cache.kernel.shape[2] * cache.groups,
    )
    want = (N, Ho, Wo, F) if layout == "NHWC" else (N, F, Ho, Wo)
    if getattr(dout, "shape", None) != want:
        raise fail("dout", f"shape {want}", getattr(dout, "shape", type(dout).__name__))


def conv_forward_fast(
    x: Array, w: Array, b: Array, conv_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Convolution by im2col and one matrix product per group (cs231n layout).

    Same result as :func:`glassnet.functional.conv.conv_forward_naive`; the output
    is in x's dtype (w is cast to it).

    Shapes:
        x: (N, C, H, W)
        w: (F, C // groups, HH, WW)
        b: (F,)
        out: (N, F, H_out, W_out)

    Args:
        x: input images.
        w: filters.
        b: biases.
        conv_param: ``'stride'``, ``'pad'`` and optionally ``'dilation'`` (defaults
            to `1`) and ``'groups'`` (defaults to `1`); see
            :mod:`glassnet.functional.conv`.

    Returns:
        out (a transposed view of channels-last memory), and a cache that only
        :func:`conv_backward_fast` should open.

    Raises:
        ValueError: for a wrong rank or shape of x, w or b, groups that do not
            divide C and F, missing or invalid conv_param entries, or an output
            smaller than 1 x 1.
    """
    win, groups = conv_window(x, w, b, conv_param, channels_last=False)
    x_nhwc, w_hwcf = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0)
    out, cache = _forward_core(x_nhwc, w_hwcf, b, win, groups, "NCHW")
    return out.transpose(0, 3, 1, 2), cache


def conv_backward_fast(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_forward_fast`.

    Shapes:
        dout: (N, F, H_out, W_out)
        dx: (N, C, H, W);  dw: (F, C // groups, HH, WW);  db: (F,)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`conv_forward_fast`.

    Returns:
        (dx, dw, db).

    Raises:
        ValueError: when cache does not come from conv_forward_fast or dout has
            the wrong shape.
    """
    _check_backward_args(dout, cache, "NCHW", "conv_forward_fast")
    dx, dw, db = _backward_core(dout.transpose(0, 2, 3, 1), cache)
    return dx.transpose(0, 3, 1, 2), dw.transpose(3, 2, 0, 1), db


def conv_forward_nhwc(
    x: Array, w: Array, b: Array, conv_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Channels-last convolution with a Keras-layout kernel; the fast core itself.

    Shapes:
        x: (N, H, W, C)
        w: (HH, WW, C // groups, F)
        b: (F,)
        out: (N, H_out, W_out, F)

    Args:
        x: input images, channels last.
        w: kernel in Keras layout.
        b: biases.
        conv_param: as for :func:`conv_forward_fast`.

    Returns:
        out, and a cache that only :func:`conv_backward_nhwc` should open.

    Raises:
        ValueError: as :func:`conv_forward_fast`.
    """
    win, groups = conv_window(x, w, b, conv_param, channels_last=True)
    return _forward_core(x, w, b, win, groups, "NHWC")


def conv_backward_nhwc(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward pass of :func:`conv_forward_nhwc`.

    Shapes:
        dout: (N, H_out, W_out, F)
        dx: (N, H, W, C);  dw: (HH, WW, C // groups, F);  db: (F,)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`conv_forward_nhwc`.
        need_dx: compute the input gradient; a model's first layer has no use
            for it, and skipping it saves a product and the col2im.
            Defaults to `True`.

    Returns:
        (dx, dw, db); dx is None when ``need_dx`` is false.

    Raises:
        ValueError: when cache does not come from conv_forward_nhwc or dout has
            the wrong shape.
    """
    _check_backward_args(dout, cache, "NHWC", "conv_forward_nhwc")
    return _backward_core(dout, cache, need_dx)
