"""``Conv2DTranspose``: the transposed convolution, with Keras 3's output sizes.

Glue around :func:`glassnet.functional.conv_transpose_forward`. Per spatial axis of
size ``n``, with the dilated kernel ``k = d * (k - 1) + 1`` and stride ``s``, the
output size is Keras 3's ``deconv_output_length``:

- ``output_padding=None``: ``n * s + max(k - s, 0)`` ('valid') or ``n * s``
  ('same');
- otherwise ``(n - 1) * s + k - 2 * pad + output_padding`` with ``pad = k // 2``
  ('same') or 0 ('valid').

The cells cropped before the output (the transposed convolution's top/left pad)
follow Keras 3's own padding rule for transposed convolutions (what its JAX and
PyTorch backends compute; the same as TensorFlow's wherever TensorFlow accepts
the shapes); the rest of the size difference is cropped after it, or added after
it as output padding.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array
from glassnet.functional.conv_transpose import (
    conv_transpose_backward,
    conv_transpose_forward,
)
from glassnet.layers import _layout as L
from glassnet.layers.base import Layer, Shape
from glassnet.layers.core import KernelBiasMixin, _zero_bias


def _axis(
    size: Any, k: int, s: int, d: int, padding: str, output_padding: int | None
) -> tuple[Any, tuple[int, int], int]:
    """Output size, (top, bottom) pads and output padding of one spatial axis."""
    if size is None:
        return None, (0, 0), 0
    k = d * (k - 1) + 1
    if output_padding is None:
        out = size * s + (max(k - s, 0) if padding == "valid" else 0)
    else:
        pad = k // 2 if padding == "same" else 0
        out = (size - 1) * s + k - 2 * pad + output_padding
    if padding == "valid":
        before = k - 1  # cells padded before the stride-dilated input
    else:
        total = s + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
        before = min(total // 2 + total % 2, k - 1)
    top = k - 1 - before
    bottom = (size - 1) * s + k - out - top
    extra = max(-bottom, 0)
    if extra >= s or out < 1:
        raise fail(
            "output_padding",
            f"a value giving an output of at least 1 and at most {s - 1} cells "
            f"past the last window (stride {s})",
            f"{output_padding} (output size {out})",
        )
    return out, (top, max(bottom, 0)), extra


class Conv2DTranspose(L.ConvWindowMixin, KernelBiasMixin, Layer):
    """Transposed 2-D convolution ("deconvolution"), upsampling by ``strides``.

    Shapes:
        x: (N, H, W, C), or (N, C, H, W) with ``data_format="channels_first"``
        kernel: (HH, WW, filters, C) (Keras' layout);  bias: (filters,)
        out: (N, H_out, W_out, filters), or (N, filters, H_out, W_out), sizes
        as in the module docstring

    Args:
        filters: F, the number of output channels, a positive int.
        kernel_size: (HH, WW), an int or a pair.
        strides: an int or a pair. Defaults to `(1, 1)`.
        padding: ``"valid"`` or ``"same"``. Defaults to `"valid"`.
        output_padding: None or an int or a pair of ints >= 0: the output size
            as in the module docstring. Defaults to `None`.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            `None`, meaning ``"channels_last"``.
        dilation_rate: an int or a pair. Defaults to `(1, 1)`.
        activation: an activation name or None. Defaults to `None`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, bias_regularizer, activity_regularizer: Default to
            `None`.
        kernel_constraint, bias_constraint: Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an invalid argument, an ``output_padding`` that leaves a
            size the transposed convolution cannot give, or an input that is not
            a rank-4 batch with the built channel count.

    Example:
        >>> import numpy as np
        >>> layer = Conv2DTranspose(8, 3, strides=2, padding="same")
        >>> layer(np.zeros((2, 7, 7, 4))).shape
        (2, 14, 14, 8)
        >>> layer.count_params()
        296
    """

    has_logits = True

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
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
        self.output_padding = (
            None
            if output_padding is None
            else tuple(
                check_int("output_padding", v, min_value=0)
                for v in (
                    output_padding
                    if isinstance(output_padding, tuple | list)
                    else (output_padding, output_padding)
                )
            )
        )
        if self.output_padding is not None and len(self.output_padding) != 2:
            raise fail("output_padding", "None, an int or a pair", output_padding)
        if self.output_padding is not None and any(
            p >= s for p, s in zip(self.output_padding, self.strides, strict=True)
        ):
            # Keras refuses it when the layer is made: the extra rows would lie
            # beyond every window.
            raise fail(
                "output_padding",
                f"values smaller than the strides {self.strides}",
                repr(output_padding),
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
        if channels is None:
            raise fail(name, "a known channel count", input_shape)
        self._channels = channels
        self.add_weight(
            "kernel",
            (*self.kernel_size, self.filters, channels),
            self.kernel_initializer,
            rng,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
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
        super().build(input_shape)

    def check_input(self, x: Array) -> None:
        L.check_images(
            f"input of layer {self.name!r}", x.shape, self.data_format, self._channels
        )

    def _geometry(self, shape: Shape) -> list[tuple[Any, tuple[int, int], int]]:
        h, w, _ = L.split_shape(
            f"input of layer {self.name!r}", shape, self.data_format
        )
        ops = self.output_padding or (None, None)
        return [
            _axis(size, k, s, d, self.padding, op)
            for size, k, s, d, op in zip(
                (h, w),
                self.kernel_size,
                self.strides,
                self.dilation_rate,
                ops,
                strict=True,
            )
        ]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h_out, _, _), (w_out, _, _) = self._geometry(input_shape)
        return L.join_shape(
            input_shape[0], h_out, w_out, self.filters, self.data_format
        )

    def forward_logits(self, x: Array, training: bool = False) -> Array:
        (_, pad_h, extra_h), (_, pad_w, extra_w) = self._geometry(x.shape)
        conv_param = {
            "stride": self.strides,
            "pad": (pad_h, pad_w),
            "dilation": self.dilation_rate,
            "output_padding": (extra_h, extra_w),
        }
        b = self.params["bias"] if self.use_bias else _zero_bias(x, self.filters)
        z, self._cache = conv_transpose_forward(
            x,
            self.params["kernel"],
            b,
            conv_param,
            channels_last=self.data_format == L.CHANNELS_LAST,
        )
        return z

    def backward(self, dout: Array) -> Array | None:
        return self.backward_logits(self.deactivate(dout))

    def backward_logits(self, dz: Array) -> Array | None:
        """Backward from the gradient of the pre-activation output ``z``."""
        cache, self._cache = self._cache, None
        self._act_cache = self.logits = None
        dx, dw, db = conv_transpose_backward(dz, cache, need_dx=self.need_dx)
        self.grads = {"kernel": dw, "bias": db} if self.use_bias else {"kernel": dw}
        return dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "output_padding": (
                None if self.output_padding is None else list(self.output_padding)
            ),
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            **self.kernel_bias_config(),
        }


Convolution2DTranspose = Conv2DTranspose
"""Keras' alias of :class:`Conv2DTranspose`."""

__all__ = ["Conv2DTranspose", "Convolution2DTranspose"]
