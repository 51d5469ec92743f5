"""Splits, folds, one-hot labels and the scaling every dataset needs.

Splits are stratified by default and fully determined by ``seed``: the same call
gives the same split on every machine and with every library version, because
nothing here delegates to scikit-learn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet._internal.checks import (
    check_array,
    check_int,
    check_number,
    check_same_length,
    fail,
)
from glassnet.backend import Array, get_array_module
from glassnet.datasets import cifar10

Pair = tuple[Any, Any]


def train_val_test_split(
    x: Any,
    y: Any,
    val_size: float | int,
    test_size: float | int,
    *,
    stratify: bool = True,
    seed: int = 0,
) -> tuple[Pair, Pair, Pair]:
    """Split samples three ways, keeping class proportions in each part.

    A float size is a fraction of the samples (rounded up, as scikit-learn does);
    an int is a count. Within each part the samples come in a seeded random order.

    Shapes:
        x: (N, ...);  y: (N,) or (N, 1) integer labels (any shape when
        ``stratify=False``)

    Args:
        x: the samples.
        y: the labels, used to stratify.
        val_size: the validation part, a fraction in [0, 1) or a count.
        test_size: the test part, a fraction in [0, 1) or a count.
        stratify: give each class the same share in every part. Defaults to `True`.
        seed: the seed of the shuffling. Defaults to `0`.

    Returns:
        ``((x_train, y_train), (x_val, y_val), (x_test, y_test))``.

    Raises:
        ValueError: when the sizes leave no training sample, x and y differ in
            length, or y cannot be stratified.
    """
    check_array("x", x, min_ndim=1)
    check_array("y", y, min_ndim=1)
    check_same_length("x", x, "y", y)
    n = len(y)
    n_val = _resolve_size("val_size", val_size, n)
    n_test = _resolve_size("test_size", test_size, n)
    if n_val + n_test >= n:
        raise fail(
            "val_size and test_size",
            f"fewer than {n} samples together, to leave some for training",
            f"{n_val} + {n_test}",
        )
    rng = np.random.default_rng(check_int("seed", seed, min_value=0))
    if stratify:
        classes = _class_indices(_strata(y), rng)
        counts = np.array([len(c) for c in classes])
        t = _allocate(counts, n_test, rng)
        v = _allocate(counts - t, n_val, rng)
        cuts = [np.split(c, [a, a + b]) for c, a, b in zip(classes, t, v, strict=True)]
        test, val, train = (np.concatenate(part) for part in zip(*cuts, strict=True))
    else:
        order = rng.permutation(n)
        test, val, train = np.split(order, [n_test, n_test + n_val])
    parts = [rng.permutation(p) for p in (train, val, test)]
    return tuple((x[p], y[p]) for p in parts)  # type: ignore[return-value]


def kfold(
    y: Any,
    k: int = 5,
    *,
    stratify: bool = True,
    shuffle: bool = True,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-fold cross-validation indices, stratified by default.

    Every sample is in exactly one validation fold. Fold sizes differ by at most
    one, and so does each class's count across folds when stratified (a class
    with fewer than ``k`` samples is missing from some folds).

    Shapes:
        y: (N,) or (N, 1) integer labels (any (N, ...) when ``stratify=False``);
        train_idx: (N - N_i,);  val_idx: (N_i,), both sorted.

    Args:
        y: the labels.
        k: the number of folds, from 2 to N. Defaults to `5`.
        stratify: spread each class evenly over the folds. Defaults to `True`.
        shuffle: shuffle before assigning folds; otherwise the folds follow
            the sample order. Defaults to `True`.
        seed: the seed of the shuffling. Defaults to `0`.

    Returns:
        An iterator of ``k`` pairs ``(train_idx, val_idx)``.

    Raises:
        ValueError: when ``k`` is out of range or y cannot be stratified.
    """
    n = len(y)
    k = check_int("k", k, min_value=2)
    if k > n:
        raise fail("k", f"at most the {n} samples", k)
    rng = np.random.default_rng(check_int("seed", seed, min_value=0))
    order = rng.permutation(n) if shuffle else np.arange(n)
    fold = np.empty(n, dtype=np.int64)
    if stratify:
        # Grouped by class, then dealt round-robin: each class lands evenly.
        order = order[np.argsort(_strata(y)[order], kind="stable")]
        fold[order] = np.arange(n) % k
    else:
        for i, chunk in enumerate(np.array_split(order, k)):
            fold[chunk] = i
    folds = [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]
    return iter(folds)


