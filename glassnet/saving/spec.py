"""What a model file says, checked before it is believed: the JSON of the
architecture and of the compile settings, and the model rebuilt from them.

Every value comes from a file someone handed us, so nothing is used before it is
checked: the model and layer specs must be ``{"class_name", "config"}`` dicts of a
class in an explicit registry (a layer may also be one of the caller's, see
:mod:`glassnet.saving.registration`; a name is never imported), a layer config
may only hold the keys its constructor accepts, numbers must be finite, and the
constructors check the values. A forged config cannot make the rebuild allocate
more than the file holds: while the model is built, each weight's shape and dtype
is compared with the file's tensor of the same name *before* the weight is
created, so ``Dense(units=2**36)`` is refused instead of asking for terabytes.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import layers
from glassnet import losses as losses_mod
from glassnet import optimizers as optimizers_mod
from glassnet._internal.checks import fail
from glassnet.errors import InvalidFileError
from glassnet.layers.base import Layer
from glassnet.saving import registration
from glassnet.saving import trained_input as _trained_input
from glassnet.saving.container import invalid, json_field

if TYPE_CHECKING:  # saving knows the models only through MODELS
    from glassnet.models.model import Model

# The model classes a file may name, filled in by glassnet.models (see
# register_model): saving sits below the models and never imports them.
MODELS: dict[str, type[Model]] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Let files name ``cls`` (a model class taking ``name=`` and ``add``)."""
    MODELS[cls.__name__] = cls
    return cls


# What a constructor may raise for a bad value that the schema let through
# (int(inf) is an OverflowError, a missing key a KeyError...): all mean "this
# file's config is invalid", never a bug of the caller.
CONFIG_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError, AttributeError)
_MODEL_KEYS = {"name", "input_shape", "layers"}
_COMPILE_KEYS = {"optimizer", "loss", "metrics", "loss_weights"}


# -- the layer registry --


def layer_registry() -> dict[str, type[Layer]]:
    """The ``LAYERS`` registry: class name -> Layer class, for every Layer subclass
    exported in ``glassnet.layers.__all__`` (an explicit allow-list).

    Built on each call so that layers exported later register themselves.
    """
    registry: dict[str, type[Layer]] = {}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer:
            registry[obj.__name__] = obj
    return registry


