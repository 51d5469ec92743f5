"""``glassnet predict``'s inputs: read an image file, decide how to scale it.

The rules are those of :mod:`glassnet.cli.predict`'s docstring; everything that
cannot be interpreted is refused with a one-line :class:`CliError` naming the
file, what was found and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._internal.io import read_npy
from glassnet.cli._common import CliError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Float inputs may pass the accepted range by this fraction of its span (plus a
# rounding margin): test images differ a little from the training set's extremes.
_TOLERANCE = 0.01
_ROUNDING = 1e-6
_INT_KINDS = ("b", "i", "u")


@dataclass(frozen=True)
class Expected:
    """What a model takes: floats in [low, high] (None: any finite value), and
    the value a full-scale integer pixel maps to (None: integers are refused)."""

    low: float | None
    high: float | None
    full_scale: float | None
    trained_kind: str  # of the training dtype ("f", "i", "u", "b"; "" unknown)
    why: str  # how this was decided, for messages

    def pad(self) -> float:
        span = 0.0 if self.low is None or self.high is None else self.high - self.low
        return _TOLERANCE * span + _ROUNDING

    def holds(self, low: float, high: float) -> bool:
        if self.low is None or self.high is None:
            return True
        return self.low - self.pad() <= low and high <= self.high + self.pad()

    def range_text(self) -> str:
        return f"values in [{self.low:g}, {self.high:g}]"


def expected_inputs(record: dict[str, Any] | None, known_dataset: bool) -> Expected:
    """The inputs of a model trained on ``record`` (``model.trained_input``)."""
    if record is None:
        why = "the model file records no training range"
        if known_dataset:  # glassnet's dataset loaders and presets give [0, 1]
            return Expected(0.0, 1.0, 1.0, "", why + "; its dataset's is [0, 1]")
        return Expected(None, None, 1.0, "", why)
    low, high, dtype = record["min"], record["max"], record["dtype"]
    why = f"the model was trained on {dtype} values in [{low:g}, {high:g}]"
    kind = np.dtype(dtype).kind
    if low >= -_ROUNDING and high <= 1 + _ROUNDING:  # pixels scaled to [0, 1]
        return Expected(min(low, 0.0), max(high, 1.0), 1.0, kind, why)
    if low >= -_ROUNDING and 127 < high <= 255 + _ROUNDING:  # raw 8-bit pixels
        return Expected(min(low, 0.0), max(high, 255.0), 255.0, kind, why)
    # Standardised or otherwise transformed: no scale maps pixels onto it.
    return Expected(low, high, None, kind, why)


def _refuse_ambiguous(
    name: str, dtype: np.dtype, low: int, high: int, raw_max: int | None
) -> None:
    """Integer pixels whose scale cannot be told from their dtype: refused, not
    guessed (either guess gives confident wrong answers for the other)."""
    # All zeros read the same at every scale: nothing to tell apart.
    if dtype == np.uint16 and 0 < high <= 255:
        raise CliError(
            f"{name}: expected uint16 pixels using 16 bits (0..65535); received "
            f"values in [{low}, {high}], which look like 8-bit pixels: save them "
            "as uint8, or as floats in the model's range"
        )
    if 0 < high <= 1:
        raise CliError(
            f"{name}: expected integer pixels using their range (0..255); "
            f"received values in [{low}, {high}], which look like a binary image: "
            "give floats in the model's range, or 0/255 pixels"
        )
    if raw_max is not None and 0 < high <= raw_max:
        raise CliError(
            f"{name}: expected 8-bit pixels (0..255); received values in "
            f"[{low}, {high}], which look like the dataset's raw 0..{raw_max} "
            f"pixels: scale them to [0, 1] (x / {raw_max}) or save 0..255 images"
        )


def interpret(
    name: str, x: np.ndarray, expected: Expected, raw_max: int | None = None
) -> np.ndarray:
    """``x`` (a batch) as the model's inputs, or a CliError naming ``name``.

    ``raw_max``: the model's dataset stores pixels in 0..raw_max (digits: 16)
    rather than 0..255; integers that never pass it are refused as ambiguous.

    Shapes:
        x: (N, H, W, C);  out: the same shape
    """
    kind = x.dtype.kind
    bool_ok = kind != "b" or expected.trained_kind == "b"
    if kind not in ("b", "i", "u", "f") or not bool_ok:
        raise CliError(
            f"{name}: expected numeric pixels (integers or floats); received "
            f"dtype {x.dtype}"
        )
    if x.size == 0:
        raise CliError(f"{name}: expected at least one image; received none")
    if kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise CliError(
                f"{name}: expected finite pixel values; received {bad} NaN or "
                f"infinite values"
            )
        low, high = float(x.min()), float(x.max())
        if expected.full_scale == 255.0 and 0 < high <= 1 + expected.pad():
            raise CliError(
                f"{name}: expected {expected.range_text()} ({expected.why}); "
                f"received {x.dtype} values in [{low:g}, {high:g}], which look "
                "like pixels scaled to [0, 1]: multiply them by 255"
            )
        if not expected.holds(low, high):
            hint = ""
            if expected.full_scale == 1.0 and 1 < high <= 255:
                hint = " (save 0..255 pixels as integers to have them scaled)"
            raise CliError(
                f"{name}: expected {expected.range_text()} ({expected.why}); "
                f"received {x.dtype} values in [{low:g}, {high:g}]{hint}"
            )
        return x
    low, high = int(x.min()), int(x.max())
    # A model trained on integers takes integers of its range as they are.
    if expected.trained_kind in _INT_KINDS and expected.holds(low, high):
        return x.astype(np.float32)
    if expected.full_scale is None:
        raise CliError(
            f"{name}: expected float {expected.range_text()} ({expected.why}), "
            f"onto which integer pixels cannot be scaled; received {x.dtype} "
            f"values in [{low}, {high}]"
        )
    depth = 65535 if x.dtype == np.uint16 else 255
    if low < 0 or high > depth:
        raise CliError(
            f"{name}: expected integer pixels in 0..255 (or uint16 pixels in "
            f"0..65535); received {x.dtype} values in [{low}, {high}]"
        )
    _refuse_ambiguous(name, x.dtype, low, high, raw_max)
    return (x.astype(np.float64) * (expected.full_scale / depth)).astype(np.float32)


def as_batch(name: str, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as (N, *shape): one image or a batch; C = 1 may lack its axis."""
    h, w, c = shape
    if x.ndim in (2, 3) and x.shape[-2:] == (h, w):
        x = x[..., None] if c == 1 else np.repeat(x[..., None], c, axis=-1)
    if x.shape == shape:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != shape:
        raise CliError(
            f"{name}: expected an image of shape {shape} or a batch (N, {h}, {w}, "
            f"{c}); received shape {x.shape} (images are not resized)"
        )
    return x


