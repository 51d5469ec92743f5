"""Preprocessing layers: ``Rescaling``, ``Normalization``, ``Resizing`` and
``CenterCrop``, as in Keras.

``Rescaling`` and ``Normalization`` are fixed elementwise affine maps with no
trainable weights, so their backward passes only scale ``dout``.
``Normalization`` keeps its statistics as non-trainable weights, so
``model.save`` writes them to the safetensors file and ``load_model`` restores
them, whatever their size. ``Resizing`` and ``CenterCrop`` are linear maps of
the image (crops, pads and :mod:`glassnet.functional.resize`); their backward
passes run the same steps' adjoints in reverse.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._internal.checks import (
    check_array,
    check_choice,
    check_finite,
    check_int,
    check_number,
    fail,
)
from glassnet.backend import Array, get_array_module, to_numpy
from glassnet.functional.resize import (
    RESIZE_INTERPOLATIONS,
    aspect_resize_backward,
    aspect_resize_forward,
    center_crop_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape
from glassnet.layers.normalization import _is_int, _resolve_axes
from glassnet.layers.spatial import _Spatial2D

_EPSILON = 1e-7
"""Keras' ``backend.epsilon()``: the floor of the standard deviation, so that a
constant feature (variance 0) is not divided by zero."""

_CHUNK_VALUES = 1 << 22
"""``adapt`` reduces this many values at a time: bounded float64 temporaries."""


class Rescaling(Layer):
    """Rescales the input: ``out = x * scale + offset``.

    Typical use: ``Rescaling(1.0 / 255)`` maps pixels to [0, 1] and
    ``Rescaling(1.0 / 127.5, offset=-1)`` to [-1, 1]. Nothing is learnt.

    Shapes:
        x: (N, ...);  out: like x

    Args:
        scale: the factor, a real number.
        offset: added after scaling, a real number. Defaults to `0.0`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a ``scale`` or ``offset`` that is not a finite number.

    Example:
        >>> import numpy as np
        >>> Rescaling(1.0 / 127.5, offset=-1.0)(np.array([[0.0, 127.5, 255.0]]))
        array([[-1.,  0.,  1.]], dtype=float32)
    """

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = check_number("scale", scale)
        self.offset = check_number("offset", offset)

    def forward(self, x: Array, training: bool = False) -> Array:
        return x * self.scale + self.offset

    def backward(self, dout: Array) -> Array:
        return dout * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _check_axis(axis: Any) -> int | list[int] | None:
    """Check ``axis``: None, an int or a list/tuple of ints (kept as a list)."""
    if axis is None or _is_int(axis):
        return None if axis is None else int(axis)
    if isinstance(axis, list | tuple) and all(map(_is_int, axis)):
        return [int(a) for a in axis]
    raise fail("axis", "an int, a list of ints or None", repr(axis))


def _stat_array(name: str, value: Any) -> np.ndarray | None:
    """Check a constructor ``mean``/``variance``: numbers, finite (and >= 0)."""
    if value is None:
        return None
    try:
        arr = to_numpy(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "biuf":
        raise fail(name, "a number or an array of numbers", repr(value)[:80])
    arr = arr.astype(np.float64)
    check_finite(name, arr)
    if name == "variance" and bool((arr < 0).any()):
        raise fail(name, "non-negative values", f"minimum {arr.min()}")
    return arr


class Normalization(Layer):
    """Standardises the input with a fixed mean and variance, as Keras does.

    ``out = (x - mean) / max(sqrt(variance), 1e-7)``; with ``invert=True`` it
    undoes that, ``out = mean + x * max(sqrt(variance), 1e-7)``. The floor
    1e-7 is Keras' ``backend.epsilon()``. ``axis`` names the axes that keep
    separate statistics (the feature axes); every other axis, the batch
    included, is averaged over by :meth:`adapt`. ``axis=-1`` keeps one mean per
    channel, ``axis=(1, 2, 3)`` on (N, H, W, C) one per pixel and channel (a
    mean image), ``axis=None`` one scalar for everything.

    The statistics are set by the constructor (``mean`` and ``variance``,
    broadcast to the kept axes as in Keras), by :meth:`adapt`, or by
    ``set_weights([mean, variance])`` after the layer is built. Until then a
    built layer holds mean 0 and variance 1: the identity.

    Storage: two non-trainable weights, ``mean`` and ``variance``, created in
    ``build`` with Keras' shape, the input's sizes on the kept axes in axis
    order ((C,) for ``axis=-1``, (H, W, C) for ``axis=(1, 2, 3)``, () for
    ``axis=None``); ``forward`` reshapes them to broadcast against x, with
    ones on the other axes ((1, 1, 1, C), (1, H, W, C), (1, 1, 1, 1)). They
    travel in the weights file, not in the config. Unlike Keras there is no
    third ``count`` weight: ``adapt`` sees all the data at once and replaces
    the statistics (it does not merge them with earlier ones).

    Shapes:
        x: (N, ...);  out: like x
        mean, variance: the sizes of x on the kept axes

    Args:
        axis: the kept axis, a tuple/list of kept axes, or None; never the
            batch axis 0. Defaults to `-1`.
        mean: the mean, broadcastable to the kept axes' shape; needs
            ``variance`` too. Defaults to `None`.
        variance: the variance, likewise; values >= 0. Defaults to `None`.
        invert: apply the inverse map (de-normalise). Defaults to `False`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an ``axis`` that is not an int, a list of ints or None
            (or, when built, names the batch axis or one out of range), for
            only one of ``mean`` and ``variance``, for non-numeric, non-finite
            or (variance) negative statistics, and for statistics that do not
            broadcast to the kept axes' shape.

    Example:
        >>> import numpy as np
        >>> data = np.array([[0.0, 10.0], [2.0, 30.0]])
        >>> layer = Normalization()
        >>> layer.adapt(data)
        >>> [w.tolist() for w in layer.get_weights()]
        [[1.0, 20.0], [1.0, 100.0]]
        >>> layer(data)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> Normalization(mean=3.0, variance=4.0)(np.array([[5.0, 1.0]]))
        array([[ 1., -1.]], dtype=float32)
    """

    def __init__(
        self,
        axis: int | list[int] | tuple[int, ...] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axis: int | list[int] | None = _check_axis(axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                "mean and variance: expected both or neither; received "
                f"mean={_short(mean)} and variance={_short(variance)}"
            )
        self.input_mean = _stat_array("mean", mean)
        self.input_variance = _stat_array("variance", variance)
        if not isinstance(invert, bool):
            raise fail("invert", "True or False", repr(invert))
        self.invert = invert
        self._keep: tuple[int, ...] = ()
        self._broadcast_shape: tuple[int, ...] = ()

    @property
    def mean(self) -> Array | None:
        """The mean, shaped to broadcast against x (None before build)."""
        return (
            self.states["mean"].reshape(self._broadcast_shape) if self.built else None
        )

    @property
    def variance(self) -> Array | None:
        """The variance, shaped to broadcast against x (None before build)."""
        if not self.built:
            return None
        return self.states["variance"].reshape(self._broadcast_shape)

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        axes = [] if self.axis is None else self.axis
        axes = axes if isinstance(axes, list) else [axes]
        self._keep = _resolve_axes(
            tuple(axes), input_shape, self.name or self.default_name()
        )
        # _resolve_axes has checked that every kept size is known.
        sizes = [1 if d is None else int(d) for d in input_shape]
        kept_shape = tuple(sizes[a] for a in self._keep)
        self._broadcast_shape = tuple(
            sizes[a] if a in self._keep else 1 for a in range(len(sizes))
        )
        self.add_weight("mean", kept_shape, "zeros", rng, trainable=False)
        self.add_weight("variance", kept_shape, "ones", rng, trainable=False)
        super().build(input_shape)
        if self.input_mean is not None and self.input_variance is not None:
            self.set_weights(
                [
                    self._fit("mean", self.input_mean),
                    self._fit("variance", self.input_variance),
                ]
            )

    def _fit(self, name: str, value: np.ndarray) -> np.ndarray:
        """Broadcast a constructor statistic to the weight's shape, as Keras."""
        try:
            full = np.broadcast_to(value, self._broadcast_shape)
        except ValueError:
            raise fail(
                name,
                f"values that broadcast to {self._broadcast_shape} (the input's "
                f"sizes on the kept axes {self._keep}, ones elsewhere)",
                f"shape {value.shape}",
            ) from None
        return full.reshape(self.states[name].shape)

    def adapt(
        self, data: Any, batch_size: int | None = None, steps: Any = None
    ) -> None:
        """Set ``mean`` and ``variance`` from ``data``, over every non-kept axis.

        The variance is the biased one (divided by the count), as in Keras;
        both are accumulated in float64, a slice of samples at a time. An
        unbuilt layer is built for ``data``'s sample shape first.

        Shapes:
            data: (N, ...), like the layer's inputs

        Args:
            data: a NumPy (or CuPy) array, or nested lists of numbers.
            batch_size: accepted for tf.keras compatibility; the result does
                not depend on it. Defaults to `None`.
            steps: only None: as in tf.keras, steps do not apply to arrays.
                Defaults to `None`.

        Raises:
            ValueError: for non-numeric, non-finite or empty ``data``, or
                ``data`` whose sample shape does not fit the built layer.
        """
        if batch_size is not None:
            check_int("batch_size", batch_size, min_value=1)
        if steps is not None:
            raise fail("steps", "None (steps do not apply to arrays)", repr(steps))
        try:
            arr = to_numpy(data)
        except (TypeError, ValueError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "biuf" or arr.ndim < 1 or arr.shape[0] == 0:
            raise fail("data", "a non-empty numeric array (N, ...)", _short(data))
        check_finite("data", arr)
        if not self.built or self.input_shape is None:
            self.build((None, *arr.shape[1:]))
        check_array("data", arr, shape=(None, *(self.input_shape or ())[1:]))
        mean, variance = self._moments(arr)
        self.set_weights([mean, variance])

    def _moments(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two passes over slices of samples: the mean, then the squared deviations."""
        reduce = tuple(a for a in range(arr.ndim) if a not in self._keep)
        step = max(1, _CHUNK_VALUES // max(1, math.prod(arr.shape[1:])))
        chunks = [arr[i : i + step] for i in range(0, arr.shape[0], step)]
        count = arr.size // max(1, math.prod(self.states["mean"].shape))
        mean = sum(c.sum(axis=reduce, dtype=np.float64) for c in chunks) / count
        centre = np.reshape(mean, self._broadcast_shape)
        squares = sum(
            np.square(c.astype(np.float64) - centre).sum(axis=reduce) for c in chunks
        )
        return np.asarray(mean), np.asarray(squares / count)

    def forward(self, x: Array, training: bool = False) -> Array:
        xp = get_array_module(x)
        mean = self.states["mean"].reshape(self._broadcast_shape)
        std = self.states["variance"].reshape(self._broadcast_shape)
        std = xp.maximum(xp.sqrt(std), _EPSILON)
        self._cache = std
        return mean + x * std if self.invert else (x - mean) / std

    def backward(self, dout: Array) -> Array:
        # out is affine in x with slope 1/std (std when inverted); the
        # statistics are constants here, so they get no gradient.
        std, self._cache = self._cache, None
        return dout * std if self.invert else dout / std

    def get_config(self) -> dict[str, Any]:
        def plain(a: np.ndarray | None) -> Any:
            return None if a is None else a.tolist()

        return {
            **super().get_config(),
            "axis": self.axis,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
            "invert": self.invert,
        }


def _short(value: Any) -> str:
    """A short description for a message: the repr, or the shape of an array."""
    if hasattr(value, "shape") and getattr(value, "size", 0) > 8:
        return f"an array of shape {tuple(value.shape)}"
    return repr(value)[:80]


def _target(height: Any, width: Any) -> tuple[int, int]:
    return check_int("height", height, min_value=1), check_int(
        "width", width, min_value=1
    )


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise fail(name, "True or False", repr(value))
    return bool(value)


class _ImageResizer(_Spatial2D):
    """Images of any size in, ``(height, width)`` out; the backward pass runs
    the cached steps' adjoints."""

    _backward_kernel = staticmethod(aspect_resize_backward)

    def __init__(
        self, height: int, width: int, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(data_format, **kwargs)
        self.height, self.width = _target(height, width)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, _, c = self._split(input_shape)
        return L.join_shape(
            input_shape[0], self.height, self.width, c, self.data_format
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}


class Resizing(_ImageResizer):
    """Resizes images to ``(height, width)``, as Keras' ``Resizing``.

    Sampling follows ``keras.ops.image.resize`` (half-pixel centres; see
    :mod:`glassnet.functional.resize`). With ``crop_to_aspect_ratio`` the
    largest centred window of the target's aspect ratio is resized (no
    distortion); with ``pad_to_aspect_ratio`` the short side is first padded
    evenly with ``fill_value``.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``;
            any H and W
        out: (N, height, width, C), or channels-first

    Args:
        height: the output height, an int >= 1.
        width: the output width, an int >= 1.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``,
            ``"lanczos3"`` or ``"lanczos5"``. Defaults to `"bilinear"`.
        crop_to_aspect_ratio: crop to the target's aspect ratio first.
            Defaults to `False`.
        pad_to_aspect_ratio: pad to the target's aspect ratio first (not with
            ``crop_to_aspect_ratio``). Defaults to `False`.
        fill_mode: how padding is filled; only ``"constant"``, as in Keras.
            Defaults to `"constant"`.
        fill_value: the padding value. Defaults to `0.0`.
        antialias: low-pass filter when downsampling. Defaults to `False`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for sizes that are not ints >= 1, an unknown
            ``interpolation``, both aspect-ratio options, or a ``fill_mode``
            other than ``"constant"``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> Resizing(4, 4, interpolation="nearest")(x)[0, :, :, 0]
        array([[0., 0., 1., 1.],
               [0., 0., 1., 1.],
               [2., 2., 3., 3.],
               [2., 2., 3., 3.]], dtype=float32)
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(height, width, data_format, **kwargs)
        self.interpolation = check_choice(
            "interpolation", interpolation, RESIZE_INTERPOLATIONS
        )
        self.crop_to_aspect_ratio = _check_bool(
            "crop_to_aspect_ratio", crop_to_aspect_ratio
        )
        self.pad_to_aspect_ratio = _check_bool(
            "pad_to_aspect_ratio", pad_to_aspect_ratio
        )
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise fail(
                "pad_to_aspect_ratio",
                "False when crop_to_aspect_ratio is True (only one can be)",
                True,
            )
        self.fill_mode = check_choice("fill_mode", fill_mode, ("constant",))
        self.fill_value = check_number("fill_value", fill_value)
        self.antialias = _check_bool("antialias", antialias)

    def forward(self, x: Array, training: bool = False) -> Array:
        out, self._cache = aspect_resize_forward(
            x,
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop=self.crop_to_aspect_ratio,
            pad=self.pad_to_aspect_ratio,
            fill_value=self.fill_value,
            channels_last=self.channels_last,
        )
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


class CenterCrop(_ImageResizer):
    """Crops the centre of each image to ``(height, width)``, as Keras.

    An image smaller than the target on either axis is instead cropped to the
    target's aspect ratio and resized (bilinear), as Keras does.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        out: (N, height, width, C), or channels-first

    Args:
        height: the output height, an int >= 1.
        width: the output width, an int >= 1.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for sizes that are not ints >= 1.

    Example:
        >>> import numpy as np
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> CenterCrop(2, 2)(x)[0, :, :, 0]
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        out, self._cache = center_crop_forward(
            x, (self.height, self.width), channels_last=self.channels_last
        )
        return out


__all__ = ["CenterCrop", "Normalization", "Rescaling", "Resizing"]
