"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped.

At the end of every epoch one checkpoint, ``<backup_dir>/checkpoint.h5``, holds
all that training depends on: a whole-model file (see :mod:`glassnet.saving`:
weights, optimizer slots, iterations and learning rate, generator states) plus

* ``training`` metadata: the epochs done, whether a callback stopped training,
  and the ``History`` so far (``epoch`` and ``history``);
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
import json
import os
import warnings
from typing import Any

import numpy as np

from glassnet._checks import fail
from glassnet._safetensors_file import invalid, json_field
from glassnet.callbacks.base import Callback, Logs
from glassnet.errors import InvalidFileError

CHECKPOINT = "checkpoint.h5"
PREVIOUS = "checkpoint.prev.h5"
_FLOATS = ("float16", "float32", "float64")  # the dtypes glassnet files hold

Payload = tuple[str, dict[str, str], dict[str, np.ndarray]]


class BackupAndRestore(Callback):
    """Back up the whole training state every epoch; restore it in the next ``fit``.

    When ``fit`` starts and ``<backup_dir>/checkpoint.h5`` exists, the model's
    weights, optimizer state, learning rate and random generators, the state of
    every callback that has one (matched in order and by class name) and the
    ``History`` are restored, and training goes on at the epoch after the last
    one backed up: a resumed run ends bitwise identical to an uninterrupted
    one. The model and callbacks must be built as in the interrupted run.
    Unlike Keras, ``model.history`` then holds every epoch, the restored ones
    included. The checkpoint is deleted when ``fit`` ends normally (not when it
    ends with an exception) if ``delete_checkpoint``.

    Args:
        backup_dir: the directory of the checkpoint files; made when needed.
        save_freq: ``"epoch"`` backs up at the end of every epoch; ``False``
            never backs up (only restores). Backups every N batches are not
            supported yet. Defaults to `"epoch"`.
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
        save_freq: str | bool = "epoch",
        delete_checkpoint: bool = True,
        save_before_preemption: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(backup_dir, str | os.PathLike) or not os.fspath(backup_dir):
            raise fail("backup_dir", "a non-empty directory path", repr(backup_dir))
        if save_freq != "epoch" and save_freq is not False:
            raise fail(
                "save_freq",
                "'epoch' or False (only backups at the end of each epoch are "
                "supported so far)",
                repr(save_freq),
            )
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
        payload = self._read()
        return None if payload is None else self._restore(*payload)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if not self.delete_checkpoint:
            return
        for path in (self.checkpoint_path, self.previous_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only when nothing else is in it

    def _stateful(self) -> list[tuple[int, Any]]:
        """The callbacks with a state, by position: only they must match a backup,
        so that one may drop a stateless one (the one that interrupted)."""
        return [(i, cb) for i, cb in enumerate(self._callbacks) if _get_state(i, cb)]

    # -- backing up --

    def _save(self, epoch: int) -> None:
        from glassnet._safetensors_file import write_file
        from glassnet.saving import _dumps, _model_payload

        tensors, meta = _model_payload(self.model)
        entries = []
        for i, cb in self._stateful():
            entry, arrays = _encode_state(i, cb)
            entries.append(entry)
            tensors.update(arrays)
        history = getattr(self.model, "history", None)
        training = {
            "epochs_done": epoch + 1,
            "stop_training": bool(getattr(self.model, "stop_training", False)),
            "epoch": list(getattr(history, "epoch", [])),
            "history": dict(getattr(history, "history", {})),
        }
        meta["training"] = _dumps("training state", training)
        meta["callbacks"] = _dumps("callback states", {"callbacks": entries})
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
                payload = _read_backup(path)
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
        from glassnet.saving import _restore_into

        training = _training_state(path, meta)
        stateful = self._stateful()
        states = _decode_states(path, meta, tensors, stateful)
        _restore_into(path, self.model, meta, tensors)
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
        if training["stop_training"]:
            # A callback had stopped training: nothing is left but on_train_end.
            return max(done, self.params.get("epochs", done))
        return done


def _is_array(value: Any) -> bool:
    return (
        hasattr(value, "shape") and hasattr(value, "dtype") and not np.isscalar(value)
    )


def _get_state(i: int, cb: Any) -> dict[str, Any]:
    get_state = getattr(cb, "get_state", None)
    state = {} if get_state is None else get_state()
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        where = f"state of callback {i} ({type(cb).__name__})"
        raise fail(where, "a dict with str keys", repr(state)[:200])
    return state


def _encode_state(i: int, cb: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Callback ``i``'s entry (class name, JSON state, array layout) and arrays."""
    where = f"state of callback {i} ({type(cb).__name__})"
    state = _get_state(i, cb)
    plain, layout, arrays = {}, {}, {}
    for key, value in state.items():
        items = value if isinstance(value, list | tuple) else [value]
        if not items or not all(_is_array(v) for v in items):
            plain[key] = value
            continue
        for j, a in enumerate(items):
            if str(a.dtype) not in _FLOATS:
                raise fail(
                    f"{where} {key!r}", f"arrays of a dtype in {_FLOATS}", a.dtype
                )
            name = f"callbacks/{i}/{key}" + ("" if items is not value else f"/{j}")
            arrays[name] = a
        layout[key] = None if items is not value else len(items)
    entry = {
        "class_name": type(cb).__name__,
        "index": i,
        "state": plain,
        "arrays": layout,
    }
    return entry, arrays


