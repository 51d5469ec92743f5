"""Readers of the CIFAR-10 batch files, binary and Python versions.

The binary version (``data_batch_1.bin`` ... ``data_batch_5.bin``,
``test_batch.bin``) is a sequence of 3073-byte records: one label byte, then the
1024 red, 1024 green and 1024 blue bytes of a 32x32 image, each row-major.

The Python version (``data_batch_1`` ... ``test_batch``) is a Python 2 pickle of a
dict with ``b'data'``, a (10000, 3072) uint8 array in the same channel order, and
``b'labels'``, a list of ints. Unpickling runs code named by the file, so it is
read only through :class:`RestrictedUnpickler`, which admits the three numpy
functions that rebuild an array and refuses every other global.
"""

from __future__ import annotations

import io
import math
import os
import pickle
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from glassnet.errors import InvalidFileError

NUM_CLASSES = 10
PIXELS = 32 * 32 * 3
RECORD = 1 + PIXELS

Batch = tuple[np.ndarray, np.ndarray]

# numpy pickles an array as _reconstruct(ndarray, (0,), b'b') followed by
# ndarray.__setstate__(shape, dtype, fortran, raw bytes); the dtype as
# dtype('u1', False, True) followed by dtype.__setstate__.
_reconstruct = cast(Callable[..., np.ndarray], np.empty(0).__reduce__()[0])


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` in a pickle: only _reconstruct may use it,
    so the pickle cannot call ndarray(shape) itself and allocate at will."""


_NDARRAY = _NdarrayToken()


def _safe_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError("_reconstruct may only build numpy.ndarray")
    if not isinstance(shape, tuple) or any(
        isinstance(d, bool) or not isinstance(d, int) for d in shape
    ):
        raise pickle.UnpicklingError(f"_reconstruct: bad placeholder shape {shape!r}")
    # The placeholder is always empty; __setstate__ gives the real shape and must
    # then supply every byte of the data, so no allocation exceeds the file.
    if math.prod(shape) != 0:
        raise pickle.UnpicklingError(f"_reconstruct: non-empty placeholder {shape}")
    return _reconstruct(np.ndarray, shape, dtype)


def _safe_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object arrays are refused")
    return dtype


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR batches that refuses every global but numpy's
    array reconstruction (``_reconstruct``, ``ndarray``, ``dtype``).

    Only dicts, lists, tuples, bytes, str, numbers and non-object numpy arrays can
    come out of it: a pickle that names ``os.system`` or any other callable is
    refused before anything is called.

    Example:
        >>> import io, pickle
        >>> RestrictedUnpickler(io.BytesIO(pickle.dumps({b"a": [1]}))).load()
        {b'a': [1]}
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _safe_dtype,
    }

    def __init__(self, file: Any) -> None:
        # The official files are Python 2 pickles: their str become bytes here,
        # so keys read b'data' and b'labels' as in Keras.
        super().__init__(file, encoding="bytes")

    def find_class(self, module: str, name: str) -> Any:
        """Return the admitted stand-in for a global, or refuse it."""
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global {module}.{name} is forbidden in a CIFAR-10 batch"
            ) from None


def read_cifar_python(
    path_or_bytes: str | os.PathLike[str] | bytes, *, name: str | None = None
) -> Batch:
    """Read one batch of the CIFAR-10 Python version through the restricted unpickler.

    Shapes:
        x: (N, 3072), channel-major (1024 red, 1024 green, 1024 blue);  y: (N,)

    Args:
        path_or_bytes: a file path, or the file's content.
        name: how the file is named in error messages. Defaults to `None` (the
            path, or ``"<bytes>"``).

    Returns:
        ``(x, y)``: uint8 pixels and uint8 labels in [0, 10).

    Raises:
        InvalidFileError: when the pickle names a forbidden global, is corrupt, or
            does not hold ``b'data'`` (N, 3072) uint8 and ``b'labels'`` (N ints).
    """
    data, label = _read_bytes(path_or_bytes, name)
    try:
        batch = RestrictedUnpickler(io.BytesIO(data)).load()
    except Exception as e:  # an untrusted pickle can fail in any way
        raise InvalidFileError(f"{label}: not a CIFAR-10 Python batch ({e})") from e
    if not isinstance(batch, dict) or not {b"data", b"labels"} <= batch.keys():
        keys = list(batch)[:8] if isinstance(batch, dict) else type(batch).__name__
        raise InvalidFileError(
            f"{label}: expected a dict with keys b'data' and b'labels'; received {keys}"
        )
    x, labels = batch[b"data"], batch[b"labels"]
    if (
        not isinstance(x, np.ndarray)
        or x.dtype != np.uint8
        or x.ndim != 2
        or (x.shape[1] != PIXELS)
    ):
        got = (
            f"a {x.dtype} array of shape {x.shape}"
            if isinstance(x, np.ndarray)
            else type(x).__name__
        )
        raise InvalidFileError(
            f"{label}: expected b'data' a uint8 array of shape (N, {PIXELS}); "
            f"received {got}"
        )
    if not isinstance(labels, list) or not all(
        type(v) is int and 0 <= v < NUM_CLASSES for v in labels
    ):
        raise InvalidFileError(
            f"{label}: expected b'labels' a list of ints in [0, {NUM_CLASSES})"
        )
    if len(labels) != len(x):
        raise InvalidFileError(
            f"{label}: expected {len(x)} labels, one per image; received {len(labels)}"
        )
    return np.ascontiguousarray(x), np.array(labels, dtype=np.uint8)


def read_cifar_binary(
    path_or_bytes: str | os.PathLike[str] | bytes, *, name: str | None = None
) -> Batch:
    """Read one batch of the CIFAR-10 binary version.

    Shapes:
        x: (N, 3072), channel-major (1024 red, 1024 green, 1024 blue);  y: (N,)

    Args:
        path_or_bytes: a file path, or the file's content.
        name: how the file is named in error messages. Defaults to `None` (the
            path, or ``"<bytes>"``).

    Returns:
        ``(x, y)``: uint8 pixels and uint8 labels in [0, 10).

    Raises:
        InvalidFileError: when the file is empty, is not a whole number of
            3073-byte records, or holds a label outside [0, 10).
    """
    data, label = _read_bytes(path_or_bytes, name)
    if not data or len(data) % RECORD:
        raise InvalidFileError(
            f"{label}: expected a positive multiple of {RECORD} bytes (records of "
            f"1 label + {PIXELS} pixels); received {len(data)} bytes"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    y = records[:, 0].copy()
    if int(y.max()) >= NUM_CLASSES:
        raise InvalidFileError(
            f"{label}: expected labels in [0, {NUM_CLASSES}); received a label "
            f"{int(y.max())} (not a CIFAR-10 binary batch?)"
        )
    return records[:, 1:].copy(), y


def _read_bytes(
    path_or_bytes: str | os.PathLike[str] | bytes, name: str | None
) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return bytes(path_or_bytes), name or "<bytes>"
    with open(path_or_bytes, "rb") as f:
        return f.read(), name or os.fspath(path_or_bytes)


__all__ = ["RestrictedUnpickler", "read_cifar_binary", "read_cifar_python"]
