"""CIFAR-10: 60,000 32x32 colour images in 10 classes, 50,000 for training.

Example:
    >>> from glassnet.datasets import cifar10
    >>> cifar10.CLASS_NAMES[:3]
    ('airplane', 'automobile', 'bird')
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet._internal.io import atomic_write_bytes, open_regular
from glassnet.datasets._sources import RemoteFile, fetch, locate
from glassnet.datasets.cifar_format import (
    RECORD,
    Batch,
    read_cifar_binary,
    read_cifar_python,
)
from glassnet.errors import InvalidFileError

CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

MIRRORS: list[str] = ["https://www.cs.toronto.edu/~kriz/"]

# The binary version's archive; size and SHA-256 from TensorFlow Datasets'
# url_checksums/cifar10.txt (its MD5, c32a1d4ab5d03f1284b67883e8d87530, is the
# one published on the CIFAR page).
ARCHIVE = RemoteFile(
    "cifar-10-binary.tar.gz",
    170052171,
    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
)

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCHES = (*TRAIN_BATCHES, TEST_BATCH)
BIN_DIR = "cifar-10-batches-bin"
PY_DIR = "cifar-10-batches-py"
# Every official batch holds 10,000 images; checking it catches a file cut at a
# record boundary, which the record size alone cannot.
RECORDS_PER_BATCH = 10000

SYSTEM_DIRS: list[str] = []

_HINTS = (
    f"download {MIRRORS[0]}{ARCHIVE.name} and put it, or its unpacked {BIN_DIR} "
    "directory, in a directory named below",
)


@dataclass(frozen=True)
class _Source:
    kind: str  # "binary", "python" or "archive"
    location: Path


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 as Keras does, from local files or a verified download.

    In each place, the binary version (``data_batch_1.bin`` ... ``test_batch.bin``,
    directly or in ``cifar-10-batches-bin/``) is preferred, then the Python version
    (``data_batch_1`` ... ``test_batch``, directly or in ``cifar-10-batches-py/``,
    read through a restricted unpickler), then the ``cifar-10-binary.tar.gz``
    archive. The places are ``path``; else ``$GLASSNET_DATA/cifar10``, then
    ``~/.cache/glassnet/cifar10``; else the archive is downloaded from
    :data:`MIRRORS`, checked against :data:`ARCHIVE`'s SHA-256 and unpacked there.

    Shapes:
        x_train: (50000, 32, 32, 3);  y_train: (50000, 1)
        x_test: (10000, 32, 32, 3);  y_test: (10000, 1)

    Args:
        path: a directory holding the files; when given, no other place is
            tried and nothing is downloaded. Defaults to `None`.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images, channels last,
        and uint8 labels in [0, 10) of shape (N, 1) as in Keras, named by
        :data:`CLASS_NAMES`.

    Raises:
        DatasetNotFoundError: when the files are nowhere and cannot be downloaded;
            the message lists the places looked in and how to get the files.
        InvalidFileError: when a file is corrupt or a download fails its checksum.
    """
    source = locate(
        "cifar10",
        _match,
        path=path,
        system_dirs=SYSTEM_DIRS,
        wanted=f"the CIFAR-10 batches ({BIN_DIR}/*.bin, {PY_DIR}/* or {ARCHIVE.name})",
        download=_download,
        hints=_HINTS,
    )
    batches = _read_batches(source)
    train = _assemble([batches[name] for name in TRAIN_BATCHES])
    test = _assemble([batches[TEST_BATCH]])
    return train, test


def _match(directory: Path) -> _Source | None:
    for kind, suffix, sub in (
        ("binary", ".bin", BIN_DIR),
        ("python", "", PY_DIR),
    ):
        for where in (directory, directory / sub):
            if all((where / (b + suffix)).is_file() for b in BATCHES):
                return _Source(kind, where)
    if (directory / ARCHIVE.name).is_file():
        return _Source("archive", directory / ARCHIVE.name)
    return None


def _download(cache: Path) -> None:
    archive = fetch(ARCHIVE, MIRRORS, cache)
    # Unpacked once so later loads skip the 170 MB decompression.
    (cache / BIN_DIR).mkdir(exist_ok=True)
    for name, data in _read_archive(archive).items():
        atomic_write_bytes(cache / BIN_DIR / f"{name}.bin", data)
    with contextlib.suppress(OSError):
        archive.unlink()


def _read_batches(source: _Source) -> dict[str, Batch]:
    if source.kind == "archive":
        out = {}
        for name, data in _read_archive(source.location).items():
            label = f"{source.location}:{BIN_DIR}/{name}.bin"
            out[name] = _checked(read_cifar_binary(data, name=label), label)
        return out
    read: Callable[[Path], Batch]
    read, suffix = (
        (read_cifar_binary, ".bin")
        if source.kind == "binary"
        else (read_cifar_python, "")
    )
    files = {name: source.location / (name + suffix) for name in BATCHES}
    return {name: _checked(read(path), str(path)) for name, path in files.items()}


def _read_archive(archive: Path) -> dict[str, bytes]:
    """The six binary batches of the archive, read by name, never extracted by the
    archive's own paths, and each size checked before it is read."""
    size = RECORDS_PER_BATCH * RECORD
    out: dict[str, bytes] = {}
    # Only a regular file: a FIFO or device named as the archive would block.
    raw = open_regular(archive, f"CIFAR-10 archive {os.fspath(archive)!r}")
    try:
        with raw, tarfile.open(fileobj=raw, mode="r:gz") as tar:
            for name in BATCHES:
                member = tar.getmember(f"{BIN_DIR}/{name}.bin")
                if not member.isfile() or member.size != size:
                    raise InvalidFileError(
                        f"{archive}: expected {member.name} a file of {size} bytes; "
                        f"received {member.size} bytes"
                    )
                f = tar.extractfile(member)
                out[name] = f.read() if f is not None else b""
    except (tarfile.TarError, KeyError, OSError, EOFError, zlib.error) as e:
        raise InvalidFileError(f"{archive}: not a CIFAR-10 binary archive ({e})") from e
    return out


def _checked(batch: Batch, label: str) -> Batch:
    if len(batch[0]) != RECORDS_PER_BATCH:
        raise InvalidFileError(
            f"{label}: expected {RECORDS_PER_BATCH} images; received {len(batch[0])}"
        )
    return batch


def _assemble(batches: list[Batch]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    # Records store each channel as a 32x32 plane; Keras puts channels last.
    x = np.ascontiguousarray(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return x, y.reshape(-1, 1)


__all__ = [
    "ARCHIVE",
    "CLASS_NAMES",
    "MIRRORS",
    "RECORDS_PER_BATCH",
    "SYSTEM_DIRS",
    "load_data",
]
