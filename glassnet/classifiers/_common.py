"""What the course models share: input checks and the softmax-plus-L2 objective."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet._internal.checks import check_array, check_labels, check_number, fail
from glassnet._internal.memory import check_memory
from glassnet.backend import Array, rng, xp
from glassnet.functional.losses import softmax_loss
from glassnet.functional.penalties import l2_penalty


def check_model_args(weight_scale: float, reg: float, dtype: Any) -> np.dtype:
    """Validate the hyperparameters every course model takes; return the dtype."""
    check_number("weight_scale", weight_scale, low=0, low_open=True)
    check_number("reg", reg, low=0)
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise fail("dtype", "a floating-point dtype such as np.float32", repr(dtype))
    return dt


def gaussian(
    gen: np.random.Generator | None,
    shape: tuple[int, ...],
    scale: float,
    dtype: np.dtype,
) -> Array:
    """Weights drawn from N(0, scale^2), as the course initialises them.

    With ``gen`` None the draw is the course's own, ``scale *
    np.random.randn(*shape)`` from NumPy's global generator, so that after
    ``np.random.seed(231)`` the notebooks' numbers come out; either way the
    float64 draw is cast to ``dtype`` afterwards, as the course's ``astype``.

    Raises:
        InsufficientMemoryError: for a shape whose float64 draw and ``dtype``
            copy cannot fit in the available memory (before allocating).
    """
    n = math.prod(shape)
    check_memory("weights", n * (8 + dtype.itemsize), f"shape {shape} {dtype.name}")
    if gen is None:
        w = scale * np.random.randn(*shape)  # noqa: NPY002  (the course's generator)
    else:
        w = scale * gen.standard_normal(shape)
    return xp().asarray(w.astype(dtype))


def zeros(shape: int | tuple[int, ...], dtype: np.dtype) -> Array:
    """Zero-initialised biases and shifts, on the default array module."""
    return xp().zeros(shape, dtype=dtype)


def ones(shape: int | tuple[int, ...], dtype: np.dtype) -> Array:
    """One-initialised normalisation scales, on the default array module."""
    return xp().ones(shape, dtype=dtype)


def new_rng(seed: int | None) -> np.random.Generator | None:
    """The generator a model initialises its weights from: glassnet's own one,
    seeded with ``seed``, or None (NumPy's global generator, the course's) when
    no seed is given."""
    return None if seed is None else rng(seed)


def prepare_input(X: Array, sample_shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Check that ``X`` holds samples of ``sample_shape`` (or their flattening).

    Returns:
        ``X`` reshaped to (N, *sample_shape) and cast to ``dtype``.

    Raises:
        ValueError: naming ``X`` and both shapes when they do not match.
    """
    check_array("X", X, min_ndim=2)
    size = int(np.prod(sample_shape))
    if len(sample_shape) == 1:
        # An affine first layer flattens each sample, whatever its shape (cs231n).
        ok = int(np.prod(X.shape[1:])) == size
    else:
        # Images must come in the model's layout, or flattened from it; a
        # same-sized array in another layout (channels last) is refused.
        ok = tuple(X.shape[1:]) in (sample_shape, (size,))
    if not ok:
        raise fail("X", f"samples of shape {sample_shape}", f"shape {tuple(X.shape)}")
    return X.reshape((X.shape[0], *sample_shape)).astype(dtype, copy=False)


def softmax_l2_loss(
    scores: Array,
    y: Array,
    params: dict[str, Array],
    reg: float,
    weights: Iterable[str],
) -> tuple[float, Array, dict[str, Array]]:
    """Softmax data loss plus ``0.5 * reg * sum(W**2)`` over the named weights.

    Returns:
        The total loss, ``dscores``, and the penalty gradients keyed by weight name
        (to be added to the data gradients).
    """
    check_labels("y", y, num_classes=scores.shape[1], n=scores.shape[0])
    loss, dscores = softmax_loss(scores, y)
    dreg = {}
    for name in weights:
        penalty, dreg[name] = l2_penalty(params[name], reg)
        loss += penalty
    return float(loss), dscores, dreg
