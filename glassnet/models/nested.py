"""Models used as layers: ``Sequential([base, Dense(3)])`` and ``y = base(x)``.

As in Keras, a model is a layer. A model's layers are its sublayers, exactly as
the layers a ``Layer`` holds as attributes are (:mod:`glassnet.layers.base`):
its ``params``, ``states``, ``grads``, ``regularizers`` and ``constraints`` are
one mapping over its layers' under ``"<layer name>/<key>"`` keys
(``_NestedWeights``), so the outer model's optimizer key of a weight is
``"base/dense/kernel"``, writing it writes the inner layer's weight, and
``trainable_keys`` follows each inner layer's ``trainable``.

``forward`` is the model's own ``forward_pass`` and ``backward`` its
``backward_pass``, which returns the gradient of the model's input when the
outer model asks for it (``need_dx``). The activity penalties of its layers
join the outer model's loss (``_nested_penalty``, read by the outer pass) and
``model.losses``, and their gradients the backward pass.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array, floatx
from glassnet.layers.base import Layer, Shape, _NestedWeights


class LayerAPI(Layer):
    """What a model needs to be called as a layer; ``Model``'s base.

    ``Layer.__init__`` is never run for a model: each attribute a layer keeps
    per instance is derived here from ``self.layers``.
    """

    activity_regularizer = None
    _shapes_only = False
    _own_order: list[str] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Not Layer's: a model's build(input_shape) and call are its own.
        super(Layer, cls).__init_subclass__(**kwargs)

    # -- the weights of the layers, as one layer's --

    def _view(self, kind: str) -> _NestedWeights:
        return _NestedWeights({}, self.layers, kind)

    @property
    def params(self) -> Any:
        return self._view("params")

    @property
    def states(self) -> Any:
        return self._view("states")

    @property
    def regularizers(self) -> Any:
        return self._view("regularizers")

    @property
    def constraints(self) -> Any:
        return self._view("constraints")

    @property
    def grads(self) -> Any:
        return self._view("grads")

    @grads.setter
    def grads(self, value: dict[str, Array]) -> None:
        view = self._view("grads")
        for key, g in value.items():
            view[key] = g

    @property
    def _sublayers(self) -> list[Any]:
        return self.layers

    @property
    def _weight_order(self) -> list[str]:
        return self.weight_names

    @property
    def weight_names(self) -> list[str]:
        return [f"{la.name}/{k}" for la in self.layers for k in la.weight_names]

    def trainable_keys(self) -> list[str]:
        if not self.trainable:
            return []
        return [f"{la.name}/{k}" for la in self.layers for k in la.trainable_keys()]

    @property
    def dtype(self) -> Any:
        return self.layers[0].dtype if self.layers else floatx()

    @property
    def input_shape_arg(self) -> tuple[int, ...] | None:
        """A built model of one input tells an outer ``Sequential`` its shape."""
        if not getattr(self, "built", False) or self.multi_input:
            return None
        shape = self.input_shape
        return None if shape is None else tuple(shape[1:])

    @property
    def multi_input(self) -> bool:
        return len(getattr(self, "inputs", None) or [None]) > 1

    # -- building and shapes --

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        """Build for ``input_shape`` (a model built already stays as it is)."""
        if not getattr(self, "built", False):
            import numpy as np

            self._ensure_built(np.zeros((1, *input_shape[1:]), dtype=self.dtype))

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = self.output_shape
        if isinstance(shape, list):
            raise fail(
                f"model {self.name!r} used as a layer",
                "a model of one output",
                f"{len(shape)} outputs",
            )
        return tuple(shape)

    # -- the passes --

    def forward(self, x: Any, training: bool = False) -> Any:
        """The model's output for ``x``, keeping what ``backward`` needs."""
        out, penalty, self._activity_grads = self.forward_pass(x, training)
        # The outer model's pass adds it to the loss; model.losses lists them.
        self._nested_penalty = penalty
        self._activity_losses = [
            p for la in self.layers for p in la.__dict__.get("_activity_losses", [])
        ]
        if self.need_dx:  # the outer model reads this model's input gradient
            self.apply_need_dx(everywhere=True)
        return out

    def backward(self, dout: Array) -> Any:
        """Fill the inner layers' ``grads``; return the input gradient (None
        when the outer model does not need it)."""
        grads = self.__dict__.pop("_activity_grads", {})
        return self.backward_pass(dout, False, grads)

    def backward_logits(self, dout: Array) -> Any:
        return self.backward(dout)


__all__ = ["LayerAPI"]
