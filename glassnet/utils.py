"""Keras' ``keras.utils`` helpers that glassnet has (:func:`set_random_seed`),
:func:`defer_sigint`, which lets a training loop finish its step on Ctrl-C, and
the thread count of the element-wise kernels (:func:`set_num_threads`,
:func:`num_threads`; see :mod:`glassnet._internal.threads`)."""

from __future__ import annotations

import contextlib
import random
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from glassnet import backend
from glassnet._internal.threads import num_threads, set_num_threads
from glassnet.backend import clear_session  # keras.utils.clear_session too


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
    "SigintFlag",
    "clear_session",
    "defer_sigint",
    "num_threads",
    "set_num_threads",
    "set_random_seed",
]
