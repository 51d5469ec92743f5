"""Files of subclassed models (``class MyModel(Model)`` with ``call``), as Keras 3
saves them: the class by its registered key, its ``get_config()``, and the
weights of the layers it tracks, matched to a rebuilt model by position.

A file names the class by a string only (``"Custom>MyModel"``). Loading looks it
up, as a layer's, among the caller's classes: ``custom_objects``, an enclosing
``custom_object_scope`` and :func:`~glassnet.saving.register_serializable`'s
registry; nothing is imported. The model is made with ``cls.from_config(config)``
(by default ``cls(**config)``, Keras' rule), renamed to the file's layer names,
and built by calling it once on zeros of the recorded input shape, each weight
checked against the file's tensor before it is created.

Saving refuses a class that is not registered (the file could not name it) and
one whose ``get_config`` is glassnet's while its ``__init__`` takes arguments
(the file could not rebuild it), saying what to do.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from glassnet._internal.checks import fail
from glassnet.backend import floatx
from glassnet.saving import registration
from glassnet.saving.container import invalid, json_field
from glassnet.saving.spec import (
    CONFIG_ERRORS,
    _weights_checked_against,
    check_finite,
)

_HOW = (
    "decorate {name} with @glassnet.saving.register_serializable() (Keras' "
    "register_keras_serializable) and define get_config() returning its "
    "__init__ arguments (and from_config if they are not the config)"
)


def user_class(model: Any) -> type | None:
    """The user's class of a subclassed model with ``call``; None for others."""
    return getattr(type(model), "_user_class", None)


def _own_get_config(cls: type) -> bool:
    for klass in cls.__mro__:
        if klass.__module__.startswith("glassnet."):
            return False
        if "get_config" in vars(klass):
            return True
    return False


def _init_takes_arguments(cls: type) -> bool:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return any(
        p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        for p in params
    )


def spec_of(model: Any) -> dict[str, Any]:
    """The ``{"class_name", "config"}`` of a subclassed model.

    Raises:
        ValueError: for an unregistered class, or one without its own
            ``get_config`` whose ``__init__`` takes arguments, saying what to do.
    """
    cls = user_class(model)
    assert cls is not None
    key = registration.get_registered_name(cls)
    if registration.get_registered_object(key) is not cls:
        raise fail(
            "model",
            f"a registered class: {_HOW.format(name=cls.__name__)}",
            f"the unregistered subclassed model class {cls.__qualname__}",
        )
    if _own_get_config(cls):
        config = model.get_config()
    elif _init_takes_arguments(cls):
        raise fail(
            "model",
            f"a class whose config rebuilds it: {_HOW.format(name=cls.__name__)}",
            f"{cls.__qualname__}, whose __init__ takes arguments, without get_config",
        )
    else:
        config = {}
    if not isinstance(config, dict):
        raise fail(f"{cls.__qualname__}.get_config()", "a dict", type(config).__name__)
    json.dumps(config)  # a config JSON cannot hold fails here, before any write
    return {"class_name": key, "config": config}


def input_record(model: Any) -> dict[str, Any]:
    """What building the model again needs: the shape of one input sample."""
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        raise fail("model", "a built model (call it once)", "unbuilt")
    return {"input_shape": [int(d) for d in shape]}


def rebuild(
    path: str,
    spec: Any,
    meta: dict[str, str],
    tensors: dict[str, np.ndarray],
    custom_objects: Mapping[str, type] | None = None,
) -> Any:
    """The subclassed model of ``spec``, built, with weights shaped like the
    file's (not yet the file's values: ``restore_state`` sets them).

    Raises:
        InvalidFileError: for a class the caller did not register or pass (the
            message says how), a config its class rejects, a file without the
            input shape, or a weight the file does not hold.
    """
    name = spec.get("class_name") if isinstance(spec, dict) else None
    config = spec.get("config") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not isinstance(config, dict):
        raise invalid(path, "a model spec {'class_name', 'config'}", repr(spec)[:200])
    cls = registration.get_registered_object(name, custom_objects)
    cls = cls or registration.registered_by_class_name(name)
    if cls is None or not registration.is_model_class(cls):
        short = name.rpartition(">")[2]
        raise invalid(
            path,
            "a model class among glassnet's, custom_objects or the registered ones",
            f"{name!r}; pass custom_objects={{{short!r}: {short}}} to load_model, "
            f"or {_HOW.format(name=short)}",
        )
    check_finite(path, "model config", config)
    record = json_field(path, meta, "layer_order")
    shape = record.get("input_shape")
    if not (
        isinstance(shape, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
    ):
        raise invalid(path, "layer_order['input_shape'] as positive ints", shape)
    try:
        from_config = getattr(cls, "from_config", None)
        model = cls(**config) if from_config is None else from_config(config)
    except CONFIG_ERRORS as e:
        raise invalid(path, f"{cls.__name__}'s constructor arguments", e) from None
    if user_class(model) is None:
        raise invalid(path, "a subclassed model class with call", cls.__qualname__)
    names = record.get("all")
    if isinstance(names, list) and len(names) == len(model.layers):
        for layer, saved in zip(model.layers, names, strict=True):
            layer.name = saved  # checked (unique strings) by restore_state
    with _weights_checked_against(path, model.layers, tensors):
        try:
            model(np.zeros((1, *shape), dtype=floatx()))
        except CONFIG_ERRORS as e:
            raise invalid(path, f"a {cls.__name__} that builds", e) from None
    return model


__all__ = ["input_record", "rebuild", "spec_of", "user_class"]
