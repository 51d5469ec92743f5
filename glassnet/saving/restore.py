"""Putting a checked file's contents into a model: layer weights (by name or by
layer order), optimizer slots and iterations, and the generators' states.

Everything is checked against the model first and only then assigned, so a bad
file raises :class:`glassnet.errors.InvalidFileError` and changes nothing that
the caller can see (the optimizer and generators are restored after the weights
were all checked, and each one only once its own values were).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import optimizers as optimizers_mod
from glassnet._internal.checks import fail
from glassnet.saving.container import invalid, json_field
from glassnet.saving.registration import get_registered_name
from glassnet.saving.spec import CONFIG_ERRORS, MODELS, dumps, first_difference

if TYPE_CHECKING:  # saving knows the models only through MODELS
    from glassnet.models.model import Model

_MAX_ITERATIONS = 2**62  # far beyond any run; keeps schedules' floats finite
_SCALARS = (str, int, float, bool, type(None))


def check_model(model: Any) -> None:
    """Refuse anything but a model class of :data:`MODELS`."""
    if type(model) not in MODELS.values():
        raise fail("model", f"one of {sorted(MODELS)}", type(model).__name__)


def model_spec(model: Model) -> dict[str, Any]:
    """The model's ``{"class_name", "config"}``, each registered layer class
    named by its ``register_serializable`` key (``"Custom>ScaledReLU"``)."""
    config = model.get_config()
    specs = config.get("layers")
    if isinstance(specs, list) and len(specs) == len(model.layers):
        config["layers"] = [
            {**spec, "class_name": get_registered_name(type(layer))}
            if isinstance(spec, dict) and spec.get("class_name") == type(layer).__name__
            else spec
            for spec, layer in zip(specs, model.layers, strict=True)
        ]
    return {"class_name": type(model).__name__, "config": config}


def layer_order(model: Model) -> list[str]:
    """Names of the layers that hold weights, in model order."""
    return [layer.name for layer in model.layers if layer.weight_names]


# -- layer weights --


def match_layers_by_order(
    path: str, model: Model, meta: dict[str, str], tensors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Rename the file's layers to the model's when only the names differ.

    tf.keras loads weights by layer order; a file whose weighted layers have other
    names than the model's, but as many of them, is matched position by position
    (shapes are checked afterwards). Files without an order keep name matching.
    The order must name each layer of the file's tensors exactly once, so the
    renaming is one to one and no weight can overwrite another.
    """
    if "layer_order" not in meta:
        return tensors
    order = json_field(path, meta, "layer_order").get("layers")
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise invalid(path, "layer_order as a list of names", repr(order)[:200])
    if len(set(order)) != len(order):
        raise invalid(path, "layer_order naming each layer once", repr(order)[:200])
    owner = {}
    for key in tensors:
        if key.startswith("layers/"):
            owner[key] = _owner(path, key, order)
    ours = layer_order(model)
    if order == ours or len(order) != len(ours):
        return tensors
    rename = dict(zip(order, ours, strict=True))
    renamed = {}
    for key, value in tensors.items():
        if key in owner:
            layer = owner[key]
            key = f"layers/{rename[layer]}/{key[len(f'layers/{layer}/') :]}"
        renamed[key] = value
    return renamed


def _owner(path: str, key: str, order: list[str]) -> str:
    """The layer of ``order`` whose weight ``key`` is (names may hold '/')."""
    # Weight names hold no '/', so the layer is the part before the last one.
    owners = [n for n in order if key.rpartition("/")[0] == f"layers/{n}"]
    if len(owners) != 1 or key.endswith("/"):
        raise invalid(
            path, "layer tensors 'layers/<a layer in layer_order>/<weight>'", key
        )
    return owners[0]


def assign_layer_weights(
    path: str, model: Model, tensors: dict[str, np.ndarray], *, cast: bool = True
) -> None:
    """Check every layer weight of the model against the file, then set them all.

    Args:
        cast: accept any float dtype and convert to the layer's (load_weights);
            with False the dtype must be the layer's (a whole-model file, whose
            layers were built from its own config). Defaults to `True`.
    """
    stored = {k: v for k, v in tensors.items() if k.startswith("layers/")}
    updates = []
    for layer in model.layers:
        values = []
        for key, weight in zip(layer.weight_names, layer.weights, strict=True):
            where = f"weight {key!r} of layer {layer.name!r}"
            value = stored.pop(f"layers/{layer.name}/{key}", None)
            if value is None:
                raise invalid(path, f"{where} in the file", "no such tensor")
            if value.shape != tuple(weight.shape) or not (
                cast or value.dtype == weight.dtype
            ):
                raise invalid(
                    path,
                    f"{where} of shape {tuple(weight.shape)}, dtype {weight.dtype}",
                    f"shape {value.shape}, dtype {value.dtype}",
                )
            values.append(value)
        updates.append((layer, values))
    if stored:
        raise invalid(path, "only weights of this model's layers", sorted(stored)[:20])
    for layer, values in updates:
        layer.set_weights(values)


# -- optimizer --


def restore_optimizer(
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
    _check_scalars(path, scalars, weights)
    try:
        model.optimizer.set_state(arrays, scalars)
    except CONFIG_ERRORS as e:
        raise invalid(path, "a valid optimizer state", e) from None


def _check_scalars(path: str, scalars: dict, weights: dict[str, Any]) -> None:
    iterations, slots = scalars.get("iterations"), scalars.get("slots", {})
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, int)
        or not 0 <= iterations <= _MAX_ITERATIONS
    ):
        raise invalid(
            path, f"an iteration count in [0, {_MAX_ITERATIONS}]", repr(iterations)
        )
    if not isinstance(slots, dict) or not all(
        k in weights
        and isinstance(v, dict)
        and all(isinstance(s, _SCALARS) for s in v.values())
        for k, v in slots.items()
    ):
        raise invalid(path, "scalar slots of the model's weights", repr(slots)[:200])
    if set(scalars) - {"iterations", "slots"}:
        raise invalid(path, "an optimizer state {iterations, slots}", sorted(scalars))


