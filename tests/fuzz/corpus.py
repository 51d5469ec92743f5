"""Seed files of every format glassnet reads, byte-level mutations, and the
oracles that judge what a loader did with a mutated file.

Shared by the quick fuzz tests in this directory (hypothesis, a few examples
each) and the long runs of ``fuzz/fuzz_loaders.py`` (atheris or hypothesis).

The contract every oracle checks: a loader either returns a correct result or
raises a :class:`glassnet.errors.GlassnetError`. Any other exception (KeyError,
struct.error, MemoryError...) propagates and fails the test. A model or
weights file that loads must be the original one: every byte that means
something is under the file's SHA-256, so a mutation that still loads can only
have touched slack (and the loaded weights must then be bit-identical).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import layers, models
from glassnet.datasets.cifar_format import (
    NUM_CLASSES,
    PIXELS,
    RECORD,
    read_cifar_binary,
    read_cifar_python,
)
from glassnet.datasets.idx import read_idx
from glassnet.errors import GlassnetError
from glassnet.saving import load_model, load_weights
from glassnet.saving.container import write_file
from tests.datasets.builders import cifar_bin_bytes, cifar_py2_pickle, idx_bytes
from tests.test_solver import assert_same_training_state
from tests.test_solver_checkpoint import bn_run

# Values a forged size field is set to: edges of every integer width.
INTERESTING_INTS = (
    0, 1, 2, 3, 7, 8, 255, 256, 3072, 3073, 2**15, 2**16 - 1, 2**16, 2**24,
    2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**48, 2**60, 2**63 - 1, 2**64 - 1,
)  # fmt: skip

# -- seeds --


def build_model(seed: int) -> models.Sequential:
    """A conv, a batchnorm, a seeded dropout and a dense layer."""
    return models.Sequential(
        [
            layers.Input(shape=(4, 4, 1)),
            layers.Conv2D(2, 3),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dropout(0.5, seed=1),
            layers.Dense(3, activation="softmax"),
        ],
        seed=seed,
    )


def small_model() -> models.Sequential:
    """:func:`build_model` compiled and trained one step, so that the
    optimizer has slots."""
    model = build_model(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 4, 4, 1)).astype(np.float32)
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    return model


def _file_bytes(save: Callable[[str], None]) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "seed")
        save(path)
        with open(path, "rb") as f:
            return f.read()


@cache
def model_seed() -> bytes:
    return _file_bytes(small_model().save)


@cache
def weights_seed() -> bytes:
    return _file_bytes(small_model().save_weights)


def idx_array() -> np.ndarray:
    return np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)


@cache
def idx_seed(gz: bool = False) -> bytes:
    raw = idx_bytes(idx_array())
    return gzip.compress(raw, mtime=0) if gz else raw


def cifar_arrays(n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, PIXELS), dtype=np.uint8)
    return x, (np.arange(n) % NUM_CLASSES).astype(np.uint8)


@cache
def cifar_binary_seed() -> bytes:
    return cifar_bin_bytes(*cifar_arrays())


@cache
def cifar_python_seed() -> bytes:
    return cifar_py2_pickle(*cifar_arrays())


@cache
def solver_checkpoint_seed() -> bytes:
    """A Solver checkpoint after one epoch of Adam, with running statistics."""
    with tempfile.TemporaryDirectory() as directory:
        bn_run(Path(directory), num_epochs=1).train()
        return (Path(directory) / "run_epoch_1.ckpt").read_bytes()


# -- mutations --


def flip_bits(data: bytes, positions: list[int]) -> bytes:
    """Flip bit ``p % 8`` of byte ``p // 8`` (modulo the length) for each p."""
    out = bytearray(data)
    for p in positions:
        if out:
            out[(p // 8) % len(out)] ^= 1 << (p % 8)
    return bytes(out)


def put_int(data: bytes, offset: int, value: int, width: int, order: str) -> bytes:
    """Write ``value`` (masked to ``width`` bytes) at ``offset`` (modulo length)."""
    if not data:
        return data
    offset %= len(data)
    raw = (value % 256**width).to_bytes(width, order)  # type: ignore[arg-type]
    return data[:offset] + raw + data[offset + width :]


def splice(data: bytes, offset: int, delete: int, insert: bytes) -> bytes:
    offset = offset % (len(data) + 1)
    return data[:offset] + insert + data[offset + delete :]


def mutate(data: bytes, op: int, a: int, b: int, blob: bytes) -> bytes:
    """One mutation chosen by ``op``; ``a``, ``b`` and ``blob`` parametrize it."""
    kind = op % 6
    if kind == 0:
        return flip_bits(data, [a, b])
    if kind == 1:
        return data[: a % (len(data) + 1)]
    if kind == 2:
        value = INTERESTING_INTS[b % len(INTERESTING_INTS)]
        width = (1, 2, 4, 8)[(b // 64) % 4]
        return put_int(data, a, value, width, "little" if b % 2 else "big")
    if kind == 3:
        return splice(data, a, b % 16, blob)
    if kind == 4:
        return splice(data, a, len(blob), blob)  # overwrite in place
    return data + blob  # trailing garbage


def mutation_steps(max_blob: int = 16, max_steps: int = 3) -> Any:
    """A hypothesis strategy: lists of ``(op, a, b, blob)`` steps for :func:`mutate`."""
    from hypothesis import strategies as st

    step = st.tuples(
        st.integers(0, 5),
        st.integers(0, 2**20),
        st.integers(0, 2**10),
        st.binary(max_size=max_blob),
    )
    return st.lists(step, min_size=1, max_size=max_steps)


def mutated(data: bytes, steps: Any) -> bytes:
    """``data`` after each of ``steps`` in turn."""
    for op, a, b, blob in steps:
        data = mutate(data, op, a, b, blob)
    return data


# -- oracles --


def _load_path(data: bytes, load: Callable[[str], Any]) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "fuzzed")
        with open(path, "wb") as f:
            f.write(data)
        return load(path)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """``("loaded", value)`` or ``("refused", error)`` for a glassnet error;
    any other exception propagates."""
    try:
        return "loaded", call()
    except GlassnetError as e:
        assert isinstance(e, ValueError | OSError), type(e)
        return "refused", e


def same_weights(a: Any, b: Any) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(
        x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(wa, wb, strict=True)
    )


@cache
def _original() -> Any:
    return _load_path(model_seed(), load_model)


def check_model_file(data: bytes) -> str:
    """A model file loads as the original model, or is refused."""
    result, model = outcome(lambda: _load_path(data, load_model))
    if result == "loaded":
        original = _original()
        assert same_weights(model, original)
        assert model.get_config() == original.get_config()
        assert model.optimizer.iterations == original.optimizer.iterations
    return result


def check_weights_file(data: bytes) -> str:
    """A weights file sets exactly the original weights, or changes nothing."""
    model = build_model(1)  # other weights than the file's
    before = model.get_weights()
    result, _ = outcome(lambda: _load_path(data, lambda p: load_weights(model, p)))
    if result == "loaded":
        assert same_weights(model, _original())
    else:
        after = model.get_weights()
        assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    return result


def check_forged_model(meta: dict[str, str], tensors: dict[str, np.ndarray]) -> str:
    """A file forged with a valid checksum: loads into a model whose weights are
    the file's tensors and that predicts with its declared output shape, or is
    refused."""

    def save(path: str) -> None:
        write_file(path, tensors, meta)

    data = _file_bytes(save)
    result, model = outcome(lambda: _load_path(data, load_model))
    if result == "loaded":
        for layer in model.layers:
            for key, weight in zip(layer.weight_names, layer.weights, strict=True):
                stored = tensors[f"layers/{layer.name}/{key}"]
                assert np.array_equal(weight, stored, equal_nan=True)
                assert weight.dtype == stored.dtype
    return result


def model_contents() -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The seed model file's metadata (without the container's keys) and tensors."""
    from glassnet.saving.container import read_file

    meta, tensors = _load_path(model_seed(), read_file)
    container = ("format", "format_version", "checksum")
    return {k: v for k, v in meta.items() if k not in container}, tensors


def check_idx(data: bytes) -> str:
    """IDX bytes load as the naive parse of the (decompressed) bytes, or are
    refused; gzip is decided by the magic bytes, as the reader does."""
    result, array = outcome(lambda: read_idx(data))
    if result == "loaded":
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        ndim = raw[3]
        dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
        assert raw[:3] == b"\x00\x00\x08" and 1 <= ndim <= 4
        payload = raw[4 + 4 * ndim :]
        assert array.shape == tuple(dims) and array.dtype == np.uint8
        assert array.tobytes() == payload
    return result


def check_cifar_binary(data: bytes) -> str:
    """Binary records load as the naive split of each 3073-byte record."""
    result, batch = outcome(lambda: read_cifar_binary(data))
    if result == "loaded":
        x, y = batch
        n = len(data) // RECORD
        assert len(data) == n * RECORD and n > 0
        for i in range(n):
            record = data[i * RECORD : (i + 1) * RECORD]
            assert y[i] == record[0] < NUM_CLASSES
            assert x[i].tobytes() == record[1:]
    return result


def check_cifar_python(data: bytes, original: bytes) -> str:
    """A pickled batch loads as uint8 rows of 3072 pixels and one label in
    [0, 10) per row (the original batch when the bytes are unchanged), or is
    refused. Never unpickled any other way: a mutated pickle is hostile."""
    result, batch = outcome(lambda: read_cifar_python(data))
    if result == "loaded":
        x, y = batch
        assert x.dtype == y.dtype == np.uint8
        assert x.ndim == 2 and x.shape[1] == PIXELS and y.shape == (len(x),)
        assert not y.size or int(y.max()) < NUM_CLASSES
        if data == original:
            want_x, want_y = cifar_arrays()
            assert np.array_equal(x, want_x) and np.array_equal(y, want_y)
    return result


def _fresh_solver() -> Any:
    """A solver of the seed's architecture with other weights, never trained."""
    return bn_run(Path(tempfile.gettempdir()), num_epochs=2, seed_model=9)


@cache
def _original_solver() -> Any:
    solver = _fresh_solver()
    _load_path(solver_checkpoint_seed(), solver.load_checkpoint)
    return solver


def check_solver_checkpoint(data: bytes) -> str:
    """A checkpoint restores exactly the seed's training state, or is refused
    and leaves the solver as it was (weights, optimizer configs, generator)."""
    solver = _fresh_solver()
    params = {k: v.copy() for k, v in solver.model.params.items()}
    rng_state = solver._rng.bit_generator.state
    result, _ = outcome(lambda: _load_path(data, solver.load_checkpoint))
    if result == "loaded":
        original = _original_solver()
        assert_same_training_state(solver, original)
        assert solver.iteration == original.iteration
        assert solver._rng.bit_generator.state == original._rng.bit_generator.state
    else:
        assert all(np.array_equal(solver.model.params[k], v) for k, v in params.items())
        assert solver.epoch == solver.iteration == 0 and not solver.best_params
        assert solver.optim_configs == {k: {"learning_rate": 1e-2} for k in params}
        assert solver._rng.bit_generator.state == rng_state
        assert "running_mean" not in solver.model.bn_params[0]
    return result


def json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indices)."""
    paths = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            paths += json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths += json_paths(v, (*prefix, i))
    return paths


def replace_at(value: Any, path: tuple, new: Any) -> Any:
    """A copy of ``value`` with the item at ``path`` replaced by ``new``."""
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return copy
