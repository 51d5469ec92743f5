"""Convolution layers: ``Conv2D``.

Glue around :func:`glassnet.functional.conv_forward_nhwc` (channels-last, the Keras
default) and :func:`glassnet.functional.conv_forward_fast` (channels-first); the
layout and TensorFlow's padding rule live in :mod:`glassnet.layers._layout`.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape
from glassnet.layers.core import KernelBiasMixin, _zero_bias


class Conv2D(L.ConvWindowMixin, KernelBiasMixin, Layer):
    """2-D convolution (cross-correlation): ``activation(conv(x, kernel) + bias)``.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        kernel: (HH, WW, C // groups, F) in both layouts (Keras' layout);  bias: (F,)
        out: (N, H_out, W_out, F), or (N, F, H_out, W_out)

    Args:
        filters: F, the number of output channels, a positive int.
        kernel_size: (HH, WW), an int or a pair.
        strides: an int or a pair. Defaults to `(1, 1)`.
        padding: ``"valid"`` (none) or ``"same"`` (TensorFlow's, asymmetric when
            the total is odd: the extra cell goes after). Defaults to `"valid"`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        dilation_rate: the gap between kernel taps, an int or a pair; a value
            other than 1 cannot be combined with strides other than 1 (as in
            Keras). Defaults to `(1, 1)`.
        groups: filters in group g see only the g-th of ``groups`` equal slices of
            the channels; must divide both ``filters`` and C. Defaults to `1`.
        activation: an activation name or None. Defaults to `None`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties.
            Default to `None`.
        kernel_constraint, bias_constraint: projections applied after each update.
            Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument, strides and dilation both above 1,
            ``groups`` not dividing ``filters`` (or, when built, the channels), or
            an input that is not a rank-4 batch with the built channel count.

    Example:
        >>> import numpy as np
        >>> layer = Conv2D(32, 3, activation="relu")
        >>> layer(np.zeros((2, 28, 28, 1))).shape
        (2, 26, 26, 32)
        >>> layer.count_params()
        320
    """

    has_logits = True

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        groups: int = 1,
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
        self.filters = check_int("filters", filters, min_value=1)
        self.set_window_args(kernel_size, strides, padding, data_format, dilation_rate)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise fail(
                "dilation_rate",
                f"(1, 1) when strides > 1 (strides={self.strides}), as in Keras",
                self.dilation_rate,
            )
        self.groups = check_int("groups", groups, min_value=1)
        if self.filters % self.groups:
            raise fail(
                "groups", f"a divisor of filters={self.filters}", repr(self.groups)
            )
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
        name = f"input of layer {self.name!r}"
        _, _, channels = L.split_shape(name, input_shape, self.data_format)
        if channels is None or channels % self.groups:
            raise fail(name, f"channels divisible by groups={self.groups}", input_shape)
        self._channels = channels
        self.add_kernel_bias(
            (*self.kernel_size, channels // self.groups, self.filters), rng
        )
        super().build(input_shape)

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
            "groups": self.groups,
        }
        b = self.params["bias"] if self.use_bias else _zero_bias(x, self.filters)
        z, self._cache = L.conv_forward(
            x, self.params["kernel"], b, conv_param, self.data_format
        )
        return z

    def backward(self, dout: Array) -> Array | None:
        return self.backward_logits(self.deactivate(dout))

    def backward_logits(self, dz: Array) -> Array | None:
        """Backward from the gradient of the pre-activation output ``z``."""
        cache, self._cache = self._cache, None
        self._act_cache = self.logits = None
        dx, dw, db = L.conv_backward(dz, cache, self.data_format, self.need_dx)
        self.grads = {"kernel": dw, "bias": db} if self.use_bias else {"kernel": dw}
        return dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            **self.kernel_bias_config(),
        }


Convolution2D = Conv2D
"""Keras' alias of :class:`Conv2D`."""

__all__ = ["Conv2D", "Convolution2D"]
