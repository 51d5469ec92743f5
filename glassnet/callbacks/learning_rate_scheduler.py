"""``LearningRateScheduler``: set the learning rate from a function of the epoch."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np

from glassnet._internal.checks import check_int, fail
from glassnet.callbacks._learning_rate import get_learning_rate, set_learning_rate
from glassnet.callbacks.base import Callback, Logs


def _takes_learning_rate(schedule: Callable) -> bool:
    """Whether ``schedule`` is ``schedule(epoch, lr)`` rather than ``schedule(epoch)``.

    Raises:
        ValueError: when it can be called with neither.
    """
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return True  # a builtin without a signature: assume the current API
    for args, two in (((0, 0.1), True), ((0,), False)):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return two
    raise fail(
        "schedule", "a function schedule(epoch, lr) or schedule(epoch)", repr(schedule)
    )


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate`` at the start of every epoch.

    Args:
        schedule: a function ``schedule(epoch, lr) -> new_lr`` of the epoch index
            (from 0) and the current learning rate; the older one-argument form
            ``schedule(epoch)`` is accepted too.
        verbose: 1 prints the new rate each epoch. Defaults to `0`.

    Raises:
        ValueError: naming ``schedule`` or ``verbose`` when it is not valid, and
            ``schedule`` when it returns anything but a positive finite number.

    Example:

    >>> from types import SimpleNamespace
    >>> def scheduler(epoch, lr):
    ...     return lr if epoch < 2 else lr * 0.5
    >>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.01))
    >>> callback = LearningRateScheduler(scheduler)
    >>> callback.set_model(model)
    >>> for epoch in range(4):
    ...     callback.on_epoch_begin(epoch)
    >>> model.optimizer.learning_rate
    0.0025
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise fail("schedule", "a callable", repr(schedule))
        self.schedule = schedule
        self._two_args = _takes_learning_rate(schedule)
        self.verbose = check_int("verbose", verbose, min_value=0)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        lr = get_learning_rate(self.model)
        new_lr = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if (
            isinstance(new_lr, bool)
            or not isinstance(new_lr, int | float | np.number)
            or not math.isfinite(float(new_lr))
            or float(new_lr) <= 0
        ):
            raise fail(
                "schedule",
                f"a positive finite learning rate for epoch {epoch}",
                repr(new_lr),
            )
        set_learning_rate(self.model, float(new_lr))
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate "
                f"to {float(new_lr)}.",
                flush=True,
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model)


__all__ = ["LearningRateScheduler"]
