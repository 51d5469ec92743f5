"""Core layers: ``Dense`` and the activation glue shared by layers that have one."""

from __future__ import annotations

from typing import Any

from glassnet import activations as activations_mod
from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array, get_array_module
from glassnet.functional.affine import (
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from glassnet.layers.base import Layer, Shape


class ActivationMixin:
    """An ``activation=`` argument: applied after the layer's own kernel.

    ``activate(z)`` runs the activation's forward kernel and keeps its cache and,
    for softmax, the logits ``z``: a model whose loss is cross-entropy on the
    probabilities computes it from these logits instead (the stable fused form)
    and calls ``backward_logits``, skipping the softmax's backward.
    """

    #: The activation's name (``"relu"``, ``"linear"``...): what the kernels,
    #: the configs and the fused paths read.
    activation_name: str = "linear"
    _act_cache: Any = None
    logits: Array | None = None
    #: Whether the layer defines ``forward_logits``, its output before the
    #: activation (Conv2D and Activation do; Dense does not, yet).
    has_logits = False

    @property
    def activation(self) -> Any:
        """The activation function, as Keras returns it (``activations.relu``);
        set it to a name or one of those functions. Its name is
        ``activation_name``."""
        return activations_mod._FUNCTIONS[self.activation_name]

    @activation.setter
    def activation(self, value: Any) -> None:
        self.activation_name = activations_mod.get(value)

    @property
    def relu_last(self) -> bool:
        """A layer with ``forward_logits`` and ``activation="relu"``."""
        return self.has_logits and self.activation_name == "relu"

    def forward(self, x: Array, training: bool = False) -> Array:
        """``activate(forward_logits(x))``, for a layer that defines
        ``forward_logits(x, training)``: its pre-activation output, keeping only
        its kernel's cache. A model may max-pool that output before activating
        it (see :func:`glassnet.models.training.forward`)."""
        return self.activate(self.forward_logits(x, training))  # type: ignore[attr-defined]

    def activate(self, z: Array) -> Array:
        forward = activations_mod.ACTIVATIONS[self.activation_name][0]
        out, self._act_cache = forward(z)
        self.logits = z if self.activation_name == "softmax" else None
        return out

    def deactivate(self, dout: Array) -> Array:
        backward = activations_mod.ACTIVATIONS[self.activation_name][1]
        cache, self._act_cache, self.logits = self._act_cache, None, None
        return backward(dout, cache)


class KernelBiasMixin(ActivationMixin):
    """The arguments shared by layers with a kernel, a bias and an activation.

    ``Dense`` and ``Conv2D`` take the same ten Keras arguments; they are checked,
    turned into weights and written into the config here, once.
    """

    def set_kernel_bias_args(
        self,
        activation: Any,
        use_bias: Any,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        kernel_constraint: Any,
        bias_constraint: Any,
    ) -> None:
        self.activation = activations_mod.get(activation)
        if not isinstance(use_bias, bool):
            raise fail("use_bias", "True or False", repr(use_bias))
        self.use_bias = use_bias
        self.kernel_initializer = initializers_mod.get(kernel_initializer)
        self.bias_initializer = initializers_mod.get(bias_initializer)
        self.kernel_regularizer = regularizers_mod.get(kernel_regularizer)
        self.bias_regularizer = regularizers_mod.get(bias_regularizer)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer)
        self.kernel_constraint = constraints_mod.get(kernel_constraint)
        self.bias_constraint = constraints_mod.get(bias_constraint)

    @property
    def kernel(self) -> Array:
        """The current kernel (Keras' ``layer.kernel``), once built."""
        if "kernel" not in self.params:  # type: ignore[attr-defined]
            raise AttributeError(f"layer {self.name!r} is not built yet: no kernel")  # type: ignore[attr-defined]
        return self._variable("kernel")  # type: ignore[attr-defined]

    @property
    def bias(self) -> Array | None:
        """The current bias, once built; None with ``use_bias=False`` (Keras)."""
        if not self.use_bias:
            return None
        if "bias" not in self.params:  # type: ignore[attr-defined]
            raise AttributeError(f"layer {self.name!r} is not built yet: no bias")  # type: ignore[attr-defined]
        return self._variable("bias")  # type: ignore[attr-defined]

    def add_kernel_bias(self, kernel_shape: tuple[int, ...], rng: Any) -> None:
        """Create ``kernel`` and, if used, a ``bias`` sized by its last axis."""
        self.add_weight(  # type: ignore[attr-defined]
            "kernel",
            kernel_shape,
            self.kernel_initializer,
            rng,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(  # type: ignore[attr-defined]
                "bias",
                (kernel_shape[-1],),
                self.bias_initializer,
                rng,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def kernel_bias_config(self) -> dict[str, Any]:
        return {
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_mod.serialize(self.kernel_initializer),
            "bias_initializer": initializers_mod.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_mod.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers_mod.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_mod.serialize(
                self.activity_regularizer
            ),
            "kernel_constraint": constraints_mod.serialize(self.kernel_constraint),
            "bias_constraint": constraints_mod.serialize(self.bias_constraint),
        }


class Dense(KernelBiasMixin, Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``.

    Calls :func:`glassnet.functional.affine_forward`. Inputs of rank > 2 are
    applied on the last axis, as in Keras.

    Shapes:
        x: (N, ..., D);  kernel: (D, units);  bias: (units,);  out: (N, ..., units)

    Args:
        units: the output size, a positive int.
        activation: an activation name or None. Defaults to `None`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties.
            Default to `None`.
        kernel_constraint, bias_constraint: projections applied after each update.
            Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Example:
        >>> import numpy as np
        >>> layer = Dense(3, activation="relu")
        >>> layer(np.ones((2, 4))).shape
        (2, 3)
        >>> [w.shape for w in layer.get_weights()]
        [(4, 3), (3,)]
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_int("units", units, min_value=1)
        self.set_kernel_bias_args(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
        )

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise fail(
                f"input of layer {self.name!r}", "shape (N, ..., D)", input_shape
            )
        self.add_kernel_bias((int(input_shape[-1]), self.units), rng)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def forward(self, x: Array, training: bool = False) -> Array:
        lead = x.shape[:-1]
        b = self.params["bias"] if self.use_bias else _zero_bias(x, self.units)
        z, cache = affine_forward(x.reshape(-1, x.shape[-1]), self.params["kernel"], b)
        self._cache = (lead, cache)
        return self.activate(z).reshape(*lead, self.units)

    def backward(self, dout: Array) -> Array | None:
        return self.backward_logits(self.deactivate(dout.reshape(-1, self.units)))

    def backward_logits(self, dz: Array) -> Array | None:
        """Backward from the gradient of the pre-activation output ``z``."""
        (lead, cache), self._cache = self._cache, None
        dz = dz.reshape(-1, self.units)
        dx = None
        if self.need_dx:
            dx, dw, db = affine_backward(dz, cache)
            dx = dx.reshape(*lead, dx.shape[-1])
        else:
            dw, db = affine_param_grads(dz, cache)
        self.grads = {"kernel": dw, "bias": db} if self.use_bias else {"kernel": dw}
        return dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            **self.kernel_bias_config(),
        }


def _zero_bias(x: Array, units: int) -> Array:
    # affine_forward always adds a bias; a layer without one adds zeros.
    return get_array_module(x).zeros(units, dtype=x.dtype)


__all__ = ["ActivationMixin", "Dense", "KernelBiasMixin"]
