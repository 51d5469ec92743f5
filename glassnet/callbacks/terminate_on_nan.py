"""``TerminateOnNaN``: stop training as soon as the loss is NaN or infinite."""

from __future__ import annotations

import math

from glassnet.callbacks.base import Callback, Logs


class TerminateOnNaN(Callback):
    """Set ``model.stop_training`` when a batch ends with a NaN or infinite loss.

    ``fit`` then leaves the batch loop at once and ends training after that
    epoch's end hooks. Beyond Keras, ``stopped_at`` keeps the ``(epoch, batch)``
    where it happened (both from 0), or None, for a caller's own message.

    Example:

    >>> from types import SimpleNamespace
    >>> callback = TerminateOnNaN()
    >>> callback.set_model(SimpleNamespace(stop_training=False))
    >>> callback.on_train_batch_end(7, {"loss": float("nan")})
    Batch 7: Invalid loss, terminating training
    >>> callback.model.stop_training
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.stopped_at: tuple[int, int] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch, self.stopped_at = 0, None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.stopped_at = (self.epoch, batch)
            self.model.stop_training = True


__all__ = ["TerminateOnNaN"]
