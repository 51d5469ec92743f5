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
* ``trained_input`` (optional): JSON ``{"dtype", "min", "max"}`` of the ``x``
  the model was fitted on (``model.trained_input``), which ``glassnet predict``
  uses to scale its inputs; files without it load with ``trained_input = None``;
* ``checksum``: ``"sha256:<hex>"`` over the tensors in name order (each name,
  dtype, shape and bytes), then every other metadata entry in key order.

Reading never unpickles and never evaluates code. The header length and the header
JSON are checked before any tensor is read, so a forged length cannot make the
reader allocate; then the layout and the checksum (:mod:`glassnet.saving.container`),
then every config field, and each weight's name, shape and dtype against the
architecture *before* the weight is allocated (:mod:`glassnet.saving.spec`), and
last the optimizer and generator states (:mod:`glassnet.saving.restore`). Any
failure raises :class:`glassnet.errors.InvalidFileError` (a ``ValueError``) naming
the file and the problem, and changes nothing. Writes are atomic
(:func:`glassnet._internal.io.atomic_write`): a crash mid-save leaves the old
file whole.

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

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import losses as losses_mod
from glassnet import optimizers as optimizers_mod
from glassnet._internal.checks import fail
from glassnet.errors import InvalidFileError
from glassnet.layers.base import Layer
from glassnet.saving import subclassed
from glassnet.saving.container import (
    FORMAT,
    FORMAT_VERSION,
    check_path,
    invalid,
    json_field,
    read_file,
    write_file,
)
from glassnet.saving.registration import (
    check_custom_objects,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    register_serializable,
)
from glassnet.saving.restore import (
    assign_layer_weights,
    check_model,
    layer_order_record,
    match_layers_by_order,
    model_spec,
    restore_state,
    rng_state,
)
from glassnet.saving.spec import (
    CONFIG_ERRORS,
    MODELS,
    check_compile_spec,
    deserialize_layer,
    dumps,
    layer_registry,
    rebuild_model,
    trained_input,
)

if TYPE_CHECKING:  # saving knows the models only through MODELS
    from glassnet.models.model import Model


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
    tensors, meta = model_payload(model, include_optimizer)
    write_file(path, tensors, meta)


