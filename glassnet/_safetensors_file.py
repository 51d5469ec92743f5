"""The glassnet file container: safetensors with a marker and a checksum.

Only the container lives here; what the tensors and metadata mean (layers,
optimizer, architecture) is :mod:`glassnet.saving`'s business. A file is a
safetensors file whose ``__metadata__`` holds ``format`` = ``"glassnet"``,
``format_version`` and ``checksum`` = ``"sha256:<hex>"``, a SHA-256 over the tensors
in name order (each name, dtype, shape and little-endian bytes) and then every
other metadata entry in key order, each part prefixed by its length.

:func:`read_file` checks, before reading any tensor, that the header length fits
in the file (a forged length cannot make it allocate) and that the header is JSON
with the marker; then each entry's dtype, shape and offsets, that the tensors tile
the data exactly, and the checksum. It never unpickles and never evaluates code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import IO, Any

import numpy as np
import safetensors
import safetensors.numpy

from glassnet._checks import fail
from glassnet._io import atomic_write
from glassnet.backend import to_numpy
from glassnet.errors import InvalidFileError

FORMAT = "glassnet"
FORMAT_VERSION = 1
PREFIXES = ("layers/", "optimizer/", "callbacks/")
_MAX_HEADER = 100_000_000  # safetensors' own limit on the header size
_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def check_path(filepath: Any) -> str:
    """Return ``filepath`` as a str, or raise ValueError for a non-path."""
    if not isinstance(filepath, str | os.PathLike):
        raise fail("filepath", "a str or os.PathLike path", type(filepath).__name__)
    return os.fspath(filepath)


def invalid(path: str, expected: str, received: Any) -> InvalidFileError:
    """The error for a file that cannot be loaded, naming the file."""
    return InvalidFileError(
        f"filepath {path!r}: expected {expected}; received {received}"
    )


def _checksum(tensors: dict[str, np.ndarray], meta: dict[str, str]) -> str:
    h = hashlib.sha256()

    def part(data: Any, nbytes: int) -> None:
        # Length prefixes keep the concatenation unambiguous.
        h.update(nbytes.to_bytes(8, "little"))
        h.update(data)

    for name in sorted(tensors):
        a = np.ascontiguousarray(
            tensors[name], dtype=tensors[name].dtype.newbyteorder("<")
        )
        for text in (name, a.dtype.name, json.dumps(list(a.shape))):
            part(text.encode(), len(text.encode()))
        part(a, a.nbytes)
    for key in sorted(k for k in meta if k != "checksum"):
        for text in (key, meta[key]):
            part(text.encode(), len(text.encode()))
    return "sha256:" + h.hexdigest()


def write_file(path: str, tensors: dict[str, np.ndarray], meta: dict[str, str]) -> None:
    """Write ``tensors`` and ``meta`` (plus marker and checksum) atomically."""
    tensors = {k: np.ascontiguousarray(to_numpy(v)) for k, v in tensors.items()}
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), **meta}
    meta["checksum"] = _checksum(tensors, meta)
    data = safetensors.numpy.save(tensors, metadata=meta)
    atomic_write(path, lambda f: f.write(data))


# -- reading and checking the container --


def read_file(path: str) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The metadata and tensors of a glassnet file, after every container check.

    Raises:
        InvalidFileError: for a foreign, truncated or corrupted file.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw, header = _read_header(path, f, size)
        meta = _metadata(path, header)
        _check_layout(path, header, size - len(raw))
        payload = f.read()
    try:
        tensors = safetensors.numpy.load(raw + payload)
    except (safetensors.SafetensorError, ValueError) as e:
        raise invalid(path, "a readable safetensors file", e) from None
    if meta.get("checksum") != _checksum(tensors, meta):
        raise invalid(
            path,
            "contents matching the file's SHA-256 checksum",
            "a mismatch: the file is corrupted",
        )
    return meta, tensors


def _read_header(path: str, f: IO[bytes], size: int) -> tuple[bytes, dict]:
    prefix = f.read(8)
    if len(prefix) < 8:
        raise invalid(path, "a glassnet file of at least 8 bytes", f"{size} bytes")
    n = int.from_bytes(prefix, "little")
    limit = min(size - 8, _MAX_HEADER)
    if n > limit:
        raise invalid(
            path,
            f"a glassnet (safetensors) file whose header length is <= {limit}",
            f"a header length of {n}: another format, or a truncated file",
        )
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise invalid(
            path, "a JSON safetensors header", f"a malformed one ({e})"
        ) from None
    if not isinstance(header, dict):
        raise invalid(path, "a JSON object as header", type(header).__name__)
    return prefix + raw, header


def _metadata(path: str, header: dict) -> dict[str, str]:
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise invalid(
            path,
            "a glassnet file (safetensors with the 'glassnet' format marker)",
            "a file without the marker",
        )
    if not all(isinstance(v, str) for v in meta.values()):
        raise invalid(path, "metadata mapping strings to strings", "other values")
    version = meta.get("format_version")
    if version not in {str(v) for v in range(1, FORMAT_VERSION + 1)}:
        raise invalid(
            path, f"format_version 1 to {FORMAT_VERSION}", f"{version!r} (newer?)"
        )
    return meta


def _check_layout(path: str, header: dict, data_size: int) -> None:
    """Every entry's dtype, shape and offsets; the tensors tile the data exactly."""
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {name!r}"
        if not name.startswith(PREFIXES):
            raise invalid(path, f"tensor names starting with {PREFIXES}", where)
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
            raise invalid(path, f"{where} of a dtype in {sorted(_DTYPES)}", entry)
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not (_naturals(shape) and _naturals(offsets) and len(offsets) == 2):
            raise invalid(path, f"{where} with a shape and 2 offsets", entry)
        nbytes = math.prod(shape) * _DTYPES[entry["dtype"]].itemsize
        if offsets[1] - offsets[0] != nbytes:
            raise invalid(path, f"{where} spanning {nbytes} bytes", offsets)
        spans.append(tuple(offsets))
    end = max((stop for _, stop in spans), default=0)
    if end > data_size:
        raise invalid(
            path, f"{end} bytes of tensor data", f"{data_size}: a truncated file"
        )
    position = 0
    for begin, stop in sorted(spans):
        if begin != position:
            raise invalid(path, "tensors that tile the data", "gaps or overlaps")
        position = stop
    if position != data_size:
        raise invalid(path, f"{position} bytes of tensor data", f"{data_size}")


def _naturals(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def json_field(
    path: str, meta: dict[str, str], key: str, *, allow_null: bool = False
) -> Any:
    """The JSON object stored in metadata entry ``key`` (or None if allowed).

    Raises:
        InvalidFileError: for a missing entry, malformed JSON or another type.
    """
    if key not in meta:
        raise invalid(path, f"a metadata entry {key!r}", "none")
    try:
        value = json.loads(meta[key])
    except (ValueError, RecursionError):
        raise invalid(
            path, f"JSON in metadata entry {key!r}", "malformed JSON"
        ) from None
    if not isinstance(value, dict) and not (allow_null and value is None):
        raise invalid(path, f"a JSON object in entry {key!r}", type(value).__name__)
    return value


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PREFIXES",
    "check_path",
    "invalid",
    "json_field",
    "read_file",
    "write_file",
]
