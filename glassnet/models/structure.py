"""The data of models with several inputs or outputs, and their compile settings.

A graph model may take several inputs and give several outputs. Its ``x`` is a
list in input order or a dict keyed by input names; ``y`` and
``sample_weight`` likewise by output (a single ``sample_weight`` array weights
every output). ``fit`` turns such data into :class:`Rows` once: one object that
``len`` counts and ``rows[idx]`` slices like an array, so the batch loops index
it as they index a single array.

``compile`` takes, as Keras 3 does, one loss for every output, a list in output
order or a dict by output name; ``loss_weights`` and ``metrics`` likewise (see
:func:`compile_outputs`). The logs then hold ``loss`` (the weighted sum), one
``<output>_loss`` per output that has a loss (when more than one has), and
``<output>_<metric>``, in Keras' order: the losses, then the metrics sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet import losses as losses_mod
from glassnet import metrics as metrics_mod
from glassnet._internal.checks import as_numeric_array, check_finite, fail
from glassnet.backend import Array


class Rows:
    """Per-input (or per-output) arrays of the same samples, sliced together.

    ``len(rows)`` is the number of samples and ``rows[idx]`` the same rows of
    every array (a part may be None: an output given no target).
    """

    __slots__ = ("parts",)

    def __init__(self, parts: Sequence[Array | None]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return next(len(p) for p in self.parts if p is not None)

    def __getitem__(self, idx: Any) -> Rows:
        return Rows([None if p is None else p[idx] for p in self.parts])

    def __repr__(self) -> str:
        shapes = [None if p is None else tuple(p.shape) for p in self.parts]
        return f"Rows({shapes})"


def parts(value: Any) -> list[Any]:
    """The arrays of ``value``: a :class:`Rows`' parts, else ``[value]``."""
    return value.parts if isinstance(value, Rows) else [value]


def leaves(value: Any) -> list[Array]:
    """Every array in ``value`` (a :class:`Rows`, an array or None)."""
    return [p for p in parts(value) if p is not None]


def flatten(arg: str, value: Any, names: list[str], *, optional: bool = False):
    """``value`` (a list/tuple in order, or a dict keyed by ``names``) as a list
    of arrays in the order of ``names``; ``optional`` lets a dict leave some
    out (None there).

    Raises:
        ValueError: for another kind of value, a wrong number of arrays, an
            unknown or missing key.
    """
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise fail(arg, f"a dict with keys among {names}", f"key {unknown[0]!r}")
        missing = [k for k in names if k not in value]
        if missing and not optional:
            raise fail(arg, f"a dict with the keys {names}", f"no key {missing[0]!r}")
        items = [value.get(k) for k in names]
    elif isinstance(value, list | tuple):
        if len(value) != n:
            raise fail(arg, f"a list of {n} arrays (one per {names})", len(value))
        items = list(value)
    else:
        raise fail(
            arg,
            f"a list of {n} arrays or a dict keyed by {names}",
            type(value).__name__,
        )
    return [
        None if v is None else as_numeric_array(f"{arg}[{k!r}]", v)
        for k, v in zip(names, items, strict=True)
    ]


