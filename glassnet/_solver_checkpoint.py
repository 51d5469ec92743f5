"""Solver checkpoints: one ``.npz`` archive of arrays plus a JSON metadata blob.

Array entries have generated names, so parameter names never become file names:

* ``param_<i>`` / ``best_<i>``: the i-th parameter (in ``meta["param_names"]``
  order) now and at the best epoch;
* ``optim_<i>_<j>``: the j-th entry of that parameter's optimizer config when it is
  an array (Adam's ``m``, ``v``, a momentum ``velocity``) or a NumPy scalar;
* ``bn_<l>_<stat>`` / ``best_bn_<l>_<stat>``: running statistics of ``bn_params[l]``;
* ``meta``: UTF-8 JSON stored as a uint8 array: epoch, update rule name,
  hyperparameters, histories, best accuracy, JSON-valued config entries, the
  generator's state and, in files of this version (optional in older ones),
  the ``iteration`` and the state of the model's ``dropout_rng``
  (``model_rng_state``, null when the model has none).

Reading uses ``np.load(..., allow_pickle=False)`` and checks every field against
the model before anything is changed, so loading never runs code and a bad file
leaves the solver as it was.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import backend
from glassnet._checks import fail
from glassnet.backend import Array

if TYPE_CHECKING:
    from glassnet.solver import Solver

FORMAT = "glassnet.Solver checkpoint"
VERSION = 1
STATS = ("running_mean", "running_var")
HYPERPARAMETERS = (
    "lr_decay",
    "batch_size",
    "num_epochs",
    "num_train_samples",
    "num_val_samples",
    "print_every",
)
_NUMBER = (int, float)
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


def bn_params(model: Any) -> list[dict[str, Any]]:
    """The model's ``bn_params`` list, or [] when it has none."""
    return list(getattr(model, "bn_params", None) or [])


def bn_stats(model: Any) -> list[dict[str, Array]]:
    """Copies of each bn_param's running statistics (absent ones are skipped)."""
    return [{k: d[k].copy() for k in STATS if k in d} for d in bn_params(model)]


def save_checkpoint(solver: Solver, path: str) -> None:
    """Write the solver's whole training state to ``path`` atomically."""
    from glassnet._io import atomic_write

    arrays, meta = _checkpoint_state(solver)
    payload = {k: backend.to_numpy(v) for k, v in arrays.items()}
    for k, v in payload.items():
        if v.dtype.kind not in "biufc":
            raise fail(f"checkpoint entry {k!r}", "a numeric array", f"dtype {v.dtype}")
    blob = json.dumps(meta, default=_jsonable).encode("utf-8")
    payload["meta"] = np.frombuffer(blob, dtype=np.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, lambda f: np.savez(f, **payload))


def _checkpoint_state(solver: Solver) -> tuple[dict[str, Array], dict[str, Any]]:
    model = solver.model
    names = list(model.params)
    arrays: dict[str, Array] = {}
    optim = []
    for i, k in enumerate(names):
        arrays[f"param_{i}"] = model.params[k]
        if solver.best_params:
            arrays[f"best_{i}"] = solver.best_params[k]
        optim.append(_encode_config(solver.optim_configs[k], i, k, arrays))
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": solver.epoch,
        "update_rule": solver._rule_name,
        "hyperparameters": {h: getattr(solver, h) for h in HYPERPARAMETERS},
        "param_names": names,
        "has_best": bool(solver.best_params),
        "optim": optim,
        "bn": _encode_stats(bn_stats(model), "bn", arrays),
        "best_bn": _encode_stats(solver.best_bn_stats, "best_bn", arrays),
        "loss_history": solver.loss_history,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "best_val_acc": solver.best_val_acc,
        "rng_state": solver._rng.bit_generator.state,
        "iteration": solver.iteration,
        "model_rng_state": _model_rng_state(model),
    }
    return arrays, meta


def _model_rng_state(model: Any) -> dict | None:
    bit_generator = getattr(getattr(model, "dropout_rng", None), "bit_generator", None)
    return None if bit_generator is None else bit_generator.state


