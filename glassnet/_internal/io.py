"""File access shared by every module that saves or loads something.

Writing: atomic and durable.

A save goes to a temporary file in the destination's directory, is flushed and
fsynced, then renamed over the destination with ``os.replace`` (atomic on POSIX and
Windows), and finally the directory is fsynced so the rename itself survives a
power cut. A crash at any point leaves either the old file or the new one, never a
mixture.

A symbolic link is followed, as editors and Keras do: the file it points to is
replaced (its temporary file sits beside that file, so the rename stays within
one file system) and the link stays a link. A replaced file keeps its permission
bits; a new one gets 0666 less the umask, as ``open`` gives. When a save fails,
the :class:`OSError` keeps its kind and ``errno`` but its message names the
destination (never the temporary file), the step that failed and the system's
reason, and says that the earlier file at that path is intact.

Reading: :func:`open_regular` and :func:`read_regular_file` open only regular
files. A FIFO would block ``open`` until a writer comes and a device such as
``/dev/zero`` never ends, so both are refused with
:class:`~glassnet.errors.InvalidFileError`; ``O_NONBLOCK`` keeps the open itself
from waiting, and means nothing for a regular file.
"""

from __future__ import annotations

import contextlib
import errno
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
        path: the destination file, or a symbolic link to it (the link is
            followed and kept).
        write: a function that writes the whole content to the binary file object.

    Raises:
        OSError: when the directory cannot be written, the disk is full or the
            rename fails; the message names ``path``, what failed and that the
            earlier file there is intact (it is: nothing but a temporary file was
            written, and that is removed).
    """
    given = os.fspath(path)
    target = os.path.realpath(given) if os.path.islink(given) else given
    if os.path.islink(target):  # realpath stops at a loop, on the link itself
        raise OSError(
            errno.ELOOP,
            f"could not save {given!r}: it is a symbolic link that never reaches "
            "a file (a loop); nothing was written",
        )
    directory = os.path.dirname(os.path.abspath(target))
    existed = os.path.lexists(target)
    step, tmp = "create a temporary file in its directory", None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=".tmp-", suffix="-" + os.path.basename(target), dir=directory
        )
        step = "write the new contents"
        with os.fdopen(fd, "wb") as f:
            _keep_mode(f, target)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        step = "rename the new file over it"
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError):
            raise _write_error(e, given, target, tmp, step, existed) from e
        raise
    _fsync_directory(directory)


def _keep_mode(f: IO[bytes], target: str) -> None:
    """Give the temporary file the permission bits of the file it replaces, or
    of a newly created file (0666 less the umask): mkstemp makes it 0600, which
    would hide a saved model from the rest of its group."""
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = 0
    bits = stat.S_IMODE(mode) if stat.S_ISREG(mode) else 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.fchmod(f.fileno(), bits)


def _umask() -> int:
    # Linux shows the umask without changing it; elsewhere it is set and restored.
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_error(
    e: OSError, given: str, target: str, tmp: str | None, step: str, existed: bool
) -> OSError:
    """``e`` retold about the destination: same kind and errno, one line."""
    reason = e.strerror or str(e) or type(e).__name__
    if tmp is not None:
        reason = reason.replace(tmp, target)
    link = f" (a link to {target!r})" if target != given else ""
    state = (
        "the earlier file at that path is intact"
        if existed
        else "nothing was written at that path"
    )
    message = f"could not save {given!r}{link}: failed to {step} ({reason}); {state}"
    try:
        error = type(e)(message)
    except Exception:  # an OSError subclass with another constructor
        error = OSError(message)
    # errno without strerror keeps str(error) the message, not "[Errno 28] ...".
    error.errno = e.errno
    return error


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


def read_npy(path: str | os.PathLike[str], label: str) -> np.ndarray:
    """A numeric ``.npy`` file, its header checked before anything is allocated.

    The same checks as each member of :func:`read_npz`: never pickled objects,
    and the header's shape times item size must equal the bytes the file really
    holds, so a 129-byte file claiming shape (10**11, 8, 8) is refused at once.

    Args:
        path: the file, a regular file.
        label: how error messages name the file.

    Returns:
        The array, C-contiguous, writable and in native byte order.

    Raises:
        InvalidFileError: for a file that is not such an array, or is truncated.
        OSError: when the path cannot be opened or read.
    """
    with open_regular(path, label) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            return _read_npy(f, size, label)
        except (MemoryError, InvalidFileError, OSError):
            raise
        except Exception as e:  # numpy's header parser raises several kinds
            raise InvalidFileError(
                f"{label}: expected a .npy array file; received an unreadable "
                f"file ({type(e).__name__}: {e})"
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
            f"{where}: expected {nbytes} bytes of data for its shape {shape} and "
            f"dtype {dtype}; received {size - stream.tell()}"
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
    "read_npy",
    "read_npz",
    "read_regular_file",
]
