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
  the ``iteration``, the state of the model's ``dropout_rng``
  (``model_rng_state``, null when the model has none), where the Solver's
  draws came from (``rng_source``: ``"seed"``, its own generator, or
  ``"numpy.random"``, NumPy's global one for a Solver made without ``seed=``,
  whose state ``rng_state`` then holds), and ``numpy_random_state``: NumPy's
  global state when a seeded Solver's model draws its dropout masks from it,
  else null.

A run that drew from NumPy's global generator resumes bitwise only from that
generator's state, so loading such a checkpoint sets ``np.random``'s state (as
the uninterrupted run would have left it at that point); a checkpoint of a
seeded Solver leaves ``np.random`` alone, and one Solver never loads the
other kind's file.

Reading (:mod:`glassnet.solver.checkpoint_read`) never unpickles and checks
each ``.npy`` header against the member's real size before allocating; then
:func:`apply_checkpoint` checks every field against the model before anything is
changed: parameters, best parameters and a built-in rule's array slots have
their parameter's shape and dtype, running statistics the shape of those the
model has (else of the layer's ``gamma<l+1>``), generator states round-trip
exactly. So loading never runs code, and a bad file raises
:class:`~glassnet.errors.InvalidFileError` and leaves the solver as it was.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import backend
from glassnet._internal.checks import fail
from glassnet._internal.io import atomic_write
from glassnet.backend import Array
from glassnet.errors import InvalidFileError
from glassnet.optim import check_config
from glassnet.solver.checkpoint_read import (
    FORMAT,
    NUMPY_SOURCE,
    SEED_SOURCE,
    STATS,
    VERSION,
    _invalid,
    _require,
    read_checkpoint,
)

if TYPE_CHECKING:
    from glassnet.solver import Solver

HYPERPARAMETERS = (
    "lr_decay",
    "batch_size",
    "num_epochs",
    "num_train_samples",
    "num_val_samples",
    "print_every",
)


def bn_params(model: Any) -> list[dict[str, Any]]:
    """The model's ``bn_params`` list, or [] when it has none."""
    return list(getattr(model, "bn_params", None) or [])


def bn_stats(model: Any) -> list[dict[str, Array]]:
    """Copies of each bn_param's running statistics (absent ones are skipped)."""
    return [{k: d[k].copy() for k in STATS if k in d} for d in bn_params(model)]


def save_checkpoint(solver: Solver, path: str) -> None:
    """Write the solver's whole training state to ``path`` atomically."""
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
        "rng_source": _rng_source(solver),
        "rng_state": (
            _numpy_state() if solver._rng is None else solver._rng.bit_generator.state
        ),
        "iteration": solver.iteration,
        "model_rng_state": _model_rng_state(model),
        "numpy_random_state": (
            _numpy_state()
            if solver._rng is not None and _model_draws_from_numpy(model)
            else None
        ),
    }
    return arrays, meta


def _rng_source(solver: Solver) -> str:
    """``"numpy.random"`` for a Solver made without seed=, else ``"seed"``."""
    return NUMPY_SOURCE if solver._rng is None else SEED_SOURCE


def _numpy_state() -> dict[str, Any]:
    """NumPy's global generator state (MT19937 and the cached Gaussian)."""
    return np.random.get_state(legacy=False)  # noqa: NPY002  (the course's)


def _model_draws_from_numpy(model: Any) -> bool:
    """A course model whose dropout masks come from NumPy's global generator:
    dropout on, no fixed ``dropout_param['seed']`` and no ``dropout_rng``."""
    dropout_param = getattr(model, "dropout_param", None)
    return (
        bool(getattr(model, "use_dropout", False))
        and isinstance(dropout_param, dict)
        and "seed" not in dropout_param
        and getattr(model, "dropout_rng", None) is None
    )


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


