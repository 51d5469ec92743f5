"""``ReduceLROnPlateau``: lower the learning rate when a metric stops improving."""

from __future__ import annotations

from glassnet._internal.checks import check_int, check_number
from glassnet.callbacks._learning_rate import get_learning_rate, set_learning_rate
from glassnet.callbacks.base import Logs
from glassnet.callbacks.monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when a metric has stopped improving.

    After ``patience`` epochs without an improvement of more than ``min_delta``,
    ``model.optimizer.learning_rate`` becomes ``max(lr * factor, min_lr)`` and
    the next ``cooldown`` epochs are not counted. Each epoch's ``logs`` receive
    ``learning_rate``: the rate that epoch was trained with.

    Args:
        monitor: the ``logs`` key to watch. Defaults to `"val_loss"`.
        factor: the factor the learning rate is multiplied by, in (0, 1).
            Defaults to `0.1`.
        patience: epochs without improvement after which the rate is reduced.
            Defaults to `10`.
        verbose: 1 prints a line at each reduction. Defaults to `0`.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see
            :class:`~glassnet.callbacks.monitor.MonitorCallback`).
            Defaults to `"auto"`.
        min_delta: the smallest change that counts as an improvement.
            Defaults to `1e-4`.
        cooldown: epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_lr: the lower bound of the learning rate. Defaults to `0`.

    Raises:
        ValueError: naming the argument that is not valid (``factor`` >= 1 too).

    Example:

    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.1))
    >>> reduce_lr = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> reduce_lr.set_model(model)
    >>> reduce_lr.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 1.0, 1.0]):
    ...     reduce_lr.on_epoch_end(epoch, {"loss": loss})
    >>> model.optimizer.learning_rate
    0.025
    """

    # The learning rate itself is the optimizer's, saved with the model.
    state_attributes = ("best", "wait", "cooldown_counter")

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.factor = check_number(
            "factor", factor, low=0, high=1.0, low_open=True, high_open=True
        )
        self.patience = check_int("patience", patience, min_value=0)
        self.verbose = check_int("verbose", verbose, min_value=0)
        self.cooldown = check_int("cooldown", cooldown, min_value=0)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self._reset()

    def _reset(self) -> None:
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        """Whether the epochs right after a reduction are still being skipped."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        logs["learning_rate"] = get_learning_rate(self.model)
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch, logs["learning_rate"])

    def _reduce(self, epoch: int, old_lr: float) -> None:
        if old_lr <= self.min_lr:
            return
        new_lr = max(old_lr * self.factor, self.min_lr)
        set_learning_rate(self.model, new_lr)
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                f"to {new_lr}.",
                flush=True,
            )
        self.cooldown_counter = self.cooldown
        self.wait = 0


__all__ = ["ReduceLROnPlateau"]