def accepted_keys(cls: type) -> set[str] | None:
    """The keyword arguments ``cls(...)`` accepts, following ``**kwargs`` up the
    classes' ``__init__`` methods; None when some ``__init__`` takes any."""
    keys: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        keys |= {
            p.name
            for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return keys - {"self"}
    return None


def deserialize_layer(
    spec: Any, custom_objects: Mapping[str, type[Layer]] | None = None
) -> Layer:
    """Build a layer from ``{"class_name": ..., "config": {...}}``.

    The class is found by its name only (see :mod:`glassnet.saving.registration`):
    in ``custom_objects``, an enclosing ``custom_object_scope``, the classes
    registered with ``register_serializable`` and the built-in layers.

    Args:
        spec: the layer's spec, as ``Sequential.get_config`` lists them.
        custom_objects: a dict ``{name: Layer subclass}`` of the caller's own
            layers (Keras' ``custom_objects``). Defaults to `None`.

    Raises:
        ValueError: for a malformed spec, a class none of those holds (the
            message lists the built-in ones and says how to pass one), a config
            key the class does not accept, a config value its constructor
            rejects, or a ``custom_objects`` value that is not a Layer subclass.
    """
    custom = registration.check_custom_objects(custom_objects)
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise fail(
            "layer", "a dict {'class_name': str, 'config': dict}", repr(spec)[:200]
        )
    name = spec.get("class_name")
    if name in MODELS and name not in custom:  # a model used as a layer
        return _nested_model(MODELS[name], spec["config"], custom)
    cls = layer_class(name, custom)
    config = dict(spec["config"])
    keys = accepted_keys(cls)
    unknown = sorted(set(config) - keys) if keys is not None else []
    if unknown:
        raise fail(f"config of {name}", f"keys among {sorted(keys or ())}", unknown)
    try:
        return cls.from_config(config)
    except CONFIG_ERRORS as e:
        raise fail(f"config of {name}", f"{name}'s constructor arguments", e) from None


def _nested_model(cls: Any, config: dict[str, Any], custom: Any) -> Any:
    """A model inside another one's layers, from its ``get_config``."""
    keys = getattr(cls, "CONFIG_KEYS", _MODEL_KEYS)
    if set(config) - keys:
        raise fail(f"config of {cls.__name__}", f"keys among {sorted(keys)}", config)
    try:
        return cls.from_config(config, custom)
    except CONFIG_ERRORS as e:
        raise fail(f"config of {cls.__name__}", "a valid model config", e) from None


def layer_class(name: Any, custom_objects: dict[str, type[Layer]]) -> type[Layer]:
    """The class a file's layer ``class_name`` means: the caller's (custom
    objects, scopes, registry), else a built-in one, else a registered class of
    that plain name (a file saved before its class was registered).

    Raises:
        ValueError: for a name none of them holds, saying how to pass the class.
    """
    if isinstance(name, str):
        builtin = layer_registry()
        cls = (
            registration.get_registered_object(name, custom_objects)
            or builtin.get(name)
            or registration.registered_by_class_name(name)
        )
        if cls is not None:
            return cls
    known = (
        f"one of {sorted(layer_registry())} (the built-in layers), a class "
        "registered with @glassnet.saving.register_serializable() or a key of "
        "custom_objects"
    )
    raise fail("layer class_name", known, _unknown_layer(name))


def _unknown_layer(name: Any) -> str:
    text = repr(name)[:100]
    if not isinstance(name, str):
        return text
    short = name.rpartition(">")[2]
    value = short if short.isidentifier() else "YourLayerClass"
    return (
        f"{text}; pass custom_objects={{{short[:100]!r}: {value[:100]}}} to "
        "load_model, or decorate the class with "
        "@glassnet.saving.register_serializable() before loading"
    )


# -- checking the JSON --


def check_finite(path: str, what: str, value: Any, where: str = "") -> None:
    """Refuse NaN and infinities anywhere in a parsed JSON value (its depth is
    bounded by :func:`glassnet.saving.container.load_json`)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid(path, f"finite numbers in the {what}", f"{value} at {where}")
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            check_finite(path, what, child, f"{where}[{key!r}]")


def _spec(path: str, what: str, spec: Any, names: dict[str, Any]) -> tuple[str, dict]:
    """The class name and config of a ``{"class_name", "config"}`` spec."""
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name not in names:
        raise invalid(path, f"a {what} class_name in {sorted(names)}", repr(name)[:100])
    config = spec.get("config")
    if not isinstance(config, dict) or set(spec) - {"class_name", "config"}:
        raise invalid(path, f"a {what} spec {{'class_name', 'config': dict}}", spec)
    return name, config


# -- rebuilding the architecture --


def rebuild_model(
    path: str,
    spec: Any,
    tensors: dict[str, np.ndarray],
    custom_objects: Mapping[str, type[Layer]] | None = None,
) -> Model:
    """The model of ``spec``, built with weights shaped like the file's ``tensors``.

    Does what ``Sequential.from_config`` does, layer by layer, so that every
    weight is checked against the file before it is allocated. Layer classes
    are found as :func:`deserialize_layer` finds them, ``custom_objects``
    included.

    Raises:
        ValueError: for ``custom_objects`` that is not a dict of Layer subclasses.
        InvalidFileError: for a malformed or unknown spec (a layer class that is
            neither built in, registered nor in ``custom_objects`` is named, with
            how to pass it), a config a layer rejects, or a weight the file does
            not hold with that shape and dtype.
    """
    custom = registration.check_custom_objects(custom_objects)
    _spec(path, "model", spec, MODELS)
    config = spec["config"]
    check_finite(path, "model config", config)
    cls = MODELS[spec["class_name"]]
    return _model_checked(path, cls, config, tensors, custom, "layers/")


def _model_checked(
    path: str,
    cls: Any,
    config: dict[str, Any],
    tensors: dict[str, np.ndarray],
    custom: Any,
    prefix: str,
) -> Model:
    """``cls.from_layers`` with each weight checked against ``tensors`` (names
    under ``prefix``) before it is made. A model among the layers (a nested
    one) is built the same way first, its weights under its own name."""
    keys = getattr(cls, "CONFIG_KEYS", _MODEL_KEYS)
    if set(config) - keys or not isinstance(config.get("layers"), list):
        raise invalid(path, f"a model config with keys {sorted(keys)}", config.keys())
    layers: list[Any] = []
    for layer in config["layers"]:
        name = layer.get("class_name") if isinstance(layer, dict) else None
        inner = layer.get("config") if isinstance(layer, dict) else None
        nested = isinstance(name, str) and name in MODELS and name not in custom
        if nested and isinstance(inner, dict):
            sub = inner.get("name")
            if not isinstance(sub, str) or not sub:
                raise invalid(path, "a nested model with a name", repr(sub)[:100])
            layers.append(
                _model_checked(
                    path, MODELS[name], inner, tensors, custom, f"{prefix}{sub}/"
                )
            )
            continue
        try:
            layers.append(deserialize_layer(layer, custom))
        except CONFIG_ERRORS as e:
            raise invalid(path, "a valid model config", e) from None
    with _weights_checked_against(path, layers, tensors, prefix):
        try:
            # The model class connects the layers (a stack, or a graph's nodes).
            return cls.from_layers(config, layers)
        except InvalidFileError:
            raise
        except CONFIG_ERRORS as e:
            raise invalid(path, "a valid model config", e) from None


@contextmanager
def _weights_checked_against(
    path: str,
    layers: list[Layer],
    tensors: dict[str, np.ndarray],
    prefix: str = "layers/",
) -> Iterator[None]:
    """While the model is built, each layer creates a weight only after its
    shape and dtype were found in ``tensors`` (an instance attribute shadows
    ``add_weight`` for the duration, and is removed afterwards)."""
    for layer in layers:
        layer.add_weight = _checked_add_weight(path, layer, tensors, prefix)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for layer in layers:
            vars(layer).pop("add_weight", None)


def _checked_add_weight(
    path: str, layer: Layer, tensors: dict[str, np.ndarray], prefix: str
) -> Callable[..., Any]:
    create = type(layer).add_weight
    signature = inspect.signature(create)

    def add_weight(*args: Any, **kwargs: Any) -> Any:
        # Every form Layer.add_weight takes: glassnet's (name, shape, ...) and
        # Keras' (shape=..., name=...) or positional (shape, initializer).
        given = signature.bind(layer, *args, **kwargs).arguments
        name, shape = given.get("name"), given.get("shape")
        if name is not None and not isinstance(name, str):
            name, shape = None, name
        name = layer._check_weight_name(name)  # "variable", "variable_1"... if None
        shape = layer._check_weight_shape(shape)
        where = f"weight {name!r} of layer {layer.name!r}"
        stored = tensors.get(f"{prefix}{layer.name}/{name}")
        if stored is None:
            raise invalid(path, f"{where} in the file", "no such tensor")
        want = (tuple(int(d) for d in shape), layer.dtype)
        if (stored.shape, stored.dtype) != want:
            raise invalid(
                path,
                f"{where} of shape {want[0]} and dtype {want[1]}",
                f"shape {stored.shape} and dtype {stored.dtype}",
            )
        return create(layer, *args, **kwargs)

    return add_weight


# -- compile settings --


def check_compile_spec(path: str, spec: dict[str, Any]) -> None:
    """The saved optimizer (name or spec), loss (name or spec) and metric names.

    Raises:
        InvalidFileError: for other keys, unknown classes or non-finite numbers.
    """
    check_finite(path, "compile settings", spec)
    if set(spec) - _COMPILE_KEYS:
        raise invalid(path, f"compile settings {sorted(_COMPILE_KEYS)}", sorted(spec))
    loss = spec.get("loss")
    # A model of several outputs has a loss (or None) and metric names per output.
    several = isinstance(loss, list)
    checks = [("optimizer", spec.get("optimizer"), optimizers_mod.OPTIMIZERS)]
    checks += [
        ("loss", value, losses_mod.LOSSES)
        for value in (loss if several else [loss])
        if value is not None or not several
    ]
    for what, value, names in checks:
        classes = {cls.__name__: cls for cls in names.values()}
        if isinstance(value, str):
            if value not in {**names, **classes}:
                raise invalid(path, f"a {what} in {sorted(names)}", repr(value)[:100])
        else:
            _spec(path, what, value, classes)
    metrics = spec.get("metrics")
    groups = metrics if several and isinstance(metrics, list) else [metrics]
    if not all(
        isinstance(g, list) and all(isinstance(m, str) for m in g) for g in groups
    ):
        raise invalid(path, "compile metrics as lists of names", repr(metrics)[:200])
    weights = spec.get("loss_weights")
    if weights is not None and not (
        isinstance(weights, list)
        and all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights)
    ):
        raise invalid(path, "loss_weights as a list of numbers", repr(weights)[:200])


# -- what the model was trained on --


def trained_input(path: str, meta: dict[str, str]) -> dict[str, Any] | None:
    """The file's ``trained_input`` record, checked; None for a file without one.

    Raises:
        InvalidFileError: for a record that is not ``{"dtype", "min", "max"}``
            with a numeric dtype name and finite ``min <= max``.
    """
    if "trained_input" not in meta:
        return None
    value = json_field(path, meta, "trained_input")
    try:
        return _trained_input.check(value)
    except ValueError as e:
        raise invalid(path, "a valid trained_input record", e) from None


def dumps(what: str, value: Any) -> str:
    """``value`` as JSON; NumPy scalars become Python numbers.

    Raises:
        ValueError: naming ``what`` for a value JSON cannot hold.
    """

    def plain(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        raise fail(what, "JSON-safe values", f"a {type(obj).__name__}")

    return json.dumps(value, default=plain)


def first_difference(saved: Any, ours: Any, where: str = "model") -> str:
    """Where two JSON values first differ: ``model['config']['layers'][1]...``."""
    if isinstance(saved, dict) and isinstance(ours, dict):
        for key in sorted(set(saved) | set(ours), key=str):
            if saved.get(key) != ours.get(key):
                return first_difference(
                    saved.get(key), ours.get(key), f"{where}[{key!r}]"
                )
    if isinstance(saved, list) and isinstance(ours, list) and len(saved) == len(ours):
        for i, (a, b) in enumerate(zip(saved, ours, strict=True)):
            if a != b:
                return first_difference(a, b, f"{where}[{i}]")
    return f"{where} = {repr(saved)[:100]} in the file, {repr(ours)[:100]} here"


__all__ = [
    "CONFIG_ERRORS",
    "MODELS",
    "accepted_keys",
    "check_compile_spec",
    "check_finite",
    "deserialize_layer",
    "dumps",
    "first_difference",
    "layer_class",
    "layer_registry",
    "rebuild_model",
    "trained_input",
]
