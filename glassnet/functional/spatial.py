"""Zero padding, cropping and nearest-neighbour upsampling of image batches.

Each kernel takes ``(N, C, H, W)`` (the cs231n layout) or, with
``channels_last=True``, ``(N, H, W, C)`` (Keras' default); only the two spatial
axes change. Padding and cropping are each other's adjoint: the backward of a
pad is a crop of ``dout`` and the backward of a crop is a zero pad, so neither
gradient is derived twice. Upsampling repeats each cell in a ``(sh, sw)`` block;
its backward sums each block of ``dout``. :func:`upsample_nearest_forward_naive`
is its loop twin, the readable specification that the tests hold the fast one
to.

``pads`` and ``crops`` take Keras' three forms: an int (every side), a pair
``(vertical, horizontal)`` (both sides of an axis) or ``((top, bottom), (left,
right))``.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_array, check_number, fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._im2col import Pads, Pair, as_pads, as_pair

__all__ = [
    "crop2d_backward",
    "crop2d_forward",
    "upsample_nearest_backward",
    "upsample_nearest_backward_naive",
    "upsample_nearest_forward",
    "upsample_nearest_forward_naive",
    "zero_pad2d_backward",
    "zero_pad2d_forward",
]


def _hw_axes(channels_last: bool) -> tuple[int, int]:
    return (1, 2) if channels_last else (2, 3)


def _spatial(pads: Pads, channels_last: bool) -> list[Pair]:
    """A per-axis list for ``xp.pad`` or slicing: ``pads`` on H and W only."""
    none = (0, 0)
    if channels_last:
        return [none, pads[0], pads[1], none]
    return [none, none, pads[0], pads[1]]


def _crop(x: Array, crops: Pads, channels_last: bool) -> Array:
    index = tuple(
        slice(a, x.shape[i] - b)
        for i, (a, b) in enumerate(_spatial(crops, channels_last))
    )
    return x[index]


def zero_pad2d_forward(
    x: Array, pads: Any, *, channels_last: bool = False, fill_value: float = 0.0
) -> tuple[Array, Cache]:
    """Pad the two spatial axes with zeros (or ``fill_value``).

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        out: (N, C, H + top + bottom, W + left + right), or channels-last

    Args:
        x: the images.
        pads: an int, ``(ph, pw)`` or ``((top, bottom), (left, right))``, each >= 0.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.
        fill_value: the value of the added cells; a constant, so the backward
            pass is the same crop whatever it is. Defaults to `0.0`.

    Returns:
        out, and a cache (the pads and the layout) for zero_pad2d_backward.

    Raises:
        ValueError: when ``x`` is not a rank-4 float array or ``pads`` is not one
            of the three forms of non-negative ints.
    """
    check_array("x", x, ndim=4, floating=True)
    pads = as_pads("pads", pads)
    fill_value = check_number("fill_value", fill_value)
    xp = get_array_module(x)
    out = xp.pad(x, _spatial(pads, channels_last), constant_values=fill_value)
    return out, (pads, channels_last)


def zero_pad2d_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`zero_pad2d_forward`: ``dout`` cropped back.

    Shapes:
        dout: like out;  dx: like x
    """
    pads, channels_last = cache
    check_array("dout", dout, ndim=4)
    return _crop(dout, pads, channels_last)


def crop2d_forward(
    x: Array, crops: Any, *, channels_last: bool = False
) -> tuple[Array, Cache]:
    """Remove rows and columns from the edges of the two spatial axes.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        out: (N, C, H - top - bottom, W - left - right), or channels-last

    Args:
        x: the images.
        crops: an int, ``(ch, cw)`` or ``((top, bottom), (left, right))``, each >= 0.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.

    Returns:
        out (a view of x), and a cache (the crops and the layout) for
        crop2d_backward.

    Raises:
        ValueError: when ``x`` is not a rank-4 float array, ``crops`` is not one
            of the three forms, or it leaves no row or no column (as Keras).
    """
    check_array("x", x, ndim=4, floating=True)
    crops = as_pads("crops", crops)
    h, w = (x.shape[i] for i in _hw_axes(channels_last))
    for axis, size, (a, b) in (("height", h, crops[0]), ("width", w, crops[1])):
        if a + b >= size:
            raise fail("crops", f"a total below the input's {axis} {size}", crops)
    return _crop(x, crops, channels_last), (crops, channels_last)