def check_samples(named: dict[str, Array]) -> int:
    """The number of samples every array has.

    Raises:
        ValueError: when two arrays have different numbers of samples.
    """
    counts = {k: len(a) for k, a in named.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(
            "x, y and sample_weight: expected the same number of samples in "
            f"every array; received {counts}"
        )
    n = next(iter(counts.values()))
    if n == 0:
        raise fail("x", "at least one sample", "empty arrays")
    return n


def pack(arrays: list[Any], names: list[str], as_dict: bool) -> Any:
    """Outputs in the model's structure: a dict by ``names``, else a list."""
    return dict(zip(names, arrays, strict=True)) if as_dict else list(arrays)


def concat(batches: list[Any]) -> Any:
    """The batches of ``predict`` joined per output (arrays, lists or dicts)."""
    if not batches:
        return np.zeros((0,))
    if isinstance(batches[0], dict):
        return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    if isinstance(batches[0], list):
        return [np.concatenate(column) for column in zip(*batches, strict=True)]
    return np.concatenate(batches)


# -- per-output data of a model --


def model_data(model: Any, x: Any, y: Any, sample_weight: Any):
    """``x``, ``y`` and ``sample_weight`` of a model of several inputs or
    outputs, each as an array (one input/output) or :class:`Rows`."""
    ins, outs = model.input_names, model.output_names
    x_arrays = [_array("x", x)] if len(ins) == 1 else flatten("x", x, ins)
    if len(outs) == 1:
        y_arrays = [_array("y", y)]
    else:
        y_arrays = _targets(model, y)
    if sample_weight is None:
        sw_arrays = None
    elif isinstance(sample_weight, list | tuple | dict) and len(outs) > 1:
        sw_arrays = flatten("sample_weight", sample_weight, outs, optional=True)
    else:
        sw_arrays = [_array("sample_weight", sample_weight)] * len(outs)
    named = {f"x[{k!r}]": a for k, a in zip(ins, x_arrays, strict=True)}
    named.update(
        {f"y[{k!r}]": a for k, a in zip(outs, y_arrays, strict=True) if a is not None}
    )
    for k, a in zip(outs, sw_arrays or [], strict=False):
        if a is not None:
            named[f"sample_weight[{k!r}]"] = a
    n = check_samples(named)
    for k, a in zip(ins, x_arrays, strict=True):
        check_finite(f"x[{k!r}]", a)
    model._check_input_shapes(x_arrays)
    if sw_arrays is not None:
        sw_arrays = [
            None if a is None else a.astype(np.float64).reshape(n) for a in sw_arrays
        ]
    x_out = x_arrays[0] if len(ins) == 1 else Rows(x_arrays)
    y_out = y_arrays[0] if len(outs) == 1 else Rows(y_arrays)
    sw_out = (
        None
        if sw_arrays is None
        else sw_arrays[0]
        if len(outs) == 1
        else Rows(sw_arrays)
    )
    return x_out, y_out, sw_out


def _array(arg: str, value: Any) -> Array:
    return as_numeric_array(arg, value)


def _targets(model: Any, y: Any) -> list[Any]:
    """``y`` per output: a list of all outputs' targets or of those with a
    loss (Keras' partial targets), or a dict by output name."""
    names = model.output_names
    with_loss = [
        name
        for name, (loss, _) in zip(names, model.output_losses, strict=True)
        if loss is not None
    ]
    if isinstance(y, list | tuple) and len(y) == len(with_loss) < len(names):
        y = dict(zip(with_loss, y, strict=True))
    arrays = flatten("y", y, names, optional=True)
    for name, a in zip(names, arrays, strict=True):
        if a is None and name in with_loss:
            raise fail("y", f"a target for output {name!r}, which has a loss", "none")
    return arrays


# -- compile --


def per_output(arg: str, value: Any, names: list[str], dict_outputs: bool) -> list:
    """``value`` as one entry per output: a list/tuple in output order or a
    dict by output name (an output missing from it gets None).

    Raises:
        ValueError: for a list of another length or an unknown key (and, as
            Keras, a loss dict of list outputs that does not name every one).
    """
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise fail(arg, f"a dict keyed by output names {names}", repr(unknown[0]))
        if arg == "loss" and not dict_outputs and set(value) != set(names):
            raise ValueError(
                f"Expected keys {names} in loss dict, but found "
                f"loss.keys()={list(value)}"
            )
        return [value.get(k) for k in names]
    if len(value) != len(names):
        raise ValueError(
            "For a model with multiple outputs, when providing the "
            f"`{arg}` argument as a list, it should have as many entries as "
            f"the model has outputs. Received:\n{arg}={value}\nof length "
            f"{len(value)} whereas the model has {len(names)} outputs."
        )
    return list(value)


def compile_outputs(
    model: Any, loss: Any, loss_weights: Any, metrics: Any, weighted_metrics: Any
) -> None:
    """Set ``model``'s per-output losses, weights and metrics (see the module
    docstring); ``model.loss`` is the first output's loss that is not None."""
    names, dict_outputs = model.output_names, model.dict_outputs
    if isinstance(loss, list | tuple | dict):
        given = per_output("loss", loss, names, dict_outputs)
    else:
        given = [loss] * len(names)
    objects = [None if g is None else losses_mod.get(g) for g in given]
    if all(o is None for o in objects):
        raise fail("loss", f"a loss for at least one of the outputs {names}", loss)
    weights = _loss_weights(loss_weights, names, dict_outputs, len(objects))
    model._output_losses = list(zip(objects, weights, strict=True))
    model.loss = next(o for o in objects if o is not None)
    with_loss = [i for i, o in enumerate(objects) if o is not None]
    trackers: list[Any] = [None] * len(names)
    if len(with_loss) > 1:  # Keras logs each output's loss only then
        for i in with_loss:
            trackers[i] = metrics_mod.Mean(name=f"{names[i]}_loss")
    plain, given_names = _metrics("metrics", metrics, names, dict_outputs, objects)
    weighted, _ = _metrics(
        "weighted_metrics", weighted_metrics, names, dict_outputs, objects
    )
    _unique_names(plain, weighted)
    model._loss_trackers = trackers
    model._output_metrics = list(zip(plain, weighted, strict=True))
    flat = [m for group in (*plain, *weighted) for m in group]
    model.compiled_metrics = [
        *(t for t in trackers if t is not None),
        *sorted(flat, key=lambda m: m.name),
    ]
    model.weighted_metrics = []
    model.compile_config = {
        "optimizer": None,  # filled in by compile
        "loss": [None if o is None else losses_mod.serialize(o) for o in objects],
        "loss_weights": weights,
        "metrics": given_names,
    }


def _loss_weights(value: Any, names: list[str], dict_outputs: bool, n: int) -> list:
    if value is None:
        return [1.0] * n
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)] * n
    if not isinstance(value, list | tuple | dict):
        raise fail("loss_weights", "a float, a list or a dict of floats", value)
    given = per_output("loss_weights", value, names, dict_outputs)
    out = []
    for name, w in zip(names, given, strict=True):
        w = 1.0 if w is None else w
        if not isinstance(w, int | float) or isinstance(w, bool) or not np.isfinite(w):
            raise fail(f"loss_weights[{name!r}]", "a finite float", repr(w))
        out.append(float(w))
    return out


