"""Image resizing: the kernel of ``Resizing``, ``CenterCrop``, ``RandomCrop``
and interpolating ``UpSampling2D``.

Keras' convention (``keras.ops.image.resize``, half-pixel centres): output
index o of an axis resized from ``n_in`` to ``n_out`` samples the input at
``s = (o + 0.5) * n_in / n_out - 0.5``.

- ``"nearest"`` reads input ``floor((o + 0.5) * n_in / n_out)``;
- ``"bilinear"``, ``"bicubic"`` (Keys, a = -0.5), ``"lanczos3"`` and
  ``"lanczos5"`` weigh input i by ``kernel(|s - i| / scale)``, the weights of
  each output renormalised to sum to 1 (so near the edges the missing
  neighbours are left out, and bilinear clamps to the edge pixel, as
  ``torch.nn.functional.interpolate(align_corners=False)``). ``scale`` is 1,
  or with ``antialias`` and downsampling ``n_in / n_out``, which widens the
  kernel into a low-pass filter (Keras' NumPy and JAX rule).

Each axis is one matrix ``(n_out, n_in)`` of those weights, so resizing is
``Wh @ x @ Ww.T`` per image and channel and its backward pass is
``Wh.T @ dout @ Ww``. :func:`resize_forward_naive` is the loop twin, output
pixel by output pixel, with the weights derived tap by tap.

:func:`crop_to_aspect_ratio` and :func:`pad_to_aspect_ratio` give the crops and
pads that Keras applies before resizing to keep the aspect ratio;
:func:`aspect_resize_forward` chains them with the resize (Keras' ``resize``
and ``smart_resize``) and :func:`center_crop_forward` is ``CenterCrop``'s
kernel. Their backward, :func:`aspect_resize_backward`, runs each step's
adjoint (a crop's is a zero pad, a pad's a crop) in reverse order.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import check_array, check_choice, check_int, fail
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._im2col import Pads, Pair
from glassnet.functional.spatial import (
    crop2d_backward,
    crop2d_forward,
    zero_pad2d_backward,
    zero_pad2d_forward,
)

__all__ = [
    "RESIZE_INTERPOLATIONS",
    "aspect_resize_backward",
    "aspect_resize_forward",
    "center_crop_forward",
    "crop_to_aspect_ratio",
    "pad_to_aspect_ratio",
    "resize_backward",
    "resize_backward_naive",
    "resize_forward",
    "resize_forward_naive",
    "resize_weights",
]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def _triangle(d: Any) -> Any:
    return np.maximum(0.0, 1.0 - d)


def _keys_cubic(d: Any) -> Any:
    # Keys' cubic convolution kernel with a = -0.5, piecewise on [0, 1), [1, 2).
    near = ((1.5 * d - 2.5) * d) * d + 1.0
    far = ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    return np.where(d < 1.0, near, np.where(d < 2.0, far, 0.0))


def _lanczos(radius: float) -> Any:
    def kernel(d: Any) -> Any:
        # sinc(d) * sinc(d / radius), with its limit 1 at d = 0.
        return np.where(d < radius, np.sinc(d) * np.sinc(d / radius), 0.0)

    return kernel


_KERNELS = {
    "bilinear": _triangle,
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def resize_weights(
    n_in: int, n_out: int, interpolation: str = "bilinear", antialias: bool = False
) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix that resizes one axis (float64, NumPy).

    Row o holds the weights of output o over the inputs; each row sums to 1.

    Args:
        n_in: the input size, >= 1.
        n_out: the output size, >= 1.
        interpolation: one of ``RESIZE_INTERPOLATIONS``. Defaults to
            `"bilinear"`.
        antialias: widen the kernel when downsampling. Defaults to `False`.

    Raises:
        ValueError: for sizes below 1 or an unknown interpolation.
    """
    n_in = check_int("n_in", n_in, min_value=1)
    n_out = check_int("n_out", n_out, min_value=1)
    check_choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)
    o = np.arange(n_out)
    if interpolation == "nearest":
        w = np.zeros((n_out, n_in))
        # floor((o + 0.5) * n_in / n_out) in exact integer arithmetic.
        w[o, ((2 * o + 1) * n_in) // (2 * n_out)] = 1.0
        return w
    inv_scale = n_in / n_out
    width = max(inv_scale, 1.0) if antialias else 1.0
    s = (o + 0.5) * inv_scale - 0.5
    w = _KERNELS[interpolation](np.abs(s[:, None] - np.arange(n_in)[None, :]) / width)
    # Every s lies in [-0.5, n_in - 0.5], so each row has a positive weight.
    return w / w.sum(axis=1, keepdims=True)


class _ResizeCache(NamedTuple):
    wh: Array
    ww: Array
    axes: tuple[int, int]
    x_shape: tuple[int, ...]


def _check(
    x: Array, size: Any, interpolation: str, channels_last: bool
) -> tuple[Pair, tuple[int, int]]:
    check_array("x", x, ndim=4, floating=True)
    if not isinstance(size, list | tuple) or len(size) != 2:
        raise fail("size", "a pair (height, width) of ints >= 1", repr(size))
    size = (
        check_int("size", size[0], min_value=1),
        check_int("size", size[1], min_value=1),
    )
    check_choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)
    return size, ((1, 2) if channels_last else (2, 3))


