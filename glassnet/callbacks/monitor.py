"""``MonitorCallback``: the shared "watch one logged value" logic.

``EarlyStopping`` and ``ReduceLROnPlateau`` (and any callback that keeps the best
value of a metric) share what Keras' ``MonitorCallback`` holds: the monitored key,
the direction of improvement (``mode``), the smallest change that counts
(``min_delta``), an optional ``baseline`` and the best value seen so far.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from glassnet._internal.checks import check_choice, check_number, fail
from glassnet.callbacks.base import Callback, Logs

# Keras renamed ``acc`` to ``accuracy``; logs from either era name the same value.
_SPELLINGS = {"acc": "accuracy", "accuracy": "acc"}


def _other_spelling(key: str) -> str | None:
    prefix = "val_" if key.startswith("val_") else ""
    other = _SPELLINGS.get(key[len(prefix) :])
    return None if other is None else prefix + other


def _is_accuracy_like(monitor: str) -> bool:
    # Keras' rule for mode="auto" ("accuracy" contains "acc").
    return "acc" in monitor or monitor.startswith("fmeasure")


def check_monitor(monitor: Any) -> str:
    """Check that ``monitor`` is a non-empty string (a ``logs`` key) and return it."""
    if not isinstance(monitor, str) or not monitor:
        raise fail("monitor", "a non-empty logs key such as 'val_loss'", repr(monitor))
    return monitor


class MonitorCallback(Callback):
    """Base of callbacks that track the best value of one entry of ``logs``.

    Args:
        monitor: the ``logs`` key to watch; ``acc`` and ``accuracy`` (with or
            without ``val_``) stand for each other. Defaults to `"val_loss"`.
        mode: ``"min"`` (lower is better), ``"max"`` (higher is better) or
            ``"auto"``: ``"max"`` when the name contains ``"acc"`` or starts with
            ``"fmeasure"``, ``"min"`` otherwise. Defaults to `"auto"`.
        baseline: a value the monitored quantity must beat, or ``None``.
            Defaults to `None`.
        min_delta: the smallest change that counts as an improvement; its sign
            is ignored, as in Keras. Defaults to `0`.

    Raises:
        ValueError: naming ``monitor``, ``mode``, ``baseline`` or ``min_delta``
            when it is not valid.

    Example:

    >>> cb = MonitorCallback(monitor="val_accuracy", min_delta=0.01)
    >>> cb.mode_resolved, cb.is_improvement(0.90, 0.88), cb.is_improvement(0.885, 0.88)
    ('max', True, False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        self.monitor = check_monitor(monitor)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.baseline = None if baseline is None else check_number("baseline", baseline)
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.best: float | None = None

    @property
    def mode_resolved(self) -> str:
        """``"min"`` or ``"max"``: the direction ``mode="auto"`` stands for."""
        if self.mode != "auto":
            return self.mode
        return "max" if _is_accuracy_like(self.monitor) else "min"

    def is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta``.

        Anything beats a missing reference (``None``) except NaN, which never
        counts as an improvement (a diverged loss must not become the best).
        """
        if math.isnan(current):
            return False
        if reference is None:
            return True
        if self.mode_resolved == "max":
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def get_monitor_value(self, logs: Logs | None) -> float | None:
        """The monitored value in ``logs`` (under either accuracy spelling).

        Warns with a ``RuntimeWarning`` listing the available keys and returns
        ``None`` when the value is missing.
        """
        logs = logs or {}
        for key in (self.monitor, _other_spelling(self.monitor)):
            if key is not None and logs.get(key) is not None:
                return float(logs[key])
        warnings.warn(
            f"{type(self).__name__} is conditioned on metric `{self.monitor}`, "
            f"which is not available. Available metrics are: "
            f"{', '.join(logs) or '(none)'}",
            RuntimeWarning,
            stacklevel=3,
        )
        return None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = None


__all__ = ["MonitorCallback", "check_monitor"]