# -- the whole state --


def restore_state(
    path: str,
    model: Model,
    meta: dict[str, str],
    tensors: dict[str, np.ndarray],
    *,
    optimizer: bool,
) -> None:
    """Weights, then the optimizer state (when asked), then the generators."""
    assign_layer_weights(path, model, tensors, cast=False)
    if optimizer:
        scalars = json_field(path, meta, "optimizer_state")
        restore_optimizer(path, model, scalars, tensors)
    restore_rng(path, model, json_field(path, meta, "rng_state", allow_null=True))


def restore_into(
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
    check_model(model)
    if model.optimizer is None:
        raise fail("model", "a compiled model", "a model without an optimizer")
    if meta.get("content") != "model":
        raise invalid(path, "a whole-model file", f"content {meta.get('content')!r}")
    saved = json_field(path, meta, "model")
    ours = json.loads(dumps("model config", model_spec(model)))
    if saved != ours:
        raise invalid(
            path,
            f"a file of model {model.name!r}'s architecture",
            f"another architecture: {first_difference(saved, ours)}",
        )
    if "optimizer_state" not in meta:
        raise invalid(path, "a file saved with its optimizer state", "none")
    spec = json_field(path, meta, "compile").get("optimizer")
    learning_rate = _saved_learning_rate(path, model.optimizer, spec)
    restore_state(path, model, meta, tensors, optimizer=True)
    if learning_rate is not None:
        model.optimizer.learning_rate = learning_rate


def _saved_learning_rate(
    path: str, optimizer: optimizers_mod.Optimizer, spec: Any
) -> float | None:
    """The saved rate, checked against ``optimizer``; None for a schedule."""
    name = type(optimizer).__name__
    if not isinstance(spec, dict) or spec.get("class_name") != name:
        saved = spec.get("class_name") if isinstance(spec, dict) else spec
        raise invalid(path, f"the state of a {name} optimizer", repr(saved)[:100])
    config = spec.get("config")
    # With use_ema the slots hold weight averages that fit ends on: going on
    # without them (or with none saved) would end elsewhere than the saved run.
    saved_ema = isinstance(config, dict) and config.get("use_ema") is True
    if saved_ema != bool(optimizer.use_ema):
        raise invalid(
            path,
            f"the state of a {name} with use_ema={bool(optimizer.use_ema)}, as "
            "the model's optimizer",
            f"the state of one with use_ema={saved_ema}",
        )
    lr = config.get("learning_rate") if isinstance(config, dict) else None
    if optimizer.schedule is not None:
        if isinstance(lr, dict):
            return None  # a schedule's rate follows from the restored iterations
        raise invalid(path, "a learning rate schedule", repr(lr)[:200])
    if (
        isinstance(lr, bool)
        or not isinstance(lr, int | float)
        or not (lr > 0 and math.isfinite(lr))
    ):
        raise invalid(path, "a positive, finite learning_rate", repr(lr)[:200])
    return lr


# -- generators --


def generator_state(gen: Any) -> dict[str, Any] | None:
    bit_generator = getattr(gen, "bit_generator", None)
    return None if bit_generator is None else bit_generator.state


def rng_state(model: Model) -> dict[str, Any] | None:
    """The model's generator and every layer generator of its own (a seeded Dropout)."""
    layers = {
        layer.name: generator_state(layer._rng)
        for layer in model.layers
        if getattr(layer, "_rng", None) is not None and layer._rng is not model.rng
    }
    return {"model": generator_state(model.rng), "layers": layers}


def restore_rng(path: str, model: Model, state: dict[str, Any] | None) -> None:
    """Check every generator state on a fresh generator, then set them all."""
    if state is None:
        return
    if not isinstance(state, dict) or not isinstance(state.get("layers", {}), dict):
        raise invalid(
            path, "generator states {'model', 'layers'}", type(state).__name__
        )
    owners = {layer.name: layer for layer in model.layers}
    targets = [(model.rng, state.get("model"))]
    for name, layer_state in state.get("layers", {}).items():
        layer = owners.get(name)
        if layer is None or getattr(layer, "_rng", None) is None:
            raise invalid(path, "generator states of the model's layers", repr(name))
        targets.append((layer._rng, layer_state))
    checked = [(gen, _checked_state(path, gen, s)) for gen, s in targets]
    for gen, checked_state in checked:
        if checked_state is not None:
            gen.bit_generator.state = checked_state


def _checked_state(path: str, gen: Any, state: Any) -> dict[str, Any] | None:
    """``state`` once a fresh generator of ``gen``'s kind accepted it."""
    bit_generator = getattr(gen, "bit_generator", None)
    if state is None or bit_generator is None:
        return None
    if not isinstance(state, dict):
        raise invalid(path, "a generator state object", type(state).__name__)
    expected = bit_generator.state["bit_generator"]
    if state.get("bit_generator") != expected:
        raise invalid(
            path, f"a {expected} generator state", repr(state.get("bit_generator"))
        )
    probe = type(bit_generator)()
    try:
        probe.state = state
    except CONFIG_ERRORS as e:
        raise invalid(path, "a valid generator state", e) from None
    return state


__all__ = [
    "assign_layer_weights",
    "check_model",
    "layer_order",
    "match_layers_by_order",
    "model_spec",
    "restore_into",
    "restore_optimizer",
    "restore_rng",
    "restore_state",
    "rng_state",
]
