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
from glassnet.saving import subclassed
from glassnet.saving.container import invalid, json_field
from glassnet.saving.registration import get_registered_name
from glassnet.saving.spec import CONFIG_ERRORS, MODELS, dumps, first_difference

if TYPE_CHECKING:  # saving knows the models only through MODELS
    from glassnet.models.model import Model

_MAX_ITERATIONS = 2**62  # far beyond any run; keeps schedules' floats finite
_SCALARS = (str, int, float, bool, type(None))


def check_model(model: Any) -> None:
    """Refuse anything but a model class of :data:`MODELS` or a subclassed model
    with ``call`` (see :mod:`glassnet.saving.subclassed`)."""
    if type(model) not in MODELS.values() and subclassed.user_class(model) is None:
        raise fail(
            "model",
            f"one of {sorted(MODELS)} or a subclass of Model with call",
            type(model).__name__,
        )


def model_spec(model: Model) -> dict[str, Any]:
    """The model's ``{"class_name", "config"}``, each registered layer class
    named by its ``register_serializable`` key (``"Custom>ScaledReLU"``); a
    subclassed model's class by its key and its config by its ``get_config``.

    Raises:
        ValueError: for a subclassed model whose class is not registered or
            cannot be rebuilt from its config, saying what to do.
    """
    if subclassed.user_class(model) is not None:
        return subclassed.spec_of(model)
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


def layer_order_record(model: Model) -> dict[str, Any]:
    """What files keep of the model's layout (metadata ``layer_order``): the
    weighted layers' names (``layers``), each one's weight names in order
    (``weights``), every layer's name (``all``) and, for a subclassed model,
    the shape of one input sample (``input_shape``). Loading matches a file to a
    model by these positions, as Keras 3 does (its files address layers by
    position, since automatic names differ from one instance to another)."""
    weighted = [layer for layer in model.layers if layer.weight_names]
    record = {
        "layers": [layer.name for layer in weighted],
        "weights": [list(layer.weight_names) for layer in weighted],
        "all": [layer.name for layer in model.layers],
    }
    if subclassed.user_class(model) is not None:  # built again by calling it
        record.update(subclassed.input_record(model))
    return record


# -- layer weights --


def _names(path: str, record: dict[str, Any], key: str) -> list[Any] | None:
    value = record.get(key)
    if value is None:
        return None
    what = "layer_order" if key == "layers" else f"layer_order[{key!r}]"
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise invalid(path, f"{what} as a list of names", repr(value)[:200])
    if len(set(value)) != len(value):
        raise invalid(path, f"{what} naming each layer once", repr(value)[:200])
    return value


