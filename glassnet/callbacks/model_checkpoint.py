"""``ModelCheckpoint``: save the model or its weights during training."""

from __future__ import annotations

import os
from typing import Any

from glassnet._internal.checks import check_int, check_number, fail
from glassnet.callbacks.base import Logs
from glassnet.callbacks.monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model (or only its weights) at the end of every epoch or every
    ``save_freq`` batches, optionally only when the monitored value improves.

    ``filepath`` may hold ``str.format`` fields filled from the epoch (numbered
    from 1, as in Keras), the batch (from 1, when saving by batch) and the
    ``logs``: ``"model.{epoch:02d}-{val_loss:.2f}.h5"``. Files are glassnet's
    single-file safetensors format whatever their suffix (see
    :mod:`glassnet.saving`); ``models.load_model`` or ``model.load_weights`` reads
    them back. As in Keras, the best value is kept across ``fit`` calls, so a
    second ``fit`` does not overwrite a better checkpoint with a worse one.

    Args:
        filepath: the file to write, possibly with format fields.
        monitor: the ``logs`` key compared by ``save_best_only``.
            Defaults to `"val_loss"`.
        verbose: 1 prints a line at each save or skipped save. Defaults to `0`.
        save_best_only: save only when ``monitor`` improves on the best value
            so far; with a fixed ``filepath`` the file then always holds the best
            model. Defaults to `False`.
        save_weights_only: save with ``model.save_weights`` instead of
            ``model.save``. Defaults to `False`.
        mode: ``"auto"``, ``"min"`` or ``"max"``: the direction of improvement
            (``"auto"`` is ``"max"`` for accuracies). Defaults to `"auto"`.
        save_freq: ``"epoch"``, or an int N to save every N batches (counted
            across epochs). Defaults to `"epoch"`.
        initial_value_threshold: the value the first saved ``monitor`` must beat
            when ``save_best_only``. Defaults to `None`.

    Raises:
        ValueError: naming the argument that is not valid; at save time, for a
            ``filepath`` field missing from ``logs`` (listing the keys there are).

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from glassnet import layers, models
    >>> folder = tempfile.mkdtemp()
    >>> model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> checkpoint = ModelCheckpoint(os.path.join(folder, "model.{epoch:02d}.h5"),
    ...                              monitor="loss", save_best_only=True)
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=0,
    ...               callbacks=[checkpoint])
    >>> sorted(os.listdir(folder))
    ['model.01.h5', 'model.02.h5']
    """

    # The batch counters matter with an integer save_freq, counted across epochs.
    state_attributes = (
        "best",
        "_current_epoch",
        "_batches_seen_since_last_saving",
        "_last_batch_seen",
    )

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode)
        if not isinstance(filepath, str | os.PathLike):
            raise fail("filepath", "a str or os.PathLike path", repr(filepath))
        self.filepath = os.fspath(filepath)
        self.verbose = check_int("verbose", verbose, min_value=0)
        for name, flag in (
            ("save_best_only", save_best_only),
            ("save_weights_only", save_weights_only),
        ):
            if not isinstance(flag, bool):
                raise fail(name, "True or False", repr(flag))
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch":
            check_int("save_freq", save_freq, min_value=1)
        self.save_freq = save_freq
        self.initial_value_threshold = (
            None
            if initial_value_threshold is None
            else check_number("initial_value_threshold", initial_value_threshold)
        )
        self.best = self.initial_value_threshold
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    # -- hooks --

    def on_train_begin(self, logs: Logs | None = None) -> None:
        # Unlike MonitorCallback, keep ``best`` (Keras' ModelCheckpoint does).
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    # -- saving --

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        # A batch index that does not grow means a new epoch began.
        if batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs | None) -> None:
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self.is_improvement(current, self.best):
                self._say(
                    f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                    f"{self._best_text()}"
                )
                return
            self._say(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from "
                f"{self._best_text()} to {current:.5f}, saving model to {filepath}"
            )
            self.best = current
        else:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        fields: dict[str, Any] = dict(logs)
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        fields["epoch"] = epoch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise fail(
                "filepath",
                f"format fields among {sorted(fields)} (the epoch and the logs)",
                f"{self.filepath!r}, which needs {e}",
            ) from None
        except (IndexError, ValueError) as e:
            raise fail(
                "filepath", "named str.format fields", f"{self.filepath!r} ({e})"
            ) from None

    def _best_text(self) -> str:
        if self.best is not None:
            return f"{self.best:.5f}"
        return "-inf" if self.mode_resolved == "max" else "inf"

    def _say(self, message: str) -> None:
        if self.verbose > 0:
            print(message, flush=True)


__all__ = ["ModelCheckpoint"]