def _along(x: Array, w: Array, axis: int, xp: Any) -> Array:
    """Apply the (n_out, n_in) matrix ``w`` to ``axis`` of x."""
    return xp.moveaxis(xp.tensordot(x, w, axes=([axis], [1])), -1, axis)


def resize_forward(
    x: Array,
    size: Any,
    interpolation: str = "bilinear",
    *,
    antialias: bool = False,
    channels_last: bool = True,
) -> tuple[Array, Cache]:
    """Resize each image to ``size = (height, width)``.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) without ``channels_last``
        out: (N, height, width, C), or channels-first

    Args:
        x: the images, floating point.
        size: the output ``(height, width)``, ints >= 1.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``,
            ``"lanczos3"`` or ``"lanczos5"``. Defaults to `"bilinear"`.
        antialias: low-pass filter when downsampling (not for nearest).
            Defaults to `False`.
        channels_last: whether x is (N, H, W, C). Defaults to `True`.

    Returns:
        out, and a cache (the two weight matrices) for :func:`resize_backward`.

    Raises:
        ValueError: for x not a rank-4 float array, a bad ``size`` or an
            unknown interpolation.

    Example:
        >>> import numpy as np
        >>> x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
        >>> resize_forward(x, (1, 4))[0].ravel().tolist()
        [0.0, 0.25, 0.75, 1.0]
    """
    (ho, wo), (ah, aw) = _check(x, size, interpolation, channels_last)
    xp = get_array_module(x)
    wh, ww = (
        xp.asarray(resize_weights(x.shape[a], n, interpolation, antialias), x.dtype)
        for a, n in ((ah, ho), (aw, wo))
    )
    out = _along(_along(x, wh, ah, xp), ww, aw, xp)
    return out, _ResizeCache(wh, ww, (ah, aw), x.shape)


