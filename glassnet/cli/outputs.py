"""What ``glassnet train`` writes besides the model: report.md and the PNG plots."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import backend, evaluation
from glassnet._internal.io import atomic_write_bytes
from glassnet.cli._common import md_table


def write_report(
    path: Path,
    preset: str,
    test: dict[str, float],
    y: np.ndarray,
    pred: np.ndarray,
    seconds: float,
    plots: list[str],
    names: list[str],
    notes: list[str] | None = None,
) -> None:
    """report.md: test accuracy and loss, what the callbacks did (``notes``,
    Markdown list items), the per-class table, the confusion matrix."""
    cm = evaluation.confusion_matrix(y, pred, len(names))
    lines = [
        f"# glassnet train {preset}",
        "",
        f"- test accuracy: {test['accuracy']:.4f}",
        f"- test loss: {test['loss']:.4f}",
        f"- training time: {seconds:.1f} s",
        "",
        *(["## What the callbacks did", "", *notes, ""] if notes else []),
        "## Per class",
        "",
        evaluation.report_markdown(y, pred, names).rstrip("\n"),
        "",
        "## Confusion matrix (rows: true class, columns: predicted class)",
        "",
        *md_table(
            ["true \\ pred", *names],
            [
                [n, *(str(int(v)) for v in row)]
                for n, row in zip(names, cm, strict=True)
            ],
        ),
    ]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"- [{Path(f).stem}]({f})" for f in plots]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


# Every plot save_plots may write (which ones depends on the model and run).
PLOTS = (
    "history.png",
    "confusion_matrix.png",
    "per_class_error.png",
    "filters.png",
    "misclassified.png",
    "learning_rate.png",
)


def first_kernel(model: Any) -> np.ndarray | None:
    """The first Conv2D or Dense kernel as image filters (HH, WW, C, F), or None.

    A Dense kernel (D, M) on flattened images holds one template image per unit:
    row d weighs pixel d of the flattened input, so it reshapes to the input's
    image shape (channels last, or channels first behind a ``Permute``). Every
    unit is kept, so that ``report.plot_filters`` can say how many of how many
    it shows (it draws only the first few).
    """
    spec = getattr(model, "input_spec", None)
    permuted = False
    for layer in model.layers:
        permuted = permuted or type(layer).__name__ == "Permute"
        kernel = getattr(layer, "params", {}).get("kernel")
        if kernel is None:
            continue
        kernel = backend.to_numpy(kernel)
        if kernel.ndim == 4:
            return kernel if kernel.shape[2] in (1, 3) else None
        if spec is None or len(spec) != 4 or np.prod(spec[1:]) != kernel.shape[0]:
            return None
        h, w, c = (int(d) for d in spec[1:])
        if c not in (1, 3):
            return None
        if permuted:
            return kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3)
        return kernel.reshape(h, w, c, -1)
    return None


def has_matplotlib() -> bool:
    """Whether the optional ``plot`` extra is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def save_plots(
    out: Path,
    model: Any,
    logs: dict[str, list[float]],
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    names: list[str],
    curves: Callable[[Path], Any] | None = None,
) -> list[str]:
    """Write the PNG plots of a run into ``out``; returns the file names written.

    ``curves`` draws the training curves (the Solver's per-iteration loss);
    by default they come from ``logs``, a Keras ``History.history``.
    """
    from glassnet import report

    cm = evaluation.confusion_matrix(y, pred, len(names))
    jobs: list[tuple[str, Callable[[Path], Any]]] = [
        ("history.png", curves or (lambda p: report.plot_history(logs, p))),
        (
            "confusion_matrix.png",
            lambda p: report.plot_confusion_matrix(cm, names, path=p),
        ),
        ("per_class_error.png", lambda p: report.plot_per_class_error(cm, names, p)),
    ]
    kernel = first_kernel(model)
    if kernel is not None:
        jobs.append(
            ("filters.png", lambda p: report.plot_filters(kernel, p, layout="keras"))
        )
    jobs.append(
        (
            "misclassified.png",
            lambda p: report.plot_misclassified(x, y, pred, names, path=p),
        )
    )
    lrs = logs.get("learning_rate", [])
    if len(lrs) and min(lrs) != max(lrs):
        jobs.append(("learning_rate.png", lambda p: report.plot_learning_rate(lrs, p)))
    for name, draw in jobs:
        draw(out / name)
    return [name for name, _ in jobs]
