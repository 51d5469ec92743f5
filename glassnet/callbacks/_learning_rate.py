"""Reading and writing ``model.optimizer.learning_rate`` for the callbacks."""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail


def get_learning_rate(model: Any) -> float:
    """The optimizer's current learning rate as a float.

    Raises:
        ValueError: when the model has no optimizer with a ``learning_rate``.
    """
    optimizer = getattr(model, "optimizer", None)
    if not hasattr(optimizer, "learning_rate"):
        raise fail(
            "model.optimizer",
            "an optimizer with a `learning_rate` attribute (compile the model first)",
            type(optimizer).__name__,
        )
    return float(optimizer.learning_rate)


def set_learning_rate(model: Any, value: float) -> None:
    """Replace the optimizer's learning rate by ``value``.

    Raises:
        TypeError: when the optimizer follows a ``LearningRateSchedule``, whose
            rate is not settable (as in Keras).
    """
    optimizer = model.optimizer
    if getattr(optimizer, "schedule", None) is not None:
        raise TypeError(
            "This optimizer was created with a `LearningRateSchedule` object as "
            "its `learning_rate` constructor argument, hence its learning rate "
            "is not settable."
        )
    optimizer.learning_rate = value


__all__ = ["get_learning_rate", "set_learning_rate"]
