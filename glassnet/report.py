"""Plots of training and evaluation, saved as PNG with matplotlib (extra ``plot``).

matplotlib is imported inside each function, so glassnet runs without it. Figures
are built with ``matplotlib.figure.Figure`` directly, never through pyplot: nothing
opens a window, no global figure list grows, and any backend works. Every function
returns the Figure and saves it when ``path`` is given; those drawing a single axes
also accept ``ax`` to draw into an existing figure.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from glassnet._internal.checks import check_array, check_int, fail
from glassnet.backend import Array, to_numpy
from glassnet.evaluation import confusion_matrix, per_class_error_rate

_ACC_KEYS = ("accuracy", "acc")
_VAL_ACC_KEYS = ("val_accuracy", "val_acc")


def _figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure  # noqa: PLC0415  (optional dependency)

    return Figure(figsize=figsize)


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """The figure and axes to draw on: ``ax``'s own, or a new one-axes figure."""
    if ax is not None:
        return ax.figure, ax
    fig = _figure(figsize)
    return fig, fig.add_subplot()


def _finish(fig: Any, path: str | os.PathLike | None, dpi: int) -> Any:
    if path is not None:
        if not isinstance(path, str | os.PathLike):
            raise fail("path", "a str or os.PathLike", type(path).__name__)
        fig.savefig(path, format="png", dpi=check_int("dpi", dpi, min_value=1))
    return fig


def _series(name: str, values: Any, *, allow_empty: bool = True) -> np.ndarray:
    """``values`` as a rank-1 float array (NaN allowed: a diverged loss is news)."""
    try:
        arr = np.asarray(to_numpy(values) if hasattr(values, "shape") else values)
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise fail(name, "a sequence of numbers", type(values).__name__) from None
    check_array(name, arr, ndim=1)
    if not allow_empty and arr.size == 0:
        raise fail(name, "at least one value", "an empty sequence")
    return arr


def _names(class_names: Sequence[str] | None, num_classes: int) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(num_classes)]
    if isinstance(class_names, str) or len(class_names) != num_classes:
        raise fail("class_names", f"{num_classes} names", repr(class_names))
    return [str(c) for c in class_names]


def plot_training_curves(
    loss_history: Sequence[float],
    train_acc_history: Sequence[float],
    val_acc_history: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    dpi: int = 100,
) -> Any:
    """The classic three panels: loss per iteration, train and val accuracy per epoch.

    Takes a ``Solver``'s ``loss_history``, ``train_acc_history`` and
    ``val_acc_history`` as they are.

    Args:
        loss_history: one loss per iteration (NaN allowed).
        train_acc_history: one training accuracy per epoch.
        val_acc_history: one validation accuracy per epoch.
        path: where to save the PNG. Defaults to `None` (not saved).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on an empty or non-1-D loss history, or accuracy histories of
            different lengths.
    """
    loss = _series("loss_history", loss_history, allow_empty=False)
    train = _series("train_acc_history", train_acc_history)
    val = _series("val_acc_history", val_acc_history)
    if len(train) != len(val):
        raise fail("val_acc_history", f"{len(train)} values, one per epoch", len(val))
    return _three_panels(loss, "Iteration", None, train, val, path, dpi)


def plot_history(
    history: Mapping[str, Sequence[float]] | Any,
    path: str | os.PathLike | None = None,
    *,
    dpi: int = 100,
) -> Any:
    """Plot a Keras-style ``History.history`` dict (or a History object) per epoch.

    Uses ``loss`` (required), ``val_loss``, ``accuracy``/``acc`` and
    ``val_accuracy``/``val_acc`` where present.

    Args:
        history: the dict, or any object whose ``.history`` is that dict.
        path: where to save the PNG. Defaults to `None` (not saved).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: when ``history`` is not such a dict or lacks ``loss``.
    """
    history = getattr(history, "history", history)
    if not isinstance(history, Mapping) or "loss" not in history:
        got = list(history) if isinstance(history, Mapping) else type(history).__name__
        raise fail("history", "a dict with key 'loss'", got)

    def pick(name: str, keys: Sequence[str]) -> np.ndarray:
        key = next((k for k in keys if k in history), None)
        return _series(name, [] if key is None else history[key])

    loss = pick("history['loss']", ("loss",))
    val_loss = pick("history['val_loss']", ("val_loss",))
    train = pick("history['accuracy']", _ACC_KEYS)
    val = pick("history['val_accuracy']", _VAL_ACC_KEYS)
    return _three_panels(loss, "Epoch", val_loss, train, val, path, dpi)


