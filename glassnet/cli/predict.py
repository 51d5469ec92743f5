"""``glassnet predict MODEL IMAGES...``: top-k classes of PNG, JPEG or .npy images."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glassnet.cli._common import CliError, load_model_file
from glassnet.cli.evaluate import dataset_of, input_shape
from glassnet.datasets import scale_images

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _read_image(path: Path, channels: int) -> np.ndarray:
    """A PNG or JPEG file as uint8 (H, W) (when ``channels`` is 1) or (H, W, 3)."""
    try:
        # matplotlib.image.imread reads through Pillow too, so Pillow is the one need.
        from PIL import Image
    except ImportError as e:
        raise CliError(
            f"{path}: reading PNG/JPEG needs Pillow (pip install glassnet[plot]); "
            "or save the image as .npy"
        ) from e
    with Image.open(path) as img:
        # convert("L") is the ITU-R 601 luma, the usual grayscale.
        return np.asarray(img.convert("L" if channels == 1 else "RGB"))


def _as_batch(name: str, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
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
    if x.dtype == np.uint8:  # 0..255 pixels, scaled to [0, 1] as the presets do
        return scale_images(x, max_value=255)
    if x.dtype.kind not in "iuf":
        raise CliError(f"{name}: expected numeric pixels; received dtype {x.dtype}")
    return x.astype(np.float32)


def _load_inputs(path: str, shape: tuple[int, ...]) -> np.ndarray:
    file = Path(path)
    if not file.is_file():
        raise CliError(f"input file {path!r} not found")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        x = np.load(file, allow_pickle=False)
    elif suffix in _IMAGE_SUFFIXES:
        x = _read_image(file, shape[-1])
    else:
        raise CliError(
            f"{path}: expected a .npy, .png, .jpg or .jpeg file; received {suffix!r}"
        )
    return _as_batch(path, x, shape)


def _probabilities(out: np.ndarray) -> np.ndarray:
    """Rows of ``out`` as probabilities: kept when they already are, else softmax."""
    out = out.astype(np.float64)
    if np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        return out
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the top-k classes and probabilities of every image."""
    model = load_model_file(args.model, compile=False)
    shape = input_shape(model)
    if len(shape) != 3:
        raise CliError(f"{args.model}: expected a model of images (N, H, W, C)")
    module = dataset_of(model)
    batches = [(path, _load_inputs(path, shape)) for path in args.images]
    for path, x in batches:
        probs = _probabilities(np.asarray(model.predict(x, verbose=0)))
        k = probs.shape[1]
        if args.top_k > k:
            raise CliError(
                f"--top-k: expected at most {k} (the model's classes); "
                f"received {args.top_k}"
            )
        names = [str(i) for i in range(k)]
        if module is not None and len(module.CLASS_NAMES) == k:
            names = list(module.CLASS_NAMES)
        for i, row in enumerate(probs):
            label = path if len(x) == 1 else f"{path}[{i}]"
            top = np.argsort(-row, kind="stable")[: args.top_k]
            print(f"{label}: " + ", ".join(f"{names[c]} ({row[c]:.4f})" for c in top))
    return 0
