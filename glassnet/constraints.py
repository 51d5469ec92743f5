"""Weight constraints with Keras' names and defaults, applied after each update.

A constraint is a projection ``w -> constraint(w)``: the training loop applies it
to the weight it guards right after the optimizer's step, as Keras does.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal import registry as _registry
from glassnet._internal.checks import check_number, fail
from glassnet.backend import Array, get_array_module

# Keras adds this to norms before dividing, so an all-zero column stays zero.
_EPSILON = 1e-7


def _axis(value: Any) -> int | tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list | tuple) and all(isinstance(a, int) for a in value):
        return tuple(value)
    raise fail("axis", "an int or a tuple of ints", repr(value))


class Constraint:
    """Base class: ``constraint(w)`` returns the projected weight."""

    def __call__(self, w: Array) -> Array:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w: Array) -> Array:
        return w * (w >= 0)


class MaxNorm(Constraint):
    """Rescales each slice along ``axis`` to a norm of at most ``max_value``.

    Args:
        max_value: the largest norm. Defaults to `2`.
        axis: the axis (or axes) the norm runs over; 0 for a Dense kernel
            (in, out) constrains each unit's incoming weights. Defaults to `0`.
    """

    def __init__(self, max_value: float = 2, axis: int | tuple[int, ...] = 0) -> None:
        self.max_value = check_number("max_value", max_value, low=0)
        self.axis = _axis(axis)

    def __call__(self, w: Array) -> Array:
        xp = get_array_module(w)
        norms = xp.sqrt(xp.sum(w * w, axis=self.axis, keepdims=True))
        desired = xp.clip(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescales each slice along ``axis`` to unit norm. ``axis`` defaults to `0`."""

    def __init__(self, axis: int | tuple[int, ...] = 0) -> None:
        self.axis = _axis(axis)

    def __call__(self, w: Array) -> Array:
        xp = get_array_module(w)
        return w / (_EPSILON + xp.sqrt(xp.sum(w * w, axis=self.axis, keepdims=True)))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


_REGISTRY: dict[str, type[Constraint]] = {
    "max_norm": MaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}
max_norm, non_neg, unit_norm = MaxNorm, NonNeg, UnitNorm


def serialize(constraint: Constraint | None) -> dict[str, Any] | None:
    """Return ``{"class_name": ..., "config": ...}`` (JSON-safe), or None."""
    return _registry.serialize(constraint)


def get(identifier: Any) -> Constraint | None:
    """Resolve None, a name, a class name, a config dict or an instance.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _registry.resolve(
        "constraint", identifier, Constraint, _REGISTRY, allow_none=True
    )


__all__ = [
    "Constraint",
    "MaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]
