"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped.

At the end of every epoch (or every ``save_freq`` batches, and when Ctrl-C
stops ``fit``) one checkpoint, ``<backup_dir>/checkpoint.h5``, holds all that
training depends on: a whole-model file (see :mod:`glassnet.saving`: weights,
optimizer slots, iterations and learning rate, generator states) plus

* ``training`` metadata: the epochs done, whether a callback stopped training,
  the ``History`` so far (``epoch`` and ``history``) and, for a backup taken
  inside an epoch, the position in it: the ``batch``es done, the generator
  state the epoch's shuffle order was drawn from (``epoch_rng``), the running
  ``loss_sum`` and sample ``count``, and each metric's ``(total, count)``;
* ``callbacks`` metadata: per callback given to ``fit`` that has a state (a
  non-empty :meth:`~glassnet.callbacks.base.Callback.get_state`), its class
  name, its position in the list and the JSON part of its state;
* ``callbacks/<position>/<key>`` tensors (``.../<key>/<j>`` for a list): the
  arrays of those states (``EarlyStopping``'s best weights...).

Callbacks with a state are matched in order and by class name to the backup's;
stateless ones (the one that raised, a ``LambdaCallback``...) may be added or
dropped, as in Keras' example where the second ``fit`` drops the interrupter.

The previous checkpoint is kept as ``checkpoint.prev.h5``: a checkpoint that
fails its checksum (or is missing after a crash between the two files) is
replaced by it, with a warning, and ``fit`` redoes the epoch in between.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import os
import warnings
from typing import Any

from glassnet._internal.checks import fail
from glassnet.callbacks._backup_state import (
    POSITION,
    Payload,
    decode_states,
    encode_state,
    get_state,
    read_backup,
    training_state,
)
from glassnet.callbacks.base import Callback, Logs
from glassnet.errors import InvalidFileError
from glassnet.saving.api import model_payload
from glassnet.saving.container import invalid, write_file
from glassnet.saving.restore import restore_into
from glassnet.saving.spec import dumps

CHECKPOINT = "checkpoint.h5"
PREVIOUS = "checkpoint.prev.h5"


class BackupAndRestore(Callback):
    """Back up the whole training state as it goes; restore it in the next ``fit``.

    When ``fit`` starts and ``<backup_dir>/checkpoint.h5`` exists, the model's
    weights, optimizer state, learning rate and random generators, the state of
    every callback that has one (matched in order and by class name) and the
    ``History`` are restored, and training goes on where the backup was taken,
    after the last epoch or, inside an epoch, at the next batch of the same
    shuffle order: a resumed run ends bitwise identical to an uninterrupted
    one. The model, data and callbacks must be as in the interrupted run.
    ``x`` may be a ``glassnet.utils.PyDataset``: a backup inside an epoch goes
    on at the next batch index of the same order (the batches done are not
    fetched again), and the data are recognised by the dataset's length and
    its first and last batches. A Python generator cannot be rewound, so
    ``fit`` refuses one (as ``x`` or ``validation_data``) with this callback.

    Ctrl-C (SIGINT) during ``fit`` lets the current batch finish, backs up, and
    raises ``KeyboardInterrupt`` with a message saying how to go on (a second
    Ctrl-C interrupts at once). Without this callback ``fit`` is interrupted
    at once, as in Keras.
    Unlike Keras, ``model.history`` then holds every epoch, the restored ones
    included. The checkpoint is deleted when ``fit`` ends normally (not when it
    ends with an exception) if ``delete_checkpoint``.

    Args:
        backup_dir: the directory of the checkpoint files; made when needed.
        save_freq: ``"epoch"`` backs up at the end of every epoch; an int N
            every N training batches (counted across epochs, as in Keras);
            ``False`` never backs up (only restores). Defaults to `"epoch"`.
        delete_checkpoint: delete the checkpoint files when training ends.
            Defaults to `True`.
        save_before_preemption: accepted for tf.keras compatibility; only
            `False` is supported. Defaults to `False`.

    Raises:
        ValueError: naming the argument that is not valid.
        InvalidFileError: at restore, for a checkpoint (and previous one) that
            is corrupted or foreign, or that does not match the model or the
            callbacks (naming the callback).

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from glassnet import callbacks, layers, models
    >>> class Interrupt(callbacks.Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 2:
    ...             raise RuntimeError("Interrupting!")
    >>> def build():
    ...     model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(1)],
    ...                               seed=0)
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> backup = BackupAndRestore(os.path.join(tempfile.mkdtemp(), "backup"))
    >>> x, y = np.ones((8, 3)), np.ones((8, 1))
    >>> try:
    ...     build().fit(x, y, epochs=5, verbose=0, callbacks=[backup, Interrupt()])
    ... except RuntimeError:
    ...     pass
    >>> history = build().fit(x, y, epochs=5, verbose=0, callbacks=[backup])
    >>> history.epoch  # epochs 0 and 1 were restored, 2 to 4 trained
    [0, 1, 2, 3, 4]
    """

    # Sees each epoch's final state (History's too); deletes after all is done.
    runs_last = True

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int | bool = "epoch",
        delete_checkpoint: bool = True,
        save_before_preemption: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(backup_dir, str | os.PathLike) or not os.fspath(backup_dir):
            raise fail("backup_dir", "a non-empty directory path", repr(backup_dir))
        natural = isinstance(save_freq, int) and not isinstance(save_freq, bool)
        if not (
            save_freq == "epoch" or save_freq is False or natural and save_freq > 0
        ):
            raise fail("save_freq", "'epoch', an int >= 1 or False", repr(save_freq))
        for name, flag in (
            ("delete_checkpoint", delete_checkpoint),
            ("save_before_preemption", save_before_preemption),
        ):
            if not isinstance(flag, bool):
                raise fail(name, "True or False", repr(flag))
        if save_before_preemption:
            raise fail("save_before_preemption", "False (not supported)", "True")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._callbacks: list[Any] = []
        self._batches_seen = 0

    @property
    def checkpoint_path(self) -> str:
        """``<backup_dir>/checkpoint.h5``, the latest backup."""
        return os.path.join(self.backup_dir, CHECKPOINT)

    @property
    def previous_path(self) -> str:
        """``<backup_dir>/checkpoint.prev.h5``, the backup before it."""
        return os.path.join(self.backup_dir, PREVIOUS)

    # -- hooks --

    def resume_training(self, callbacks: list[Callback]) -> int | None:
        """Restore the latest backup, if any; return the epoch to go on at."""
        self._callbacks = list(callbacks)
        self._remove_partial_writes()
        payload = self._read()
        return None if payload is None else self._restore(*payload)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._batches_seen = 0

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if isinstance(self.save_freq, str | bool):
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._save()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch)

    def backup_now(self) -> str:
        """Back up the state ``fit`` is in now (it calls this on Ctrl-C).

        Returns:
            The path of the checkpoint written.
        """
        self._save()
        return self.checkpoint_path

    def on_train_end(self, logs: Logs | None = None) -> None:
        if not self.delete_checkpoint:
            return
        for path in (self.checkpoint_path, self.previous_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only when nothing else is in it

    def _remove_partial_writes(self) -> None:
        """Temporary files of a save that a crash cut short (see
        ``glassnet._internal.io``)."""
        for name in (CHECKPOINT, PREVIOUS):
            for path in glob.glob(
                os.path.join(glob.escape(self.backup_dir), f".tmp-*-{name}")
            ):
                with contextlib.suppress(OSError):
                    os.remove(path)

    def _stateful(self) -> list[tuple[int, Any]]:
        """The callbacks with a state, by position: only they must match a backup,
        so that one may drop a stateless one (the one that interrupted)."""
        return [(i, cb) for i, cb in enumerate(self._callbacks) if get_state(i, cb)]

    # -- backing up --

    def _save(self, epoch: int | None = None) -> None:
        """Back up; ``fit`` keeps the position in ``model._fit_progress`` (a
        model driven by hand, without it, is backed up after ``epoch``)."""

        self._batches_seen = 0
        progress = getattr(self.model, "_fit_progress", None)
        if progress is None:
            progress = {"epoch": 0 if epoch is None else epoch + 1, "batch": 0}
        tensors, meta = model_payload(self.model)
        entries = []
        for i, cb in self._stateful():
            entry, arrays = encode_state(i, cb)
            entries.append(entry)
            tensors.update(arrays)
        history = getattr(self.model, "history", None)
        training = {
            "epochs_done": progress["epoch"],
            "stop_training": bool(getattr(self.model, "stop_training", False)),
            "epoch": list(getattr(history, "epoch", [])),
            "history": dict(getattr(history, "history", {})),
        }
        if self.params.get("data") is not None:
            training["data"] = self.params["data"]
        if progress["batch"]:
            training["batch_size"] = self.params.get("batch_size")
            training["steps"] = self.params.get("steps")
            metrics = [m.get_state() for m in self.model._all_metrics()]
            training.update(
                {k: progress[k] for k in ("batch", "epoch_rng", "loss_sum", "count")},
                metrics=metrics,
            )
        meta["training"] = dumps("training state", training)
        meta["callbacks"] = dumps("callback states", {"callbacks": entries})
        os.makedirs(self.backup_dir, exist_ok=True)
        if os.path.exists(self.checkpoint_path):
            os.replace(self.checkpoint_path, self.previous_path)
        write_file(self.checkpoint_path, tensors, meta)

    # -- restoring --

    def _read(self) -> Payload | None:
        """The latest readable backup; the previous one when the latest fails."""
        paths = [self.checkpoint_path, self.previous_path]
        present = [p for p in paths if os.path.exists(p)]
        error: InvalidFileError | None = None
        for path in present:
            try:
                payload = read_backup(path)
            except InvalidFileError as e:
                error = error or e
                continue
            if path != self.checkpoint_path:
                why = "unreadable" if error else "missing"
                warnings.warn(
                    f"BackupAndRestore: {self.checkpoint_path} is {why} "
                    f"({error or 'interrupted while saving'}); restoring the "
                    f"previous backup {path}",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return payload
        if error is not None:
            raise error
        return None

    def _restore(self, path: str, meta: dict[str, str], tensors: dict) -> int:

        training = training_state(path, meta)
        self._check_same_run(path, training)
        stateful = self._stateful()
        states = decode_states(path, meta, tensors, stateful)
        restore_into(path, self.model, meta, tensors)
        for (i, cb), state in zip(stateful, states, strict=True):
            try:
                cb.set_state(state)
            except (ValueError, TypeError) as e:
                where = f"callback {i} ({type(cb).__name__})"
                raise invalid(path, f"a valid state of {where}", e) from None
        history = getattr(self.model, "history", None)
        if history is not None:
            history.epoch = list(training["epoch"])
            history.history = {k: list(v) for k, v in training["history"].items()}
        done = training["epochs_done"]
        if training.get("batch"):
            self._restore_position(path, done, training)
        if training["stop_training"]:
            # A callback had stopped training: nothing is left but on_train_end.
            return max(done, self.params.get("epochs", done))
        return done

    def _check_same_run(self, path: str, training: dict[str, Any]) -> None:
        """Refuse to go on with other data, or inside an epoch with another batch
        size (its position counts batches): either would skip or repeat samples."""
        saved, given = training.get("data"), self.params.get("data")
        if saved is not None and given is not None and saved != given:
            shapes = " and ".join(str(tuple(s)) for s in saved.get("shapes", []))
            now = " and ".join(str(tuple(s)) for s in given["shapes"])
            raise ValueError(
                "x, y, weights and validation data: expected the data the backup "
                f"{path} was taken on (shapes {shapes}, sample hash "
                f"{str(saved.get('sha256'))[:12]}); received shapes {now}, sample "
                f"hash {given['sha256'][:12]}. Resume with the same data, sample "
                "and class weights and validation data, or give another "
                "backup_dir to start afresh"
            )
        for key, name in (("batch_size", "batch_size"), ("steps", "steps_per_epoch")):
            size, given_size = training.get(key), self.params.get(key)
            if training.get("batch") and size is not None and size != given_size:
                raise ValueError(
                    f"{name}: expected {size}, as in the run the backup {path} was "
                    f"taken in (inside epoch {training['epochs_done'] + 1}, after "
                    f"{training['batch']} batches); received {given_size}"
                )

    def _restore_position(self, path: str, epoch: int, training: dict) -> None:
        """Hand ``fit`` the position inside ``epoch`` that the backup was taken at."""
        position = {k: training[k] for k in POSITION}
        metrics = self.model._all_metrics()
        if len(position["metrics"]) != len(metrics):
            raise invalid(
                path,
                f"the states of the model's {len(metrics)} metrics",
                f"{len(position['metrics'])}",
            )
        for m, state in zip(metrics, position["metrics"], strict=True):
            try:  # on a copy: the model's metric changes only when fit goes on
                copy.deepcopy(m).set_state(state)
            except (ValueError, TypeError, KeyError) as e:
                raise invalid(path, f"a state of metric {m.name!r}", e) from None
        state = position["epoch_rng"]
        if state is not None:
            # Tried on a fresh generator of the model's kind: the model's is untouched.
            probe = type(self.model.rng.bit_generator)()
            try:
                probe.state = state
            except (TypeError, ValueError, KeyError) as e:
                raise invalid(path, "a valid generator state (epoch_rng)", e) from None
        self.model._fit_progress = {"epoch": epoch, **position}


__all__ = ["CHECKPOINT", "PREVIOUS", "BackupAndRestore"]