def _encode_config(config: dict, i: int, pname: str, arrays: dict) -> list:
    """``[key, kind, value]`` triples; kind "json" keeps the value in the metadata,
    "array" and "scalar" name an archive entry (a NumPy scalar keeps its dtype)."""
    entries = []
    for j, (key, value) in enumerate(config.items()):
        where = f"optim_configs[{pname!r}][{key!r}]"
        if not isinstance(key, str):
            raise fail(f"optim_configs[{pname!r}]", "string keys", repr(key))
        if isinstance(value, np.generic) or hasattr(value, "dtype"):
            kind = "scalar" if isinstance(value, np.generic) else "array"
            arrays[f"optim_{i}_{j}"] = np.asarray(backend.to_numpy(value))
            entries.append([key, kind, f"optim_{i}_{j}"])
        elif value is None or isinstance(value, bool | int | float | str):
            entries.append([key, "json", value])
        else:
            expected = "an array or a JSON scalar (None, bool, int, float, str)"
            raise fail(where, expected, type(value).__name__)
    return entries


def _encode_stats(stats: list[dict[str, Array]], prefix: str, arrays: dict) -> list:
    for layer, d in enumerate(stats):
        for k, v in d.items():
            arrays[f"{prefix}_{layer}_{k}"] = v
    return [list(d) for d in stats]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_checkpoint(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a checkpoint file's structure; returns ``(meta, arrays)``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: for anything but a well-formed Solver checkpoint.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path!r}")
    where = f"checkpoint {path!r}"
    try:
        arrays = _read_npz(path)
        blob = arrays.pop("meta")
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise ValueError(f"meta entry of dtype {blob.dtype}, shape {blob.shape}")
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except Exception as e:  # zipfile, zlib, numpy and json all raise their own kinds
        expected = "an .npz file written by Solver"
        raise fail(where, expected, f"unreadable ({type(e).__name__}: {e})") from e
    _check_meta(meta, arrays, where)
    return meta, arrays


def _read_npz(path: str) -> dict[str, np.ndarray]:
    archive = np.load(path, allow_pickle=False)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"one .npy array of shape {archive.shape}, not an archive")
    try:
        return {k: archive[k] for k in archive.files}
    finally:
        archive.close()


def _require(ok: bool, where: str, expected: str, received: Any) -> None:
    if not ok:
        raise fail(where, expected, received)


def _check_meta(meta: Any, arrays: dict[str, np.ndarray], where: str) -> None:
    """Check the metadata's keys and types, and that every named array exists."""
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
    _require(
        meta["epoch"] >= 0, f"{where} meta['epoch']", "an epoch >= 0", meta["epoch"]
    )
    for key in ("loss_history", "train_acc_history", "val_acc_history"):
        ok = all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in meta[key])
        _require(ok, f"{where} meta[{key!r}]", "a list of numbers", "other values")
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
    for entries in meta["optim"]:
        needed += _config_entries(entries, where)
    for prefix in ("bn", "best_bn"):
        for layer, keys in enumerate(meta[prefix]):
            ok = isinstance(keys, list) and set(keys) <= set(STATS)
            _require(ok, f"{where} meta[{prefix!r}]", f"lists of {STATS}", repr(keys))
            needed += [f"{prefix}_{layer}_{k}" for k in keys]
    absent = [k for k in needed if k not in arrays]
    _require(not absent, where, "every array the metadata names", f"missing {absent}")


def _config_entries(entries: Any, where: str) -> list[str]:
    """Check one config's ``[key, kind, value]`` triples; return the array names."""
    names = []
    for entry in entries if isinstance(entries, list) else [entries]:
        ok = (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and entry[1] in ("json", "array", "scalar")
        )
        ok = ok and (entry[1] == "json" or isinstance(entry[2], str))
        _require(
            ok, f"{where} meta['optim']", "[key, kind, value] entries", repr(entry)
        )
        if entry[1] != "json":
            names.append(entry[2])
    return names