def to_categorical(
    x: Any, num_classes: int | None = None, dtype: str | np.dtype = "float64"
) -> Array:
    """One-hot encode integer labels, as ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first, so (N, 1) labels become (N, C).
    The result is float64 as in Keras 3 (whose signature is
    ``to_categorical(x, num_classes=None)``); ``dtype`` is glassnet's addition.
    Losses cast targets to the model's dtype, so float64 targets train a
    float32 model unchanged.

    Shapes:
        x: (N,) or (N, 1), or any (d1, ..., dk);  out: (d1, ..., dk, C)

    Args:
        x: integer class labels in [0, num_classes).
        num_classes: C. Defaults to `None` (``max(y) + 1``).
        dtype: the output dtype. Defaults to `"float64"` (Keras').

    Returns:
        The one-hot array.

    Raises:
        ValueError: when x holds non-integers or labels outside [0, num_classes).

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    xp = get_array_module(x) if hasattr(x, "dtype") else np
    y = xp.asarray(x)
    if y.dtype.kind not in "iu" and not (
        y.dtype.kind == "f" and bool(xp.all(y == xp.round(y)))
    ):
        raise fail("x", "integer class labels", f"dtype {y.dtype}")
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    flat = y.reshape(-1).astype(np.int64)
    if num_classes is None:
        if flat.size == 0:
            raise fail("num_classes", "a count when y is empty", None)
        num_classes = int(flat.max()) + 1
    num_classes = check_int("num_classes", num_classes, min_value=1)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= num_classes):
        raise fail(
            "x",
            f"labels in [0, {num_classes})",
            f"labels in [{int(flat.min())}, {int(flat.max())}]",
        )
    out = xp.zeros((flat.size, num_classes), dtype=dtype)
    out[xp.arange(flat.size), flat] = 1
    return out.reshape(*shape, num_classes)


def scale_images(
    x: Any, *, max_value: float = 255.0, dtype: str | np.dtype = "float32"
) -> Array:
    """Scale pixel values from [0, max_value] to [0, 1].

    Use ``max_value=16`` for :mod:`~glassnet.datasets.digits`, whose pixels are
    0 to 16.

    Shapes:
        x: any;  out: the same shape

    Args:
        x: the images, uint8 or any real dtype.
        max_value: the value that maps to 1. Defaults to `255.0`.
        dtype: a floating output dtype. Defaults to `"float32"`.

    Returns:
        ``x / max_value`` in ``dtype``.

    Raises:
        ValueError: when a value lies outside [0, max_value].
    """
    check_array("x", x)
    max_value = check_number("max_value", max_value, low=0, low_open=True)
    if np.dtype(dtype).kind != "f":
        raise fail("dtype", "a floating-point dtype", repr(dtype))
    if x.size and (float(x.min()) < 0 or float(x.max()) > max_value):
        raise fail(
            "x",
            f"values in [0, {max_value:g}] (pass max_value=...)",
            f"values in [{float(x.min()):g}, {float(x.max()):g}]",
        )
    out = x.astype(dtype)
    out /= max_value
    return out


def subtract_channel_mean(
    x: Any, mean: Any = None, *, channel_axis: int = -1
) -> tuple[Array, Array]:
    """Centre each channel: subtract its mean over samples and pixels.

    Compute the mean on the training set, then pass it for the others:
    ``x_train, mean = subtract_channel_mean(x_train)`` then
    ``x_test, _ = subtract_channel_mean(x_test, mean)``.

    Shapes:
        x: (N, H, W, C) or (N, C, H, W), any rank >= 2;  mean: (C,) or x's rank
        with 1 everywhere but the channel axis;  out: x's shape

    Args:
        x: the images; integer ones are converted to float32.
        mean: a mean computed before. Defaults to `None` (x's own).
        channel_axis: the axis of the channels. Defaults to `-1`.

    Returns:
        ``(x - mean, mean)``, the mean with x's rank, in x's floating dtype.

    Raises:
        ValueError: when ``channel_axis`` or ``mean``'s shape does not fit x.
    """
    check_array("x", x, min_ndim=2)
    xp = get_array_module(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    axis = (
        check_int("channel_axis", channel_axis, min_value=-x.ndim, max_value=x.ndim - 1)
        % x.ndim
    )
    keep = tuple(x.shape[i] if i == axis else 1 for i in range(x.ndim))
    if mean is None:
        others = tuple(i for i in range(x.ndim) if i != axis)
        mean = x.mean(axis=others, keepdims=True, dtype=np.float64).astype(x.dtype)
    else:
        check_array("mean", mean)
        if mean.size != x.shape[axis] or mean.shape not in ((x.shape[axis],), keep):
            raise fail(
                "mean", f"shape ({x.shape[axis]},) or {keep}", f"shape {mean.shape}"
            )
        mean = xp.asarray(mean, dtype=x.dtype).reshape(keep)
    return x - mean, mean


def shift_augment(
    x: Any, y: Any, shift: int = 1, diagonals: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The images plus copies moved ``shift`` pixels down, up, right and left.

    The simplest data augmentation of the course: small translations keep the
    label. Pixels shifted in from outside the image are 0. With ``diagonals``
    the four diagonal moves are added too (all eight neighbours).

    Shapes:
        x: (N, H, W) or (N, H, W, C);  y: (N, ...)
        returns: (5 N, H, W[, C]) and (5 N, ...), the originals first;
        (9 N, ...) with ``diagonals``

    Args:
        x: images, rows on axis 1 and columns on axis 2.
        y: their labels, repeated for each copy.
        shift: pixels to move, smaller than H and W. Defaults to `1`.
        diagonals: also move diagonally. Defaults to `False`.

    Raises:
        ValueError: for x of another rank, y of another length, or a bad shift.

    Example:
        >>> x = np.arange(4.0).reshape(1, 2, 2)
        >>> xs, ys = shift_augment(x, np.array([7]))
        >>> xs[1].tolist(), ys.tolist()  # shifted down one row
        ([[0.0, 0.0], [0.0, 1.0]], [7, 7, 7, 7, 7])
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim not in (3, 4):
        raise fail("x", "images (N, H, W) or (N, H, W, C)", f"shape {x.shape}")
    if len(y) != len(x):
        raise fail("y", f"{len(x)} labels, one per image", len(y))
    limit = min(x.shape[1], x.shape[2]) - 1
    check_int("shift", shift, min_value=1, max_value=limit)
    moves = [(shift, 0), (-shift, 0), (0, shift), (0, -shift)]
    if diagonals:
        moves += [(dr, dc) for dr in (shift, -shift) for dc in (shift, -shift)]
    copies = [x] + [_shifted(x, dr, dc) for dr, dc in moves]
    return np.concatenate(copies), np.concatenate([y] * len(copies))


def _shifted(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``x`` moved ``rows`` down and ``cols`` right, zeros shifted in."""

    def cut(step: int) -> tuple[slice, slice]:  # (source, destination)
        if step > 0:
            return slice(0, -step), slice(step, None)
        if step < 0:
            return slice(-step, None), slice(0, step)
        return slice(None), slice(None)

    (src_r, dst_r), (src_c, dst_c) = cut(rows), cut(cols)
    moved = np.zeros_like(x)
    moved[:, dst_r, dst_c] = x[:, src_r, src_c]
    return moved


def get_cifar10_data(
    num_training: int | None = 49000,
    num_validation: int = 1000,
    num_test: int | None = 1000,
    subtract_mean: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> dict[str, np.ndarray]:
    """CIFAR-10 prepared for the classic ``Solver``, as cs231n's ``get_CIFAR10_data``.

    The validation images are the ``num_validation`` that follow the first
    ``num_training`` training images; the mean image of the training part (per
    pixel and channel) is subtracted from all three. Pixels stay in [0, 255]
    before centring.

    Shapes:
        X_train: (num_training, 3, 32, 32);  y_train: (num_training,)
        X_val: (num_validation, 3, 32, 32);  y_val: (num_validation,)
        X_test: (num_test, 3, 32, 32);  y_test: (num_test,)

    Args:
        num_training: training images; None takes all but the validation
            images. Defaults to `49000`.
        num_validation: validation images. Defaults to `1000`.
        num_test: test images, the first of the test set; None takes them all.
            Defaults to `1000`.
        subtract_mean: subtract the training mean image. Defaults to `True`.
        path: passed to :func:`glassnet.datasets.cifar10.load_data`.
            Defaults to `None`.

    Returns:
        A dict with ``X_train``, ``y_train``, ``X_val``, ``y_val``, ``X_test``,
        ``y_test``: float32 images, channels first, and int64 labels.

    Raises:
        ValueError: when the counts exceed the data (50,000 training and 10,000
            test images).
    """
    if num_training is not None:
        check_int("num_training", num_training, min_value=1)
    check_int("num_validation", num_validation, min_value=0)
    if num_test is not None:
        check_int("num_test", num_test, min_value=1)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path)
    if num_training is None:
        num_training = max(len(x_train) - num_validation, 1)
    if num_test is None:
        num_test = len(x_test)
    if num_training + num_validation > len(x_train):
        raise fail(
            "num_training + num_validation",
            f"at most the {len(x_train)} training images",
            num_training + num_validation,
        )
    if num_test > len(x_test):
        raise fail("num_test", f"at most the {len(x_test)} test images", num_test)
    end = num_training + num_validation
    parts = {
        "train": (x_train[:num_training], y_train[:num_training]),
        "val": (x_train[num_training:end], y_train[num_training:end]),
        "test": (x_test[:num_test], y_test[:num_test]),
    }
    mean = np.zeros((32, 32, 3), dtype=np.float32)
    if subtract_mean:
        mean = parts["train"][0].mean(axis=0, dtype=np.float64).astype(np.float32)
    data: dict[str, np.ndarray] = {}
    for part, (images, labels) in parts.items():
        centred = images.astype(np.float32) - mean
        data[f"X_{part}"] = np.ascontiguousarray(centred.transpose(0, 3, 1, 2))
        data[f"y_{part}"] = labels.reshape(-1).astype(np.int64)
    return data


def _resolve_size(name: str, size: Any, n: int) -> int:
    if isinstance(size, float):
        frac = check_number(name, size, low=0.0, high=1.0, high_open=True)
        return math.ceil(frac * n)
    return check_int(name, size, min_value=0, max_value=n)


def _strata(y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "iub":
        raise fail(
            "y",
            "integer labels of shape (N,) or (N, 1) to stratify (or stratify=False)",
            f"shape {y.shape}, dtype {y.dtype}",
        )
    return y


def _class_indices(labels: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    classes = np.unique(labels)
    return [rng.permutation(np.flatnonzero(labels == c)) for c in classes]


def _allocate(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Share ``total`` among classes in proportion to ``counts``, largest remainder
    first (seeded ties), so the shares sum to ``total`` exactly."""
    if total == 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    exact = counts * (total / counts.sum())
    share = np.minimum(np.floor(exact).astype(counts.dtype), counts)
    left = total - int(share.sum())
    if left:
        room = share < counts
        order = np.lexsort((rng.random(len(counts)), -(exact - share), ~room))
        share[order[:left]] += 1
    return share


__all__ = [
    "get_cifar10_data",
    "kfold",
    "scale_images",
    "shift_augment",
    "subtract_channel_mean",
    "to_categorical",
    "train_val_test_split",
]