def apply_checkpoint(solver: Solver, state: tuple[dict, dict], path: str) -> None:
    """Check ``state`` against the solver's model and rule, then restore it.

    Raises:
        InvalidFileError: when the file does not fit the model or the rule;
            nothing was changed.
    """
    meta, arrays = state
    where = f"checkpoint {path!r}"
    model = solver.model
    _check_params(model.params, meta, arrays, where)
    _check_rule(solver, meta["update_rule"], where)
    if meta["update_rule"] is not None:
        _check_slots(model.params, meta, arrays, where)
    layers = bn_params(model)
    _check_bn(model.params, layers, meta, arrays, where)
    source = meta.get("rng_source", SEED_SOURCE)
    _check_rng_source(solver, source, where)
    if source == NUMPY_SOURCE:
        rng_state = _check_numpy_state(meta["rng_state"], where)
    else:
        rng_state = _check_rng_state(solver._rng, meta["rng_state"], where)
    numpy_state = meta.get("numpy_random_state")
    if numpy_state is not None:
        numpy_state = _check_numpy_state(numpy_state, where)
    model_rng = getattr(model, "dropout_rng", None)
    model_rng_state = meta.get("model_rng_state")
    if model_rng_state is not None:
        _require(
            hasattr(model_rng, "bit_generator"),
            f"{where} meta['model_rng_state']",
            "a model with a dropout_rng generator to restore it into",
            f"model.dropout_rng = {model_rng!r}",
        )
        model_rng_state = _check_rng_state(model_rng, model_rng_state, where)
    per_epoch = max(solver.X_train.shape[0] // solver.batch_size, 1)
    iteration = meta.get("iteration", meta["epoch"] * per_epoch)

    def dev(a: np.ndarray, like: Array) -> Array:
        return backend.get_array_module(like).asarray(a)

    params, names = model.params, meta["param_names"]
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
    if source == NUMPY_SOURCE:
        np.random.set_state(rng_state)  # noqa: NPY002  (the course's)
    else:
        solver._rng.bit_generator.state = rng_state
    if numpy_state is not None:
        np.random.set_state(numpy_state)  # noqa: NPY002  (the course's)
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
        for prefix in ("param", "best") if meta["has_best"] else ("param",):
            _require_like(arrays[f"{prefix}_{i}"], params[k], where, f"{prefix} {k!r}")


def _require_like(a: np.ndarray, like: Any, where: str, what: str) -> None:
    shape = tuple(like.shape)
    _require(
        a.shape == shape and a.dtype == like.dtype,
        where,
        f"{what} of shape {shape}, dtype {like.dtype}",
        f"shape {a.shape}, dtype {a.dtype}",
    )


def _check_slots(params: dict, meta: dict, arrays: dict, where: str) -> None:
    """A built-in rule's array slots (Adam's m and v, a momentum velocity,
    RMSProp's cache...) have their parameter's shape and dtype; a custom rule's
    slots may be anything, so they are not checked. Every key is one the rule
    reads (:func:`glassnet.optim.check_config`)."""
    for i, k in enumerate(meta["param_names"]):
        try:
            keys = [key for key, _, _ in meta["optim"][i]]
            check_config(f"{where} optim_configs[{k!r}]", meta["update_rule"], keys)
        except ValueError as e:
            raise InvalidFileError(str(e)) from None
        for key, kind, name in meta["optim"][i]:
            if kind == "array":
                what = f"optim_configs[{k!r}][{key!r}] (the parameter's)"
                _require_like(arrays[name], params[k], where, what)


def _check_bn(
    params: dict, layers: list[dict], meta: dict, arrays: dict, where: str
) -> None:
    """One entry per bn_param. A layer's statistics, current and best, are
    floating arrays sharing one shape, that of the statistics already in the
    bn_param, else of its ``gamma<l+1>`` parameter (cs231n's naming) when there
    is one, and one dtype, that of the statistics already there if any."""
    _require(
        len(meta["bn"]) == len(layers),
        where,
        f"{len(layers)} bn_params (the model's)",
        f"{len(meta['bn'])}",
    )
    for layer, d in enumerate(layers):
        found = [
            (f"{label}bn_params[{layer}][{k!r}]", arrays[f"{prefix}_{layer}_{k}"])
            for prefix, label in (("bn", ""), ("best_bn", "best "))
            if layer < len(meta[prefix])
            for k in meta[prefix][layer]
        ]
        if not found:
            continue
        have = [d[k] for k in STATS if k in d]
        gamma = params.get(f"gamma{layer + 1}")
        if have:
            ref, source = have[0], "the model's statistics'"
        elif gamma is not None:
            ref, source = gamma, f"gamma{layer + 1}'s"
        else:  # nothing in the model to compare with: the file's first one
            ref, source = found[0][1], f"{found[0][0]}'s"
        dtype = (have[0] if have else found[0][1]).dtype
        for what, a in found:
            _require(
                a.dtype.kind == "f" and a.shape == ref.shape and a.dtype == dtype,
                where,
                f"{what} of shape {tuple(ref.shape)} ({source}), dtype {dtype}",
                f"shape {a.shape}, dtype {a.dtype}",
            )


def _check_rule(solver: Solver, saved: str | None, where: str) -> None:
    if saved is not None and saved != solver._rule_name:
        received = solver._rule_name or getattr(solver.update_rule, "__name__", "?")
        raise _invalid(
            "update_rule",
            f"{saved!r}, the rule {where} was trained with",
            repr(received),
        )
    if saved is None and not solver._rule_given:
        raise _invalid(
            "update_rule",
            f"the custom rule {where} was trained with (pass update_rule=<callable>)",
            "no update_rule",
        )


def _check_rng_state(rng: Any, state: dict, where: str) -> dict:
    """Try ``state`` on a fresh generator of the same kind, so ``rng`` is
    untouched; it must come back unchanged (a float would be truncated).
    Returns the state as the generator reports it."""
    probe = type(rng.bit_generator)()
    expected = f"a {type(probe).__name__} state"
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as e:
        received = f"{type(e).__name__}: {e}"
        raise _invalid(f"{where} generator state", expected, received) from e
    _require(probe.state == state, f"{where} generator state", expected, repr(state))
    return probe.state


def _check_rng_source(solver: Solver, source: str, where: str) -> None:
    """A seeded Solver resumes only a seeded run, a seedless one only a
    seedless run: the other generator would draw other minibatches."""
    if source == _rng_source(solver):
        return
    if source == NUMPY_SOURCE:
        expected = (
            "a Solver made without seed= (the file's minibatches came from "
            "NumPy's global generator, as in the course)"
        )
        received = "a Solver with seed="
    else:
        expected = "a Solver made with seed= (the file's run drew from its own seed)"
        received = "a Solver without seed= (drawing from NumPy's global generator)"
    raise _invalid(f"{where} meta['rng_source']", expected, received)


def _check_numpy_state(state: dict, where: str) -> dict:
    """Try ``state`` on a fresh legacy generator, so that ``np.random`` is
    untouched; it must come back unchanged. Returns it as NumPy reports it."""
    probe = np.random.RandomState()  # noqa: NPY002  (a probe of the course's kind)
    expected = "a state of NumPy's global generator (MT19937)"
    try:
        probe.set_state(state)
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as e:
        received = f"{type(e).__name__}: {e}"
        raise _invalid(f"{where} generator state", expected, received) from e
    restored = probe.get_state(legacy=False)
    same = json.loads(json.dumps(restored, default=_jsonable)) == state
    _require(same, f"{where} generator state", expected, repr(state)[:200])
    return restored


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
