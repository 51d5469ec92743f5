"""``TensorBoard``: write scalars, weight histograms and images for TensorBoard.

Event files are written through tensorboardX (``pip install glassnet[tensorboard]``)
in Keras' layout: ``<log_dir>/train`` holds ``epoch_loss``, ``epoch_accuracy``,
``epoch_learning_rate`` ... and the batch-level ``batch_loss`` ...;
``<log_dir>/validation`` holds the ``val_`` entries without their prefix
(``epoch_loss`` there is the validation loss), so TensorBoard draws both runs
on one chart.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from typing import Any

import numpy as np

from glassnet._internal.checks import check_int, fail
from glassnet.callbacks.base import Callback, Logs


def _summary_writer_class() -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "The TensorBoard callback writes event files through tensorboardX, "
            "which is not installed: pip install glassnet[tensorboard]"
        ) from err
    return SummaryWriter


def _check_update_freq(update_freq: Any) -> str | int:
    if update_freq in ("batch", "epoch"):
        return update_freq
    if isinstance(update_freq, int | np.integer) and not isinstance(update_freq, bool):
        return check_int("update_freq", update_freq, min_value=1)
    raise fail(
        "update_freq", "'batch', 'epoch' or a positive integer", repr(update_freq)
    )


def weight_image(w: np.ndarray) -> np.ndarray | None:
    """A weight as a batch of grey images ``(N, H, W, 1)`` scaled to [0, 1].

    As Keras draws them: a bias is one column, a dense kernel one image (made
    wider than tall), a rank-3 kernel one image per last-axis slice. A
    channels-last conv kernel ``(HH, WW, C, F)`` gives one ``HH x WW`` image per
    (input, output) channel pair, image ``c * F + f``; other ranks give ``None``.
    """
    w = np.squeeze(np.asarray(w, dtype=np.float64))
    if w.ndim == 1:
        img = w.reshape(1, -1, 1, 1)
    elif w.ndim == 2:
        img = (w.T if w.shape[0] > w.shape[1] else w)[None, :, :, None]
    elif w.ndim == 3:
        img = np.moveaxis(w, -1, 0)[..., None]
    elif w.ndim == 4:
        img = w.reshape(w.shape[0], w.shape[1], -1).transpose(2, 0, 1)[..., None]
    else:
        return None
    lo, hi = img.min(), img.max()
    # A constant weight (a zero bias) would divide by zero: draw it mid-grey.
    return (img - lo) / (hi - lo) if hi > lo else np.full_like(img, 0.5)


class TensorBoard(Callback):
    """Log training to TensorBoard event files (through tensorboardX).

    Args:
        log_dir: the directory the ``train`` and ``validation`` runs go under.
            Defaults to `"logs"`.
        histogram_freq: write every weight's histogram (tag
            ``"<layer name>/<weight name>"``) every this many epochs; 0 never.
            Defaults to `0`.
        write_graph: accepted for Keras compatibility; a NumPy model has no graph
            to draw, so nothing is written. Defaults to `True`.
        write_images: with ``histogram_freq``, also draw each weight as an image
            (tag ``"<layer name>/<weight name>/image"``). Defaults to `False`.
        write_steps_per_second: log the training speed as ``epoch_steps_per_second``
            (and ``batch_steps_per_second`` with batch updates). Defaults to `False`.
        update_freq: ``"epoch"`` writes epoch-level scalars only; ``"batch"`` also
            writes ``batch_<key>`` after every training batch, and an integer
            after every that many batches (counted over the whole of ``fit``).
            Defaults to `"epoch"`.
        profile_batch: accepted for Keras compatibility; profiling is not
            supported and anything but 0 only warns. Defaults to `0`.
        embeddings_freq: accepted for Keras compatibility; embeddings are not
            projected and anything but 0 only warns. Defaults to `0`.
        embeddings_metadata: accepted for Keras compatibility. Defaults to `None`.

    Raises:
        ValueError: naming the argument that is not valid.
        ImportError: when tensorboardX is not installed.

    Example (not a doctest: tensorboardX is an optional dependency)::

        tensorboard = TensorBoard(log_dir="logs", histogram_freq=1)
        model.fit(x, y, epochs=5, callbacks=[tensorboard])
        # then: tensorboard --logdir=logs
    """

    # The global batch counter is the step of batch-level scalars: a resumed fit
    # goes on from it instead of overwriting the first steps.
    state_attributes = ("_global_train_batch",)

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: Any = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        if not isinstance(log_dir, str | os.PathLike) or not os.fspath(log_dir):
            raise fail("log_dir", "a directory path", repr(log_dir))
        for name, flag in (
            ("write_graph", write_graph),
            ("write_images", write_images),
            ("write_steps_per_second", write_steps_per_second),
        ):
            if not isinstance(flag, bool):
                raise fail(name, "True or False", repr(flag))
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_int("histogram_freq", histogram_freq, min_value=0)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = _check_update_freq(update_freq)
        self.embeddings_freq = check_int(
            "embeddings_freq", embeddings_freq, min_value=0
        )
        self.profile_batch = profile_batch
        self.embeddings_metadata = embeddings_metadata
        if profile_batch not in (0, None, "0", (0, 0), [0, 0]) or embeddings_freq:
            warnings.warn(
                "TensorBoard: profiling and embeddings are not supported by "
                "glassnet; profile_batch and embeddings_freq are ignored",
                UserWarning,
                stacklevel=2,
            )
        self._writer_class = _summary_writer_class()
        self._writers: dict[str, Any] = {}
        self._reset()

    def _reset(self) -> None:
        self._global_train_batch = 0
        self._epoch_first_batch = 0
        self._epoch_start = time.perf_counter()
        self._batch_start = self._epoch_start

    def _writer(self, run: str) -> Any:
        """The writer of ``run`` ("train" or "validation"), made on first use."""
        if run not in self._writers:
            self._writers[run] = self._writer_class(
                logdir=os.path.join(self.log_dir, run),
                # Keeps two runs started within the same second in separate files.
                filename_suffix=f".{uuid.uuid4().hex[:8]}",
            )
        return self._writers[run]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._close_writers()
        self._reset()

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._epoch_first_batch = self._global_train_batch

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.update_freq == "epoch":
            return
        every = 1 if self.update_freq == "batch" else int(self.update_freq)
        step = self._global_train_batch
        if step % every != 0:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.add_scalar("batch_" + key, float(value), step)
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._batch_start, 1e-9)
            writer.add_scalar("batch_steps_per_second", 1.0 / seconds, step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._log_epoch_metrics(epoch, dict(logs or {}))
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_epoch_metrics(self, epoch: int, logs: dict[str, float]) -> None:
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[len("val_") :]: v for k, v in logs.items() if k.startswith("val_")}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if "learning_rate" not in train and lr is not None:
            train["learning_rate"] = float(lr)
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            steps = self._global_train_batch - self._epoch_first_batch
            train["steps_per_second"] = steps / seconds
        for run, values in (("train", train), ("validation", val)):
            for key, value in values.items():
                self._writer(run).add_scalar("epoch_" + key, float(value), epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in getattr(self.model, "layers", []):
            for name, w in zip(layer.weight_names, layer.get_weights(), strict=True):
                tag = f"{layer.name}/{name}"
                writer.add_histogram(tag, np.asarray(w), epoch)
                image = weight_image(w) if self.write_images else None
                if image is not None:
                    writer.add_images(tag + "/image", image, epoch, dataformats="NHWC")


__all__ = ["TensorBoard", "weight_image"]
