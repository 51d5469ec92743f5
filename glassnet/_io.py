"""Atomic, durable file writes shared by every module that saves something.

A save goes to a temporary file in the destination's directory, is flushed and
fsynced, then renamed over the destination with ``os.replace`` (atomic on POSIX and
Windows), and finally the directory is fsynced so the rename itself survives a
power cut. A crash at any point leaves either the old file or the new one, never a
mixture.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import IO


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]
) -> None:
    """Write atomically: ``write(f)`` fills a temporary file that replaces ``path``.

    Args:
        path: the destination file.
        write: a function that writes the whole content to the binary file object.

    Raises:
        OSError: when the directory cannot be written; the destination is untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(
        prefix=".tmp-", suffix="-" + os.path.basename(path), dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(data))


def _fsync_directory(directory: str) -> None:
    # Directories cannot be opened for fsync on Windows; the rename is still atomic.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