def read_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A PNG or JPEG file as uint8, or uint16 for 16-bit grey PNGs: (H, W) when
    the model takes one channel or the image is 16-bit grey, else (H, W, 3)."""
    try:
        # matplotlib.image.imread reads through Pillow too, so Pillow is the one need.
        from PIL import Image
    except ImportError as e:
        raise CliError(
            f"{path}: reading PNG/JPEG needs Pillow (pip install glassnet[plot]); "
            "or save the image as .npy"
        ) from e
    try:
        with Image.open(path) as img:
            h, w, _ = shape
            if img.size != (w, h):  # checked before decoding a single pixel
                raise CliError(
                    f"{path}: expected an image of shape {shape}; received shape "
                    f"({img.height}, {img.width}) (images are not resized)"
                )
            if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
                return _sixteen_bits(path, np.asarray(img))
            # convert("L") is the ITU-R 601 luma, the usual grayscale.
            return np.asarray(img.convert("L" if shape[-1] == 1 else "RGB"))
    except CliError:
        raise
    except MemoryError:
        raise
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError...
        detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise CliError(
            f"{path}: expected a readable PNG or JPEG image; received a corrupt, "
            f"truncated or foreign file ({type(e).__name__}: {detail})"
        ) from None


def _sixteen_bits(path: Path, x: np.ndarray) -> np.ndarray:
    """A 16-bit grey image (Pillow's "I;16" or "I" mode) as uint16, depth kept."""
    if x.dtype != np.uint16:
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 65535:
            raise CliError(
                f"{path}: expected 16-bit pixels in 0..65535; received values in "
                f"[{low}, {high}]"
            )
    return x.astype(np.uint16)


def load_inputs(
    path: str,
    shape: tuple[int, ...],
    expected: Expected,
    raw_max: int | None = None,
) -> np.ndarray:
    """The images in ``path`` (.npy, .png, .jpg, .jpeg) as the model's inputs
    (``raw_max`` as for :func:`interpret`)."""
    file = Path(path)
    if file.is_dir():
        raise CliError(f"input file {path!r}: expected a file; it is a directory")
    if not file.is_file():
        raise CliError(f"input file {path!r} not found")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        x = read_npy(file, path)  # header checked against the size; no pickles
    elif suffix in IMAGE_SUFFIXES:
        x = read_image(file, shape)
    else:
        raise CliError(
            f"{path}: expected a .npy, .png, .jpg or .jpeg file; received {suffix!r}"
        )
    return interpret(path, as_batch(path, x, shape), expected, raw_max)


__all__ = [
    "IMAGE_SUFFIXES",
    "Expected",
    "as_batch",
    "expected_inputs",
    "interpret",
    "load_inputs",
    "read_image",
]
