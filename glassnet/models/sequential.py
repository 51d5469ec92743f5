"""``Sequential``: a plain stack of layers with the Keras training API."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_param_dict, fail
from glassnet.backend import Array
from glassnet.layers.base import Layer, Shape
from glassnet.layers.input_layer import InputLayer, input_layer_of
from glassnet.models.model import Model
from glassnet.saving.api import deserialize_layer
from glassnet.saving.registration import get_registered_name
from glassnet.saving.spec import register_model


@register_model
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: the layers, in order; an ``Input(shape=...)`` first, or a first
            layer with ``input_shape=``, builds the model at once. Defaults to `None`.
        name: the model's name. Defaults to `None`, meaning ``"sequential"``,
            then ``"sequential_1"``... in the process.
        seed: seeds weight initialisation and shuffling. Defaults to `None`.

    Example:
        >>> from glassnet import layers
        >>> model = Sequential([layers.Input(shape=(28, 28)), layers.Flatten(),
        ...                     layers.Dense(128, activation="relu"),
        ...                     layers.Dense(10, activation="softmax")])
        >>> model.count_params()
        101770
    """

    def __init__(
        self,
        layers: list[Any] | None = None,
        name: str | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(name, seed=seed)
        self.input_spec: Shape | None = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any) -> None:
        """Append a layer (an ``Input`` sets the input shape instead)."""
        layer = input_layer_of(layer) or layer
        if isinstance(layer, InputLayer):
            if self.layers:
                raise fail(
                    "layer", "Input only as the first layer", "Input after other layers"
                )
            self.input_spec = (None, *layer.shape)
            self._build_if_possible()
            return
        if not isinstance(layer, Layer):
            raise fail("layer", "a glassnet Layer", type(layer).__name__)
        if layer.name is None:
            layer.name = self._unique_name(layer.default_name())
        elif any(other.name == layer.name for other in self.layers):
            raise fail("layer", "a name not used yet in the model", repr(layer.name))
        if (
            not self.layers
            and self.input_spec is None
            and layer.input_shape_arg is not None
        ):
            self.input_spec = (None, *layer.input_shape_arg)
        self.layers.append(layer)
        self.built = False
        self._build_if_possible()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise fail("model", "at least one layer to pop", "no layers")
        layer = self.layers.pop()
        return layer

    def _unique_name(self, base: str) -> str:
        taken = {layer.name for layer in self.layers}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def _build_if_possible(self) -> None:
        if self.input_spec is not None and self.layers:
            self.build(self.input_spec)

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        """Build every layer in turn for inputs of ``input_shape`` (batch axis
        None); ``rng`` is accepted as a layer's build takes it (a nested model)."""
        shape = tuple(input_shape)
        self.input_spec = shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, self.rng)
            shape = layer.compute_output_shape(shape)
        self.built = True
        self._mark_input_gradients()

    def _mark_input_gradients(self) -> None:
        """Tell the layers whose input gradient nobody reads to skip it.

        Backward hands each layer's dx to the layer below. Below the first layer
        with weights only weightless layers (Flatten, Rescaling, ...) remain,
        which need no gradient, so that layer and every one before it get
        ``need_dx = False``: Dense and Conv2D then return None instead of dx,
        and backward stops there.
        """
        first = next((i for i, layer in enumerate(self.layers) if layer.params), None)
        self._need_dx = {
            id(layer): first is None or i > first for i, layer in enumerate(self.layers)
        }
        self.apply_need_dx()

    def _ensure_built(self, x: Array) -> None:
        if not self.layers:
            raise fail("model", "at least one layer", "an empty Sequential")
        if not self.built:
            self.build((None, *x.shape[1:]))
        expected = self.input_spec[1:] if self.input_spec else None
        if expected is not None and tuple(x.shape[1:]) != tuple(expected):
            raise fail(
                "x", f"samples of shape {tuple(expected)}", f"shape {tuple(x.shape)}"
            )

    @property
    def output_shape(self) -> Shape:
        shape = self.input_spec
        if shape is None:
            raise fail(
                "model", "a built model (give an Input or call it once)", "unbuilt"
            )
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # -- configuration --

    def get_config(self) -> dict[str, Any]:
        """The name, the per-sample input shape (or None) and each layer's
        ``{"class_name", "config"}``, as a JSON-safe dict."""
        shape = self.input_spec
        config = {
            "name": self.name,
            "input_shape": None if shape is None else list(shape[1:]),
            "layers": [
                {
                    "class_name": get_registered_name(type(layer)),
                    "config": layer.get_config(),
                }
                for layer in self.layers
            ],
        }
        if not self.trainable:  # a frozen model nested in another
            config["trainable"] = False
        return config

    CONFIG_KEYS = frozenset({"name", "input_shape", "layers", "trainable"})

    @classmethod
    def from_layers(cls, config: dict[str, Any], layers: list[Layer]) -> Sequential:
        """The model of ``config`` (see :meth:`get_config`) with its ``layers``
        already made: what :meth:`from_config` and file loading share."""
        name, shape = config.get("name"), config.get("input_shape")
        if name is not None and not isinstance(name, str):
            raise fail("config['name']", "a string or None", repr(name))
        model = cls(name=name)
        if shape is not None:
            model.add(InputLayer(shape))
        for layer in layers:
            model.add(layer)
        if config.get("trainable", True) is not True:
            model.trainable = config["trainable"]
        return model

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Sequential:
        """Rebuild a (freshly initialised) model from :meth:`get_config`'s output.

        Layer classes are looked up by name: in ``custom_objects`` (Keras'
        argument: name -> Layer class), the registered classes
        (:func:`glassnet.saving.register_serializable`), then the built-in layers.

        Raises:
            ValueError: for a malformed config or an unknown layer class.
        """

        check_param_dict("config", config, ("layers",))
        specs = config["layers"]
        if not isinstance(specs, list):
            raise fail(
                "config['layers']", "a list of layer specs", type(specs).__name__
            )
        layers = [deserialize_layer(spec, custom_objects) for spec in specs]
        return cls.from_layers(config, layers)

    def summary(self, print_fn: Any = print) -> None:
        """Print a table of layers, output shapes and parameter counts.

        Returns None, as Keras does, so that a notebook cell shows it once;
        ``print_fn`` receives the whole table as one string.
        """
        if not self.built:
            raise fail(
                "model", "a built model (give an Input or call it once)", "unbuilt"
            )
        rows, shape = [], self.input_spec
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(shape),
                    f"{layer.count_params():,}",
                )
            )
        total = self.count_params()
        trainable = sum(int(np.prod(w.shape)) for w in self.trainable_weights)
        widths = [
            max(len(r[i]) for r in [*rows, ("Layer (type)", "Output Shape", "Param #")])
            + 2
            for i in range(3)
        ]
        line = "-" * sum(widths)
        fmt = "".join(f"{{:<{w}}}" for w in widths)
        out = [
            f'Model: "{self.name}"',
            line,
            fmt.format("Layer (type)", "Output Shape", "Param #"),
            "=" * sum(widths),
            *(fmt.format(*r) for r in rows),
            "=" * sum(widths),
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            line,
        ]
        print_fn("\n".join(row.rstrip() for row in out))


__all__ = ["Sequential"]
