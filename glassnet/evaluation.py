"""Classification metrics for a finished model: accuracy, confusion matrix, reports.

These work on whole label vectors after evaluation, in plain NumPy, and follow
scikit-learn's conventions: a confusion matrix has true classes in rows and predicted
classes in columns, and a precision or recall whose denominator is zero counts as 0
(scikit-learn's ``zero_division=0``). The running, per-batch metrics used during
training live in :mod:`glassnet.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet._internal.checks import check_array, check_int, check_same_length, fail
from glassnet.backend import Array, to_numpy
from glassnet.metrics import sparse_top_k_categorical_accuracy

_COLUMNS = ("class", "precision", "recall", "f1-score", "support", "error rate")


def _labels(name: str, y: Any) -> np.ndarray:
    """``y`` as a rank-1 int64 NumPy array of non-negative class labels."""
    y = to_numpy(y) if hasattr(y, "shape") else np.asarray(y)
    check_array(name, y, ndim=1)
    if y.dtype.kind not in "iu":
        if y.dtype.kind != "f" or not bool(np.all(y == np.round(y))):
            raise fail(name, "integer class labels", f"dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise fail(name, "labels >= 0", f"a label {y.min()}")
    return y.astype(np.int64, copy=False)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels("y_true", y_true), _labels("y_pred", y_pred)
    check_same_length("y_true", t, "y_pred", p)
    if t.size == 0:
        raise fail("y_true", "at least one label", "0 labels")
    return t, p


def _cm(cm: Any) -> np.ndarray:
    cm = to_numpy(cm) if hasattr(cm, "shape") else np.asarray(cm)
    check_array("cm", cm, ndim=2)
    if cm.shape[0] != cm.shape[1]:
        raise fail("cm", "a square (C, C) matrix", f"shape {cm.shape}")
    if cm.dtype.kind not in "iuf" or (cm.size and cm.min() < 0):
        raise fail("cm", "non-negative counts", f"dtype {cm.dtype}")
    return cm


def accuracy(y_true: Array, y_pred: Array) -> float:
    """Fraction of samples whose predicted label equals the true label.

    Shapes:
        y_true, y_pred: (N,) integer labels.

    Raises:
        ValueError: on labels that are not rank-1 integers, or lengths that differ.
    """
    t, p = _pair(y_true, y_pred)
    return float((t == p).mean())


def confusion_matrix(
    y_true: Array, y_pred: Array, num_classes: int | None = None
) -> np.ndarray:
    """Count matrix: ``cm[i, j]`` is the number of samples of class i predicted j.

    Shapes:
        y_true, y_pred: (N,) integer labels;  returns (C, C) int64.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels.
        num_classes: C; inferred as the largest label + 1 when None.
            Defaults to `None`.

    Raises:
        ValueError: on bad labels, or a label >= ``num_classes``.
    """
    t, p = _pair(y_true, y_pred)
    top = int(max(t.max(), p.max())) + 1
    if num_classes is None:
        num_classes = top
    num_classes = check_int("num_classes", num_classes, min_value=1)
    for name, y in (("y_true", t), ("y_pred", p)):
        if y.max() >= num_classes:
            raise fail(name, f"labels in [0, {num_classes})", f"a label {y.max()}")
    # Each (true, pred) pair maps to one flat cell index, so one bincount counts all.
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def per_class_error_rate(cm: Array) -> np.ndarray:
    """Per class, the fraction of its samples predicted as another class.

    This is 1 - recall; a class with no samples has error rate 0 (nothing to miss).

    Shapes:
        cm: (C, C) confusion matrix;  returns (C,) float64.

    Raises:
        ValueError: when ``cm`` is not a square matrix of non-negative counts.
    """
    cm = _cm(cm)
    support = cm.sum(axis=1).astype(np.float64)
    wrong = support - np.diag(cm)
    return np.divide(wrong, support, out=np.zeros_like(support), where=support > 0)


def precision_recall_f1(cm: Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix.

    Undefined values (no predictions of a class, no samples of it) are 0, as
    scikit-learn's ``precision_recall_fscore_support(..., zero_division=0)``.

    Shapes:
        cm: (C, C) confusion matrix;  returns three (C,) float64 arrays.

    Raises:
        ValueError: when ``cm`` is not a square matrix of non-negative counts.
    """
    cm = _cm(cm)
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    zeros = np.zeros_like(tp)
    precision = np.divide(tp, predicted, out=zeros.copy(), where=predicted > 0)
    recall = np.divide(tp, actual, out=zeros.copy(), where=actual > 0)
    # F1 = 2 TP / (2 TP + FP + FN) avoids dividing by precision + recall = 0.
    denom = (predicted + actual).astype(np.float64)
    f1 = np.divide(2 * tp, denom, out=zeros.copy(), where=denom > 0)
    return precision, recall, f1


