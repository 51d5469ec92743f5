"""The parts of a ``BackupAndRestore`` checkpoint beyond the model: callback
states and the training position, encoded for the file and checked on reading."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from glassnet._internal.checks import fail
from glassnet.saving.container import invalid, json_field, read_file

Payload = tuple[str, dict[str, str], dict[str, np.ndarray]]
_FLOATS = ("float16", "float32", "float64")  # the dtypes glassnet files hold
# The position inside an epoch that a backup taken between batches holds.
POSITION = ("batch", "epoch_rng", "loss_sum", "count", "metrics")


def _is_array(value: Any) -> bool:
    return (
        hasattr(value, "shape") and hasattr(value, "dtype") and not np.isscalar(value)
    )


def get_state(i: int, cb: Any) -> dict[str, Any]:
    get_state = getattr(cb, "get_state", None)
    state = {} if get_state is None else get_state()
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        where = f"state of callback {i} ({type(cb).__name__})"
        raise fail(where, "a dict with str keys", repr(state)[:200])
    return state


def encode_state(i: int, cb: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Callback ``i``'s entry (class name, JSON state, array layout) and arrays."""
    where = f"state of callback {i} ({type(cb).__name__})"
    state = get_state(i, cb)
    plain, layout, arrays = {}, {}, {}
    for key, value in state.items():
        items = value if isinstance(value, list | tuple) else [value]
        if not items or not all(_is_array(v) for v in items):
            plain[key] = value
            continue
        for j, a in enumerate(items):
            if str(a.dtype) not in _FLOATS:
                raise fail(
                    f"{where} {key!r}", f"arrays of a dtype in {_FLOATS}", a.dtype
                )
            name = f"callbacks/{i}/{key}" + ("" if items is not value else f"/{j}")
            arrays[name] = a
        layout[key] = None if items is not value else len(items)
    entry = {
        "class_name": type(cb).__name__,
        "index": i,
        "state": plain,
        "arrays": layout,
    }
    return entry, arrays


def read_backup(path: str) -> Payload:
    """The checked container, which must be a backup (not any model file)."""

    meta, tensors = read_file(path)
    if meta.get("content") != "model" or "training" not in meta:
        raise invalid(path, "a BackupAndRestore checkpoint", "another glassnet file")
    return path, meta, tensors


def training_state(path: str, meta: dict[str, str]) -> dict[str, Any]:
    training = json_field(path, meta, "training")
    done, epochs = training.get("epochs_done"), training.get("epoch")
    history = training.get("history")
    if not (
        natural(done)
        and isinstance(training.get("stop_training"), bool)
        and isinstance(epochs, list)
        and all(natural(e) for e in epochs)
        and isinstance(history, dict)
        and all(isinstance(v, list) for v in history.values())
        and all(_number(x) for v in history.values() for x in v)
    ):
        raise invalid(
            path,
            "a training state {epochs_done, stop_training, epoch, history}",
            json.dumps(training)[:200],
        )
    if "batch" in training:
        _check_position(path, training)
    data = training.get("data")
    if data is not None and not (
        isinstance(data, dict)
        and isinstance(data.get("sha256"), str)
        and isinstance(data.get("shapes"), list)
        and all(
            isinstance(s, list) and all(natural(d) for d in s) for s in data["shapes"]
        )
    ):
        raise invalid(path, "a data fingerprint {shapes, sha256}", repr(data)[:200])
    for key in ("batch_size", "steps"):
        size = training.get(key)
        if size is not None and not (natural(size) and size > 0):
            raise invalid(path, f"the {key} of the run (an int >= 1)", repr(size))
    return training


def _check_position(path: str, training: dict[str, Any]) -> None:
    """The position inside an epoch: every key, of the right kind."""
    metrics = training.get("metrics")
    ok = (
        all(k in training for k in POSITION)
        and natural(training["batch"])
        and training["batch"] > 0
        and _number(training["loss_sum"])
        and _number(training["count"])
        and isinstance(metrics, list)
        and all(isinstance(m, list) and _numbers(m) for m in metrics)
    )
    if not ok:
        raise invalid(
            path,
            f"a position inside an epoch {{{', '.join(POSITION)}}}",
            json.dumps({k: training.get(k) for k in POSITION})[:200],
        )


def decode_states(
    path: str, meta: dict[str, str], tensors: dict, stateful: list[tuple[int, Any]]
) -> list[dict[str, Any]]:
    """The states for ``stateful``, the ``(position, callback)`` pairs of the
    callbacks with a state, matched in order and by class name to the file's."""
    entries = json_field(path, meta, "callbacks").get("callbacks")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid(path, "a list of callback states", repr(entries)[:200])
    _match(path, [e.get("class_name") for e in entries], stateful)
    unused = {k for k in tensors if k.startswith("callbacks/")}
    states = []
    for (i, cb), entry in zip(stateful, entries, strict=True):
        where = f"callback {i} ({type(cb).__name__})"
        state, layout, index = (
            entry.get("state"),
            entry.get("arrays"),
            entry.get("index"),
        )
        if not (
            isinstance(state, dict) and isinstance(layout, dict) and natural(index)
        ):
            raise invalid(path, f"a state, array layout and index of {where}", entry)
        for key, n in layout.items():
            base = f"callbacks/{index}/{key}"
            names = [base] if n is None else [f"{base}/{j}" for j in range(n)]
            if not (n is None or (natural(n) and n > 0)) or not set(names) <= unused:
                raise invalid(path, f"the arrays {key!r} of {where}", f"{n!r}")
            unused -= set(names)
            values = [tensors[k] for k in names]
            state[key] = values[0] if n is None else values
        states.append(state)
    if unused:
        raise invalid(path, "only the tensors of the callbacks' states", sorted(unused))
    return states


def _match(path: str, saved: list[Any], stateful: list[tuple[int, Any]]) -> None:
    """Raise, naming the first callback whose class differs from the file's."""
    names = [type(cb).__name__ for _, cb in stateful]
    if saved == names:
        return
    k = next(
        (
            k
            for k, pair in enumerate(zip(saved, names, strict=False))
            if pair[0] != pair[1]
        ),
        min(len(saved), len(names)),
    )
    if k < len(names):
        i, cb = stateful[k]
        expected = f"the state of callback {i} ({names[k]})"
        got = f"the state of a {saved[k]!r}" if k < len(saved) else "none"
    else:
        expected, got = f"states for the callbacks {names}", f"one for a {saved[k]!r}"
    raise invalid(
        path,
        f"{expected}; callbacks with a state are matched in order and by class",
        f"{got} (the file holds states of {saved})",
    )


def natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _numbers(value: Any) -> bool:
    """A number, or a (nested) list of numbers: a metric's JSON state."""
    if isinstance(value, list):
        return all(_numbers(v) for v in value)
    return _number(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = [
    "POSITION",
    "Payload",
    "decode_states",
    "encode_state",
    "get_state",
    "natural",
    "read_backup",
    "training_state",
]
