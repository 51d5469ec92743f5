"""``DepthwiseConv2D``: one set of ``depth_multiplier`` filters per input channel.

Glue around :func:`glassnet.functional.depthwise_conv_forward`, which is the
grouped convolution with ``groups = C``; the padding rule and layouts are those
of ``Conv2D`` (:mod:`glassnet.layers._layout`).
"""

from __future__ import annotations

from typing import Any

from glassnet import activations as activations_mod
from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array
from glassnet.functional.depthwise import (
    depthwise_conv_backward,
    depthwise_conv_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape
from glassnet.layers.core import ActivationMixin, _zero_bias


class DepthwiseConv2D(L.ConvWindowMixin, ActivationMixin, Layer):
    """Depthwise 2-D convolution: each channel convolved with its own filters.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        kernel: (HH, WW, C, depth_multiplier) (Keras' layout);  bias: (C * M,)
        out: (N, H_out, W_out, C * M), or (N, C * M, H_out, W_out), output
        channel ``c * M + m`` from input channel c and filter m

    Args:
        kernel_size: (HH, WW), an int or a pair.
        strides: an int or a pair. Defaults to `(1, 1)`.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's). Defaults to `"valid"`.
        depth_multiplier: M, the filters per input channel. Defaults to `1`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        dilation_rate: an int or a pair; not with strides > 1. Defaults to
            `(1, 1)`.
        activation: an activation name or None. Defaults to `None`.
        use_bias: whether to add a bias. Defaults to `True`.
        depthwise_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        depthwise_regularizer, bias_regularizer, activity_regularizer: Default
            to `None`.
        depthwise_constraint, bias_constraint: Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument or an input that is not a rank-4
            batch with the built channel count.

    Example:
        >>> import numpy as np
        >>> layer = DepthwiseConv2D(3, depth_multiplier=2)
        >>> layer(np.zeros((2, 8, 8, 4))).shape
        (2, 6, 6, 8)
        >>> layer.count_params()
        80
    """

    has_logits = True

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.set_window_args(kernel_size, strides, padding, data_format, dilation_rate)
        self.depth_multiplier = check_int(
            "depth_multiplier", depth_multiplier, min_value=1
        )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise fail(
                "dilation_rate",
                f"(1, 1) when strides > 1 (strides={self.strides}), as in Keras",
                self.dilation_rate,
            )
        self.activation = activations_mod.get(activation)
        if not isinstance(use_bias, bool):
            raise fail("use_bias", "True or False", repr(use_bias))
        self.use_bias = use_bias
        self.depthwise_initializer = initializers_mod.get(depthwise_initializer)
        self.bias_initializer = initializers_mod.get(bias_initializer)
        self.depthwise_regularizer = regularizers_mod.get(depthwise_regularizer)
        self.bias_regularizer = regularizers_mod.get(bias_regularizer)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer)
        self.depthwise_constraint = constraints_mod.get(depthwise_constraint)
        self.bias_constraint = constraints_mod.get(bias_constraint)

    def _add_depthwise_kernel(self, key: str, input_shape: Shape, rng: Any) -> int:
        """Create the (HH, WW, C, M) depthwise kernel under ``key``; returns C."""
        name = f"input of layer {self.name!r}"
        _, _, channels = L.split_shape(name, input_shape, self.data_format)
        if channels is None:
            raise fail(name, "a known channel count", input_shape)
        self._channels = channels
        self.add_weight(
            key,
            (*self.kernel_size, channels, self.depth_multiplier),
            self.depthwise_initializer,
            rng,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        return channels

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        channels = self._add_depthwise_kernel("kernel", input_shape, rng)
        M = self.depth_multiplier
        if self.use_bias:
            self.add_weight(
                "bias",
                (channels * M,),
                self.bias_initializer,
                rng,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h_out, w_out), _ = self._geometry(input_shape)
        _, _, c = L.split_shape("input_shape", input_shape, self.data_format)
        f = None if c is None else c * self.depth_multiplier
        return L.join_shape(input_shape[0], h_out, w_out, f, self.data_format)

    def forward_logits(self, x: Array, training: bool = False) -> Array:
        _, pads = self._geometry(x.shape)
        conv_param = {
            "stride": self.strides,
            "pad": pads,
            "dilation": self.dilation_rate,
        }
        w = self.params["kernel"]
        b = (
            self.params["bias"]
            if self.use_bias
            else _zero_bias(x, w.shape[2] * w.shape[3])
        )
        z, self._cache = depthwise_conv_forward(
            x, w, b, conv_param, channels_last=self.data_format == L.CHANNELS_LAST
        )
        return z

    def backward(self, dout: Array) -> Array | None:
        return self.backward_logits(self.deactivate(dout))

    def backward_logits(self, dz: Array) -> Array | None:
        """Backward from the gradient of the pre-activation output ``z``."""
        cache, self._cache = self._cache, None
        self._act_cache = self.logits = None
        dx, dw, db = depthwise_conv_backward(dz, cache, need_dx=self.need_dx)
        self.grads = {"kernel": dw, "bias": db} if self.use_bias else {"kernel": dw}
        return dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers_mod.serialize(
                self.depthwise_initializer
            ),
            "bias_initializer": initializers_mod.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers_mod.serialize(
                self.depthwise_regularizer
            ),
            "bias_regularizer": regularizers_mod.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_mod.serialize(
                self.activity_regularizer
            ),
            "depthwise_constraint": constraints_mod.serialize(
                self.depthwise_constraint
            ),
            "bias_constraint": constraints_mod.serialize(self.bias_constraint),
        }


__all__ = ["DepthwiseConv2D"]