def top_k_accuracy(y_true: Array, scores: Array, k: int = 5) -> float:
    """Fraction of samples whose true label is among the ``k`` highest scores.

    Ties with the true class's score count as hits, as Keras' ``in_top_k``.

    Shapes:
        y_true: (N,) integer labels;  scores: (N, C).

    Args:
        y_true: the true labels.
        scores: class scores or probabilities.
        k: how many of the best classes count. Defaults to `5`.

    Raises:
        ValueError: on bad labels, scores of the wrong shape, or ``k < 1``.
    """
    scores = to_numpy(scores) if hasattr(scores, "shape") else np.asarray(scores)
    check_array("scores", scores, ndim=2)
    t = _labels("y_true", y_true)
    check_same_length("y_true", t, "scores", scores)
    if t.size == 0:
        raise fail("y_true", "at least one label", "0 labels")
    if t.max() >= scores.shape[1]:
        raise fail("y_true", f"labels in [0, {scores.shape[1]})", f"a label {t.max()}")
    check_int("k", k, min_value=1)
    return float(sparse_top_k_categorical_accuracy(t, scores, k).mean())


def _report_rows(
    y_true: Array, y_pred: Array, class_names: Sequence[str] | None, digits: int
) -> list[list[str]]:
    """Rows of cells (header first) shared by the text and Markdown reports."""
    t, p = _pair(y_true, y_pred)
    num_classes = None
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise fail("class_names", "a sequence of names", repr(class_names))
        num_classes = len(class_names)
    cm = confusion_matrix(t, p, num_classes)
    names = [str(c) for c in (class_names or range(len(cm)))]
    precision, recall, f1 = precision_recall_f1(cm)
    error, support = per_class_error_rate(cm), cm.sum(axis=1)

    def num(x: float) -> str:
        return f"{x:.{digits}f}"

    rows = [list(_COLUMNS)]
    for i, name in enumerate(names):
        cells = [precision[i], recall[i], f1[i]]
        rows.append([name, *map(num, cells), str(support[i]), num(error[i])])
    acc, n = float(np.trace(cm) / cm.sum()), str(int(cm.sum()))
    rows.append(["accuracy", "", "", num(acc), n, num(1.0 - acc)])
    macro = [precision.mean(), recall.mean(), f1.mean()]
    rows.append(["macro avg", *map(num, macro), n, num(error.mean())])
    return rows


def classification_report(
    y_true: Array,
    y_pred: Array,
    class_names: Sequence[str] | None = None,
    *,
    digits: int = 4,
) -> str:
    """A plain-text table of per-class precision, recall, F1, support and error rate.

    The last two rows give the overall accuracy (in the F1 column, as scikit-learn's
    report) and the unweighted (macro) mean of each per-class column.

    Shapes:
        y_true, y_pred: (N,) integer labels.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels.
        class_names: one name per class; its length fixes C. Defaults to `None`
            (classes are numbered).
        digits: decimals shown. Defaults to `4`.

    Returns:
        The table as a multi-line string.

    Raises:
        ValueError: on bad labels, or a label with no name in ``class_names``.
    """
    digits = check_int("digits", digits, min_value=0)
    rows = _report_rows(y_true, y_pred, class_names, digits)
    first = max(len(r[0]) for r in rows)
    widths = [first] + [max(len(c), digits + 3) for c in _COLUMNS[1:]]
    lines = []
    for k, row in enumerate(rows):
        if k == len(rows) - 2:
            lines.append("")
        cells = [row[0].rjust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("")
    return "\n".join(lines) + "\n"


def report_markdown(
    y_true: Array,
    y_pred: Array,
    class_names: Sequence[str] | None = None,
    *,
    digits: int = 4,
) -> str:
    """The :func:`classification_report` table as a GitHub Markdown table.

    Args and Raises are those of :func:`classification_report`.
    """
    digits = check_int("digits", digits, min_value=0)
    rows = _report_rows(y_true, y_pred, class_names, digits)
    lines = ["| " + " | ".join(rows[0]) + " |", "|---" + "|---:" * 5 + "|"]
    for row in rows[1:]:
        cells = [c.replace("|", "\\|") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


__all__ = [
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "per_class_error_rate",
    "precision_recall_f1",
    "report_markdown",
    "top_k_accuracy",
]
