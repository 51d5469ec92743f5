"""Element-wise work split over the batch axis and run on a small thread pool.

NumPy releases the GIL inside ufunc loops and array copies, so two threads
working on two halves of a batch keep two cores busy, where one NumPy call keeps
one. BLAS already uses every core for the matrix products; this module does the
same for the memory-bound passes between them (ReLU, batchnorm's element-wise
passes, max pooling); the compiled loop kernels take their thread count from
:func:`threads_here`.

Only work whose result does not depend on the split is ever split: element-wise
passes and copies, or sums that stay inside one sample. A reduction over the
batch (a bias gradient, batchnorm's mean) is never split, so every result is
bitwise the same for any number of threads.

The thread count is, in order: :func:`set_num_threads`, ``GLASSNET_NUM_THREADS``,
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` (what the
command line's ``--threads`` and the sweep workers set), the cores this process
may run on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from glassnet._internal.checks import check_int
from glassnet.backend import Array, get_array_module

__all__ = [
    "limit_threads",
    "num_threads",
    "set_num_threads",
    "split_batch",
    "threads_here",
]

_ENV_VARS = (
    "GLASSNET_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)
# Below this many elements per thread, handing work to a thread costs more than
# it saves (a hand-off is tens of microseconds; a pass over 64 K floats is ~20).
MIN_ELEMENTS_PER_THREAD = 1 << 16
# A block of 256 K elements (1 MiB of float32, with its outputs) stays in a
# core's cache between the passes a kernel makes over it.
BLOCK_ELEMENTS = 1 << 18

_lock = threading.Lock()
_state: dict[str, Any] = {"threads": None, "pool": None}


class _Inside(threading.local):
    active = False


_inside = _Inside()


def _default_threads() -> int:
    for var in _ENV_VARS:
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def num_threads() -> int:
    """Return the number of threads that element-wise kernels split work over."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(n: int) -> None:
    """Set the number of threads for element-wise kernels (1 turns splitting off).

    Args:
        n: an int >= 1.

    Raises:
        ValueError: when n is not an int >= 1.
    """
    n = check_int("n", n, min_value=1)
    with _lock:
        _state["threads"] = n


@contextmanager
def limit_threads(n: int | None):  # noqa: ANN201  (a generator context manager)
    """Use at most ``n`` threads inside the ``with`` block (``None``: no change)."""
    if n is None:
        yield
        return
    before = num_threads()
    set_num_threads(min(n, before))
    try:
        yield
    finally:
        set_num_threads(before)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _state["pool"]
        if pool is None or pool._max_workers < workers:  # noqa: SLF001
            if pool is not None:
                pool.shutdown(wait=False)
            pool = ThreadPoolExecutor(workers, thread_name_prefix="glassnet")
            _state["pool"] = pool
        return pool


def threads_here() -> int:
    """Threads a kernel called from this thread may use: :func:`num_threads`, or
    1 inside work that :func:`split_batch` already handed to a pool thread.

    The compiled loop kernels (:mod:`glassnet.functional._loops`) set Numba's
    thread count from it at every call, so the ``--threads`` setting,
    :func:`set_num_threads` and :func:`limit_threads` bound them as well.
    """
    return 1 if _inside.active else num_threads()


def _parts(n: int, elements: int) -> int:
    """How many threads to cut a batch of ``n`` items (``elements`` in all) over."""
    if _inside.active:
        return 1
    per_thread = max(elements // MIN_ELEMENTS_PER_THREAD, 1)
    return max(min(num_threads(), n, per_thread), 1)


def _in_blocks(fn: Callable[[slice], Any], s: slice, step: int) -> None:
    for start in range(s.start, s.stop, step):
        fn(slice(start, min(start + step, s.stop)))


def split_batch(fn: Callable[[Any], Any], x: Array, size: int | None = None) -> None:
    """Call ``fn(s)`` for consecutive slices ``s`` that cover ``x``'s first axis.

    The batch is cut into one range per thread when ``x`` is a large NumPy array
    and more than one thread is allowed, and each range into blocks of about
    ``BLOCK_ELEMENTS``, so that a kernel making several passes over its block
    finds it still in the core's cache. ``fn`` must write only inside its own
    slice of the batch (so the calls never race) and return nothing of use.

    Args:
        fn: the work on one slice of the batch axis.
        x: the array whose batch axis is split.
        size: how many elements the work touches, which decides the number of
            threads and blocks. Defaults to `None` (x's size).
    """
    if x.ndim == 0:
        fn(...)  # a scalar array: the whole of it is x[...]
        return
    n, size = x.shape[0], x.size if size is None else size
    if get_array_module(x) is not np or n == 0:
        fn(slice(0, n))
        return
    step = max(n * BLOCK_ELEMENTS // max(size, 1), 1)
    parts = _parts(n, size)
    bounds = [n * i // parts for i in range(parts + 1)]
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    futures = [_pool(parts - 1).submit(_worker, fn, s, step) for s in slices[1:]]
    try:
        _in_blocks(fn, slices[0], step)
    finally:
        for f in futures:
            f.result()


def _worker(fn: Callable[[slice], Any], s: slice, step: int) -> None:
    # Work handed to a pool thread runs its own nested splits inline: a pool
    # thread waiting on the pool could wait forever.
    _inside.active = True
    try:
        _in_blocks(fn, s, step)
    finally:
        _inside.active = False
