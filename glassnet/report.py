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


def _integer_ticks(ax: Any) -> None:
    """Whole-number ticks on the x axis: epochs and iterations have no halves."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415  (optional dependency)

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


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
    first_epoch: int = 0,
    dpi: int = 100,
) -> Any:
    """The course's two panels: loss per iteration, train and val accuracy per epoch.

    Takes a ``Solver``'s ``loss_history``, ``train_acc_history`` and
    ``val_acc_history`` as they are. The Solver measures accuracy once after its
    first iteration and prints it as "Epoch 0", then once per epoch, so the
    accuracy points are numbered from ``first_epoch`` = 0.

    Args:
        loss_history: one loss per iteration (NaN allowed).
        train_acc_history: one training accuracy per check.
        val_acc_history: one validation accuracy per check.
        path: where to save the PNG. Defaults to `None` (not saved).
        first_epoch: the epoch of the first accuracy check; 1 for a Solver whose
            epoch is a single iteration (its first check then ends epoch 1).
            Defaults to `0`.
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
    first = check_int("first_epoch", first_epoch, min_value=0)
    fig, (loss_ax, acc_ax) = _two_panels()
    loss_ax.plot(np.arange(1, len(loss) + 1), loss, ".-" if len(loss) < 50 else "-")
    loss_ax.set(title="Training loss", xlabel="Iteration", ylabel="loss")
    _accuracy_panel(acc_ax, train, val, first)
    fig.tight_layout()
    return _finish(fig, path, dpi)


