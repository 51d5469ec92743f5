"""Where ``fit``, ``evaluate`` and ``predict`` take their batches from, when ``x``
is not (only) arrays: one adapter per kind of data, each giving an epoch's
batches and saying how many there are and whether a run can be resumed.

* :class:`ArraySource`: arrays cut into ``batch_size`` batches, in the order
  the array loop of :mod:`glassnet.models.fit_loop` uses (used here only when
  ``validation_data`` is a generator or ``PyDataset`` and ``x`` is arrays);
* :class:`PyDatasetSource`: a :class:`glassnet.utils.PyDataset`, batch ``i``
  being ``dataset[i]``; ``len(dataset)`` batches a pass, in a random order with
  ``shuffle``; ``workers > 1`` prepares batches ahead on threads, in order;
* :class:`GeneratorSource`: a Python generator or iterator (or an iterable that
  is not array data), read once: it cannot be rewound.

As Keras 3's ``EpochIterator``: with ``steps`` an epoch takes that many batches
and the next epoch goes on where it stopped (a ``PyDataset`` starts a new pass
after its last batch); without, an epoch is a whole pass (a generator's is up to
``StopIteration``). Running out before ``steps`` warns "Your input ran out of
data"; a generator that ran out ends training after that epoch (see
:mod:`glassnet.models.source_loop`). :func:`data_fingerprint` is what
``BackupAndRestore`` recognises the data of such a fit by.
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from glassnet._internal.checks import as_numeric_array, fail
from glassnet.models import fit_loop
from glassnet.utils import PyDataset

Batch = tuple[Any, Any, Any]  # (x, y or None, sample_weight or None)

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your "
    "dataset or generator can generate at least `steps_per_epoch * epochs` "
    "batches."
)


def is_batch_source(x: Any) -> bool:
    """Whether ``x`` makes its own batches: a ``PyDataset``, an iterator (a
    generator), or an iterable that is neither an array nor a list, tuple or
    dict (of arrays)."""
    if isinstance(x, PyDataset):
        return True
    if x is None or isinstance(x, np.ndarray | str | bytes | list | tuple | dict):
        return False
    if hasattr(x, "__array__") or hasattr(x, "__cuda_array_interface__"):
        return False
    return hasattr(x, "__next__") or (
        hasattr(x, "__iter__") and not hasattr(x, "__len__")
    )


def kind(x: Any) -> str:
    """``"a PyDataset"`` or ``"a generator"``, for messages."""
    return "a PyDataset" if isinstance(x, PyDataset) else "a generator"


def unpack(batch: Any, where: str) -> Batch:
    """``(x, y, sample_weight)`` of a batch: a tuple or list of 1 to 3 items, or
    an array ``x`` alone (Keras' forms)."""
    if isinstance(batch, np.ndarray) or hasattr(batch, "__array__"):
        return batch, None, None
    if isinstance(batch, list | tuple) and 1 <= len(batch) <= 3:
        x, y, sw = (*batch, None, None)[:3]
        return x, y, sw
    raise fail(
        where,
        "a batch (x,), (x, y) or (x, y, sample_weight), or an array x",
        f"{type(batch).__name__} {str(batch)[:60]}",
    )


def prefetch(dataset: PyDataset, indices: Any) -> Iterator[Any]:
    """``dataset[i]`` for each ``i`` of ``indices``, in that order; with
    ``workers > 1`` up to ``max_queue_size`` of them are prepared ahead on a
    thread pool (threads even with ``use_multiprocessing``: nothing is pickled)."""
    workers, ahead = dataset.workers, dataset.max_queue_size
    if workers <= 1:
        for i in indices:
            yield dataset[int(i)]
        return
    todo = iter(indices)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(
            pool.submit(dataset.__getitem__, int(i))
            for i in itertools.islice(todo, ahead)
        )
        try:
            while pending:
                batch = pending.popleft().result()
                for i in itertools.islice(todo, 1):
                    pending.append(pool.submit(dataset.__getitem__, int(i)))
                yield batch
        finally:  # an epoch stopped early: drop what was asked ahead
            for future in pending:
                future.cancel()


class ArraySource:
    """Arrays ``(x, y, sample_weight)`` in ``batch_size`` batches; with
    ``shuffle`` each epoch takes a fresh permutation of the samples, drawn from
    the model's generator as the array loop does."""

    resumable = True
    name = "x"

    def __init__(self, x: Any, y: Any, sw: Any, batch_size: int, steps: Any):
        self.x, self.y, self.sw, self.batch_size = x, y, sw, batch_size
        self.units = len(x)  # what a shuffle permutes: samples
        self.steps = steps or -(-len(x) // batch_size)
        self._order: Any = None

    def has_more(self) -> bool:
        return True

    def begin_epoch(self, order: Any) -> None:
        self._order = order

    def wants_order(self) -> bool:
        return True

    def batches(self, done: int) -> Iterator[tuple[int, Batch]]:
        n, size, order = self.units, self.batch_size, self._order
        for i in range(done, min(self.steps, -(-n // size))):
            start = i * size
            idx = (
                slice(start, start + size)
                if order is None
                else order[start : start + size]
            )
            yield (
                i,
                (self.x[idx], self.y[idx], None if self.sw is None else self.sw[idx]),
            )

    def end_epoch(self) -> None:
        pass


class PyDatasetSource:
    """A ``PyDataset``: ``steps`` batches an epoch (``len(dataset)`` without),
    going on where the last epoch stopped, a new pass (in a new order with
    ``shuffle``) after the dataset's last batch."""

    name = "x"

    def __init__(self, dataset: PyDataset, steps: int | None, name: str = "x"):
        length = dataset.num_batches
        if isinstance(length, bool) or not isinstance(length, int | np.integer):
            raise fail(
                f"len({name})",
                "the number of batches of the PyDataset, an int >= 1",
                repr(length),
            )
        if length < 1:
            raise fail(name, "a PyDataset of at least one batch", "len() 0")
        self.dataset, self.name = dataset, name
        self.units = int(length)  # what a shuffle permutes: batches
        self.steps = steps or self.units
        # Each epoch is a whole pass (or stops at the end of one), so a backup
        # between batches names a batch index in one order.
        self.resumable = self.steps >= self.units
        self.ran_out = False  # only a generator's running out ends training
        self._order: Any = None
        self._cursor = self._epoch_start = 0  # positions in the current pass

    def has_more(self) -> bool:
        return True

    def wants_order(self) -> bool:
        """Whether the epoch starts a new pass (and so a new shuffle order)."""
        return self._cursor == 0

    def begin_epoch(self, order: Any) -> None:
        if self._cursor == 0:
            self._order = order
        self._epoch_start = self._cursor
        self.dataset.on_epoch_begin()

    def batches(self, done: int) -> Iterator[tuple[int, Batch]]:
        """Batches ``done`` ... of this epoch: resumed inside an epoch, the
        skipped ones are not fetched at all."""
        start = self._cursor + done
        end = min(self._cursor + self.steps, self.units)
        positions = range(start, end)
        indices = positions if self._order is None else self._order[start:end]
        for i, batch in enumerate(prefetch(self.dataset, indices), start=done):
            self._cursor = start + (i - done) + 1
            yield i, unpack(batch, f"{self.name}[{int(positions[i - done])}]")

    def end_epoch(self) -> None:
        taken = self._cursor - self._epoch_start
        if self._cursor >= self.units:
            # As Keras: fewer batches than steps_per_epoch left in the pass
            # cut the epoch short, and the next epoch starts a new pass.
            if taken < self.steps:
                warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
            self._cursor = 0
        self.dataset.on_epoch_end()

    def unpack_at(self, index: int) -> Batch:
        """Batch ``index``, read now (for the data fingerprint of a backup)."""
        return unpack(self.dataset[index], f"{self.name}[{index}]")

    def pass_batches(self, steps: int | None) -> Iterator[tuple[int, Batch]]:
        """One pass for ``evaluate``/``predict``: the first ``steps`` batches
        (all without) in index order; more ``steps`` than batches warns."""
        n = self.units if steps is None else min(steps, self.units)
        self.dataset.on_epoch_begin()
        for i, batch in enumerate(prefetch(self.dataset, range(n))):
            yield i, unpack(batch, f"{self.name}[{i}]")
        if steps is not None and steps > self.units:
            warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
        self.dataset.on_epoch_end()


class GeneratorSource:
    """A generator or iterator, read once: each epoch takes the next ``steps``
    batches (all that are left without ``steps``)."""

    resumable = False
    units = 0

    def __init__(self, data: Any, steps: int | None, name: str = "x"):
        self.name, self.steps = name, steps
        self._iterator = iter(data)
        self._ahead: list[Any] = []  # a batch taken by has_more, not yet used
        self.ran_out = False  # stopped before `steps` batches
        self.exhausted = False
        self.batches_seen = 0

    def has_more(self) -> bool:
        """Whether there is another batch (read ahead, and kept for the epoch)."""
        if not self._ahead and not self.exhausted:
            try:
                self._ahead.append(next(self._iterator))
            except StopIteration:
                self.exhausted = True
        return bool(self._ahead)

    def wants_order(self) -> bool:
        return False

    def begin_epoch(self, order: Any) -> None:
        pass

    def batches(self, done: int = 0) -> Iterator[tuple[int, Batch]]:
        for i in itertools.count() if self.steps is None else range(self.steps):
            if not self.has_more():
                if self.steps is not None:
                    self.ran_out = True
                    warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
                return
            batch = self._ahead.pop()
            self.batches_seen += 1
            yield i, unpack(batch, f"batch {self.batches_seen - 1} of {self.name}")

    def end_epoch(self) -> None:
        pass

    def pass_batches(self, steps: int | None) -> Iterator[tuple[int, Batch]]:
        self.steps = steps
        return self.batches()


def _batch_arrays(batch: tuple, class_weight: Any) -> tuple:
    x, y, sw = batch
    x, y = as_numeric_array("x", x), as_numeric_array("y", y)
    sw = None if sw is None else as_numeric_array("sample_weight", sw)
    return x, y, fit_loop._class_weights(y, class_weight, sw)


def _fingerprint(source: Any, class_weight: Any) -> dict[str, Any]:
    """Arrays as the array loop fingerprints them; a PyDataset by its length and
    the shapes and sampled rows of its first and last batches."""
    if isinstance(source, ArraySource):
        return fit_loop.fingerprint(source.x, source.y, source.sw)
    first, last = (
        _batch_arrays(source.unpack_at(i), class_weight) for i in (0, source.units - 1)
    )
    found = fit_loop.fingerprint(*first, last)
    shapes = [[source.units], *found["shapes"]]
    return {"shapes": shapes, "sha256": f"{source.units}:{found['sha256']}"}


def data_fingerprint(source: Any, val: Any, class_weight: Any) -> dict[str, Any]:
    """What ``BackupAndRestore`` recognises the data of a fit by: the training
    source's fingerprint and the validation data's, hashed together."""
    parts = [_fingerprint(source, class_weight)]
    if isinstance(val, PyDatasetSource):
        parts.append(_fingerprint(val, None))
    elif val is not None:
        parts.append(fit_loop.fingerprint(*val[:3]))
    digest = hashlib.sha256("|".join(p["sha256"] for p in parts).encode())
    return {"shapes": parts[0]["shapes"], "sha256": digest.hexdigest()}


def source_for(data: Any, steps: int | None, name: str) -> Any:
    """The adapter of a ``PyDataset`` or generator ``data``."""
    if isinstance(data, PyDataset):
        return PyDatasetSource(data, steps, name)
    return GeneratorSource(data, steps, name)


__all__ = [
    "RAN_OUT",
    "ArraySource",
    "data_fingerprint",
    "GeneratorSource",
    "PyDatasetSource",
    "is_batch_source",
    "kind",
    "prefetch",
    "source_for",
    "unpack",
]