def _read_backup(path: str) -> Payload:
    """The checked container, which must be a backup (not any model file)."""
    from glassnet._safetensors_file import read_file

    meta, tensors = read_file(path)
    if meta.get("content") != "model" or "training" not in meta:
        raise invalid(path, "a BackupAndRestore checkpoint", "another glassnet file")
    return path, meta, tensors


def _training_state(path: str, meta: dict[str, str]) -> dict[str, Any]:
    training = json_field(path, meta, "training")
    done, epochs = training.get("epochs_done"), training.get("epoch")
    history = training.get("history")
    if not (
        _natural(done)
        and isinstance(training.get("stop_training"), bool)
        and isinstance(epochs, list)
        and all(_natural(e) for e in epochs)
        and isinstance(history, dict)
        and all(isinstance(v, list) for v in history.values())
        and all(_number(x) for v in history.values() for x in v)
    ):
        raise invalid(
            path,
            "a training state {epochs_done, stop_training, epoch, history}",
            json.dumps(training)[:200],
        )
    return training


def _decode_states(
    path: str, meta: dict[str, str], tensors: dict, stateful: list[tuple[int, Any]]
) -> list[dict[str, Any]]:
    """The states for ``stateful``, the ``(position, callback)`` pairs of the
    callbacks with a state, matched in order and by class name to the file's."""
    entries = json_field(path, meta, "callbacks").get("callbacks")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid(path, "a list of callback states", repr(entries)[:200])
    _match(path, [e.get("class_name") for e in entries], stateful)
    unused = {k for k in tensors if k.startswith("callbacks/")}
    states = []
    for (i, cb), entry in zip(stateful, entries, strict=True):
        where = f"callback {i} ({type(cb).__name__})"
        state, layout, index = (
            entry.get("state"),
            entry.get("arrays"),
            entry.get("index"),
        )
        if not (
            isinstance(state, dict) and isinstance(layout, dict) and _natural(index)
        ):
            raise invalid(path, f"a state, array layout and index of {where}", entry)
        for key, n in layout.items():
            base = f"callbacks/{index}/{key}"
            names = [base] if n is None else [f"{base}/{j}" for j in range(n)]
            if not (n is None or (_natural(n) and n > 0)) or not set(names) <= unused:
                raise invalid(path, f"the arrays {key!r} of {where}", f"{n!r}")
            unused -= set(names)
            values = [tensors[k] for k in names]
            state[key] = values[0] if n is None else values
        states.append(state)
    if unused:
        raise invalid(path, "only the tensors of the callbacks' states", sorted(unused))
    return states


def _match(path: str, saved: list[Any], stateful: list[tuple[int, Any]]) -> None:
    """Raise, naming the first callback whose class differs from the file's."""
    names = [type(cb).__name__ for _, cb in stateful]
    if saved == names:
        return
    k = next(
        (
            k
            for k, pair in enumerate(zip(saved, names, strict=False))
            if pair[0] != pair[1]
        ),
        min(len(saved), len(names)),
    )
    if k < len(names):
        i, cb = stateful[k]
        expected = f"the state of callback {i} ({names[k]})"
        got = f"the state of a {saved[k]!r}" if k < len(saved) else "none"
    else:
        expected, got = f"states for the callbacks {names}", f"one for a {saved[k]!r}"
    raise invalid(
        path,
        f"{expected}; callbacks with a state are matched in order and by class",
        f"{got} (the file holds states of {saved})",
    )


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = ["CHECKPOINT", "PREVIOUS", "BackupAndRestore"]
