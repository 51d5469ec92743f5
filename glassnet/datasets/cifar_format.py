"""Readers of the CIFAR-10 batch files, binary and Python versions.

The binary version (``data_batch_1.bin`` ... ``data_batch_5.bin``,
``test_batch.bin``) is a sequence of 3073-byte records: one label byte, then the
1024 red, 1024 green and 1024 blue bytes of a 32x32 image, each row-major.

The Python version (``data_batch_1`` ... ``test_batch``) is a Python 2 pickle of a
dict with ``b'data'``, a (10000, 3072) uint8 array in the same channel order, and
``b'labels'``, a list of ints. Unpickling runs code named by the file, so it is
read only through :class:`RestrictedUnpickler`: the opcodes are first checked
without running anything (:func:`scan_pickle`), then the only globals admitted
are numpy's array and dtype reconstructors, replaced by stand-ins that merely
record their arguments. Arrays are built afterwards by :func:`_to_array` from
what was recorded, after checking it, with ``np.frombuffer``: no numpy
``__setstate__`` ever sees the file's data, and no array is larger than the
bytes the file holds.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import pickletools
from typing import Any

import numpy as np

from glassnet._internal.io import read_regular_file
from glassnet.errors import InvalidFileError

NUM_CLASSES = 10
PIXELS = 32 * 32 * 3
RECORD = 1 + PIXELS

Batch = tuple[np.ndarray, np.ndarray]

# Plain numeric dtypes only; an array of the batch has one of these codes.
_DTYPE_CODES = {"b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8"}
_BYTE_ORDERS = {"|", "<", ">", "="}
_MAX_NDIM = 8
# Opcodes that reach classes, extension registries, persistent ids or
# out-of-band buffers; a CIFAR batch needs none of them.
_FORBIDDEN_OPS = {
    "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4",
    "PERSID", "BINPERSID", "NEXT_BUFFER", "READONLY_BUFFER",
}  # fmt: skip
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}


def scan_pickle(data: bytes) -> None:
    """Check a pickle's opcodes without running it.

    Refuses the opcodes in ``_FORBIDDEN_OPS``, memo indices beyond the number
    of opcodes read so far (the C unpickler sizes its memo by the largest index,
    so ``LONG_BINPUT 2**31`` alone would ask for 32 GiB), and counted strings
    longer than the data left, before the unpickler could allocate them.

    Raises:
        pickle.UnpicklingError: naming the opcode and its position.
    """
    try:
        for count, (op, arg, pos) in enumerate(pickletools.genops(data)):
            if op.name in _FORBIDDEN_OPS:
                raise pickle.UnpicklingError(f"opcode {op.name} at byte {pos}")
            if op.name in _PUT_OPS and not 0 <= arg <= count:
                raise pickle.UnpicklingError(f"memo index {arg} at byte {pos}")
    except ValueError as e:  # genops' truncated or unknown opcodes
        raise pickle.UnpicklingError(str(e)) from None


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` in a pickle: only _reconstruct may use it,
    so the pickle cannot call ndarray(shape) itself and allocate at will."""


_NDARRAY = _NdarrayToken()


class _DtypeStandIn:
    """What ``numpy.dtype(code, align, copy)`` becomes: a checked code, and the
    byte order that the pickle's BUILD sets."""

    def __init__(self, code: Any, *flags: Any) -> None:
        code = code.decode("ascii") if isinstance(code, bytes) else code
        if not isinstance(code, str) or code.lstrip("<>|=") not in _DTYPE_CODES:
            raise pickle.UnpicklingError(
                f"dtype {code!r}: only plain numeric dtypes (no object arrays)"
            )
        if len(flags) > 2 or not all(isinstance(f, bool | int) for f in flags):
            raise pickle.UnpicklingError(f"dtype flags {flags!r}")
        self.dtype = np.dtype(code)

    def __setstate__(self, state: Any) -> None:
        # numpy writes (3, byteorder, None, None, None, -1, -1, 0) for a plain
        # dtype (a 9th None for metadata in some versions): only the byte
        # order may be taken from it.
        plain = (None, None, None, -1, -1, 0)
        ok = isinstance(state, tuple) and state[2:] in (plain, (*plain, None))
        order = state[1] if ok else None
        order = order.decode("ascii") if isinstance(order, bytes) else order
        if order not in _BYTE_ORDERS:
            raise pickle.UnpicklingError("the state of a structured or odd dtype")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


class _ArrayStandIn:
    """What ``_reconstruct(ndarray, (0,), b'b')`` becomes; BUILD records the
    state ``(version, shape, dtype, fortran, raw bytes)`` for :func:`_to_array`."""

    state: Any = None

    def __setstate__(self, state: Any) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("an array state set twice")
        self.state = state


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> _ArrayStandIn:
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError("_reconstruct may only build numpy.ndarray")
    # numpy always pickles an empty placeholder; the state holds the real shape.
    if shape != (0,) or typecode not in (b"b", "b"):
        raise pickle.UnpicklingError(f"_reconstruct: a non-empty placeholder {shape}")
    return _ArrayStandIn()


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> _ArrayStandIn:
    """Protocol 5's form, ``numpy._core.numeric._frombuffer``, as a stand-in."""
    array = _ArrayStandIn()
    array.state = (1, shape, dtype, order in ("F", b"F"), buf)
    return array