def resize_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`resize_forward`: the transposed weights applied.

    Shapes:
        dout: like out;  dx: like x

    Raises:
        ValueError: when cache does not come from resize_forward or dout has the
            wrong shape.
    """
    if not isinstance(cache, _ResizeCache):
        raise fail("cache", "the cache of resize_forward", type(cache).__name__)
    (ah, aw), shape = cache.axes, list(cache.x_shape)
    shape[ah], shape[aw] = cache.wh.shape[0], cache.ww.shape[0]
    check_array("dout", dout, shape=shape)
    xp = get_array_module(dout)
    wh, ww = cache.wh.astype(dout.dtype), cache.ww.astype(dout.dtype)
    return _along(_along(dout, wh.T, ah, xp), ww.T, aw, xp)


def _axis_taps(
    o: int, n_in: int, n_out: int, interpolation: str, antialias: bool
) -> list[tuple[int, float]]:
    """The (input index, weight) pairs of output o along one axis, one by one."""
    if interpolation == "nearest":
        return [(min(math.floor((o + 0.5) * n_in / n_out), n_in - 1), 1.0)]
    s = (o + 0.5) * n_in / n_out - 0.5
    if interpolation == "bilinear" and not antialias:
        s = min(max(s, 0.0), n_in - 1.0)  # the edge pixel repeated
        i0 = math.floor(s)
        i1 = min(i0 + 1, n_in - 1)
        return [(i0, 1.0 - (s - i0)), (i1, s - i0)]
    width = max(n_in / n_out, 1.0) if antialias else 1.0
    kernel = _KERNELS[interpolation]
    taps = [(i, float(kernel(abs(s - i) / width))) for i in range(n_in)]
    total = sum(w for _, w in taps)
    return [(i, w / total) for i, w in taps if w != 0.0]


def resize_forward_naive(
    x: Array,
    size: Any,
    interpolation: str = "bilinear",
    *,
    antialias: bool = False,
    channels_last: bool = True,
) -> tuple[Array, Cache]:
    """:func:`resize_forward` by loops over the output pixels and their taps.

    The readable specification: same arguments, shapes and output; the cache
    is for :func:`resize_backward_naive` only.
    """
    (ho, wo), _ = _check(x, size, interpolation, channels_last)
    xc = x if channels_last else x.transpose(0, 2, 3, 1)
    N, H, W, C = xc.shape
    out = np.zeros((N, ho, wo, C), dtype=x.dtype)
    taps = []
    for i in range(ho):
        for j in range(wo):
            for r, wr in _axis_taps(i, H, ho, interpolation, antialias):
                for c, wc in _axis_taps(j, W, wo, interpolation, antialias):
                    out[:, i, j, :] += wr * wc * xc[:, r, c, :]
                    taps.append((i, j, r, c, wr * wc))
    out = out if channels_last else out.transpose(0, 3, 1, 2)
    return out, (taps, x.shape, channels_last)


def resize_backward_naive(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`resize_forward_naive`, by the same taps: each
    output pixel sends its weighted gradient to the pixels it read."""
    taps, x_shape, channels_last = cache
    dc = dout if channels_last else dout.transpose(0, 2, 3, 1)
    N, H, W, C = x_shape if channels_last else np.array(x_shape)[[0, 2, 3, 1]]
    dx = np.zeros((N, H, W, C), dtype=dout.dtype)
    for i, j, r, c, w in taps:
        dx[:, r, c, :] += w * dc[:, i, j, :]
    return dx if channels_last else dx.transpose(0, 3, 1, 2)


def crop_to_aspect_ratio(height: int, width: int, target: Pair) -> Pads:
    """Keras' crop before resizing to ``target`` without distortion: the
    largest centred window of the target's aspect ratio.

    Returns:
        ``((top, bottom), (left, right))``, the rows and columns to remove.

    Example:
        >>> crop_to_aspect_ratio(8, 16, (10, 8))
        ((0, 0), (5, 5))
    """
    th, tw = target
    crop_h = max(min(height, int(width * th / tw)), 1)
    crop_w = max(min(width, int(height * tw / th)), 1)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return (top, height - crop_h - top), (left, width - crop_w - left)


def pad_to_aspect_ratio(height: int, width: int, target: Pair) -> Pads:
    """Keras' padding before resizing to ``target`` without distortion: the
    short side padded evenly (the same number of rows or columns each side).

    Returns:
        ``((top, bottom), (left, right))``, the rows and columns to add.

    Example:
        >>> pad_to_aspect_ratio(4, 8, (4, 4))
        ((2, 2), (0, 0))
    """
    th, tw = target
    top = (max(height, int(width * th / tw)) - height) // 2
    left = (max(width, int(height * tw / th)) - width) // 2
    if top > 0:  # Keras pads one axis only: rows first
        left = 0
    return (top, top), (left, left)


