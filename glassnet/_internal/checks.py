"""Input validation shared by every public entry point.

Each helper raises ``ValueError`` with one message format, naming the argument,
what was expected and what was received::

    w: expected shape (12, M) to match x's 12 features; received shape (10, 5)

Checks look at shapes, dtypes and small scalars only, so they cost microseconds and
can stay on in the hot path. Only :func:`check_finite` reads the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from glassnet.backend import get_array_module


def fail(name: str, expected: str, received: Any) -> ValueError:
    """Build the standard error ``"<name>: expected <what>; received <value>"``."""
    return ValueError(f"{name}: expected {expected}; received {received}")


def check_array(
    name: str,
    x: Any,
    *,
    ndim: int | Iterable[int] | None = None,
    min_ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    floating: bool = False,
) -> None:
    """Check that ``x`` is an array with the given rank, shape and kind.

    Args:
        name: the argument's name, used in the message.
        x: the value to check.
        ndim: the required rank, or a set of allowed ranks. Defaults to `None`.
        min_ndim: the smallest allowed rank. Defaults to `None`.
        shape: the required shape; ``None`` entries match any size.
            Defaults to `None`.
        floating: require a floating-point dtype. Defaults to `False`.

    Raises:
        ValueError: when any requirement fails.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise fail(name, "an array", type(x).__name__)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise fail(name, f"an array of rank {want}", f"shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise fail(name, f"an array of rank >= {min_ndim}", f"shape {tuple(x.shape)}")
    if shape is not None:
        ok = len(shape) == x.ndim and all(
            s is None or s == d for s, d in zip(shape, x.shape, strict=False)
        )
        if not ok:
            dims = ["*" if s is None else str(s) for s in shape]
            want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
            raise fail(name, f"shape {want}", f"shape {tuple(x.shape)}")
    if floating and x.dtype.kind != "f":
        raise fail(name, "a floating-point array", f"dtype {x.dtype}")


def _ragged_at(name: str, value: Any, limit: int = 100_000) -> str:
    """Where a nested list stops being rectangular: ``"x[1] has 1 entry but x[0]
    has 2"``. Walks level by level, giving up on levels of more than ``limit``."""
    level = [(name if name.isidentifier() else "item ", value)]
    while 0 < len(level) <= limit:
        nested = [isinstance(v, list | tuple) for _, v in level]
        if any(nested) and not all(nested):
            j = nested.index(not nested[0])
            kind = ("a list", "a number")
            return (
                f"a ragged nested list: {level[j][0]} is {kind[nested[0]]} but "
                f"{level[0][0]} is {kind[not nested[0]]}"
            )
        if not all(nested):
            break
        lengths = [len(v) for _, v in level]
        if len(set(lengths)) > 1:
            j = next(j for j, n in enumerate(lengths) if n != lengths[0])
            entries = "entry" if lengths[j] == 1 else "entries"
            return (
                f"a ragged nested list: {level[j][0]} has {lengths[j]} {entries} "
                f"but {level[0][0]} has {lengths[0]}"
            )
        level = [(f"{p}[{i}]", item) for p, v in level for i, item in enumerate(v)]
    return "a ragged nested list (rows of different lengths or depths)"


def as_numeric_array(name: str, value: Any) -> Any:
    """``value`` as an array of numbers (bool, int or float), or a clear refusal.

    ``np.asarray(value)``, with NumPy's errors for ragged lists and strings turned
    into one line naming the argument (and where a nested list is ragged).

    Raises:
        ValueError: naming ``name``, for a ragged list, strings, None or objects.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise fail(
            name, "a rectangular numeric array", _ragged_at(name, value)
        ) from None
    if arr.dtype.kind not in "biuf":
        if value is None:
            received = "None"
        elif arr.dtype.kind in "US":
            received = f"strings (dtype {arr.dtype})"
        elif arr.dtype.kind == "O" and isinstance(value, list | tuple):
            received = _ragged_at(name, value)
        else:
            received = f"dtype {arr.dtype}"
        raise fail(name, "a numeric array", received) from None
    return arr


def check_finite(name: str, x: Any) -> None:
    """Check that ``x`` holds no NaN or infinity."""
    xp = get_array_module(x)
    if x.dtype.kind in "fc" and not bool(xp.isfinite(x).all()):
        bad = int((~xp.isfinite(x)).sum())
        raise fail(name, "finite values only", f"{bad} NaN or infinite entries")


def check_int(
    name: str, value: Any, *, min_value: int | None = None, max_value: int | None = None
) -> int:
    """Check that ``value`` is an integer within bounds and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise fail(name, "an integer", repr(value))
    if min_value is not None and value < min_value:
        raise fail(name, f"an integer >= {min_value}", repr(value))
    if max_value is not None and value > max_value:
        raise fail(name, f"an integer <= {max_value}", repr(value))
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a real number in an interval and return it as float.

    ``low_open``/``high_open`` exclude the bound itself: ``low=0, low_open=True``
    asks for a strictly positive number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise fail(name, "a real number", repr(value))
    v = float(value)
    if not np.isfinite(v):
        raise fail(name, "a finite number", repr(value))
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        interval = (
            ("(" if low_open else "[") + f"{lo}, {hi}" + (")" if high_open else "]")
        )
        raise fail(name, f"a number in {interval}", repr(value))
    return v


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it."""
    options = tuple(choices)
    if value not in options:
        raise fail(name, f"one of {options}", repr(value))
    return value


def check_labels(name: str, y: Any, num_classes: int, n: int | None = None) -> None:
    """Check integer class labels: rank 1, length ``n`` and values in [0, C).

    Args:
        name: the argument's name.
        y: the labels.
        num_classes: C, the number of classes.
        n: the required number of labels (the batch size). Defaults to `None`.
    """
    check_array(name, y, ndim=1)
    if y.dtype.kind not in "iu":
        xp = get_array_module(y)
        if y.dtype.kind != "f" or not bool(xp.all(y == xp.round(y))):
            raise fail(name, "integer class labels", f"dtype {y.dtype}")
    if n is not None and y.shape[0] != n:
        raise fail(name, f"{n} labels, one per sample", f"{y.shape[0]} labels")
    if y.size:
        lo, hi = y.min(), y.max()
        if lo < 0 or hi >= num_classes:
            raise fail(name, f"labels in [0, {num_classes})", f"labels in [{lo}, {hi}]")


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Check that two arrays have the same first dimension."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b}: expected the same number of samples; "
            f"received {len(a)} and {len(b)}"
        )


def check_param_dict(name: str, d: Any, required: Iterable[str]) -> None:
    """Check that ``d`` is a dict holding every key in ``required``."""
    if not isinstance(d, dict):
        raise fail(name, "a dict", type(d).__name__)
    missing = [k for k in required if k not in d]
    if missing:
        raise fail(name, f"a dict with keys {tuple(required)}", f"keys {tuple(d)}")
