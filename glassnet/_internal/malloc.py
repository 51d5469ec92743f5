"""Keep freed array memory in the process instead of handing it back at once.

A training step allocates the same large arrays every step (column matrices,
activations, their gradients). glibc's malloc serves blocks above a threshold
with fresh ``mmap`` pages and returns them on ``free``, so every step pays a
page fault per 4 KiB of every large array, which can cost many times the
product that fills it (benchmarks/RESULTS.md). PyTorch's CPU tuning guide gives
the same advice for the same reason (use an allocator that keeps memory, or
tune glibc's).

:func:`keep_freed_memory` raises glibc's mmap threshold to its maximum (32 MiB),
so arrays up to that size come from the heap, and lets the heap keep up to
``GLASSNET_MALLOC_KEEP_MIB`` (default 256) of free memory before trimming.
It changes the allocator of the whole process, once, when a model or Solver
first trains or predicts; ``GLASSNET_MALLOC=system`` turns it off. Peak memory
is unchanged (the benchmark measures it); only the release of freed memory to
the operating system is deferred. On other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems
_done: list[bool] = []


def _keep_mib() -> int:
    value = os.environ.get("GLASSNET_MALLOC_KEEP_MIB", "").strip()
    return int(value) if value.isdigit() else 256


def keep_freed_memory() -> bool:
    """Tune glibc's malloc for repeated large allocations; True if it was applied.

    Idempotent and silent: any failure (not Linux, not glibc) leaves malloc as
    it was.
    """
    if _done:
        return _done[0]
    applied = False
    if (
        sys.platform.startswith("linux")
        and os.environ.get("GLASSNET_MALLOC") != "system"
    ):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt"):
                keep = _keep_mib() * 1024 * 1024
                applied = bool(
                    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
                    and libc.mallopt(_M_TRIM_THRESHOLD, max(keep, _MMAP_THRESHOLD_MAX))
                )
        except OSError:
            applied = False
    _done.append(applied)
    return applied
