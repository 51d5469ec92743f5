"""How much memory the machine has left, and a refusal for requests beyond it.

:func:`available_memory` asks ``psutil`` when it is installed, else reads
``MemAvailable`` from ``/proc/meminfo`` (Linux), else gives up (None): a check
that cannot know the answer is skipped, never guessed. ``MemAvailable`` is the
kernel's estimate of what can be allocated without swapping, page cache included,
which is what a user means by "free memory".

:func:`check_memory` turns a request that cannot fit into one clear error instead
of NumPy's ``MemoryError`` (or minutes of swapping first). The layers call it
before creating a weight; the CLI can call it with an estimate of a whole model
(:func:`glassnet.layers._estimate.estimate_size`) before building anything.
"""

from __future__ import annotations

from glassnet.errors import InsufficientMemoryError

__all__ = ["available_memory", "check_memory", "format_bytes"]

_MEMINFO = "/proc/meminfo"


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now, or None if unknown."""
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        with open(_MEMINFO, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    value, unit = line.split()[1:3]
                    return int(value) * (1024 if unit.lower() == "kb" else 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def format_bytes(n: int | float) -> str:
    """``1536 -> "1.5 KiB"``: a size for a message, in binary units."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def check_memory(
    name: str, needed: int, received: str, *, available: int | None = None
) -> None:
    """Refuse a request of ``needed`` bytes that exceeds the available memory.

    The message has the ``"<name>: expected ...; received ..."`` form of
    :func:`glassnet._internal.checks.fail`::

        weight 'kernel' of layer 'dense': expected a size that fits in the 3.1 GiB
        of memory available; received shape (64, 10000000) float32, which needs
        7.2 GiB (...)

    Args:
        name: what is being created, e.g. ``"weight 'kernel' of layer 'dense'"``.
        needed: the bytes the request needs at its peak.
        received: the request as the user wrote it (shape, dtype...), followed in
            the message by ``", which needs <needed>"``.
        available: the bytes available; defaults to :func:`available_memory` at
            the time of the call. Defaults to `None`.

    Raises:
        InsufficientMemoryError: when ``needed`` exceeds the available memory.
            Nothing happens when the available memory cannot be known.
    """
    if available is None:
        available = available_memory()
    if available is None or needed <= available:
        return
    raise InsufficientMemoryError(
        f"{name}: expected a size that fits in the {format_bytes(available)} "
        f"({available:,} bytes) of memory available; received {received}, which "
        f"needs {format_bytes(needed)} ({needed:,} bytes)"
    )