def aspect_resize_forward(
    x: Array,
    size: tuple[int, int],
    *,
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop: bool = False,
    pad: bool = False,
    fill_value: float = 0.0,
    channels_last: bool = True,
) -> tuple[Array, Cache]:
    """Keras' ``ops.image.resize``: resize to ``size``, after the centred crop
    (``crop``) or the even padding with ``fill_value`` (``pad``) that keeps the
    aspect ratio (:func:`crop_to_aspect_ratio`, :func:`pad_to_aspect_ratio`).

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) without ``channels_last``
        out: (N, height, width, C), or channels-first

    Args:
        x: the images, floating point.
        size: the output ``(height, width)``, ints >= 1.
        interpolation: as :func:`resize_forward`. Defaults to `"bilinear"`.
        antialias: as :func:`resize_forward`. Defaults to `False`.
        crop: crop to the target's aspect ratio first. Defaults to `False`.
        pad: pad to it instead (not with ``crop``). Defaults to `False`.
        fill_value: the value of the padding. Defaults to `0.0`.
        channels_last: whether x is (N, H, W, C). Defaults to `True`.

    Returns:
        out, and a cache (each step's backward kernel and cache) for
        :func:`aspect_resize_backward`.

    Raises:
        ValueError: as :func:`resize_forward`, and for both ``crop`` and ``pad``.
    """
    size, _ = _check(x, size, interpolation, channels_last)
    if crop and pad:
        raise fail("pad", "False when crop is True (only one can be)", True)
    h, w = x.shape[1:3] if channels_last else x.shape[2:4]
    steps: list[tuple[Any, Cache]] = []
    if crop or pad:
        edges = (crop_to_aspect_ratio if crop else pad_to_aspect_ratio)(h, w, size)
        if any(edges[0] + edges[1]):
            if crop:
                x, cache = crop2d_forward(x, edges, channels_last=channels_last)
                steps.append((crop2d_backward, cache))
            else:
                x, cache = zero_pad2d_forward(
                    x, edges, channels_last=channels_last, fill_value=fill_value
                )
                steps.append((zero_pad2d_backward, cache))
    out, cache = resize_forward(
        x, size, interpolation, antialias=antialias, channels_last=channels_last
    )
    steps.append((resize_backward, cache))
    return out, steps


def aspect_resize_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`aspect_resize_forward` and
    :func:`center_crop_forward`: each step's backward, last step first.

    Shapes:
        dout: like out;  dx: like x

    Raises:
        ValueError: when cache does not come from those kernels, or dout has
            the wrong shape.
    """
    if not isinstance(cache, list) or not all(
        isinstance(s, tuple) and len(s) == 2 for s in cache
    ):
        raise fail("cache", "the cache of aspect_resize_forward", type(cache).__name__)
    for backward, step_cache in reversed(cache):
        dout = backward(dout, step_cache)
    return dout


def center_crop_forward(
    x: Array, size: tuple[int, int], *, channels_last: bool = True
) -> tuple[Array, Cache]:
    """Keras' centre crop to ``size``: the central window (the extra row or
    column, if any, removed at the bottom or right); an image smaller than
    ``size`` on either axis is cropped to the aspect ratio and resized
    (bilinear) instead, as Keras does.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) without ``channels_last``
        out: (N, height, width, C), or channels-first

    Returns:
        out, and a cache for :func:`aspect_resize_backward`.

    Raises:
        ValueError: for x not a rank-4 float array or a bad ``size``.
    """
    size, _ = _check(x, size, "bilinear", channels_last)
    h, w = x.shape[1:3] if channels_last else x.shape[2:4]
    th, tw = size
    if h < th or w < tw:
        return aspect_resize_forward(x, size, crop=True, channels_last=channels_last)
    top, left = (h - th) // 2, (w - tw) // 2
    crops = ((top, h - th - top), (left, w - tw - left))
    out, cache = crop2d_forward(x, crops, channels_last=channels_last)
    return out, [(crop2d_backward, cache)]
