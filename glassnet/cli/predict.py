"""``glassnet predict MODEL IMAGES...``: top-k classes of PNG, JPEG or .npy images.

Inputs are scaled as the model's training data was. ``Model.fit`` records the
dtype and value range of its ``x`` (``model.trained_input``, kept in the model
file), and each file is read and judged against it:

* integer pixels (8-bit PNG/JPEG, or a ``.npy`` of any integer dtype) must lie
  in 0..255; uint16 arrays and 16-bit grey PNGs (read at full depth) in
  0..65535. They are scaled to the training range's full scale: divided by 255
  (or 65535) for a model trained on [0, 1], and 16-bit ones by 257 for a model
  trained on raw 0..255 pixels. A model trained on integers takes integers
  within its training range as they are.
* floats are used as they are, only when inside the training range, widened
  to [0, 1] or [0, 255] for pixel ranges, give or take 1% of its span.
* NaN or infinite values, integers for a model trained on another range (such
  as standardised values), and anything outside the ranges above are refused
  with a one-line error naming the file, what it holds and what is expected.
  So are values whose scale is ambiguous: integers that never pass 1 (a binary
  image), uint16 values that never pass 255 (8-bit pixels in a 16-bit array),
  for a model of the 8x8 digits integers that never pass 16 (the raw pixels
  ``digits.load_data()`` gives), and for a model trained on 0..255 floats
  floats that never pass 1 (pixels scaled to [0, 1]).

Model files saved before the record existed (``trained_input`` is None) keep
the earlier behaviour for integers, scaled as for [0, 1]; their floats are used
as they are but must be finite, and must lie in [0, 1] for a model of a known
dataset (a preset's name, or the input shape of digits, MNIST or CIFAR-10),
which glassnet's loaders always scale to [0, 1].

Corrupt or truncated files are refused naming the file. A ``.npy`` header is
checked against the file's size before anything is allocated, and pickled
objects are never loaded.
"""

from __future__ import annotations

import argparse

import numpy as np

from glassnet.cli._common import CliError, load_model_file
from glassnet.cli._predict_inputs import expected_inputs, load_inputs
from glassnet.cli.evaluate import dataset_of, input_shape


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
    expected = expected_inputs(
        getattr(model, "trained_input", None), known_dataset=module is not None
    )
    raw_max = getattr(module, "PIXEL_MAX", None)
    batches = [
        (path, load_inputs(path, shape, expected, raw_max)) for path in args.images
    ]
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
