"""One life of a small training run that the reliability tests kill and resume.

``train_life(folder)`` fits a tiny seeded model with a ``BackupAndRestore`` that
backs up after every batch, resuming from ``folder/backup`` when a backup is
there; at the end it writes ``folder/result.npz`` (weights and history). With
``kill_in_write=k`` the process SIGKILLs itself halfway through writing its
k-th checkpoint: the container's writer is wrapped here, not in the library.

Run as a script (``python -m tests.reliability.training_child FOLDER``) it is
the child of the Ctrl-C test; ``--epochs`` and ``--slow`` stretch it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import time

import numpy as np

from glassnet import layers, models, optimizers
from glassnet._internal.io import atomic_write
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback
from glassnet.saving import container

EPOCHS = 6


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)


def build(seed: int = 0) -> models.Sequential:
    model = models.Sequential(
        [
            layers.Input(shape=(6,)),
            layers.Dense(12, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ],
        seed=seed,
    )
    model.compile(
        # use_ema: fit ends by replacing the weights with their averages, which a
        # run resumed after its last epoch must do too.
        optimizers.Adam(learning_rate=0.02, use_ema=True, ema_momentum=0.9),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _kill_while_writing(k: int) -> None:
    """SIGKILL this process halfway through the k-th checkpoint write."""
    real, count = container.atomic_write, [0]

    def atomic_write(path, write):
        count[0] += 1
        if count[0] < k:
            return real(path, write)

        def half(f):
            class Half:
                def write(self, data):
                    f.write(bytes(data)[: len(data) // 2])
                    f.flush()
                    os.kill(os.getpid(), signal.SIGKILL)

            write(Half())

        return real(path, half)

    container.atomic_write = atomic_write


class _Slow(Callback):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)


class _KillAtTrainEnd(Callback):
    """SIGKILL after the last epoch, once its backup is written (before it is
    deleted: BackupAndRestore's on_train_end runs last)."""

    def on_train_end(self, logs=None):
        os.kill(os.getpid(), signal.SIGKILL)


def train_life(
    folder: str,
    *,
    epochs: int = EPOCHS,
    kill_in_write: int | None = None,
    kill_at_train_end: bool = False,
    save_freq: int | str = 1,
    slow: float = 0.0,
    batch_size: int = 8,
) -> None:
    """Train (or resume) to the end; write the weights and history."""
    if kill_in_write is not None:
        _kill_while_writing(kill_in_write)
    x, y = data()
    model = build()
    cbs = [BackupAndRestore(os.path.join(folder, "backup"), save_freq=save_freq)]
    if slow:
        cbs.insert(0, _Slow(slow))
    if kill_at_train_end:
        cbs.insert(0, _KillAtTrainEnd())
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, callbacks=cbs, verbose=0
    )
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    arrays["history"] = np.frombuffer(json.dumps(history.history).encode(), np.uint8)
    atomic_write(os.path.join(folder, "result.npz"), lambda f: np.savez(f, **arrays))


def forked_life(folder: str, delay: float | None = None, **kwargs) -> int | None:
    """Run :func:`train_life` in a forked process; SIGKILL it after ``delay`` s.

    Forked, so that no life pays for importing glassnet again. Returns the
    child's exit code (``-SIGKILL`` when it was killed).
    """
    process = multiprocessing.get_context("fork").Process(
        target=train_life, args=(folder,), kwargs=kwargs
    )
    process.start()
    process.join(delay)
    if process.exitcode is None:
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    return process.exitcode


def read_result(folder: str) -> tuple[list[np.ndarray], dict]:
    with np.load(os.path.join(folder, "result.npz"), allow_pickle=False) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files) - 1)]
        history = json.loads(f["history"].tobytes())
    return weights, history


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--slow", type=float, default=0.0)
    args = parser.parse_args()
    try:
        train_life(args.folder, epochs=args.epochs, slow=args.slow)
    except KeyboardInterrupt as e:
        print(e, flush=True)
        raise SystemExit(130) from None