def _three_panels(
    loss: np.ndarray,
    loss_xlabel: str,
    val_loss: np.ndarray | None,
    train: np.ndarray,
    val: np.ndarray,
    path: str | os.PathLike | None,
    dpi: int,
) -> Any:
    fig = _figure((6.0, 8.0))
    axes = fig.subplots(3, 1)
    style = ".-" if len(loss) < 50 else "-"
    axes[0].plot(np.arange(1, len(loss) + 1), loss, style, label="train")
    if val_loss is not None and val_loss.size:
        axes[0].plot(np.arange(1, len(val_loss) + 1), val_loss, ".-", label="val")
        axes[0].legend()
    axes[0].set(title="Training loss", xlabel=loss_xlabel, ylabel="loss")
    for ax, acc, title in ((axes[1], train, "Training"), (axes[2], val, "Validation")):
        ax.plot(np.arange(1, len(acc) + 1), acc, "o-")
        ax.set(title=f"{title} accuracy", xlabel="Epoch", ylabel="accuracy")
    fig.tight_layout()
    return _finish(fig, path, dpi)


def plot_confusion_matrix(
    cm: Array,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    path: str | os.PathLike | None = None,
    *,
    ax: Any = None,
    dpi: int = 100,
) -> Any:
    """Heatmap of a confusion matrix (true class in rows), each cell labelled.

    Shapes:
        cm: (C, C) counts, as :func:`glassnet.evaluation.confusion_matrix`.

    Args:
        cm: the confusion matrix.
        class_names: C names for the ticks. Defaults to `None` (numbers).
        normalize: divide each row by its total, so cells read as the fraction of
            a true class given each prediction. Defaults to `False`.
        path: where to save the PNG. Defaults to `None` (not saved).
        ax: axes to draw on. Defaults to `None` (a new figure).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on a ``cm`` that is not square non-negative counts, or the
            wrong number of ``class_names``.
    """
    per_class_error_rate(cm)  # validates cm with the one set of checks
    cm = np.asarray(to_numpy(cm) if hasattr(cm, "shape") else cm)
    names = _names(class_names, len(cm))
    values = cm.astype(np.float64)
    if normalize:
        rows = values.sum(axis=1, keepdims=True)
        values = np.divide(values, rows, out=np.zeros_like(values), where=rows > 0)
    size = 2.0 + 0.45 * len(cm)
    own = ax is None
    fig, ax = _axes(ax, (size + 1.0, size))
    image = ax.imshow(values, cmap="Blues", vmin=0.0)
    fig.colorbar(image, ax=ax)
    ticks = np.arange(len(cm))
    ax.set_xticks(ticks, names, rotation=45, ha="right")
    ax.set_yticks(ticks, names)
    ax.set(xlabel="Predicted class", ylabel="True class", title="Confusion matrix")
    threshold = values.max() / 2.0
    for (i, j), v in np.ndenumerate(values):
        text = f"{v:.2f}" if normalize else f"{int(cm[i, j])}"
        color = "white" if v > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    if own:
        fig.tight_layout()
    return _finish(fig, path, dpi)


