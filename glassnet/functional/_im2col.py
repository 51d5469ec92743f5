"""Window geometry and im2col/col2im, shared by the conv and pooling kernels.

The first half parses ``stride``/``pad``/``dilation``/``groups`` and computes output
sizes; the naive and fast twins both call it, so they accept and refuse exactly the
same inputs. The second half builds strided window views over channels-last arrays
and scatters window gradients back; only the fast twins use it.

Output sizes are floored, as in PyTorch and TensorFlow (cs231n asserts instead)::

    H_out = 1 + (H + pad_top + pad_bottom - dilation * (HH - 1) - 1) // stride

so rows or columns that no window reaches get a zero gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from glassnet._internal.checks import check_array, check_int, check_param_dict, fail
from glassnet.backend import Array, get_array_module

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]

_PAD_FORMS = "an int >= 0, a pair (ph, pw) or ((top, bottom), (left, right))"


class Window(NamedTuple):
    """Geometry of a sliding window over the (H, W) plane."""

    kernel: Pair  # (HH, WW)
    stride: Pair
    dilation: Pair
    pads: Pads  # ((top, bottom), (left, right))
    out: Pair  # (H_out, W_out)


def _is_seq(value: Any) -> bool:
    return isinstance(value, tuple | list)


def as_pair(name: str, value: Any, *, min_value: int) -> Pair:
    """Read an int or a pair of ints as ``(vertical, horizontal)``."""
    if _is_seq(value):
        if len(value) != 2:
            raise fail(name, "an int or a pair of ints", repr(value))
        return (
            check_int(name, value[0], min_value=min_value),
            check_int(name, value[1], min_value=min_value),
        )
    v = check_int(name, value, min_value=min_value)
    return (v, v)


def as_pads(name: str, value: Any) -> Pads:
    """Read a padding spec as ``((top, bottom), (left, right))``."""
    if _is_seq(value) and len(value) == 2 and all(_is_seq(v) for v in value):
        return (
            as_pair(name, value[0], min_value=0),
            as_pair(name, value[1], min_value=0),
        )
    if _is_seq(value) and (len(value) != 2 or any(_is_seq(v) for v in value)):
        raise fail(name, _PAD_FORMS, repr(value))
    ph, pw = as_pair(name, value, min_value=0)
    return ((ph, ph), (pw, pw))


def _out_size(axis: str, size: int, pads: Pair, k: int, s: int, d: int) -> int:
    span = d * (k - 1) + 1
    padded = size + pads[0] + pads[1]
    if padded < span:
        raise fail(
            "x",
            f"a padded {axis} (input + pad) >= the (dilated) window {axis} {span}",
            f"{axis} {size} padded to {padded}",
        )
    return 1 + (padded - span) // s


def make_window(
    hw: Pair, kernel: Pair, stride: Pair, dilation: Pair, pads: Pads
) -> Window:
    """Bundle the geometry and compute ``(H_out, W_out)``; ValueError if < 1."""
    out = (
        _out_size("height", hw[0], pads[0], kernel[0], stride[0], dilation[0]),
        _out_size("width", hw[1], pads[1], kernel[1], stride[1], dilation[1]),
    )
    return Window(kernel, stride, dilation, pads, out)


def conv_window(
    x: Array, w: Array, b: Array, conv_param: Any, *, channels_last: bool
) -> tuple[Window, int]:
    """Validate conv inputs; return the window geometry and the number of groups.

    NCHW: x (N, C, H, W), w (F, C // groups, HH, WW). Channels-last: x (N, H, W, C),
    w (HH, WW, C // groups, F). b is (F,) in both.
    """
    check_array("x", x, ndim=4, floating=True)
    check_array("w", w, ndim=4, floating=True)
    check_param_dict("conv_param", conv_param, ("stride", "pad"))
    if channels_last:
        _, H, W, C = x.shape
        HH, WW, Cg, F = w.shape
        w_form = f"(HH, WW, {{}}, {F})"
    else:
        _, C, H, W = x.shape
        F, Cg, HH, WW = w.shape
        w_form = f"({F}, {{}}, HH, WW)"
    groups = check_int("conv_param['groups']", conv_param.get("groups", 1), min_value=1)
    check_array("b", b, ndim=1, floating=True)
    _check_filter_layout(w, b, C // groups, channels_last=channels_last)
    if C % groups:
        raise fail("conv_param['groups']", f"a divisor of the channels C = {C}", groups)
    if F % groups:
        raise fail("conv_param['groups']", f"a divisor of the filters F = {F}", groups)
    if Cg != C // groups:
        want = w_form.format(C // groups)
        raise fail("w", f"shape {want} with C // groups = {C // groups}", w.shape)
    check_array("b", b, shape=(F,), floating=True)
    stride = as_pair("conv_param['stride']", conv_param["stride"], min_value=1)
    dilation = as_pair(
        "conv_param['dilation']", conv_param.get("dilation", 1), min_value=1
    )
    pads = as_pads("conv_param['pad']", conv_param["pad"])
    return make_window((H, W), (HH, WW), stride, dilation, pads), groups


_LAYOUTS = {  # channels_last: (this layout, the other one, how to convert)
    True: ("(HH, WW, C // groups, F)", "NCHW (F, C // groups, HH, WW)", (2, 3, 1, 0)),
    False: (
        "(F, C // groups, HH, WW)",
        "channels-last (HH, WW, C // groups, F)",
        (3, 2, 0, 1),
    ),
}


def _check_filter_layout(w: Array, b: Array, Cg: int, *, channels_last: bool) -> None:
    """Blame ``w``, not ``b``, for a filter given in the other layout.

    An NCHW filter (F, C, HH, WW) read as channels-last (HH, WW, C, F) takes its
    last spatial size for F, so the first mismatch found would be b's length;
    when w reads consistently only in the other layout, say so instead.
    """
    nb = b.shape[0]
    here = (w.shape[2], w.shape[3]) if channels_last else (w.shape[1], w.shape[0])
    there = (w.shape[1], w.shape[0]) if channels_last else (w.shape[2], w.shape[3])
    if here == (Cg, nb) or there != (Cg, nb):
        return
    form, other, axes = _LAYOUTS[channels_last]
    kernel = "conv_forward_nhwc" if channels_last else "conv_forward_fast/naive"
    raise fail(
        "w",
        f"the {kernel} layout {form} with C // groups = {Cg} and F = {nb} (b's length)",
        f"shape {tuple(w.shape)}, the {other} layout; convert it with "
        f"w.transpose{axes}",
    )


def pool_window(x: Array, pool_param: Any, *, channels_last: bool) -> Window:
    """Validate pooling inputs and return the window geometry.

    Each pad side must be smaller than the pool, so that every window holds at
    least one real cell (TensorFlow's 'same' padding never needs more).
    """
    check_array("x", x, ndim=4, floating=True)
    check_param_dict("pool_param", pool_param, ("pool_height", "pool_width", "stride"))
    kernel = (
        check_int("pool_param['pool_height']", pool_param["pool_height"], min_value=1),
        check_int("pool_param['pool_width']", pool_param["pool_width"], min_value=1),
    )
    stride = as_pair("pool_param['stride']", pool_param["stride"], min_value=1)
    pads = as_pads("pool_param['pad']", pool_param.get("pad", 0))
    if max(pads[0]) >= kernel[0] or max(pads[1]) >= kernel[1]:
        raise fail(
            "pool_param['pad']", f"each side smaller than the pool {kernel}", pads
        )
    hw = (x.shape[1], x.shape[2]) if channels_last else (x.shape[2], x.shape[3])
    return make_window(hw, kernel, stride, (1, 1), pads)


# ---- channels-last strided views (fast twins only) ---------------------------------


def has_padding(win: Window) -> bool:
    return any(win.pads[0]) or any(win.pads[1])


def pad_nhwc(x: Array, pads: Pads, fill: float) -> Array:
    """Pad axes 1 and 2 of ``x`` (N, H, W, ...) with ``fill``; no copy if no pad."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    xp = get_array_module(x)
    N, H, W = x.shape[:3]
    shape = (N, H + top + bottom, W + left + right, *x.shape[3:])
    xpad = xp.full(shape, fill, dtype=x.dtype)
    xpad[:, top : top + H, left : left + W] = x
    return xpad


def crop_nhwc(xpad: Array, pads: Pads, hw: Pair) -> Array:
    """Undo :func:`pad_nhwc`: the view of ``xpad`` that the input occupied."""
    (top, _), (left, _) = pads
    return xpad[:, top : top + hw[0], left : left + hw[1]]


def windows_nhwc(xpad: Array, win: Window) -> Array:
    """Read-only view (N, H_out, W_out, HH, WW, C) of every window of ``xpad``.

    Window (i, j) at offset (p, q) is ``xpad[:, i*sh + p*dh, j*sw + q*dw, :]``: the
    strides of the view are the input's, scaled by stride and dilation.
    """
    xp = get_array_module(xpad)
    sN, sH, sW, sC = xpad.strides
    (sh, sw), (dh, dw) = win.stride, win.dilation
    shape = (xpad.shape[0], *win.out, *win.kernel, xpad.shape[3])
    strides = (sN, sH * sh, sW * sw, sH * dh, sW * dw, sC)
    return xp.lib.stride_tricks.as_strided(
        xpad, shape=shape, strides=strides, writeable=False
    )


def offset_slices(win: Window, p: int, q: int) -> tuple[slice, slice, slice]:
    """Index of the cells that window offset (p, q) touches, over all windows."""
    (sh, sw), (dh, dw), (Ho, Wo) = win.stride, win.dilation, win.out
    return (
        slice(None),
        slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh),
        slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw),
    )


def col2im_nhwc(
    dxpad: Array, grad_at: Callable[[int, int], Array], win: Window
) -> Array:
    """Add every window's gradient back into ``dxpad`` (N, H_pad, W_pad, ...).

    The adjoint of :func:`windows_nhwc`: a cell gets the sum over every window that
    read it. ``grad_at(p, q)`` is the gradient reaching offset (p, q) of every
    window, shaped (N, H_out, W_out, ...). One slice-add per kernel offset (HH * WW
    of them), none per sample.
    """
    HH, WW = win.kernel
    for p in range(HH):
        for q in range(WW):
            dxpad[offset_slices(win, p, q)] += grad_at(p, q)
    return dxpad


def tf_axis_geometry(
    name: str, axis: str, size: Any, k: int, s: int, d: int, padding: str
) -> tuple[Any, Pair]:
    """TensorFlow's output size and ``(before, after)`` padding along one axis:
    'valid' pads nothing, 'same' gives ``ceil(size / s)`` outputs and pads
    ``max((out - 1) * s + k_eff - size, 0)`` cells, the odd one after. ``size``
    may be None (unknown: so is the output size). The one place the layers and
    ``glassnet.ops`` take the rule from.

    Raises:
        ValueError: naming ``name`` for a size below the dilated window with
            'valid', or a padding other than 'valid' and 'same'.
    """
    if padding not in ("valid", "same"):
        raise fail("padding", "'valid' or 'same'", repr(padding))
    if size is None:
        return None, (0, 0)
    k_eff = d * (k - 1) + 1
    if padding == "valid":
        if size < k_eff:
            raise fail(
                name,
                f"a {axis} of at least the window's {k_eff} with padding='valid'",
                f"{axis} {size}",
            )
        return (size - k_eff) // s + 1, (0, 0)
    out = -(-size // s)
    total = max((out - 1) * s + k_eff - size, 0)
    return out, (total // 2, total - total // 2)


__all__: list[str] = []