def _to_array(value: Any) -> Any:
    """The array a stand-in recorded, checked against the bytes it holds."""
    if not isinstance(value, _ArrayStandIn):
        return value
    state = value.state
    if isinstance(state, tuple) and len(state) == 4:
        state = (1, *state)  # numpy before 1.0 wrote no version
    if not isinstance(state, tuple) or len(state) != 5 or state[0] != 1:
        raise InvalidFileError(f"an array state {type(state).__name__}")
    _, shape, dtype, fortran, raw = state
    if not (
        isinstance(shape, tuple)
        and len(shape) <= _MAX_NDIM
        and all(type(d) is int and d >= 0 for d in shape)
        and isinstance(dtype, _DtypeStandIn)
        and isinstance(fortran, bool | int)
        and isinstance(raw, bytes | bytearray)
    ):
        raise InvalidFileError("an array state (shape, plain dtype, bytes)")
    if math.prod(shape) * dtype.dtype.itemsize != len(raw):
        raise InvalidFileError(
            f"an array of shape {shape} and dtype {dtype.dtype} holding "
            f"{len(raw)} bytes"
        )
    flat = np.frombuffer(raw, dtype=dtype.dtype)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="C")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR batches that refuses every global but numpy's
    array reconstruction (``_reconstruct``, ``ndarray``, ``dtype``,
    ``_frombuffer``), which it replaces by inert stand-ins.

    Only dicts, lists, tuples, bytes, str, numbers and plain numeric numpy
    arrays (rebuilt by :meth:`load` from the recorded bytes) can come out of it:
    a pickle that names ``os.system`` or any other callable is refused before
    anything is called, and the opcodes are checked by :func:`scan_pickle`
    before unpickling starts.

    Example:
        >>> import io, pickle
        >>> RestrictedUnpickler(io.BytesIO(pickle.dumps({b"a": [1]}))).load()
        {b'a': [1]}
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _DtypeStandIn,
    }

    def __init__(self, file: Any) -> None:
        data = file.read()
        scan_pickle(data)
        # The official files are Python 2 pickles: their str become bytes here,
        # so keys read b'data' and b'labels' as in Keras.
        super().__init__(io.BytesIO(data), encoding="bytes")

    def find_class(self, module: str, name: str) -> Any:
        """Return the admitted stand-in for a global, or refuse it."""
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global {module}.{name} is forbidden in a CIFAR-10 batch"
            ) from None

    def load(self) -> Any:
        """Unpickle, then turn the array stand-ins of a top-level dict into
        arrays (the only place a CIFAR batch has them)."""
        value = super().load()
        if isinstance(value, _ArrayStandIn):
            return _to_array(value)
        if isinstance(value, dict):
            return {k: _to_array(v) for k, v in value.items()}
        return value


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
        raise InvalidFileError(
            f"{label}: expected a dict with keys b'data' and b'labels'; received "
            f"{_describe_keys(batch)}"
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
    y = _labels(labels, label)
    if len(y) != len(x):
        raise InvalidFileError(
            f"{label}: expected {len(x)} labels, one per image; received {len(y)}"
        )
    return np.ascontiguousarray(x), y


def _labels(labels: Any, label: str) -> np.ndarray:
    """``b'labels'``: a list of ints (or a 1-D integer array) in [0, 10)."""
    if (
        isinstance(labels, np.ndarray)
        and labels.ndim == 1
        and labels.dtype.kind in "iu"
    ):
        ok = not labels.size or 0 <= labels.min() and labels.max() < NUM_CLASSES
    else:
        ok = isinstance(labels, list) and all(
            type(v) is int and 0 <= v < NUM_CLASSES for v in labels
        )
    if not ok:
        raise InvalidFileError(
            f"{label}: expected b'labels' a list of ints in [0, {NUM_CLASSES})"
        )
    return np.array(labels, dtype=np.uint8)


def _describe_keys(batch: Any) -> str:
    """The first keys, without repr of arbitrary (possibly deeply nested) ones."""
    if not isinstance(batch, dict):
        return type(batch).__name__
    keys = [
        repr(k)[:40] if isinstance(k, bytes | str) else type(k).__name__
        for k in list(batch)[:8]
    ]
    return "[" + ", ".join(keys) + "]"


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
    label = name or os.fspath(path_or_bytes)
    return read_regular_file(path_or_bytes, label), label


__all__ = [
    "RestrictedUnpickler",
    "read_cifar_binary",
    "read_cifar_python",
    "scan_pickle",
]
