"""Transposed convolution ("deconvolution"): the adjoint of a convolution.

A transposed convolution maps an (H, W) image to the (H_out, W_out) image whose
convolution would give back an (H, W) one, by the convolution's *input gradient*:
each input pixel scatters ``x[n, i, j, c] * w[:, :, :, c]`` into the output window
it would have been read from (col2im). So its forward pass is the conv's input
gradient, and its backward pass is the conv itself: ``dx`` is the convolution of
``dout`` with the same kernel and ``dw`` that convolution's weight gradient with
``x`` as upstream gradient. The fast functions below only call the conv_fast
pieces; nothing is derived a second time.

The kernel is Keras' transposed layout (HH, WW, F, C): F output channels, C input
channels, which is exactly the conv layout (HH, WW, C_in, F_out) of the
convolution from F channels to C that this one transposes.

``conv_param`` keys (those of the convolution being transposed, as PyTorch's
``ConvTranspose2d`` reads them, with asymmetric padding allowed):

- ``'stride'``, ``'pad'``, ``'dilation'`` (defaults to `1`): as in
  :mod:`glassnet.functional.conv`; the pads are cropped from the output.
- ``'output_padding'``: an int or a pair, cells added after the last window, each
  smaller than the stride. Defaults to `0`.

``H_out = (H - 1) * stride - pad_top - pad_bottom + dilation * (HH - 1) + 1 +
output_padding``; the convolution of an (H_out, W_out) image with that padding has
exactly (H, W) outputs.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_array, check_param_dict, fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._im2col import Window, as_pads, as_pair, make_window
from glassnet.functional.conv_fast import (
    _input_grad,
    conv_backward_nhwc,
    conv_forward_nhwc,
)

__all__ = [
    "conv_transpose_backward",
    "conv_transpose_backward_naive",
    "conv_transpose_forward",
    "conv_transpose_forward_naive",
]


def _geometry(
    x: Array, w: Array, b: Array, conv_param: Any, *, channels_last: bool
) -> tuple[tuple[int, int], Window]:
    """Validate; return the output (H_out, W_out) and the transposed conv's window
    (over the output, whose ``out`` is the input's (H, W))."""
    check_array("x", x, ndim=4, floating=True)
    check_array("w", w, ndim=4, floating=True)
    check_param_dict("conv_param", conv_param, ("stride", "pad"))
    HH, WW, F, C = w.shape
    H, W, Cx = x.shape[1:] if channels_last else (*x.shape[2:], x.shape[1])
    if Cx != C:
        raise fail("w", f"shape (HH, WW, F, {Cx}) for x's {Cx} channels", w.shape)
    check_array("b", b, shape=(F,), floating=True)
    stride = as_pair("conv_param['stride']", conv_param["stride"], min_value=1)
    dilation = as_pair(
        "conv_param['dilation']", conv_param.get("dilation", 1), min_value=1
    )
    pads = as_pads("conv_param['pad']", conv_param["pad"])
    extra = as_pair(
        "conv_param['output_padding']",
        conv_param.get("output_padding", 0),
        min_value=0,
    )
    out = []
    for size, k, s, d, (top, bottom), op in zip(
        (H, W), (HH, WW), stride, dilation, pads, extra, strict=True
    ):
        if op >= s:
            raise fail("conv_param['output_padding']", f"less than the stride {s}", op)
        out.append((size - 1) * s - top - bottom + d * (k - 1) + 1 + op)
    if min(out) < 1:
        raise fail(
            "conv_param['pad']", "pads leaving an output of at least 1 x 1", pads
        )
    return (out[0], out[1]), make_window(
        (out[0], out[1]), (HH, WW), stride, dilation, pads
    )


def conv_transpose_forward(
    x: Array,
    w: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """Transposed convolution by the fast conv's col2im.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        w: (HH, WW, F, C), Keras' transposed layout;  b: (F,)
        out: (N, F, H_out, W_out), or (N, H_out, W_out, F)

    Args:
        x: the images.
        w: the kernel.
        b: the biases.
        conv_param: ``'stride'``, ``'pad'`` and optionally ``'dilation'`` and
            ``'output_padding'``, as in the module docstring.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.

    Returns:
        out (in x's dtype), and a cache for :func:`conv_transpose_backward`.

    Raises:
        ValueError: for a wrong rank or shape of x, w or b, invalid
            ``conv_param`` entries, or an empty output.
    """
    (Ho, Wo), win = _geometry(x, w, b, conv_param, channels_last=channels_last)
    xl = x if channels_last else x.transpose(0, 2, 3, 1)
    N, H, W, C = xl.shape
    HH, WW, F, _ = w.shape
    wx = w.astype(x.dtype, copy=False)
    # out = col2im(x @ w.T): the conv input gradient with x as its dout.
    dout_g = xl.reshape(1, N * H * W, C)
    out = _input_grad(dout_g, wx.reshape(1, HH * WW * F, C), (N, Ho, Wo, F), win)
    out = out + b.astype(x.dtype, copy=False)
    cache = (xl, wx, w.dtype, b.dtype, conv_param, channels_last)
    return (out if channels_last else out.transpose(0, 3, 1, 2)), cache


def conv_transpose_backward(
    dout: Array, cache: Cache, *, need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward pass of :func:`conv_transpose_forward`: the conv forward pass.

    Shapes:
        dout: like out;  dx: like x;  dw: (HH, WW, F, C);  db: (F,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`conv_transpose_forward`.
        need_dx: compute the input gradient. Defaults to `True`.

    Returns:
        (dx, dw, db); dx is None when ``need_dx`` is false.
    """
    xl, wx, w_dtype, b_dtype, conv_param, channels_last = cache
    dl = dout if channels_last else dout.transpose(0, 2, 3, 1)
    xp = get_array_module(dl)
    param = {k: conv_param[k] for k in ("stride", "pad", "dilation") if k in conv_param}
    # dx = conv(dout, w); dw is that conv's weight gradient with x upstream.
    zero = xp.zeros(wx.shape[3], dtype=dl.dtype)
    dxl, conv_cache = conv_forward_nhwc(dl, wx, zero, param)
    _, dw, _ = conv_backward_nhwc(
        xl.astype(dl.dtype, copy=False), conv_cache, need_dx=False
    )
    db = dl.sum(axis=(0, 1, 2)).astype(b_dtype)
    dx = None
    if need_dx:
        dx = dxl if channels_last else dxl.transpose(0, 3, 1, 2)
    return dx, dw.astype(w_dtype, copy=False), db


def _spans(win: Window, i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of the padded output that input (i, j) writes to."""
    (HH, WW), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    return (
        slice(i * sh, i * sh + dh * (HH - 1) + 1, dh),
        slice(j * sw, j * sw + dw * (WW - 1) + 1, dw),
    )


def conv_transpose_forward_naive(
    x: Array,
    w: Array,
    b: Array,
    conv_param: dict[str, Any],
    *,
    channels_last: bool = False,
) -> tuple[Array, Cache]:
    """The loop twin of :func:`conv_transpose_forward`.

    ``outpad[n, :, window (i, j)] += x[n, c, i, j] * w[:, :, :, c]`` for every
    sample, input channel and input position, then the pads are cropped and the
    bias added.
    """
    (Ho, Wo), win = _geometry(x, w, b, conv_param, channels_last=channels_last)
    xc = x.transpose(0, 3, 1, 2) if channels_last else x
    xp = get_array_module(xc)
    N, C, H, W = xc.shape
    wf = w.transpose(3, 2, 0, 1)  # (C, F, HH, WW)
    (top, bottom), (left, right) = win.pads
    F = w.shape[2]
    outpad = xp.zeros((N, F, Ho + top + bottom, Wo + left + right), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    rows, cols = _spans(win, i, j)
                    outpad[n, :, rows, cols] += xc[n, c, i, j] * wf[c]
    out = outpad[:, :, top : top + Ho, left : left + Wo] + b[None, :, None, None]
    out = out.transpose(0, 2, 3, 1) if channels_last else out
    return out, (xc, w, win, channels_last)


def conv_transpose_backward_naive(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_transpose_forward_naive`, by the same loops."""
    xc, w, win, channels_last = cache
    dc = dout.transpose(0, 3, 1, 2) if channels_last else dout
    xp = get_array_module(dc)
    N, C, H, W = xc.shape
    wf = w.transpose(3, 2, 0, 1)
    (top, bottom), (left, right) = win.pads
    dpad = xp.pad(dc, ((0, 0), (0, 0), (top, bottom), (left, right)))
    dx = xp.zeros_like(xc)
    dwf = xp.zeros_like(wf)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    rows, cols = _spans(win, i, j)
                    window = dpad[n, :, rows, cols]
                    dx[n, c, i, j] = xp.sum(window * wf[c])
                    dwf[c] += xc[n, c, i, j] * window
    dx = dx.transpose(0, 2, 3, 1) if channels_last else dx
    return dx, dwf.transpose(2, 3, 1, 0), dc.sum(axis=(0, 2, 3))