def plot_history(
    history: Mapping[str, Sequence[float]] | Any,
    path: str | os.PathLike | None = None,
    *,
    dpi: int = 100,
) -> Any:
    """Plot a Keras-style ``History.history`` dict (or a History object) per epoch.

    Two panels: ``loss`` (required) and ``val_loss``, then ``accuracy``/``acc``
    and ``val_accuracy``/``val_acc``, each where present, over epochs 1, 2, ...
    as ``fit`` prints them.

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
    fig, (loss_ax, acc_ax) = _two_panels()
    _per_epoch(loss_ax, ((loss, "train"), (val_loss, "val")), 1)
    loss_ax.set(title="Loss", xlabel="Epoch", ylabel="loss")
    _accuracy_panel(acc_ax, train, val, 1)
    fig.tight_layout()
    return _finish(fig, path, dpi)


def _two_panels() -> tuple[Any, Any]:
    fig = _figure((6.0, 6.0))
    return fig, fig.subplots(2, 1)


def _per_epoch(
    ax: Any, series: Sequence[tuple[np.ndarray, str]], first_epoch: int
) -> None:
    """Plot each non-empty series against epochs first_epoch, first_epoch + 1, ..."""
    for values, label in series:
        if values.size:
            epochs = np.arange(first_epoch, first_epoch + len(values))
            ax.plot(epochs, values, "o-" if len(values) < 50 else "-", label=label)
    if ax.get_lines():
        ax.legend()
    _integer_ticks(ax)


def _accuracy_panel(
    ax: Any, train: np.ndarray, val: np.ndarray, first_epoch: int
) -> None:
    _per_epoch(ax, ((train, "train"), (val, "val")), first_epoch)
    ax.set(title="Accuracy", xlabel="Epoch", ylabel="accuracy")
    if not ax.get_lines():
        ax.text(
            0.5,
            0.5,
            "no accuracy recorded",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )


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
    """Bar chart of each class's error rate, each bar labelled with its percentage.

    The y axis reaches a little above the largest rate (at most 1), so rates of a
    few percent are as visible as rates near 1.

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
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415  (optional)

    bars = ax.bar(np.arange(len(rates)), rates, color="tab:red")
    ax.bar_label(bars, [f"{r:.1%}" for r in rates], fontsize=7)
    ax.set_xticks(np.arange(len(rates)), names, rotation=45, ha="right")
    # Room above the tallest bar for its label; an all-zero chart keeps 0..1.
    top = min(1.0, 1.15 * rates.max()) if rates.max() > 0 else 1.0
    ax.set(ylim=(0.0, top), ylabel="error rate", title="Error rate per class")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
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
    max_filters: int = 64,
    dpi: int = 100,
) -> Any:
    """Grid of first-layer filters, each scaled to [0, 1] on its own.

    Convolution kernels, or the kernel of a Dense layer on flattened images
    reshaped to one template image per unit. Only the first ``max_filters`` are
    drawn (hundreds of tiles are too small to read) and the title says how many
    of how many are shown.

    Shapes:
        weights: (F, C, HH, WW) (course layout) or (HH, WW, C, F) (Keras), C = 1
            (shown grey) or 3 (shown RGB).

    Args:
        weights: the filter bank.
        path: where to save the PNG. Defaults to `None` (not saved).
        layout: ``"course"``, ``"keras"`` or ``"auto"`` (told apart by where C in
            (1, 3) sits and which pair of sides is square). Defaults to `"auto"`.
        max_filters: the most filters drawn, the first ones. Defaults to `64`.
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on a rank other than 4, C not 1 or 3, a layout ``"auto"``
            cannot decide, or ``max_filters`` < 1.
    """
    max_filters = check_int("max_filters", max_filters, min_value=1)
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
    total = len(tiles)
    tiles = tiles[:max_filters]
    grid = _mosaic(np.stack([_unit_range(t) for t in tiles]))
    fig = _figure((5.0, 5.0))
    ax = fig.add_subplot()
    if grid.shape[-1] == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(grid)
    ax.set_axis_off()
    shown = len(tiles)
    ax.set_title(
        f"{total} filters" if shown == total else f"first {shown} of {total} filters"
    )
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
    """Grid of the first misclassified images, each titled with both labels.

    A title reads ``"true: 3"`` over ``"predicted: 8"``.

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
    fig = _figure((1.7 * cols, 2.0 * rows))
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
        ax.set_title(f"true: {names[t[i]]}\npredicted: {names[p[i]]}", fontsize=7)
        ax.set_axis_off()
    fig.tight_layout()
    return _finish(fig, path, dpi)


def plot_learning_rate(
    lrs: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    per: str = "epoch",
    ax: Any = None,
    dpi: int = 100,
) -> Any:
    """Learning rate per epoch or step (log scale when it spans a factor of 10).

    Epochs are numbered from 1, as ``fit`` prints them and as
    ``History.history["learning_rate"]`` holds them; steps (optimizer
    iterations) from 0, as a schedule is called.

    Args:
        lrs: one learning rate per epoch or per step.
        path: where to save the PNG. Defaults to `None` (not saved).
        per: ``"epoch"`` or ``"step"``: what one value of ``lrs`` stands for.
            Defaults to `"epoch"`.
        ax: axes to draw on. Defaults to `None` (a new figure).
        dpi: resolution of the saved PNG. Defaults to `100`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on an empty sequence, negative or non-finite rates, or a
            ``per`` other than ``"epoch"`` and ``"step"``.
    """
    rates = _series("lrs", lrs, allow_empty=False)
    if not np.all(np.isfinite(rates) & (rates >= 0.0)):
        raise fail("lrs", "finite rates >= 0", rates)
    if per not in ("epoch", "step"):
        raise fail("per", "'epoch' or 'step'", repr(per))
    own = ax is None
    fig, ax = _axes(ax, (5.0, 3.0))
    first = 1 if per == "epoch" else 0
    x = np.arange(first, first + len(rates))
    ax.plot(x, rates, "o-" if len(rates) < 50 else "-")
    if rates.min() > 0 and rates.max() / rates.min() >= 10.0:
        ax.set_yscale("log")
    _integer_ticks(ax)
    ax.set(
        xlabel=per.capitalize(),
        ylabel="learning rate",
        title=f"Learning rate per {per}",
    )
    if own:
        fig.tight_layout()  # the default margins cut the labels of a short figure
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
