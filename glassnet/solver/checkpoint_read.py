"""Reading a Solver checkpoint and checking its structure, before any model is
involved: see :mod:`glassnet.solver.checkpoint` for the format.

The archive is read by :func:`glassnet._internal.io.read_npz` (each member's ``.npy``
header checked against its real size before anything is allocated, numeric
dtypes only, never a pickle); the metadata is bounded JSON. Then every field is
checked: types, ranges (counts up to ``_MAX_COUNT``, accuracies in [0, 1],
finite losses), config entries naming exactly their generated array, and the
archive holding exactly the arrays the metadata names. Any problem is an
:class:`~glassnet.errors.InvalidFileError`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._internal.io import read_npz
from glassnet.errors import InvalidFileError
from glassnet.saving.container import load_json

FORMAT = "glassnet.Solver checkpoint"
VERSION = 1
STATS = ("running_mean", "running_var")
# Where the Solver's draws came from: its own seeded generator or NumPy's global one.
SEED_SOURCE, NUMPY_SOURCE = "seed", "numpy.random"
_NUMBER = (int, float)
# Epochs and iterations: far beyond any real run (a million years at one
# iteration a minute), and a bound on what a forged count can make a loop do.
_MAX_COUNT = 10**12
_META: dict[str, Any] = {
    "format": str,
    "version": int,
    "epoch": int,
    "update_rule": (str, type(None)),
    "hyperparameters": dict,
    "param_names": list,
    "has_best": bool,
    "optim": list,
    "bn": list,
    "best_bn": list,
    "loss_history": list,
    "train_acc_history": list,
    "val_acc_history": list,
    "best_val_acc": _NUMBER,
    "rng_state": dict,
}


def read_checkpoint(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a checkpoint file's structure; returns ``(meta, arrays)``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        InvalidFileError: for anything but a well-formed Solver checkpoint.
        OSError: when the file cannot be read.
    """
    where = f"checkpoint {path!r}"
    arrays = read_npz(path, where)
    blob = arrays.pop("meta", None)
    _require(
        blob is not None and blob.dtype == np.uint8 and blob.ndim == 1,
        where,
        "a 'meta' entry of UTF-8 bytes (uint8, 1-D)",
        "none" if blob is None else f"dtype {blob.dtype}, shape {blob.shape}",
    )
    try:
        meta = load_json(blob.tobytes().decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError included
        raise _invalid(where, "UTF-8 JSON metadata", f"{type(e).__name__}: {e}") from e
    _check_meta(meta, arrays, where)
    return meta, arrays


def _invalid(where: str, expected: str, received: Any) -> InvalidFileError:
    return InvalidFileError(f"{where}: expected {expected}; received {received}")


def _require(ok: bool, where: str, expected: str, received: Any) -> None:
    if not ok:
        raise _invalid(where, expected, received)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _check_meta(meta: Any, arrays: dict[str, np.ndarray], where: str) -> None:
    """Check the metadata's keys, types and ranges, and that the archive holds
    exactly the arrays it names."""
    _require(isinstance(meta, dict), where, "JSON metadata object", type(meta).__name__)
    missing = sorted(set(_META) - set(meta))
    _require(not missing, where, f"metadata keys {sorted(_META)}", f"missing {missing}")
    for key, kind in _META.items():
        v = meta[key]
        ok = isinstance(v, kind) and (kind is bool or not isinstance(v, bool))
        _require(ok, f"{where} meta[{key!r}]", f"type {kind}", repr(meta[key]))
    _require(
        meta["format"] == FORMAT and meta["version"] == VERSION,
        where,
        f"format {FORMAT!r} version {VERSION}",
        f"format {meta['format']!r} version {meta['version']}",
    )
    for key in ("epoch", "iteration"):
        v = meta.get(key, 0)  # iteration is optional in older files
        ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_COUNT
        _require(ok, f"{where} meta[{key!r}]", f"an int in [0, {_MAX_COUNT}]", repr(v))
    for key in ("model_rng_state", "numpy_random_state"):
        rng = meta.get(key)
        ok = rng is None or isinstance(rng, dict)
        _require(ok, f"{where} meta[{key!r}]", "null or a dict", repr(rng)[:200])
    source = meta.get("rng_source", SEED_SOURCE)  # optional in older files
    ok = source in (SEED_SOURCE, NUMPY_SOURCE)
    expected = f"{SEED_SOURCE!r} or {NUMPY_SOURCE!r}"
    _require(ok, f"{where} meta['rng_source']", expected, repr(source)[:200])
    _check_histories(meta, where)
    names = meta["param_names"]
    ok = all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
    _require(ok, f"{where} meta['param_names']", "distinct strings", repr(names))
    needed = [f"param_{i}" for i in range(len(names))]
    needed += [f"best_{i}" for i in range(len(names))] if meta["has_best"] else []
    _require(
        len(meta["optim"]) == len(names),
        f"{where} meta['optim']",
        f"{len(names)} configs, one per parameter",
        len(meta["optim"]),
    )
    for i, entries in enumerate(meta["optim"]):
        needed += _config_entries(i, entries, where)
    needed += _stat_entries(meta, where)
    absent = sorted(set(needed) - set(arrays))
    _require(not absent, where, "every array the metadata names", f"missing {absent}")
    extra = sorted(set(arrays) - set(needed))
    _require(not extra, where, "only the arrays the metadata names", f"also {extra}")
    for entries in meta["optim"]:
        for key, kind, name in entries:
            ok = kind != "scalar" or arrays[name].ndim == 0
            _require(ok, f"{where} {name!r}", f"a scalar for {key!r}", "an array")


def _check_histories(meta: dict, where: str) -> None:
    """Losses are finite numbers; accuracies, the best included, are in [0, 1]."""
    losses = meta["loss_history"]
    ok = all(_is_number(v) and math.isfinite(v) for v in losses)
    _require(ok, f"{where} meta['loss_history']", "finite numbers", "other values")
    for key in ("train_acc_history", "val_acc_history"):
        ok = all(_is_number(v) and 0 <= v <= 1 for v in meta[key])
        _require(ok, f"{where} meta[{key!r}]", "numbers in [0, 1]", "other values")
    best = meta["best_val_acc"]
    _require(0 <= best <= 1, f"{where} meta['best_val_acc']", "[0, 1]", repr(best))


def _config_entries(i: int, entries: Any, where: str) -> list[str]:
    """Check the i-th config's ``[key, kind, value]`` triples; return the array
    names, which must be the generated ``optim_<i>_<j>``."""
    _require(isinstance(entries, list), f"{where} meta['optim']", "lists", entries)
    names: list[str] = []
    keys: set[str] = set()
    for j, entry in enumerate(entries):
        ok = (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and entry[0] not in keys
            and entry[1] in ("json", "array", "scalar")
        )
        if ok and entry[1] == "json":
            ok = entry[2] is None or isinstance(entry[2], bool | int | float | str)
        elif ok:
            ok = entry[2] == f"optim_{i}_{j}"
            names.append(entry[2])
        expected = f"distinct [key, kind, value] entries naming optim_{i}_<j>"
        _require(ok, f"{where} meta['optim'][{i}]", expected, repr(entry)[:200])
        keys.add(entry[0])
    return names


def _stat_entries(meta: dict, where: str) -> list[str]:
    """Check the running statistics' keys; return the array names."""
    count = len(meta["bn"]) if meta["has_best"] else 0
    _require(
        len(meta["best_bn"]) == count,
        f"{where} meta['best_bn']",
        f"{count} entries (one per bn_param with a best epoch, else none)",
        len(meta["best_bn"]),
    )
    names = []
    for prefix in ("bn", "best_bn"):
        for layer, keys in enumerate(meta[prefix]):
            ok = (
                isinstance(keys, list)
                and all(isinstance(k, str) and k in STATS for k in keys)
                and len(set(keys)) == len(keys)
            )
            expected = f"lists of distinct keys among {STATS}"
            _require(ok, f"{where} meta[{prefix!r}]", expected, repr(keys)[:200])
            names += [f"{prefix}_{layer}_{k}" for k in keys]
    return names


__all__ = [
    "FORMAT",
    "NUMPY_SOURCE",
    "SEED_SOURCE",
    "STATS",
    "VERSION",
    "read_checkpoint",
]
