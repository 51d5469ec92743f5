"""Small dataset files in the real formats, and a local HTTP server to serve them."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import io
import pickle
import socket
import struct
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x000008<ndim>, big-endian dims, data."""
    header = bytes([0, 0, 8, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_dataset(
    directory: Path, rng, n_train=6, n_test=4, *, gz=True, dotted=False
) -> dict[str, np.ndarray]:
    """Write the four MNIST files; return the arrays they hold."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, array in arrays.items():
        name = IDX_NAMES[key].replace("-idx", ".idx") if dotted else IDX_NAMES[key]
        data = idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (directory / name).write_bytes(data)
    return arrays


def cifar_records(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n CIFAR records: (N, 3072) channel-major uint8 pixels and uint8 labels."""
    x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    y = rng.integers(0, 10, n, dtype=np.uint8)
    return x, y


def cifar_bin_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    return np.concatenate([y[:, None], x], axis=1).astype(np.uint8).tobytes()


class _Py2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 strings, as the official CIFAR-10 Python
    version was written (cPickle, protocol 2), so they load back as bytes."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_string(self, obj):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[str] = _save_py2_string
    dispatch[bytes] = _save_py2_string


def cifar_py2_pickle(x: np.ndarray, y: np.ndarray) -> bytes:
    """A batch shaped like the official Python version: a Python 2 pickle of
    {'batch_label', 'labels', 'data', 'filenames'} naming numpy.core.multiarray."""
    batch = {
        "batch_label": "training batch 1 of 5",
        "labels": [int(v) for v in y],
        "data": x,
        "filenames": [f"img_{i}.png" for i in range(len(y))],
    }
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(batch)
    return buf.getvalue().replace(
        b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"
    )


def write_cifar(
    directory: Path, rng, n: int, *, kind="binary"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write the six batches (n records each) in the given version."""
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in CIFAR_BATCHES:
        x, y = cifar_records(rng, n)
        batches[name] = (x, y)
        if kind == "binary":
            (directory / f"{name}.bin").write_bytes(cifar_bin_bytes(x, y))
        else:
            (directory / name).write_bytes(cifar_py2_pickle(x, y))
    return batches


def cifar_tarball(batches: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (x, y) in batches.items():
            data = cifar_bin_bytes(x, y)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 in a thread; yield its base URL."""

    def handler(*args, **kwargs):
        return _QuietHandler(*args, directory=str(directory), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def remote_files_for(directory: Path, files: dict) -> dict:
    """``files`` (a module's FILES) with the sizes and SHA-256 of the copies in
    ``directory``, so a local server can stand in for the official mirrors."""
    out = {}
    for key, remote in files.items():
        data = (directory / remote.name).read_bytes()
        out[key] = type(remote)(
            remote.name, len(data), hashlib.sha256(data).hexdigest()
        )
    return out
