"""What a model was trained on: the dtype and value range of ``fit``'s ``x``.

``Model.fit`` records ``model.trained_input = {"dtype": "float32", "min": 0.0,
"max": 1.0}`` from its training ``x`` (one min/max pass), model files keep it
(:mod:`glassnet.saving`), and ``glassnet predict`` reads it to decide how to
scale the images it is given (0..255 pixels to [0, 1], or none) and what to
refuse. A second ``fit`` widens the range to cover both data sets.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._internal.checks import fail

# The dtypes a record may name (a model file is untrusted: no other strings).
DTYPES = frozenset(
    ["bool"]
    + [f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)]
    + [f"float{bits}" for bits in (16, 32, 64)]
)
KEYS = frozenset({"dtype", "min", "max"})


def describe(x: Any) -> dict[str, Any] | None:
    """``{"dtype", "min", "max"}`` of ``x``; None for what ``fit`` will refuse
    anyway (not a numeric array, empty, NaN or infinite)."""
    try:
        x = np.asarray(x)
    except (TypeError, ValueError):
        return None
    if x.dtype.name not in DTYPES or x.size == 0:
        return None
    low, high = float(x.min()), float(x.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return {"dtype": x.dtype.name, "min": low, "max": high}


def merged(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Any:
    """The record after another ``fit``: the union of the ranges, the new dtype."""
    if old is None or new is None:
        return new if new is not None else old
    low, high = min(old["min"], new["min"]), max(old["max"], new["max"])
    return {"dtype": new["dtype"], "min": low, "max": high}


def check(value: Any) -> dict[str, Any]:
    """``value`` as a record, or a ValueError saying what is wrong with it."""
    if not isinstance(value, dict) or set(value) != KEYS:
        raise fail("trained_input", f"a dict with keys {sorted(KEYS)}", repr(value))
    dtype, low, high = value["dtype"], value["min"], value["max"]
    if dtype not in DTYPES:
        raise fail("trained_input['dtype']", f"one of {sorted(DTYPES)}", repr(dtype))
    for bound in (low, high):
        if (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise fail("trained_input min and max", "finite numbers", repr(bound))
    if low > high:
        raise fail("trained_input", "min <= max", f"min {low}, max {high}")
    return {"dtype": dtype, "min": float(low), "max": float(high)}


__all__ = ["DTYPES", "KEYS", "check", "describe", "merged"]
