"""Reader of IDX files, the format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a big-endian header followed by the raw array::

    bytes 0-1   zero
    byte  2     dtype code (0x08 = unsigned byte, the only one MNIST uses)
    byte  3     number of dimensions, ndim
    4 * ndim    the dimensions, each a big-endian uint32
    rest        prod(dimensions) bytes of data, row-major

So images start with the magic number ``0x00000803`` and labels with ``0x00000801``.
Every size is checked against the bytes actually present before any array is
allocated: a forged header that declares billions of items is refused, never
allocated.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib

import numpy as np

from glassnet._internal.io import read_regular_file
from glassnet.errors import InvalidFileError

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08
_MAX_NDIM = 4
# Deflate cannot compress better than about 1032:1, so a gzip file of n bytes
# cannot hold more than this many times n bytes of data (plus a small margin).
_MAX_DEFLATE_RATIO = 1100
_CHUNK = 1 << 20
# A zero dimension makes the byte count 0 whatever the others are, so each
# shape is also bounded on its own: (0, 2**32 - 1, 2**32 - 1) fits no index.
_MAX_ITEMS = 2**48


def read_idx(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    ndim: int | None = None,
    name: str | None = None,
) -> np.ndarray:
    """Read an IDX file of unsigned bytes, gzip-compressed or not.

    Compression is detected from the content (gzip's magic bytes), not the name.

    Shapes:
        out: the dimensions the header declares, e.g. (N, 28, 28) for images
        and (N,) for labels.

    Args:
        path_or_bytes: a file path, or the file's content.
        ndim: the required number of dimensions (3 for images, 1 for labels),
            which fixes the magic number. Defaults to `None` (any from 1 to 4).
        name: how the file is named in error messages. Defaults to `None` (the
            path, or ``"<bytes>"``).

    Returns:
        A writable uint8 array.

    Raises:
        InvalidFileError: when the magic number, the dtype code, the number of
            dimensions or the size is wrong, the file is truncated or has trailing
            bytes, or the gzip stream is corrupt. The message names the file.
        OSError: when the path cannot be read.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data = bytes(path_or_bytes)
        label = name or "<bytes>"
    else:
        label = name or os.fspath(path_or_bytes)
        data = read_regular_file(path_or_bytes, label)
    if data[:2] == _GZIP_MAGIC:
        return _read_gzip(data, label, ndim)
    return _read_stream(io.BytesIO(data), len(data), label, ndim, gzipped=False)


def _read_gzip(data: bytes, label: str, ndim: int | None) -> np.ndarray:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            return _read_stream(stream, len(data), label, ndim, gzipped=True)
    except (OSError, EOFError, zlib.error) as e:
        raise InvalidFileError(f"{label}: corrupt gzip stream ({e})") from e


def _read_stream(
    stream: io.BufferedIOBase, size: int, label: str, ndim: int | None, *, gzipped: bool
) -> np.ndarray:
    dims = _read_header(stream, label, ndim)
    header = 4 + 4 * len(dims)
    expected = math.prod(dims)
    if math.prod(max(d, 1) for d in dims) > _MAX_ITEMS:
        raise InvalidFileError(
            f"{label}: header declares dimensions {dims}, more than the "
            f"{_MAX_ITEMS} items an array may index (header forged)"
        )
    # The bound is checked on the header's claim, before a single byte is stored.
    limit = size * _MAX_DEFLATE_RATIO + 4096 if gzipped else size - header
    if expected > limit:
        where = "a gzip file" if gzipped else "a file"
        raise InvalidFileError(
            f"{label}: header declares dimensions {dims}, i.e. {expected} bytes of "
            f"data, more than {where} of {size} bytes can hold (file truncated or "
            "header forged)"
        )
    payload = _read_exactly(stream, expected, label)
    if stream.read(1):
        raise InvalidFileError(
            f"{label}: expected {expected} bytes of data after the header for "
            f"dimensions {dims}; received trailing bytes"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def _read_header(
    stream: io.BufferedIOBase, label: str, ndim: int | None
) -> tuple[int, ...]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise InvalidFileError(
            f"{label}: expected an IDX header of at least 4 bytes; received "
            f"{len(magic)} bytes (file truncated)"
        )
    code = int.from_bytes(magic, "big")
    want = f"0x{0x800 + ndim:08x}" if ndim is not None else "0x000008NN"
    if magic[:2] != b"\x00\x00" or (ndim is not None and magic[3] != ndim):
        raise InvalidFileError(
            f"{label}: not an IDX file of rank {ndim if ndim else '1-4'}: expected "
            f"magic number {want}; received 0x{code:08x}"
        )
    if magic[2] != _UBYTE:
        raise InvalidFileError(
            f"{label}: expected IDX dtype code 0x08 (unsigned byte); received "
            f"0x{magic[2]:02x}"
        )
    rank = magic[3]
    if not 1 <= rank <= _MAX_NDIM:
        raise InvalidFileError(
            f"{label}: expected 1 to {_MAX_NDIM} dimensions; received {rank}"
        )
    raw = stream.read(4 * rank)
    if len(raw) < 4 * rank:
        raise InvalidFileError(
            f"{label}: expected {rank} dimensions of 4 bytes in the header; "
            f"received {len(raw)} bytes (file truncated)"
        )
    return tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(0, 4 * rank, 4))


def _read_exactly(stream: io.BufferedIOBase, n: int, label: str) -> bytearray:
    # Read in chunks: stream.read(n) would allocate n bytes up front, which is
    # exactly what a forged gzip header must not be able to trigger.
    out = bytearray()
    while len(out) < n:
        chunk = stream.read(min(_CHUNK, n - len(out)))
        if not chunk:
            raise InvalidFileError(
                f"{label}: expected {n} bytes of data after the header; received "
                f"{len(out)} bytes (file truncated)"
            )
        out += chunk
    return out


__all__ = ["read_idx"]
