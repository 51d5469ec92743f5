"""``CSVLogger``: stream each epoch's ``logs`` to a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import IO, Any

from glassnet._internal.checks import fail
from glassnet._internal.io import atomic_write_bytes
from glassnet.callbacks.base import Callback, Logs


def _cell(value: Any) -> Any:
    """A CSV cell: strings and numbers as they are, sequences as Keras writes them."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value
    if getattr(value, "ndim", 1) == 0:
        return value
    return f"[{', '.join(map(str, value))}]"


_NOT_METRICS = frozenset({"learning_rate", "lr", "epoch_time"})
"""Logged keys that are no metric, so validation has no twin of them."""


class CSVLogger(Callback):
    """Write one row per epoch, ``epoch`` then the ``logs`` keys in sorted order.

    The columns are fixed by the first epoch's keys; a key missing from a later
    epoch is written as ``NA``, as in Keras. When the first epoch has no
    validation keys but the training will validate later (``validation_freq``
    > 1), the ``val_`` twin of every metric (and of the loss) gets its column
    from the start, holding
    ``NA`` on the epochs without validation, as Keras writes them. Training is
    known to validate when ``fit`` says so in ``params["do_validation"]``, or
    when the model's ``metrics_names`` list ``val_`` names (Keras' own test).

    Its state (for ``BackupAndRestore``) is the number of rows the file held at
    the backup: resuming with ``append=True`` drops rows written after it, which a
    crash between an epoch's row and that epoch's backup would leave twice.

    Args:
        filename: the CSV file's path.
        separator: the one-character field separator. Defaults to `","`.
        append: append to an existing file (writing the header only when the file
            is empty) instead of overwriting it. Defaults to `False`.

    Raises:
        ValueError: naming ``filename``, ``separator`` or ``append`` when it is not
            valid.

    Example:

    >>> import csv, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "training.log")
    >>> logger = CSVLogger(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    >>> logger.on_train_end()
    >>> with open(path, newline="") as f:
    ...     list(csv.reader(f))
    [['epoch', 'accuracy', 'loss'], ['0', '0.75', '0.5']]
    """

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, str | os.PathLike) or not os.fspath(filename):
            raise fail("filename", "a file path", repr(filename))
        if not isinstance(separator, str) or len(separator) != 1:
            raise fail("separator", "a one-character string", repr(separator))
        if not isinstance(append, bool):
            raise fail("append", "True or False", repr(append))
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self.csv_file: IO[str] | None = None
        self.writer: csv.DictWriter | None = None
        self.append_header = True
        self.rows = 0  # data rows in the file

    state_attributes = ("rows",)

    def _lines(self) -> list[str]:
        if not (self.append and os.path.exists(self.filename)):
            return []
        with open(self.filename, newline="", encoding="utf-8") as f:
            return f.read().splitlines(keepends=True)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._close()
        lines = self._lines()
        self.append_header = not lines
        self.rows = max(len(lines) - 1, 0)
        self._open()

    def _open(self) -> None:
        mode = "a" if self.append else "w"
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.keys = None
        self.writer = None

    def set_state(self, state: dict[str, Any]) -> None:
        """Go on from a backup: with ``append``, keep the header and the first
        ``state['rows']`` rows (atomically rewritten) and drop the rest."""
        super().set_state(state)
        lines = self._lines()
        if len(lines) - 1 <= self.rows:
            return
        self._close()
        atomic_write_bytes(self.filename, "".join(lines[: self.rows + 1]).encode())
        self._open()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.csv_file is None:
            raise RuntimeError("CSVLogger: on_train_begin must run before on_epoch_end")
        logs = logs or {}
        if self.writer is None:
            self.keys = sorted(logs)
            if self._expects_validation() and not any(
                k.startswith("val_") for k in self.keys
            ):
                self.keys += [f"val_{k}" for k in self.keys if k not in _NOT_METRICS]
            self.writer = csv.DictWriter(
                self.csv_file,
                fieldnames=["epoch", *self.keys],
                delimiter=self.sep,
                extrasaction="ignore",
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: _cell(logs.get(k, "NA")) for k in self.keys or []})
        self.writer.writerow(row)
        self.csv_file.flush()
        self.rows += 1

    def _expects_validation(self) -> bool:
        if self.params.get("do_validation"):
            return True
        names = getattr(getattr(self, "model", None), "metrics_names", None) or []
        return any(isinstance(n, str) and n.startswith("val_") for n in names)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._close()

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


__all__ = ["CSVLogger"]