def plot_per_class_error(
    cm_or_rates: Array,
    class_names: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    *,
    ax: Any = None,
    dpi: int = 100,
) -> Any:
    """Bar chart of each class's error rate.

    Shapes:
        cm_or_rates: a (C, C) confusion matrix, or (C,) error rates in [0, 1].

    Args:
        cm_or_rates: the matrix (rates are computed from it) or the rates.
        class_names: C names. Defaults to `None` (numbers).
        path: where to save the PNG. Defaults to `None` (not saved).
        ax: axes to draw on. Defaults to `None` (a new figure).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on rates outside [0, 1], a bad matrix, or the wrong number of
            ``class_names``.
    """
    raw = cm_or_rates
    arr = np.asarray(to_numpy(raw) if hasattr(raw, "shape") else raw)
    check_array("cm_or_rates", arr, ndim=(1, 2))
    if arr.ndim == 2:
        rates = per_class_error_rate(arr)
    else:
        rates = _series("cm_or_rates", arr)
        if not np.all((rates >= 0.0) & (rates <= 1.0)):
            raise fail("cm_or_rates", "error rates in [0, 1]", rates)
    names = _names(class_names, len(rates))
    own = ax is None
    fig, ax = _axes(ax, (max(4.0, 0.5 * len(rates) + 2.0), 3.5))
    ax.bar(np.arange(len(rates)), rates, color="tab:red")
    ax.set_xticks(np.arange(len(rates)), names, rotation=45, ha="right")
    ax.set(ylim=(0.0, 1.0), ylabel="error rate", title="Error rate per class")
    if own:
        fig.tight_layout()
    return _finish(fig, path, dpi)


