"""Model and weights files: safetensors plus glassnet's JSON metadata, never pickle.

A save writes one file, whatever its name (``my_model``, ``my_model.h5``,
``model.03-0.41.h5``): a safetensors file whose tensors are

* ``layers/<layer name>/<weight name>``: every weight, trainable or not;
* ``optimizer/<layer name>/<weight name>/<slot>``: the optimizer's slot arrays
  (Adam's ``m`` and ``v``...), in whole-model files saved with the optimizer;
* ``callbacks/<index>/<key>[/<j>]``: the callbacks' arrays in the checkpoints
  of ``BackupAndRestore`` (whole-model files with ``training`` and
  ``callbacks`` metadata besides); loaders of models and weights ignore them;

and whose ``__metadata__`` (a string-to-string map) holds:

* ``format`` = ``"glassnet"`` and ``format_version`` = ``"1"``, the marker;
* ``content``: ``"model"`` (from :func:`save_model`) or ``"weights"``;
* ``model``: JSON ``{"class_name": "Sequential", "config": ...}``, the architecture;
* ``compile``: JSON of the optimizer, loss and metric names, when compiled;
* ``optimizer_state``: JSON of the iteration count and non-array slot values;
* ``rng_state``: JSON of the model's generator state, so that shuffling and
  dropout masks go on where they stopped and a resumed ``fit`` is exact;
* ``checksum``: ``"sha256:<hex>"`` over the tensors in name order (each name,
  dtype, shape and bytes), then every other metadata entry in key order.

Reading never unpickles and never evaluates code. The header length and the header
JSON are checked before any tensor is read, so a forged length cannot make the
reader allocate; then the layout, the checksum and every config field are checked
against the model being rebuilt. Any failure raises
:class:`glassnet.errors.InvalidFileError` (a ``ValueError``) naming the file and
the problem, and changes nothing. Writes are atomic
(:func:`glassnet._io.atomic_write`): a crash mid-save leaves the old file whole.

Example:
    >>> import os, tempfile
    >>> from glassnet import layers, models
    >>> model = models.Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.h5")
    >>> model.save(path)
    >>> clone = models.load_model(path)
    >>> [w.shape for w in clone.get_weights()]
    [(4, 2), (2,)]
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from glassnet import losses as losses_mod
from glassnet import optimizers as optimizers_mod
from glassnet._checks import fail
from glassnet._safetensors_file import (
    FORMAT,
    FORMAT_VERSION,
    check_path,
    invalid,
    json_field,
    read_file,
    write_file,
)
from glassnet.layers.base import Layer
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

MODELS: dict[str, type[Model]] = {"Sequential": Sequential}

# -- the layer registry --


def layer_registry() -> dict[str, type[Layer]]:
    """The ``LAYERS`` registry: class name -> Layer class, for every Layer subclass
    exported in ``glassnet.layers.__all__`` (an explicit allow-list).

    Built on each call so that layers exported later register themselves.
    """
    from glassnet import layers

    registry: dict[str, type[Layer]] = {}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer:
            registry[obj.__name__] = obj
    return registry


def deserialize_layer(spec: Any) -> Layer:
    """Build a layer from ``{"class_name": ..., "config": {...}}``.

    Raises:
        ValueError: for a malformed spec, a class not in :func:`layer_registry`
            (the message lists the known ones) or a config its class rejects.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise fail(
            "layer", "a dict {'class_name': str, 'config': dict}", repr(spec)[:200]
        )
    registry = layer_registry()
    name = spec.get("class_name")
    if not isinstance(name, str) or name not in registry:
        raise fail("layer class_name", f"one of {sorted(registry)}", repr(name))
    try:
        return registry[name].from_config(dict(spec["config"]))
    except TypeError as e:
        raise fail(f"config of {name}", f"{name}'s constructor arguments", e) from None


# -- public API --


def save_model(
    model: Model,
    filepath: str | os.PathLike[str],
    include_optimizer: bool = True,
    *,
    overwrite: bool = True,
) -> None:
    """Save the architecture, weights, compile settings and optimizer state.

    Args:
        model: a ``Sequential`` model.
        filepath: the file to write; any name or suffix.
        include_optimizer: save the optimizer's slots and iteration count, so
            that training resumes exactly. Defaults to `True`.
        overwrite: replace an existing file. Defaults to `True`.

    Raises:
        ValueError: for a model that is not a ``Sequential`` or a bad ``filepath``.
        FileExistsError: when the file exists and ``overwrite`` is False.
    """
    path = _writable_path(filepath, overwrite)
    tensors, meta = _model_payload(model, include_optimizer)
    write_file(path, tensors, meta)