def load_model(
    filepath: str | os.PathLike[str],
    custom_objects: Mapping[str, type[Layer]] | None = None,
    compile: bool = True,
) -> Model:
    """Rebuild a model saved by :func:`save_model` (or ``Model.save``).

    Args:
        filepath: the file to read.
        custom_objects: your own layer classes the file may name, as a dict
            ``{class name: Layer subclass}`` (Keras' ``custom_objects``). The
            file names a class only by a string, which is looked up here, in an
            enclosing ``custom_object_scope``, among the classes registered with
            :func:`register_serializable` and among the built-in layers; nothing
            it names is ever imported. Defaults to `None`.
        compile: compile the model with the saved settings and restore the
            optimizer state, when the file has them. Defaults to `True`.

    Returns:
        The model, with its weights, optimizer state and generator state.

    Raises:
        ValueError: for ``custom_objects`` that is not a dict of Layer
            subclasses (naming the key).
        InvalidFileError: for a foreign, truncated, corrupted, forged or
            inconsistent file, a layer class that is neither built in,
            registered nor in ``custom_objects``, or a path that is not a
            regular file.
        OSError: when the file cannot be read (``FileNotFoundError``...).

    Example:
        >>> import os, tempfile
        >>> from glassnet import layers, models
        >>> class Double(layers.Layer):
        ...     def forward(self, x, training=False):
        ...         return 2 * x
        >>> model = models.Sequential([layers.Input(shape=(2,)), Double()])
        >>> path = os.path.join(tempfile.mkdtemp(), "double.h5")
        >>> model.save(path)
        >>> clone = models.load_model(path, custom_objects={"Double": Double})
        >>> clone.predict(np.ones((1, 2)), verbose=0).tolist()
        [[2.0, 2.0]]
    """
    custom = check_custom_objects(custom_objects)
    path = check_path(filepath)
    meta, tensors = read_file(path)
    if meta.get("content") != "model":
        raise invalid(
            path,
            "a whole-model file",
            "a weights-only file: build the model and call model.load_weights",
        )
    spec = json_field(path, meta, "model")
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name in MODELS:  # rebuild_model refuses junk
        model = rebuild_model(path, spec, tensors, custom)
    else:  # a subclassed model's class, by its registered key
        model = subclassed.rebuild(path, spec, meta, tensors, custom)
    model.trained_input = trained_input(path, meta)
    compile = compile and "compile" in meta
    if compile:
        _compile(path, model, json_field(path, meta, "compile"))
    restore_state(
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
    check_model(model)
    meta = {
        "content": "weights",
        "layer_order": dumps("layer order", layer_order_record(model)),
    }
    write_file(path, _layer_tensors(model), meta)


def load_weights(model: Model, filepath: str | os.PathLike[str]) -> None:
    """Load weights saved by :func:`save_weights` or :func:`save_model` into ``model``.

    Every layer weight of the model must be in the file with the same shape (a
    float dtype other than the layer's is converted), and the file may hold no
    other layer weights; nothing is changed otherwise. When the file's layers have
    other names but are as many, they are matched by order, as tf.keras does.

    Raises:
        ValueError: for an unbuilt model.
        InvalidFileError: naming the layer and weight that do not match, or for
            a foreign, truncated, corrupted or forged file.
        OSError: when the file cannot be read (``FileNotFoundError``...).
    """
    path = check_path(filepath)
    check_model(model)
    if not model.built:
        raise fail("model", "a built model (give an Input or call it once)", "unbuilt")
    meta, tensors = read_file(path)
    if meta.get("content") not in ("model", "weights"):
        raise invalid(path, "a model or weights file", repr(meta.get("content")))
    assign_layer_weights(path, model, match_layers_by_order(path, model, meta, tensors))


# -- writing --


def _writable_path(filepath: Any, overwrite: bool) -> str:
    path = check_path(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"filepath {path!r}: expected a new file as overwrite=False; "
            "received an existing file"
        )
    return path


def model_payload(
    model: Model, include_optimizer: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata of a whole-model file (see the module docstring).

    Raises:
        ValueError: for a model that is not a ``Sequential``.
    """
    check_model(model)
    tensors = _layer_tensors(model)
    meta = {
        "content": "model",
        "layer_order": dumps("layer order", layer_order_record(model)),
        "model": dumps("model config", model_spec(model)),
        "rng_state": dumps("rng_state", rng_state(model)),
    }
    record = getattr(model, "trained_input", None)
    if record is not None:
        meta["trained_input"] = dumps("trained_input", record)
    if model.optimizer is not None and model.loss is not None:
        meta["compile"] = dumps("compile settings", _compile_config(model))
        if include_optimizer:
            arrays, scalars = model.optimizer.get_state()
            tensors.update({f"optimizer/{k}": v for k, v in arrays.items()})
            meta["optimizer_state"] = dumps("optimizer state", scalars)
    return tensors, meta


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
    config = {
        "optimizer": optimizers_mod.serialize(model.optimizer),
        "loss": losses_mod.serialize(model.loss),
        "metrics": list(getattr(model, "compile_config", {}).get("metrics", [])),
    }
    heads = model.output_losses
    if len(heads) > 1:  # per output, as compiled (glassnet.models.structure)
        config["loss"] = [
            None if f is None else losses_mod.serialize(f) for f, _ in heads
        ]
    if len(heads) > 1 or heads[0][1] != 1.0:
        config["loss_weights"] = [w for _, w in heads]
    return config


# -- reading --


def _compile(path: str, model: Model, spec: dict[str, Any]) -> None:
    check_compile_spec(path, spec)
    try:
        model.compile(
            spec.get("optimizer"),
            spec.get("loss"),
            spec["metrics"] or None,
            loss_weights=spec.get("loss_weights"),
        )
    except InvalidFileError:
        raise
    except CONFIG_ERRORS as e:
        raise invalid(path, "valid compile settings", e) from None


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MODELS",
    "custom_object_scope",
    "deserialize_layer",
    "get_registered_name",
    "get_registered_object",
    "layer_registry",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "register_serializable",
    "save_model",
    "save_weights",
]