def positional_renames(
    path: str, model: Model, meta: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The file's names -> the model's, position by position: weights
    (``"layer/weight"``) and layers. Empty where the file records no layout, or
    another one (another number of layers, or of weights in a layer): then
    names must match, and the checks that follow say which one does not."""
    if "layer_order" not in meta:
        return {}, {}
    record = json_field(path, meta, "layer_order")
    order = _names(path, record, "layers")
    if order is None:
        raise invalid(path, "layer_order with the list 'layers'", repr(record)[:200])
    ours = layer_order_record(model)
    everyone = _names(path, record, "all")
    layers = (
        dict(zip(everyone, ours["all"], strict=True))
        if everyone is not None and len(everyone) == len(ours["all"])
        else {}
    )
    if len(order) != len(ours["layers"]):
        return {}, layers
    keys = record.get("weights")
    if keys is None:  # a file from before weights were recorded: layers only
        layers = layers or dict(zip(order, ours["layers"], strict=True))
        return {}, layers
    if not isinstance(keys, list) or len(keys) != len(order):
        raise invalid(path, "layer_order['weights'], one list per layer", keys)
    weights = {}
    for name, theirs, mine, our_keys in zip(
        order, keys, ours["layers"], ours["weights"], strict=True
    ):
        if not isinstance(theirs, list) or not all(isinstance(k, str) for k in theirs):
            raise invalid(path, "layer_order['weights'] as lists of names", theirs)
        if len(theirs) != len(our_keys):
            return {}, layers
        weights.update(
            (f"{name}/{k}", f"{mine}/{ok}")
            for k, ok in zip(theirs, our_keys, strict=True)
        )
    layers = layers or dict(zip(order, ours["layers"], strict=True))
    return weights, layers


def _renamed_weight(key: str, weights: dict[str, str], layers: dict[str, str]) -> str:
    """A tensor's key with its ``layer/weight`` part renamed (see
    :func:`positional_renames`): ``layers/<w>`` and ``optimizer/<w>/<slot>``."""
    for prefix in ("layers/", "optimizer/"):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix) :]
        head, slot = (rest, "") if prefix == "layers/" else rest.rpartition("/")[::2]
        if head in weights:
            return f"{prefix}{weights[head]}" + (f"/{slot}" if slot else "")
        layer, sep, weight = head.partition("/")
        if not weights and layer in layers and sep:  # an older file: layers only
            return f"{prefix}{layers[layer]}/{weight}" + (f"/{slot}" if slot else "")
    return key


def match_layers_by_order(
    path: str, model: Model, meta: dict[str, str], tensors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Rename the file's layers and weights to the model's when only the names
    differ: a twin model built in the same process has other automatic names
    (``dense_2`` for ``dense``), and Keras 3 matches by position.

    A file whose layout (the number of weighted layers and of each one's
    weights) is the model's is matched position by position (shapes are
    checked afterwards); other files keep name matching. The layout must name
    each layer once, so the renaming is one to one and no weight can overwrite
    another. Files without a layout keep name matching.
    """
    weights, layers = positional_renames(path, model, meta)
    if "layer_order" in meta:
        order = json_field(path, meta, "layer_order").get("layers", [])
        for key in tensors:
            if key.startswith("layers/"):
                _owner(path, key, order)
    if not weights and not layers:
        return tensors
    renamed = {_renamed_weight(k, weights, layers): v for k, v in tensors.items()}
    if len(renamed) != len(tensors):
        raise invalid(path, "one tensor per weight", "two renamed to one name")
    return renamed


def _owner(path: str, key: str, order: list[str]) -> str:
    """The layer of ``order`` whose weight ``key`` is (weight names may hold
    '/', a sublayer's ``"linear/kernel"``, and layer names too)."""
    owners = [n for n in order if key.startswith(f"layers/{n}/")]
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
    """Weights, then the optimizer state (when asked), then the generators; the
    file's layers matched to the model's by position (see
    :func:`match_layers_by_order`)."""
    weights, layers = positional_renames(path, model, meta)
    tensors = match_layers_by_order(path, model, meta, tensors)
    assign_layer_weights(path, model, tensors, cast=False)
    if optimizer:
        scalars = json_field(path, meta, "optimizer_state")
        slots = scalars.get("slots")
        if isinstance(slots, dict):
            renamed = {_renamed_slot(k, weights, layers): v for k, v in slots.items()}
            scalars = {**scalars, "slots": renamed}
        restore_optimizer(path, model, scalars, tensors)
    state = json_field(path, meta, "rng_state", allow_null=True)
    if isinstance(state, dict) and isinstance(state.get("layers"), dict):
        own = {layers.get(k, k): v for k, v in state["layers"].items()}
        state = {**state, "layers": own}
    restore_rng(path, model, state)


def _renamed_slot(key: str, weights: dict[str, str], layers: dict[str, str]) -> str:
    """An optimizer slot's ``"layer/weight"`` key, renamed as its tensors are."""
    return _renamed_weight(f"layers/{key}", weights, layers).removeprefix("layers/")


def _unnamed(spec: Any) -> Any:
    """A model spec without the model's and the layers' names: a twin built in
    the same process has other automatic names and the same architecture."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        return spec
    config = {k: v for k, v in spec["config"].items() if k != "name"}
    if isinstance(config.get("layers"), list):
        config["layers"] = [_unnamed(layer) for layer in config["layers"]]
    return {**spec, "config": config}


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
    saved = _unnamed(json_field(path, meta, "model"))
    ours = _unnamed(json.loads(dumps("model config", model_spec(model))))
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
    "layer_order_record",
    "match_layers_by_order",
    "positional_renames",
    "model_spec",
    "restore_into",
    "restore_optimizer",
    "restore_rng",
    "restore_state",
    "rng_state",
]
