"""``ProgbarLogger``: the progress display of ``fit(verbose=...)``.

``verbose=1`` shows a live bar per epoch with the running loss and metrics,
drawn by tqdm (a maintained library); ``verbose=2`` prints one line per epoch.
Without tqdm installed, ``verbose=1`` falls back to the one-line form.
"""

from __future__ import annotations

import sys
from typing import Any

from glassnet.callbacks.base import Callback, Logs


def format_logs(logs: Logs) -> str:
    """``loss: 0.1234 - accuracy: 0.9800`` as Keras prints it."""
    return " - ".join(
        f"{k}: {v:.4g}" if k == "learning_rate" else f"{k}: {v:.4f}"
        for k, v in logs.items()
    )


class ProgbarLogger(Callback):
    """Prints progress to standard output.

    Args:
        verbose: 1 for a live bar per epoch, 2 for one line per epoch.
            Defaults to `1`.
    """

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        epochs = self.params.get("epochs", "?")
        if self.verbose == 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=f"Epoch {epoch + 1}/{epochs}",
                unit="step",
                file=sys.stdout,
                leave=True,
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}))
            self._bar.close()
            self._bar = None
        else:
            epochs = self.params.get("epochs", "?")
            print(f"Epoch {epoch + 1}/{epochs} - {format_logs(logs or {})}", flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class StepProgbar(Callback):
    """Progress of ``evaluate`` (``mode="test"``) or ``predict`` (``mode="predict"``).

    ``verbose=1`` draws a tqdm bar over the batches with the running logs;
    ``verbose=2`` prints the final logs of ``evaluate`` on one line.
    """

    def __init__(self, steps: int, verbose: int, mode: str = "test") -> None:
        super().__init__()
        self.steps, self.verbose, self.mode = steps, verbose, mode
        self._bar: Any = None

    def _begin(self) -> None:
        if self.verbose != 1:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=self.steps, unit="step", file=sys.stdout, dynamic_ncols=True
        )

    def _batch_end(self, logs: Logs | None) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=False)

    def _end(self, logs: Logs | None) -> None:
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(format_logs(logs))
            self._bar.close()
            self._bar = None
        elif self.verbose and logs:
            print(format_logs(logs), flush=True)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if self.mode == "test":
            self._begin()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.mode == "test":
            self._batch_end(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if self.mode == "test":
            self._end(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        if self.mode == "predict":
            self._begin()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.mode == "predict":
            self._batch_end(None)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        if self.mode == "predict":
            self._end(None)
