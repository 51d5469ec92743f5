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
the data exactly, and the checksum. The tensors are then cut out of the bytes
that were checked (the safetensors library only writes), so what is loaded is
exactly what was validated. It never unpickles and never evaluates code, reads
only regular files (a FIFO or a device could block or never end), and parses
JSON with bounded nesting, no duplicate keys and ints of at most 40 digits.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import IO, Any

import numpy as np
import safetensors.numpy

from glassnet._internal.checks import fail
from glassnet._internal.io import atomic_write, open_regular
from glassnet.backend import to_numpy
from glassnet.errors import InvalidFileError

FORMAT = "glassnet"
FORMAT_VERSION = 1
PREFIXES = ("layers/", "optimizer/", "callbacks/")
# A glassnet header is about 100 bytes per tensor plus the configs: 16 MiB is
# far above any real one and bounds what a forged header can make json allocate.
_MAX_HEADER = 16 << 20
_MAX_DEPTH = 64  # nesting of JSON arrays and objects; real configs stay below 10
_MAX_INT_DIGITS = 40  # a 128-bit generator state has 39 digits
_MAX_NDIM = 8
_MAX_DIM = 2**31 - 1  # per axis
# A zero axis makes the byte count 0 whatever the others are: the shape is also
# bounded on its own, as numpy cannot even describe (0, 2**31, 2**31, 2**31).
_MAX_ITEMS = 2**48
_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


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
        InvalidFileError: for a foreign, truncated or corrupted file, or a path
            that is not a regular file.
        OSError: when the file cannot be opened or read.
    """
    with open_regular(path, f"filepath {path!r}") as f:
        size = os.fstat(f.fileno()).st_size
        header_size, header = _read_header(path, f, size)
        meta = _metadata(path, header)
        entries = _check_layout(path, header, size - header_size)
        payload = f.read()
    if len(payload) != size - header_size:
        raise invalid(path, f"{size} bytes", "a file that changed while read")
    tensors = {
        name: np.frombuffer(payload, dtype, math.prod(shape), begin)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
        for name, (dtype, shape, begin) in entries.items()
    }
    if meta.get("checksum") != _checksum(tensors, meta):
        raise invalid(
            path,
            "contents matching the file's SHA-256 checksum",
            "a mismatch: the file is corrupted",
        )
    return meta, tensors


def load_json(text: str) -> Any:
    """Parse untrusted JSON: no duplicate keys, ints of at most 40 digits, at
    most 64 levels of nesting, strings that encode to UTF-8 (no lone surrogate).

    ``NaN`` and ``Infinity`` are accepted (Python writes them, and a callback's
    ``best`` starts at infinity); config checks refuse them where they matter.

    Raises:
        ValueError: for malformed or out-of-bounds JSON (a RecursionError for
            very deep nesting is turned into a ValueError too).
    """
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError(f"nesting deeper than {_MAX_DEPTH} levels") from None
    _check_tree(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {twice!r}")
    return out


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _check_tree(value: Any) -> None:
    """Depth and strings of a parsed JSON value, walked without recursion."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            node.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= _MAX_DEPTH:
            raise ValueError(f"nesting deeper than {_MAX_DEPTH} levels")
        items = list(node.items()) if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(key, str):
                key.encode("utf-8")
            stack.append((child, depth + 1))


def _read_header(path: str, f: IO[bytes], size: int) -> tuple[int, dict]:
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
        header = load_json(raw.decode("utf-8"))
    except ValueError as e:
        raise invalid(
            path, "a JSON safetensors header", f"a malformed one ({e})"
        ) from None
    if not isinstance(header, dict):
        raise invalid(path, "a JSON object as header", type(header).__name__)
    return 8 + n, header


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


def _check_layout(
    path: str, header: dict, data_size: int
) -> dict[str, tuple[np.dtype, tuple[int, ...], int]]:
    """Every entry's dtype, shape and offsets; the tensors tile the data exactly.

    Returns:
        ``{name: (dtype, shape, first byte)}`` for every tensor.
    """
    entries, spans = {}, []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {name!r}"
        if not name.startswith(PREFIXES):
            raise invalid(path, f"tensor names starting with {PREFIXES}", where)
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
            raise invalid(path, f"{where} of a dtype in {sorted(_DTYPES)}", entry)
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not (
            set(entry) == _ENTRY_KEYS
            and _naturals(shape, _MAX_DIM)
            and len(shape) <= _MAX_NDIM
            and _naturals(offsets, data_size)
            and len(offsets) == 2
        ):
            raise invalid(
                path,
                f"{where} with a shape of at most {_MAX_NDIM} axes and 2 "
                f"offsets within the {data_size} bytes of data (a truncated file?)",
                repr(entry)[:200],
            )
        if math.prod(max(d, 1) for d in shape) > _MAX_ITEMS:
            raise invalid(path, f"{where} of at most {_MAX_ITEMS} items", shape)
        dtype = _DTYPES[entry["dtype"]]
        nbytes = math.prod(shape) * dtype.itemsize
        if offsets[1] - offsets[0] != nbytes:
            raise invalid(path, f"{where} spanning {nbytes} bytes", offsets)
        spans.append(tuple(offsets))
        entries[name] = (dtype, tuple(shape), offsets[0])
    position = 0
    for begin, stop in sorted(spans):
        if begin != position:
            raise invalid(path, "tensors that tile the data", "gaps or overlaps")
        position = stop
    if position != data_size:
        raise invalid(path, f"{position} bytes of tensor data", f"{data_size}")
    return entries


def _naturals(value: Any, high: int) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= high for v in value
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
        value = load_json(meta[key])
    except ValueError as e:
        raise invalid(
            path, f"JSON in metadata entry {key!r}", f"malformed JSON ({e})"
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
    "load_json",
    "read_file",
    "write_file",
]