def load_model(filepath: str | os.PathLike[str], compile: bool = True) -> Model:
    """Rebuild a model saved by :func:`save_model` (or ``Model.save``).

    Args:
        filepath: the file to read.
        compile: compile the model with the saved settings and restore the
            optimizer state, when the file has them. Defaults to `True`.

    Returns:
        The model, with its weights, optimizer state and generator state.

    Raises:
        InvalidFileError: for a foreign, truncated, corrupted or inconsistent file.
        OSError: when the file cannot be read (``FileNotFoundError``...).
    """
    path = check_path(filepath)
    meta, tensors = read_file(path)
    if meta.get("content") != "model":
        raise invalid(
            path,
            "a whole-model file",
            "a weights-only file: build the model and call model.load_weights",
        )
    model = _rebuild(path, json_field(path, meta, "model"))
    compile = compile and "compile" in meta
    if compile:
        _compile(path, model, json_field(path, meta, "compile"))
    _restore_state(
        path, model, meta, tensors, optimizer=compile and "optimizer_state" in meta
    )
    return model


def save_weights(
    model: Model, filepath: str | os.PathLike[str], *, overwrite: bool = True
) -> None:
    """Save only the weights of ``model``'s layers, by layer and weight name.

    Raises:
        ValueError: for a model that is not a ``Sequential`` or a bad ``filepath``.
        FileExistsError: when the file exists and ``overwrite`` is False.
    """
    path = _writable_path(filepath, overwrite)
    _check_model(model)
    meta = {
        "content": "weights",
        "layer_order": _dumps("layer order", {"layers": _layer_order(model)}),
    }
    write_file(path, _layer_tensors(model), meta)


def load_weights(model: Model, filepath: str | os.PathLike[str]) -> None:
    """Load weights saved by :func:`save_weights` or :func:`save_model` into ``model``.

    Every layer weight of the model must be in the file with the same shape, and
    the file may hold no other layer weights; nothing is changed otherwise.

    Raises:
        ValueError: for an unbuilt model.
        InvalidFileError: naming the layer and weight that do not match, or for
            a foreign, truncated or corrupted file.
        OSError: when the file cannot be read (``FileNotFoundError``...).
    """
    path = check_path(filepath)
    _check_model(model)
    if not model.built:
        raise fail("model", "a built model (give an Input or call it once)", "unbuilt")
    meta, tensors = read_file(path)
    _assign_layer_weights(
        path, model, _match_layers_by_order(path, model, meta, tensors)
    )


# -- saving helpers --


def _writable_path(filepath: Any, overwrite: bool) -> str:
    path = check_path(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"filepath {path!r}: expected a new file as overwrite=False; "
            "received an existing file"
        )
    return path


def _check_model(model: Any) -> None:
    if type(model) not in MODELS.values():
        raise fail("model", f"one of {sorted(MODELS)}", type(model).__name__)


def _model_spec(model: Model) -> dict[str, Any]:
    return {"class_name": type(model).__name__, "config": model.get_config()}