def _metrics(
    arg: str, value: Any, names: list[str], dict_outputs: bool, losses: list
) -> tuple[list[list[Any]], list[list[str]]]:
    """The metrics of each output (named ``<output>_<name>``), and the names
    they were asked for by (what a file keeps)."""
    if not value:
        return [[] for _ in names], [[] for _ in names]
    if not isinstance(value, list | tuple | dict):
        raise ValueError(
            f"Expected `{arg}` argument to be a list, tuple, or dict. "
            f"Received instead: {arg}={value} of type {type(value)}"
        )
    groups = per_output(arg, value, names, dict_outputs)
    out, asked = [], []
    for name, group, loss in zip(names, groups, losses, strict=True):
        items = [] if group is None else group if isinstance(group, list) else [group]
        loss_name = "" if loss is None else loss.kind  # its class, whatever its name
        resolved = [metrics_mod.get(m, loss_name) for m in items if m is not None]
        asked.append([m.name for m in resolved])
        for m in resolved:
            m.name = f"{name}_{m.name}"
        out.append(resolved)
    return out, asked


def _unique_names(plain: list[list[Any]], weighted: list[list[Any]]) -> None:
    """Keras' rule: a repeated name gets ``_1``, ``_2``...; a weighted twin of
    a plain metric is ``<output>_weighted_<name>``."""
    seen: dict[str, int] = {}
    for group in plain:
        for m in group:
            if m.name in seen:
                seen[m.name] += 1
                m.name = f"{m.name}_{seen[m.name] - 1}"
            else:
                seen[m.name] = 1
    taken = set(seen)
    for group in weighted:
        for m in group:
            if m.name in taken:
                out, _, rest = m.name.partition("_")
                m.name = f"{out}_weighted_{rest}"
            taken.add(m.name)


def update_metrics(model: Any, y: Any, out: list[Array], sw: Any) -> dict[str, float]:
    """Update the per-output loss trackers and metrics with one batch."""
    ys, sws = parts(y), parts(sw) if sw is not None else [None] * len(out)
    values = getattr(model, "_output_loss_values", [])
    for tracker, value, o in zip(model._loss_trackers, values, out, strict=False):
        if tracker is not None and value is not None:
            tracker.update_state(float(value), sample_weight=len(o))
    for (plain, weighted), y_i, o, s in zip(
        model._output_metrics, ys, out, sws, strict=True
    ):
        for m in plain:
            m.update_state(y_i, o)
        for m in weighted:
            m.update_state(y_i, o, s)
    return {m.name: m.result() for m in model.compiled_metrics}


__all__ = [
    "Rows",
    "to_numpy_outputs",
    "check_samples",
    "compile_outputs",
    "concat",
    "flatten",
    "leaves",
    "model_data",
    "pack",
    "parts",
    "per_output",
    "update_metrics",
]


def to_numpy_outputs(out: Any) -> Any:
    """``out`` (an array, or a list or dict of arrays) as NumPy arrays."""
    from glassnet.backend import to_numpy

    if isinstance(out, dict):
        return {k: to_numpy(v) for k, v in out.items()}
    if isinstance(out, list):
        return [to_numpy(v) for v in out]
    return to_numpy(out)