def _unit_range(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by min and max; a constant image becomes all zeros."""
    x = x.astype(np.float64)
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def _filter_layout(shape: tuple[int, ...], layout: str) -> str:
    if layout != "auto":
        if layout not in ("course", "keras"):
            raise fail("layout", "one of ('auto', 'course', 'keras')", repr(layout))
        return layout
    # Course filters are (F, C, HH, WW), Keras kernels (HH, WW, C, F); the channel
    # count and square filter sides tell them apart except in symmetric cases.
    course = shape[1] in (1, 3) and shape[2] == shape[3]
    keras = shape[2] in (1, 3) and shape[0] == shape[1]
    if course != keras:
        return "course" if course else "keras"
    raise fail("layout", "'course' or 'keras' for an ambiguous shape", shape)


def _mosaic(tiles: np.ndarray, pad: int = 1) -> np.ndarray:
    """Tile (n, h, w, c) images into one grid image with a white gap between."""
    n, h, w, c = tiles.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad, c))
    for k in range(n):
        r, q = divmod(k, cols)
        grid[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = (
            tiles[k]
        )
    return grid


def plot_filters(
    weights: Array,
    path: str | os.PathLike | None = None,
    *,
    layout: str = "auto",
    dpi: int = 100,
) -> Any:
    """Grid of first-layer convolution filters, each scaled to [0, 1] on its own.

    Shapes:
        weights: (F, C, HH, WW) (course layout) or (HH, WW, C, F) (Keras), C = 1
            (shown grey) or 3 (shown RGB).

    Args:
        weights: the filter bank.
        path: where to save the PNG. Defaults to `None` (not saved).
        layout: ``"course"``, ``"keras"`` or ``"auto"`` (told apart by where C in
            (1, 3) sits and which pair of sides is square). Defaults to `"auto"`.
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on a rank other than 4, C not 1 or 3, or a layout ``"auto"``
            cannot decide.
    """
    w = np.asarray(to_numpy(weights) if hasattr(weights, "shape") else weights)
    check_array("weights", w, ndim=4)
    if w.dtype.kind not in "iuf":
        raise fail("weights", "a numeric array", f"dtype {w.dtype}")
    if _filter_layout(w.shape, layout) == "course":
        tiles = w.transpose(0, 2, 3, 1)
    else:
        tiles = w.transpose(3, 0, 1, 2)
    if tiles.shape[-1] not in (1, 3):
        raise fail("weights", "C = 1 or 3 channels", f"shape {w.shape}")
    grid = _mosaic(np.stack([_unit_range(t) for t in tiles]))
    fig = _figure((5.0, 5.0))
    ax = fig.add_subplot()
    if grid.shape[-1] == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(grid)
    ax.set_axis_off()
    ax.set_title(f"{len(tiles)} filters")
    return _finish(fig, path, dpi)


def plot_misclassified(
    images: Array,
    y_true: Array,
    y_pred: Array,
    class_names: Sequence[str] | None = None,
    max_images: int = 25,
    path: str | os.PathLike | None = None,
    *,
    dpi: int = 100,
) -> Any:
    """Grid of the first misclassified images, each titled ``"true/pred"``.

    Shapes:
        images: (N, H, W, C) with C = 1 or 3, or (N, H, W);  y_true, y_pred: (N,).

    Args:
        images: the evaluated images; each is scaled to [0, 1] for display.
        y_true: the true labels.
        y_pred: the predicted labels.
        class_names: names indexed by label. Defaults to `None` (numbers).
        max_images: the most images shown. Defaults to `25`.
        path: where to save the PNG. Defaults to `None` (not saved).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure (a note instead of a grid when nothing is wrong).

    Raises:
        ValueError: on a bad image shape, bad labels, or lengths that differ.
    """
    x = np.asarray(to_numpy(images) if hasattr(images, "shape") else images)
    check_array("images", x, ndim=(3, 4))
    if x.ndim == 4 and x.shape[-1] not in (1, 3):
        raise fail("images", "(N, H, W) or (N, H, W, C) with C = 1 or 3", x.shape)
    num = None if class_names is None else len(class_names)
    cm = confusion_matrix(y_true, y_pred, num)  # validates both label vectors
    names = _names(class_names, len(cm))
    t, p = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    if len(x) != len(t):
        raise fail("images", f"{len(t)} images, one per label", len(x))
    max_images = check_int("max_images", max_images, min_value=1)
    wrong = np.flatnonzero(t != p)[:max_images]
    cols = max(1, math.ceil(math.sqrt(len(wrong))))
    rows = max(1, math.ceil(len(wrong) / cols))
    fig = _figure((1.6 * cols, 1.8 * rows))
    if not len(wrong):
        fig.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return _finish(fig, path, dpi)
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(rows, cols, k + 1)
        img = _unit_range(x[i])
        if img.ndim == 3 and img.shape[-1] == 3:
            ax.imshow(img)
        else:
            ax.imshow(img.reshape(img.shape[:2]), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(f"{names[t[i]]}/{names[p[i]]}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return _finish(fig, path, dpi)


def plot_learning_rate(
    lrs: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    ax: Any = None,
    dpi: int = 100,
) -> Any:
    """Learning rate per step (log scale when it spans a factor of 10 or more).

    Args:
        lrs: one learning rate per step or epoch.
        path: where to save the PNG. Defaults to `None` (not saved).
        ax: axes to draw on. Defaults to `None` (a new figure).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on an empty sequence or negative or non-finite rates.
    """
    rates = _series("lrs", lrs, allow_empty=False)
    if not np.all(np.isfinite(rates) & (rates >= 0.0)):
        raise fail("lrs", "finite rates >= 0", rates)
    fig, ax = _axes(ax, (5.0, 3.0))
    ax.plot(np.arange(len(rates)), rates, "-")
    if rates.min() > 0 and rates.max() / rates.min() >= 10.0:
        ax.set_yscale("log")
    ax.set(xlabel="Step", ylabel="learning rate", title="Learning rate schedule")
    return _finish(fig, path, dpi)


__all__ = [
    "plot_confusion_matrix",
    "plot_filters",
    "plot_history",
    "plot_learning_rate",
    "plot_misclassified",
    "plot_per_class_error",
    "plot_training_curves",
]
