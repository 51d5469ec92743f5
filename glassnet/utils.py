"""Keras' ``keras.utils`` helpers that glassnet has (:func:`set_random_seed`,
:class:`PyDataset`, also called ``Sequence``, :func:`to_categorical`,
:func:`plot_model` and :func:`model_to_dot`), :func:`defer_sigint`, which lets a
training loop finish its step on Ctrl-C, and the thread count of the element-wise
kernels (:func:`set_num_threads`, :func:`num_threads`; see
:mod:`glassnet._internal.threads`)."""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet import backend
from glassnet._internal.checks import check_int, fail
from glassnet._internal.plot_model import model_to_dot, plot_model
from glassnet._internal.threads import num_threads, set_num_threads
from glassnet.backend import clear_session  # keras.utils.clear_session too
from glassnet.datasets.utils import to_categorical  # the one implementation


def set_random_seed(seed: int) -> None:
    """Fix every random draw that has no explicit seed or generator (Keras' name).

    After ``set_random_seed(n)`` a model built without ``seed=`` initialises the
    same weights, shuffles in the same order and drops the same units as in any
    other run that called ``set_random_seed(n)`` at the same point: the
    generators glassnet makes without a seed (:func:`glassnet.backend.rng`) take
    their seeds, in order, from ``n``. As in Keras, Python's ``random`` and
    NumPy's global state are seeded too: for the user's own code, and for the
    course classes built without ``seed=`` (``FullyConnectedNet``, the
    ``Solver``, ``dropout_forward``), which draw from NumPy's global generator
    as the course does. An explicit ``seed=`` still wins.

    Args:
        seed: an int >= 0.

    Raises:
        ValueError: naming ``seed`` for anything else.

    Example:

    >>> from glassnet import layers, models
    >>> def weights():
    ...     set_random_seed(7)
    ...     model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    ...     return model.get_weights()[0]
    >>> bool((weights() == weights()).all())
    True
    >>> backend.seed_generators(None)  # back to fresh entropy
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0; received {seed!r}")
    backend.seed_generators(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002  (the user's code, as Keras)


class PyDataset:
    """Base class of a dataset made of batches by Python code (Keras' name).

    A subclass defines ``__len__`` (the number of batches) and
    ``__getitem__(index)``, which returns batch ``index`` as ``(x, y)``,
    ``(x, y, sample_weight)`` or, for ``predict``, ``x`` alone; it may define
    ``on_epoch_begin()`` and ``on_epoch_end()``, which ``fit`` calls around each
    epoch (to reshuffle, for instance). Give it to ``fit``, ``evaluate`` or
    ``predict`` as ``x``, with no ``y``, ``sample_weight`` or ``batch_size``.
    An epoch is ``len(dataset)`` batches, or ``steps_per_epoch``; with
    ``shuffle=True`` (``fit``'s default), as in Keras, ``fit`` visits the
    batches in a fresh random order each epoch (drawn from the model's
    generator, so a seeded run repeats), and otherwise in index order.

    Args:
        workers: with more than 1, ``fit``, ``evaluate`` and ``predict`` call
            ``__getitem__`` ahead of time on that many threads; the batches are
            still used in their order, so the result is the same as with 1.
            Defaults to `1`.
        use_multiprocessing: accepted as Keras takes it; glassnet always uses
            threads (no process pool, so nothing is pickled): ``__getitem__``
            must be safe to call from several threads at once when
            ``workers > 1``. Defaults to `False`.
        max_queue_size: how many batches may be prepared ahead at most.
            Defaults to `10`.

    Raises:
        ValueError: naming the argument that is not valid.

    Example:

    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __init__(self, n, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x = np.arange(n, dtype="float32").reshape(n, 1)
    ...         self.batch_size = batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, index):
    ...         xb = self.x[index * self.batch_size : (index + 1) * self.batch_size]
    ...         return xb, xb**2
    >>> data = Squares(10, batch_size=4)
    >>> len(data), data[2][1].ravel().tolist()
    (3, [64.0, 81.0])
    """

    def __init__(
        self,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        self._workers = check_int("workers", workers, min_value=0)
        if not isinstance(use_multiprocessing, bool):
            raise fail(
                "use_multiprocessing", "True or False", repr(use_multiprocessing)
            )
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = check_int("max_queue_size", max_queue_size, min_value=1)

    def _warn_if_super_not_called(self) -> None:
        missing = [
            name
            for name, default in (
                ("_workers", 1),
                ("_use_multiprocessing", False),
                ("_max_queue_size", 10),
            )
            if name not in self.__dict__ and not setattr(self, name, default)
        ]
        if missing:
            warnings.warn(
                f"{type(self).__name__}: expected super().__init__(**kwargs) to be "
                "called in its constructor (kwargs may hold workers, "
                "use_multiprocessing and max_queue_size); received none, so the "
                "defaults are used",
                UserWarning,
                stacklevel=3,
            )

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = check_int("workers", value, min_value=0)

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise fail("use_multiprocessing", "True or False", repr(value))
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = check_int("max_queue_size", value, min_value=1)

    def __getitem__(self, index: int) -> Any:
        """Batch ``index``: ``(x, y)``, ``(x, y, sample_weight)`` or ``x``."""
        raise NotImplementedError(
            f"{type(self).__name__}: a PyDataset defines __getitem__(index), "
            "returning batch index"
        )

    @property
    def num_batches(self) -> int | None:
        """The number of batches: ``len(self)``."""
        if hasattr(self, "__len__"):
            return len(self)  # type: ignore[arg-type]
        raise NotImplementedError(
            f"{type(self).__name__}: a PyDataset defines __len__, the number of batches"
        )

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset  # Keras 3 exports both names


@dataclass
class SigintFlag:
    """Set by :func:`defer_sigint` when Ctrl-C was pressed."""

    requested: bool = False


@contextlib.contextmanager
def defer_sigint(enabled: bool = True) -> Iterator[SigintFlag]:
    """Turn the first Ctrl-C (SIGINT) into a flag that the loop checks between steps.

    Inside the block the first SIGINT only sets ``flag.requested``; the loop
    finishes its step, writes a checkpoint and stops. A second SIGINT raises
    ``KeyboardInterrupt`` at once, as usual. Nothing is deferred when
    ``enabled`` is False, outside the main thread, or when the program has its
    own SIGINT handler (only Python's default one is replaced).

    Args:
        enabled: defer at all. Defaults to `True`.

    Yields:
        The flag.
    """
    flag = SigintFlag()
    if (
        not enabled
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        flag.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


__all__ = [
    "PyDataset",
    "Sequence",
    "SigintFlag",
    "clear_session",
    "defer_sigint",
    "model_to_dot",
    "num_threads",
    "plot_model",
    "set_num_threads",
    "set_random_seed",
    "to_categorical",
]