def apply_checkpoint(solver: Solver, state: tuple[dict, dict], path: str) -> None:
    """Check ``state`` against the solver's model and rule, then restore it."""
    meta, arrays = state
    where = f"checkpoint {path!r}"
    _check_params(solver.model.params, meta, arrays, where)
    layers = bn_params(solver.model)
    _check_bn(layers, meta["bn"], arrays, where)
    _check_rule(solver, meta["update_rule"], where)
    rng_state = _check_rng_state(solver._rng, meta["rng_state"], where)
    model_rng = getattr(solver.model, "dropout_rng", None)
    model_rng_state = meta.get("model_rng_state")
    if model_rng_state is not None:
        _require(
            hasattr(model_rng, "bit_generator"),
            f"{where} meta['model_rng_state']",
            "a model with a dropout_rng generator to restore it into",
            f"model.dropout_rng = {model_rng!r}",
        )
        _check_rng_state(model_rng, model_rng_state, where)
    per_epoch = max(solver.X_train.shape[0] // solver.batch_size, 1)
    iteration = meta.get("iteration", meta["epoch"] * per_epoch)
    _require(
        isinstance(iteration, int)
        and not isinstance(iteration, bool)
        and iteration >= 0,
        f"{where} meta['iteration']",
        "an int >= 0",
        repr(iteration),
    )

    def dev(a: np.ndarray, like: Array) -> Array:
        return backend.get_array_module(like).asarray(a)

    params, names = solver.model.params, meta["param_names"]
    for i, k in enumerate(names):
        params[k] = dev(arrays[f"param_{i}"], params[k])
    solver.best_params = (
        {k: dev(arrays[f"best_{i}"], params[k]) for i, k in enumerate(names)}
        if meta["has_best"]
        else {}
    )
    solver.optim_configs = {
        k: _decode_config(meta["optim"][i], arrays, params[k])
        for i, k in enumerate(names)
    }
    for d, stats in zip(layers, _decode_stats(meta["bn"], "bn", arrays), strict=True):
        d.update(stats)
    solver.best_bn_stats = _decode_stats(meta["best_bn"], "best_bn", arrays)
    solver.loss_history = list(meta["loss_history"])
    solver.train_acc_history = list(meta["train_acc_history"])
    solver.val_acc_history = list(meta["val_acc_history"])
    solver.best_val_acc = meta["best_val_acc"]
    solver.epoch = meta["epoch"]
    solver.iteration = iteration
    solver._rng.bit_generator.state = rng_state
    if model_rng_state is not None:
        model_rng.bit_generator.state = model_rng_state


def _check_params(params: dict, meta: dict, arrays: dict, where: str) -> None:
    """The file's parameters must have the model's names, shapes and dtypes."""
    names = meta["param_names"]
    _require(
        sorted(names) == sorted(params),
        where,
        f"parameters {sorted(params)} (the model's)",
        f"parameters {sorted(names)}",
    )
    for i, k in enumerate(names):
        w = params[k]
        for prefix in ("param", "best") if meta["has_best"] else ("param",):
            a = arrays[f"{prefix}_{i}"]
            _require(
                a.shape == tuple(w.shape) and a.dtype == w.dtype,
                where,
                f"{prefix} {k!r} of shape {tuple(w.shape)}, dtype {w.dtype}",
                f"shape {a.shape}, dtype {a.dtype}",
            )


def _check_bn(layers: list[dict], saved: list, arrays: dict, where: str) -> None:
    """One entry per bn_param, with the shapes of any statistics already there."""
    _require(
        len(saved) == len(layers),
        where,
        f"{len(layers)} bn_params (the model's)",
        f"{len(saved)}",
    )
    for layer, (d, keys) in enumerate(zip(layers, saved, strict=True)):
        for k in keys:
            a = arrays[f"bn_{layer}_{k}"]
            if k in d:
                shape = tuple(d[k].shape)
                _require(
                    a.shape == shape,
                    where,
                    f"bn_params[{layer}][{k!r}] of shape {shape}",
                    f"shape {a.shape}",
                )


def _check_rule(solver: Solver, saved: str | None, where: str) -> None:
    if saved is not None and saved != solver._rule_name:
        received = solver._rule_name or getattr(solver.update_rule, "__name__", "?")
        raise fail(
            "update_rule",
            f"{saved!r}, the rule {where} was trained with",
            repr(received),
        )
    if saved is None and not solver._rule_given:
        raise fail(
            "update_rule",
            f"the custom rule {where} was trained with (pass update_rule=<callable>)",
            "no update_rule",
        )


def _check_rng_state(rng: Any, state: dict, where: str) -> dict:
    """Try ``state`` on a fresh generator of the same kind, so ``rng`` is untouched."""
    probe = type(rng.bit_generator)()
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError) as e:
        raise fail(
            f"{where} meta['rng_state']",
            f"a {type(probe).__name__} state",
            f"{type(e).__name__}: {e}",
        ) from e
    return state


def _decode_config(entries: list, arrays: dict, like: Array) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, kind, value in entries:
        if kind == "json":
            config[key] = value
        elif kind == "scalar":
            config[key] = arrays[value][()]
        else:
            config[key] = backend.get_array_module(like).asarray(arrays[value])
    return config


def _decode_stats(keys: list, prefix: str, arrays: dict) -> list[dict[str, Array]]:
    return [
        {k: arrays[f"{prefix}_{layer}_{k}"] for k in ks}
        for layer, ks in enumerate(keys)
    ]


__all__ = [
    "apply_checkpoint",
    "bn_params",
    "bn_stats",
    "read_checkpoint",
    "save_checkpoint",
]