def crop2d_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`crop2d_forward`: ``dout`` padded back with zeros.

    Shapes:
        dout: like out;  dx: like x
    """
    crops, channels_last = cache
    check_array("dout", dout, ndim=4)
    return get_array_module(dout).pad(dout, _spatial(crops, channels_last))


def _check_size(size: Any) -> Pair:
    return as_pair("size", size, min_value=1)


def upsample_nearest_forward_naive(
    x: Array, size: Any, *, channels_last: bool = False
) -> tuple[Array, Cache]:
    """Nearest-neighbour upsampling by loops: ``out[i, j] = x[i // sh, j // sw]``.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``
        out: (N, C, H * sh, W * sw), or channels-last

    Args:
        x: the images.
        size: ``(sh, sw)`` or an int, the repeat factors, each >= 1.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.

    Returns:
        out, and a cache (the factors, the layout and x's shape) for
        upsample_nearest_backward_naive.
    """
    check_array("x", x, ndim=4, floating=True)
    sh, sw = _check_size(size)
    xp = get_array_module(x)
    xc = x if channels_last else x.transpose(0, 2, 3, 1)
    N, H, W, C = xc.shape
    out = xp.empty((N, H * sh, W * sw, C), dtype=x.dtype)
    for i in range(H * sh):
        for j in range(W * sw):
            out[:, i, j, :] = xc[:, i // sh, j // sw, :]
    out = out if channels_last else out.transpose(0, 3, 1, 2)
    return out, ((sh, sw), channels_last, x.shape)


def upsample_nearest_backward_naive(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`upsample_nearest_forward_naive`, by the same loops:
    each output cell sends its gradient to the one input cell it copied.

    Shapes:
        dout: like out;  dx: like x
    """
    (sh, sw), channels_last, x_shape = cache
    xp = get_array_module(dout)
    dc = dout if channels_last else dout.transpose(0, 2, 3, 1)
    N, Ho, Wo, C = dc.shape
    dx = xp.zeros((N, Ho // sh, Wo // sw, C), dtype=dout.dtype)
    for i in range(Ho):
        for j in range(Wo):
            dx[:, i // sh, j // sw, :] += dc[:, i, j, :]
    dx = dx if channels_last else dx.transpose(0, 3, 1, 2)
    if dx.shape != tuple(x_shape):
        raise fail("dout", f"the upsampled shape of {tuple(x_shape)}", dout.shape)
    return dx


def upsample_nearest_forward(
    x: Array, size: Any, *, channels_last: bool = False
) -> tuple[Array, Cache]:
    """Nearest-neighbour upsampling, vectorised: each cell repeated in a block.

    Same shapes, arguments and output as :func:`upsample_nearest_forward_naive`;
    the cache is for :func:`upsample_nearest_backward`.

    Raises:
        ValueError: when ``x`` is not a rank-4 float array or ``size`` is not an
            int or a pair of ints >= 1.
    """
    check_array("x", x, ndim=4, floating=True)
    sh, sw = _check_size(size)
    ah, aw = _hw_axes(channels_last)
    return x.repeat(sh, axis=ah).repeat(sw, axis=aw), ((sh, sw), channels_last)


def upsample_nearest_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`upsample_nearest_forward`: each block of ``dout``
    summed, through a reshape that splits each spatial axis into (cell, repeat).

    Shapes:
        dout: like out;  dx: like x
    """
    (sh, sw), channels_last = cache
    check_array("dout", dout, ndim=4)
    ah, aw = _hw_axes(channels_last)
    Ho, Wo = dout.shape[ah], dout.shape[aw]
    if Ho % sh or Wo % sw:
        raise fail("dout", f"spatial sizes divisible by size={(sh, sw)}", dout.shape)
    if channels_last:
        N, _, _, C = dout.shape
        return dout.reshape(N, Ho // sh, sh, Wo // sw, sw, C).sum(axis=(2, 4))
    N, C = dout.shape[:2]
    return dout.reshape(N, C, Ho // sh, sh, Wo // sw, sw).sum(axis=(3, 5))
