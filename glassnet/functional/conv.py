"""Convolution, the loop version: the readable specification of ``conv_fast``.

Plain loops over samples, filters and output positions, as in the cs231n notes;
each output is the sum of one (C // groups, HH, WW) window times one filter. Slow,
but every line maps to the formula, and the tests use it as the oracle for
:mod:`glassnet.functional.conv_fast`.

``conv_param`` keys:

- ``'stride'``: an int or a pair ``(sh, sw)``. Required.
- ``'pad'``: zero padding; an int, a pair ``(ph, pw)`` or ``((top, bottom), (left,
  right))`` for the asymmetric 'same' padding of Keras/TensorFlow. Required.
- ``'dilation'``: an int or a pair; the gap between filter taps. Defaults to `1`.
- ``'groups'``: filters in group g see only channels g*C/groups to (g+1)*C/groups.
  Defaults to `1`.

Output sizes are floored (as PyTorch and TensorFlow do), never asserted:
``H_out = 1 + (H + pad_top + pad_bottom - dilation * (HH - 1) - 1) // stride``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from glassnet._internal.checks import fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._im2col import Window, conv_window

__all__ = ["conv_backward_naive", "conv_forward_naive"]


class _NaiveConvCache(NamedTuple):
    x: Array
    w: Array
    b: Array
    conv_param: dict[str, Any]
    win: Window
    groups: int


def _padded(x: Array, win: Window) -> Array:
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), *win.pads))


def _window(win: Window, i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input that output (i, j) reads."""
    (HH, WW), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    h0, w0 = i * sh, j * sw
    return slice(h0, h0 + dh * (HH - 1) + 1, dh), slice(w0, w0 + dw * (WW - 1) + 1, dw)


def conv_forward_naive(
    x: Array, w: Array, b: Array, conv_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Convolution (cross-correlation, as in every DL framework) by explicit loops.

    ``out[n, f, i, j] = b[f] + sum(xpad[n, group of f, window (i, j)] * w[f])``.

    Shapes:
        x: (N, C, H, W)
        w: (F, C // groups, HH, WW)
        b: (F,)
        out: (N, F, H_out, W_out)

    Args:
        x: input images.
        w: filters.
        b: biases.
        conv_param: ``'stride'``, ``'pad'`` and optionally ``'dilation'`` and
            ``'groups'``, as described in the module docstring.

    Returns:
        out, and a cache that only :func:`conv_backward_naive` should open (it
        unpacks as ``x, w, b, conv_param, ...``).

    Raises:
        ValueError: for a wrong rank or shape of x, w or b, groups that do not
            divide C and F, missing or invalid conv_param entries, or an output
            smaller than 1 x 1.
    """
    win, groups = conv_window(x, w, b, conv_param, channels_last=False)
    xp = get_array_module(x)
    N, F, Cg = x.shape[0], w.shape[0], w.shape[1]
    Fg = F // groups
    xpad = _padded(x, win)
    out = xp.empty((N, F, *win.out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for i in range(win.out[0]):
                for j in range(win.out[1]):
                    rows, cols = _window(win, i, j)
                    window = xpad[n, c0 : c0 + Cg, rows, cols]
                    out[n, f, i, j] = xp.sum(window * w[f]) + b[f]
    return out, _NaiveConvCache(x, w, b, conv_param, win, groups)


def conv_backward_naive(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`conv_forward_naive`, by the same loops.

    Each output is a dot product of a window and a filter, so its upstream gradient
    flows to the window as ``dout * w[f]`` and to the filter as ``dout * window``;
    windows overlap, hence ``+=``.

    Shapes:
        dout: (N, F, H_out, W_out)
        dx: (N, C, H, W);  dw: (F, C // groups, HH, WW);  db: (F,)

    Args:
        dout: upstream gradient.
        cache: the cache returned by :func:`conv_forward_naive`.

    Returns:
        (dx, dw, db).

    Raises:
        ValueError: when cache does not come from conv_forward_naive or dout has
            the wrong shape.
    """
    if not isinstance(cache, _NaiveConvCache):
        raise fail("cache", "the cache of conv_forward_naive", type(cache).__name__)
    x, w, b, _, win, groups = cache
    xp = get_array_module(dout, x)
    N, F, Cg = x.shape[0], w.shape[0], w.shape[1]
    if getattr(dout, "shape", None) != (N, F, *win.out):
        raise fail("dout", f"shape {(N, F, *win.out)}", getattr(dout, "shape", dout))
    Fg = F // groups
    xpad = _padded(x, win)
    dxpad = xp.zeros_like(xpad)
    dw = xp.zeros_like(w)
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for i in range(win.out[0]):
                for j in range(win.out[1]):
                    rows, cols = _window(win, i, j)
                    g = dout[n, f, i, j]
                    dxpad[n, c0 : c0 + Cg, rows, cols] += g * w[f]
                    dw[f] += g * xpad[n, c0 : c0 + Cg, rows, cols]
    (top, _), (left, _) = win.pads
    dx = dxpad[:, :, top : top + x.shape[2], left : left + x.shape[3]]
    db = xp.sum(dout, axis=(0, 2, 3)).astype(b.dtype, copy=False)
    return dx, dw, db
