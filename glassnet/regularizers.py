"""Weight penalties with Keras' names and defaults, computed by the core's kernel.

``L1(l1)``, ``L2(l2)`` and ``L1L2(l1, l2)`` all call
:func:`glassnet.functional.penalties.l1_l2_penalty`, the elastic-net penalty
``l1 * sum(|w|) + l2 * sum(w**2)``; note that Keras' L2 has no factor 1/2 (the
course's ``0.5 * reg`` convention lives in ``l2_penalty``).
"""

from __future__ import annotations

from typing import Any

from glassnet._internal import registry as _registry
from glassnet._internal.checks import check_number
from glassnet.backend import Array
from glassnet.functional.penalties import l1_l2_penalty


class Regularizer:
    """The elastic-net penalty ``l1 * sum(|w|) + l2 * sum(w**2)``.

    ``reg(w)`` returns the penalty as a float; ``reg.penalty(w)`` returns it with
    its gradient, as the training loop needs.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = check_number("l1", l1, low=0)
        self.l2 = check_number("l2", l2, low=0)

    def penalty(self, w: Array) -> tuple[float, Array]:
        """Return ``(loss, dw)`` for weight ``w``."""
        return l1_l2_penalty(w, self.l1, self.l2)

    def __call__(self, w: Array) -> float:
        return float(self.penalty(w)[0])

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``; both default to `0.0`, as in Keras."""


class L1(Regularizer):
    """``l1 * sum(|w|)``. ``l1`` defaults to `0.01`, as in Keras."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w**2)``. ``l2`` defaults to `0.01`, as in Keras."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


_REGISTRY: dict[str, type[Regularizer]] = {"l1": L1, "l2": L2, "l1_l2": L1L2}
l1, l2, l1_l2 = L1, L2, L1L2


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """Return ``{"class_name": ..., "config": ...}`` (JSON-safe), or None."""
    return _registry.serialize(regularizer)


def get(identifier: Any) -> Regularizer | None:
    """Resolve None, a name, a class name, a config dict or an instance.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _registry.resolve(
        "regularizer", identifier, Regularizer, _REGISTRY, allow_none=True
    )


__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2", "serialize"]
