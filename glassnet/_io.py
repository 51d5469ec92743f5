"""File access shared by every module that saves or loads something.

Writing: atomic and durable.

A save goes to a temporary file in the destination's directory, is flushed and
fsynced, then renamed over the destination with ``os.replace`` (atomic on POSIX and
Windows), and finally the directory is fsynced so the rename itself survives a
power cut. A crash at any point leaves either the old file or the new one, never a
mixture.

Reading: :func:`open_regular` and :func:`read_regular_file` open only regular
files. A FIFO would block ``open`` until a writer comes and a device such as
``/dev/zero`` never ends, so both are refused with
:class:`~glassnet.errors.InvalidFileError`; ``O_NONBLOCK`` keeps the open itself
from waiting, and means nothing for a regular file.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from typing import IO

import numpy as np

from glassnet.errors import InvalidFileError

# Bounds on a .npy header read from an untrusted archive. A zero axis makes the
# byte count 0 whatever the others are, so the shape is bounded on its own too.
_MAX_NDIM = 32
_MAX_ITEMS = 2**48
# Deflate cannot compress better than about 1032:1.
_MAX_DEFLATE_RATIO = 1100


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


def open_regular(path: str | os.PathLike[str], label: str | None = None) -> IO[bytes]:
    """Open ``path`` for binary reading if it is a regular file.

    Args:
        path: the file to open.
        label: how error messages name the file. Defaults to `None`, meaning
            ``"file '<path>'"``.

    Returns:
        The open file object, positioned at the start.

    Raises:
        InvalidFileError: for a directory, FIFO, socket or device, with the
            message ``"<label>: expected a regular file; received <kind>"``.
        OSError: when the path cannot be opened (FileNotFoundError if absent).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            name = f"file {os.fspath(path)!r}" if label is None else label
            raise InvalidFileError(
                f"{name}: expected a regular file; received {_file_kind(mode)}"
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | os.PathLike[str], label: str | None = None) -> bytes:
    """The whole content of ``path``, which must be a regular file.

    Args:
        path: the file to read.
        label: how error messages name the file. Defaults to `None` (see
            :func:`open_regular`).

    Raises:
        InvalidFileError: as :func:`open_regular`.
        OSError: when the path cannot be opened or read.
    """
    with open_regular(path, label) as f:
        return f.read()


def read_npz(path: str | os.PathLike[str], label: str) -> dict[str, np.ndarray]:
    """The numeric arrays of an ``.npz`` archive, each checked before it is read.

    Only stored or deflated members named ``<key>.npy`` are accepted. Each
    member's ``.npy`` header is parsed from the member stream (never pickled
    objects), and its shape times item size must equal the bytes the member
    really holds before anything is allocated: a forged shape cannot make it
    allocate more than the file's own size (times the deflate ratio bound).

    Args:
        path: the archive, a regular file.
        label: how error messages name the file.

    Returns:
        ``{key: array}``, each array C-contiguous, writable and in native byte
        order.

    Raises:
        InvalidFileError: for a file that is not such an archive.
        OSError: when the path cannot be opened or read.
    """
    with open_regular(path, label) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            with zipfile.ZipFile(f) as archive:
                return _read_members(archive, size, label)
        except MemoryError:
            raise  # the checks make this a bug, not a bad file: do not hide it
        except InvalidFileError:
            raise
        except Exception as e:  # zipfile, zlib and numpy raise many kinds
            raise InvalidFileError(
                f"{label}: expected an .npz archive; received an unreadable file "
                f"({type(e).__name__}: {e})"
            ) from e


def _read_members(
    archive: zipfile.ZipFile, size: int, label: str
) -> dict[str, np.ndarray]:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise InvalidFileError(f"{label}: expected distinct member names")
    # Overlapping members (a zip bomb's trick) would each pass the size check.
    packed = sum(info.compress_size for info in infos)
    if packed > size:
        raise InvalidFileError(
            f"{label}: expected members of at most {size} bytes in all (the "
            f"file's size); received {packed}"
        )
    arrays = {}
    for info in infos:
        where = f"{label} member {info.filename!r}"
        if not info.filename.endswith(".npy") or info.is_dir():
            raise InvalidFileError(f"{where}: expected a <name>.npy array")
        limit = info.compress_size * (
            1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
        )
        ok = info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        if not (ok and info.compress_size <= size and info.file_size <= limit):
            raise InvalidFileError(
                f"{where}: expected a stored or deflated member of at most "
                f"{size} compressed bytes; received compression "
                f"{info.compress_type}, {info.compress_size} -> {info.file_size}"
            )
        with archive.open(info) as stream:
            arrays[info.filename[: -len(".npy")]] = _read_npy(
                stream, info.file_size, where
            )
    return arrays


def _read_npy(stream: IO[bytes], size: int, where: str) -> np.ndarray:
    """One ``.npy`` member of ``size`` bytes, its header checked against ``size``."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise InvalidFileError(f"{where}: expected .npy version 1.0 or 2.0")
    if dtype.kind not in "biufc" or dtype.hasobject or dtype.fields is not None:
        raise InvalidFileError(f"{where}: expected a numeric dtype; received {dtype}")
    ok = len(shape) <= _MAX_NDIM and all(d >= 0 for d in shape)
    if not ok or math.prod(max(d, 1) for d in shape) > _MAX_ITEMS:
        raise InvalidFileError(f"{where}: expected a valid shape; received {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    if stream.tell() + nbytes != size:
        raise InvalidFileError(
            f"{where}: expected {size - stream.tell()} bytes of data for its "
            f"shape {shape} and dtype {dtype}; received {nbytes}"
        )
    data = stream.read(nbytes)
    # Reading past the end makes zipfile check the member's CRC-32.
    if len(data) != nbytes or stream.read(1):
        raise InvalidFileError(f"{where}: expected {nbytes} bytes of data")
    array = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")
    # A copy: frombuffer's view is read-only and the caller may update in place.
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((kind for test, kind in kinds if test(mode)), "a special file")


__all__ = [
    "atomic_write",
    "atomic_write_bytes",
    "open_regular",
    "read_npz",
    "read_regular_file",
]