def _model_payload(
    model: Model, include_optimizer: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata of a whole-model file (see the module docstring).

    Raises:
        ValueError: for a model that is not a ``Sequential``.
    """
    _check_model(model)
    tensors = _layer_tensors(model)
    meta = {
        "content": "model",
        "layer_order": _dumps("layer order", {"layers": _layer_order(model)}),
        "model": _dumps("model config", _model_spec(model)),
        "rng_state": _dumps("rng_state", _rng_state(model)),
    }
    if model.optimizer is not None and model.loss is not None:
        meta["compile"] = _dumps("compile settings", _compile_config(model))
        if include_optimizer:
            arrays, scalars = model.optimizer.get_state()
            tensors.update({f"optimizer/{k}": v for k, v in arrays.items()})
            meta["optimizer_state"] = _dumps("optimizer state", scalars)
    return tensors, meta


def _dumps(what: str, value: Any) -> str:
    def plain(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        raise fail(what, "JSON-safe values", f"a {type(obj).__name__}")

    return json.dumps(value, default=plain)


def _layer_tensors(model: Model) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    for layer in model.layers:
        for key, value in zip(layer.weight_names, layer.get_weights(), strict=True):
            name = f"layers/{layer.name}/{key}"
            if name in tensors:
                raise fail("model", "distinct layer/weight names", repr(name))
            tensors[name] = value
    return tensors


def _compile_config(model: Model) -> dict[str, Any]:
    # The optimizer as it is now, not as compiled: callbacks may have changed it.
    return {
        "optimizer": optimizers_mod.serialize(model.optimizer),
        "loss": losses_mod.serialize(model.loss),
        "metrics": list(getattr(model, "compile_config", {}).get("metrics", [])),
    }


def _generator_state(gen: Any) -> dict[str, Any] | None:
    bit_generator = getattr(gen, "bit_generator", None)
    return None if bit_generator is None else bit_generator.state


def _rng_state(model: Model) -> dict[str, Any] | None:
    """The model's generator and every layer generator of its own (a seeded Dropout)."""
    layers = {
        layer.name: _generator_state(layer._rng)
        for layer in model.layers
        if getattr(layer, "_rng", None) is not None and layer._rng is not model.rng
    }
    return {"model": _generator_state(model.rng), "layers": layers}


# -- rebuilding and restoring --


def _rebuild(path: str, spec: dict[str, Any]) -> Model:
    name = spec.get("class_name")
    if not isinstance(name, str) or name not in MODELS:
        raise invalid(path, f"a model class_name in {sorted(MODELS)}", repr(name))
    try:
        return MODELS[name].from_config(spec.get("config"))
    except (ValueError, TypeError) as e:
        raise invalid(path, "a valid model config", e) from None


def _layer_order(model: Model) -> list[str]:
    """Names of the layers that hold weights, in model order."""
    return [layer.name for layer in model.layers if layer.weight_names]


def _match_layers_by_order(
    path: str, model: Model, meta: dict[str, str], tensors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Rename the file's layers to the model's when only the names differ.

    tf.keras loads weights by layer order; a file whose weighted layers have other
    names than the model's, but as many of them, is matched position by position
    (shapes are checked afterwards). Files without an order keep name matching.
    """
    if "layer_order" not in meta:
        return tensors
    order = json_field(path, meta, "layer_order").get("layers")
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise invalid(path, "layer_order as a list of names", repr(order))
    ours = _layer_order(model)
    if order == ours or len(order) != len(ours):
        return tensors
    rename = dict(zip(order, ours, strict=True))
    renamed = {}
    for key, value in tensors.items():
        if key.startswith("layers/"):
            _, layer, weight = key.split("/", 2)
            key = f"layers/{rename.get(layer, layer)}/{weight}"
        renamed[key] = value
    return renamed


def _assign_layer_weights(
    path: str, model: Model, tensors: dict[str, np.ndarray]
) -> None:
    """Check every layer weight of the model against the file, then set them all."""
    stored = {k: v for k, v in tensors.items() if k.startswith("layers/")}
    updates = []
    for layer in model.layers:
        values = []
        for key, weight in zip(layer.weight_names, layer.weights, strict=True):
            where = f"weight {key!r} of layer {layer.name!r}"
            value = stored.pop(f"layers/{layer.name}/{key}", None)
            if value is None:
                raise invalid(path, f"{where} in the file", "no such tensor")
            if value.shape != tuple(weight.shape):
                raise invalid(
                    path,
                    f"{where} of shape {tuple(weight.shape)}",
                    f"shape {value.shape}",
                )
            values.append(value)
        updates.append((layer, values))
    if stored:
        raise invalid(path, "only weights of this model's layers", sorted(stored))
    for layer, values in updates:
        layer.set_weights(values)


def _compile(path: str, model: Model, spec: dict[str, Any]) -> None:
    metrics = spec.get("metrics")
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise invalid(path, "compile metrics as a list of names", repr(metrics))
    try:
        model.compile(spec.get("optimizer"), spec.get("loss"), metrics or None)
    except (ValueError, TypeError, KeyError) as e:
        raise invalid(path, "valid compile settings", e) from None


def _restore_optimizer(
    path: str, model: Model, scalars: dict, tensors: dict[str, np.ndarray]
) -> None:
    """Check the slots against the model's trainable weights, then restore them."""
    weights = {
        f"{layer.name}/{key}": weight
        for layer in model.layers
        for key, weight in zip(layer.weight_names, layer.weights, strict=True)
        if key in layer.params
    }
    arrays = {
        k.removeprefix("optimizer/"): v
        for k, v in tensors.items()
        if k.startswith("optimizer/")
    }
    for name, value in arrays.items():
        key, _, slot = name.rpartition("/")
        weight = weights.get(key)
        if weight is None or not slot:
            raise invalid(path, f"slots of the weights {sorted(weights)}", name)
        if value.shape != weight.shape or value.dtype != weight.dtype:
            raise invalid(
                path,
                f"slot {name!r} of shape {weight.shape} and dtype {weight.dtype}",
                f"shape {value.shape} and dtype {value.dtype}",
            )
    slots = scalars.get("slots", {})
    plain = str | int | float | bool | None
    if not isinstance(slots, dict) or not all(
        k in weights
        and isinstance(v, dict)
        and all(isinstance(s, plain) for s in v.values())
        for k, v in slots.items()
    ):
        raise invalid(path, "scalar slots of the model's weights", repr(slots)[:200])
    try:
        model.optimizer.set_state(arrays, scalars)
    except (ValueError, TypeError) as e:
        raise invalid(path, "a valid optimizer state", e) from None


def _restore_state(
    path: str,
    model: Model,
    meta: dict[str, str],
    tensors: dict[str, np.ndarray],
    *,
    optimizer: bool,
) -> None:
    """Weights, then the optimizer state (when asked), then the generators."""
    _assign_layer_weights(path, model, tensors)
    if optimizer:
        scalars = json_field(path, meta, "optimizer_state")
        _restore_optimizer(path, model, scalars, tensors)
    _restore_rng(path, model, json_field(path, meta, "rng_state", allow_null=True))


def _restore_into(
    path: str, model: Model, meta: dict[str, str], tensors: dict[str, np.ndarray]
) -> None:
    """Restore a whole-model file INTO ``model``, compiled and of the same
    architecture: weights, optimizer slots and iterations, the learning rate (a
    callback may have changed it) and the generators. ``BackupAndRestore`` needs
    this: the model (and the callbacks holding it) stay the caller's objects.

    Raises:
        ValueError: for an uncompiled model or one that is not a ``Sequential``.
        InvalidFileError: for a weights-only file, another architecture or
            optimizer, or a file saved without its optimizer state.
    """
    _check_model(model)
    if model.optimizer is None:
        raise fail("model", "a compiled model", "a model without an optimizer")
    if meta.get("content") != "model":
        raise invalid(path, "a whole-model file", f"content {meta.get('content')!r}")
    saved = json_field(path, meta, "model")
    ours = json.loads(_dumps("model config", _model_spec(model)))
    if saved != ours:
        raise invalid(
            path,
            f"a file of model {model.name!r}'s architecture",
            f"another architecture: {_first_difference(saved, ours)}",
        )
    if "optimizer_state" not in meta:
        raise invalid(path, "a file saved with its optimizer state", "none")
    spec = json_field(path, meta, "compile").get("optimizer")
    learning_rate = _saved_learning_rate(path, model.optimizer, spec)
    _restore_state(path, model, meta, tensors, optimizer=True)
    if learning_rate is not None:
        model.optimizer.learning_rate = learning_rate


def _first_difference(saved: Any, ours: Any, where: str = "model") -> str:
    """Where two JSON values first differ: ``model['config']['layers'][1]...``."""
    if isinstance(saved, dict) and isinstance(ours, dict):
        for key in sorted(set(saved) | set(ours), key=str):
            if saved.get(key) != ours.get(key):
                return _first_difference(
                    saved.get(key), ours.get(key), f"{where}[{key!r}]"
                )
    if isinstance(saved, list) and isinstance(ours, list) and len(saved) == len(ours):
        for i, (a, b) in enumerate(zip(saved, ours, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    return f"{where} = {repr(saved)[:100]} in the file, {repr(ours)[:100]} here"


def _saved_learning_rate(
    path: str, optimizer: optimizers_mod.Optimizer, spec: Any
) -> float | None:
    """The saved rate, checked against ``optimizer``; None for a schedule."""
    name = type(optimizer).__name__
    if not isinstance(spec, dict) or spec.get("class_name") != name:
        saved = spec.get("class_name") if isinstance(spec, dict) else spec
        raise invalid(path, f"the state of a {name} optimizer", repr(saved))
    config = spec.get("config")
    lr = config.get("learning_rate") if isinstance(config, dict) else None
    if optimizer.schedule is not None:
        if isinstance(lr, dict):
            return None  # a schedule's rate follows from the restored iterations
        raise invalid(path, "a learning rate schedule", repr(lr)[:200])
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
        raise invalid(path, "a positive learning_rate", repr(lr)[:200])
    return lr


def _restore_rng(path: str, model: Model, state: dict[str, Any] | None) -> None:
    if state is None:
        return
    if not isinstance(state, dict) or not isinstance(state.get("layers", {}), dict):
        raise invalid(
            path, "generator states {'model', 'layers'}", type(state).__name__
        )
    _set_generator_state(path, model.rng, state.get("model"))
    owners = {layer.name: layer for layer in model.layers}
    for name, layer_state in state.get("layers", {}).items():
        layer = owners.get(name)
        if layer is None or getattr(layer, "_rng", None) is None:
            raise invalid(path, "generator states of the model's layers", repr(name))
        _set_generator_state(path, layer._rng, layer_state)


def _set_generator_state(path: str, gen: Any, state: dict[str, Any] | None) -> None:
    bit_generator = getattr(gen, "bit_generator", None)
    if state is None or bit_generator is None:
        return
    if not isinstance(state, dict):
        raise invalid(path, "a generator state object", type(state).__name__)
    expected = bit_generator.state["bit_generator"]
    if state.get("bit_generator") != expected:
        raise invalid(path, f"a {expected} generator state", state.get("bit_generator"))
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError) as e:
        raise invalid(path, "a valid generator state", e) from None


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MODELS",
    "deserialize_layer",
    "layer_registry",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]
