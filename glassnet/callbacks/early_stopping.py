"""``EarlyStopping``: stop training when a monitored value stops improving."""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet.callbacks.base import Logs
from glassnet.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving.

    At the end of each epoch the monitored value is compared with the best one
    so far; after ``patience`` epochs without an improvement of more than
    ``min_delta``, ``model.stop_training`` is set. With ``restore_best_weights``
    the weights of the best epoch are put back when training ends, whatever
    ended it (this callback, another one, or the last epoch), as in Keras 3.

    Args:
        monitor: the ``logs`` key to watch. Defaults to `"val_loss"`.
        min_delta: the smallest change that counts as an improvement.
            Defaults to `0`.
        patience: epochs without improvement after which training stops.
            Defaults to `0`.
        verbose: 1 prints a line when stopping and when restoring weights.
            Defaults to `0`.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see
            :class:`~glassnet.callbacks.monitor.MonitorCallback`).
            Defaults to `"auto"`.
        baseline: the monitored value must beat it for the patience counter to
            restart. Defaults to `None`.
        restore_best_weights: restore the weights of the best epoch at the end
            of training; when no epoch was monitored nothing is restored.
            Defaults to `False`.
        start_from_epoch: warm-up epochs during which nothing is monitored.
            Defaults to `0`.

    Raises:
        ValueError: naming the argument that is not valid.

    Example:

    >>> import numpy as np
    >>> from glassnet import layers, models, optimizers
    >>> callback = EarlyStopping(monitor="loss", patience=3)
    >>> # This callback stops training when there is no improvement in
    >>> # the loss for three consecutive epochs.
    >>> model = models.Sequential([layers.Dense(10)])
    >>> model.compile(optimizers.SGD(), loss="mse")
    >>> with np.errstate(all="ignore"):  # the loss diverges on purpose
    ...     history = model.fit(np.arange(100).reshape(5, 20), np.zeros(5),
    ...                         epochs=10, batch_size=1, callbacks=[callback],
    ...                         verbose=0)
    >>> len(history.history["loss"])  # Only 4 epochs are run.
    4
    """

    # What a resumed fit needs to stop (and restore) as an uninterrupted one would.
    state_attributes = ("wait", "stopped_epoch", "best", "best_weights", "best_epoch")

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, baseline=baseline, min_delta=min_delta)
        self.patience = check_int("patience", patience, min_value=0)
        self.verbose = check_int("verbose", verbose, min_value=0)
        if not isinstance(restore_best_weights, bool):
            raise fail(
                "restore_best_weights", "True or False", repr(restore_best_weights)
            )
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = check_int(
            "start_from_epoch", start_from_epoch, min_value=0
        )
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until an epoch improves, the first monitored weights are the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The patience counter restarts only once the baseline is beaten too.
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}.",
                    flush=True,
                )
            self.model.set_weights(self.best_weights)


__all__ = ["EarlyStopping"]
