"""``SeparableConv2D``: a depthwise convolution, then a 1 x 1 pointwise one.

Glue around :func:`glassnet.functional.separable_conv_forward`; the padding rule
and layouts are those of ``Conv2D`` (:mod:`glassnet.layers._layout`), applied to
the depthwise step (the pointwise step neither strides nor pads).
"""

from __future__ import annotations

from typing import Any

from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet._internal.checks import check_int
from glassnet.backend import Array
from glassnet.functional.separable import (
    separable_conv_backward,
    separable_conv_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Shape
from glassnet.layers.core import _zero_bias
from glassnet.layers.depthwise import DepthwiseConv2D


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise separable 2-D convolution: per-channel filters, then a 1 x 1 mix.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        depthwise_kernel: (HH, WW, C, depth_multiplier);
        pointwise_kernel: (1, 1, C * depth_multiplier, filters);  bias: (filters,)
        out: (N, H_out, W_out, filters), or (N, filters, H_out, W_out)

    Args:
        filters: F, the number of output channels, a positive int.
        kernel_size: (HH, WW) of the depthwise step, an int or a pair.
        strides: an int or a pair. Defaults to `(1, 1)`.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's). Defaults to `"valid"`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        dilation_rate: an int or a pair; not with strides > 1. Defaults to
            `(1, 1)`.
        depth_multiplier: M, the depthwise filters per input channel. Defaults
            to `1`.
        activation: an activation name or None. Defaults to `None`.
        use_bias: whether to add a bias (after the pointwise step). Defaults to
            `True`.
        depthwise_initializer, pointwise_initializer: Default to
            `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
            activity_regularizer: Default to `None`.
        depthwise_constraint, pointwise_constraint, bias_constraint: Default to
            `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument or an input that is not a rank-4
            batch with the built channel count.

    Example:
        >>> import numpy as np
        >>> layer = SeparableConv2D(16, 3, depth_multiplier=2)
        >>> layer(np.zeros((2, 8, 8, 4))).shape
        (2, 6, 6, 16)
        >>> layer.count_params()
        216
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.filters = check_int("filters", filters, min_value=1)
        self.pointwise_initializer = initializers_mod.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers_mod.get(pointwise_regularizer)
        self.pointwise_constraint = constraints_mod.get(pointwise_constraint)

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        # Keras' order of weights: depthwise_kernel, pointwise_kernel, bias.
        channels = self._add_depthwise_kernel("depthwise_kernel", input_shape, rng)
        M = self.depth_multiplier
        self.add_weight(
            "pointwise_kernel",
            (1, 1, channels * M, self.filters),
            self.pointwise_initializer,
            rng,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        if self.use_bias:
            self.add_weight(
                "bias",
                (self.filters,),
                self.bias_initializer,
                rng,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        # Layer.build, skipping DepthwiseConv2D's weights.
        super(DepthwiseConv2D, self).build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h_out, w_out), _ = self._geometry(input_shape)
        return L.join_shape(
            input_shape[0], h_out, w_out, self.filters, self.data_format
        )

    def forward_logits(self, x: Array, training: bool = False) -> Array:
        _, pads = self._geometry(x.shape)
        conv_param = {
            "stride": self.strides,
            "pad": pads,
            "dilation": self.dilation_rate,
        }
        b = self.params["bias"] if self.use_bias else _zero_bias(x, self.filters)
        z, self._cache = separable_conv_forward(
            x,
            self.params["depthwise_kernel"],
            self.params["pointwise_kernel"],
            b,
            conv_param,
            channels_last=self.data_format == L.CHANNELS_LAST,
        )
        return z

    def backward_logits(self, dz: Array) -> Array | None:
        """Backward from the gradient of the pre-activation output ``z``."""
        cache, self._cache = self._cache, None
        self._act_cache = self.logits = None
        dx, dwd, dwp, db = separable_conv_backward(dz, cache, need_dx=self.need_dx)
        self.grads = {"depthwise_kernel": dwd, "pointwise_kernel": dwp}
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            filters=self.filters,
            pointwise_initializer=initializers_mod.serialize(
                self.pointwise_initializer
            ),
            pointwise_regularizer=regularizers_mod.serialize(
                self.pointwise_regularizer
            ),
            pointwise_constraint=constraints_mod.serialize(self.pointwise_constraint),
        )
        return config


SeparableConvolution2D = SeparableConv2D
"""Keras' alias of :class:`SeparableConv2D`."""

__all__ = ["SeparableConv2D", "SeparableConvolution2D"]
