"""Ops whose mathematics a kernel already owns, with Keras 3's ``keras.ops`` names.

Each op runs a ``*_forward`` kernel of :mod:`glassnet.functional` and records a
closure that calls the same kernel's ``*_backward``: the gradient of
``ops.relu`` *is* ``relu_backward``, that of ``ops.conv`` is
``conv_backward_nhwc``. Images are channels-last unless ``data_format`` says
otherwise; kernels are in Keras' layout (HH, WW, C // groups, F).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._internal.checks import check_array, fail
from glassnet.backend import Array, get_array_module
from glassnet.functional._im2col import Pads, Pair, as_pair, tf_axis_geometry
from glassnet.functional.activations import (
    elu_backward,
    elu_forward,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from glassnet.functional.affine import affine_backward, affine_forward
from glassnet.functional.conv_fast import conv_backward_nhwc, conv_forward_nhwc
from glassnet.functional.pool_fast import (
    avg_pool_backward_nhwc,
    avg_pool_forward_nhwc,
    max_pool_backward_nhwc,
    max_pool_forward_nhwc,
)
from glassnet.ops.numpy import _arrays
from glassnet.ops.tape import UFUNC_OPS, record, unbroadcast

# ---- activations ---------------------------------------------------------------


def _unary(forward: Any, backward: Any, x: Any, *args: Any) -> Array:
    (a,) = _arrays(x)
    out, cache = forward(a, *args)
    return record(out, (x,), lambda g: (backward(g, cache),))


def relu(x: Any) -> Array:
    """``max(x, 0)``, by ``relu_forward``/``relu_backward``."""
    return _unary(relu_forward, relu_backward, x)


def sigmoid(x: Any) -> Array:
    """``1 / (1 + exp(-x))``, by ``sigmoid_forward``/``sigmoid_backward``."""
    return _unary(sigmoid_forward, sigmoid_backward, x)


def tanh(x: Any) -> Array:
    """The hyperbolic tangent, by ``tanh_forward``/``tanh_backward``."""
    return _unary(tanh_forward, tanh_backward, x)


def softmax(x: Any, axis: int = -1) -> Array:
    """Softmax along ``axis``, by ``softmax_forward``/``softmax_backward``."""
    return _unary(softmax_forward, softmax_backward, x, axis)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Array:
    """``x`` where ``x > 0``, else ``negative_slope * x`` (Keras' default 0.2),
    by ``leaky_relu_forward``/``leaky_relu_backward``."""
    return _unary(leaky_relu_forward, leaky_relu_backward, x, negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Array:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, by
    ``elu_forward``/``elu_backward``."""
    return _unary(elu_forward, elu_backward, x, alpha)


def gelu(x: Any, approximate: bool = True) -> Array:
    """``x * Phi(x)`` (the tanh form by default, as Keras' ``ops.gelu``), by
    ``gelu_forward``/``gelu_backward``."""
    return _unary(gelu_forward, gelu_backward, x, approximate)


# ---- products ------------------------------------------------------------------


def matmul(x1: Any, x2: Any) -> Array:
    """The matrix product with NumPy's ``matmul`` semantics.

    ``(N, ..., D) @ (D, M)``, a Dense layer's product, runs through
    ``affine_forward``/``affine_backward`` (with a zero bias). Batched kernels
    (rank > 2) and vectors use the same two products, ``g @ b^T`` and
    ``a^T @ g``, over the batch axes, which the 2-D kernel cannot express.

    Shapes:
        x1: (..., N, D) or (D,);  x2: (..., D, M) or (D,);  out: NumPy's
    """
    a, b = _arrays(x1, x2)
    if a.ndim >= 2 and b.ndim == 2:
        lead, M = a.shape[:-1], b.shape[1]
        zero = get_array_module(a).zeros(M, dtype=np.result_type(a, b))
        out, cache = affine_forward(a.reshape(-1, a.shape[-1]), b, zero)

        def affine_grads(g: Array) -> tuple[Array, Array]:
            dx, dw, _ = affine_backward(g.reshape(-1, M), cache)
            return dx.reshape(a.shape), dw

        return record(out.reshape(*lead, M), (x1, x2), affine_grads)
    a2 = a[None, :] if a.ndim == 1 else a  # a vector is a one-row matrix...
    b2 = b[:, None] if b.ndim == 1 else b  # ...or a one-column one

    def batched_grads(g: Array) -> tuple[Array, Array]:
        g2 = g.reshape((a2 @ b2).shape)
        da = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape)
        db = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape)
        return da.reshape(a.shape), db.reshape(b.shape)

    return record(a @ b, (x1, x2), batched_grads)


# ---- windows ---------------------------------------------------------------------


def _channels_first(data_format: Any) -> bool:
    if data_format is None or data_format == "channels_last":
        return False
    if data_format == "channels_first":
        return True
    raise fail(
        "data_format", "None, 'channels_last' or 'channels_first'", repr(data_format)
    )


def _pads(padding: Any, hw: Pair, k: Pair, s: Pair, d: Pair) -> Pads:
    """TensorFlow's padding ('valid' or 'same'), by the layers' own rule."""
    name = padding.lower() if isinstance(padding, str) else padding
    pads = [
        tf_axis_geometry("inputs", axis, size, ki, si, di, name)[1]
        for axis, size, ki, si, di in zip(("height", "width"), hw, k, s, d, strict=True)
    ]
    return (pads[0], pads[1])


def _to_nhwc(x: Array, channels_first: bool) -> Array:
    return x.transpose(0, 2, 3, 1) if channels_first else x


def _from_nhwc(x: Array, channels_first: bool) -> Array:
    return x.transpose(0, 3, 1, 2) if channels_first else x


def conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> Array:
    """2-D convolution (Keras' ``ops.conv``), by ``conv_forward_nhwc``/
    ``conv_backward_nhwc``; groups are ``C // kernel.shape[2]``.

    Shapes:
        inputs: (N, H, W, C) (or (N, C, H, W) channels-first)
        kernel: (HH, WW, C // groups, F);  out: (N, H_out, W_out, F)
    """
    x, w = _arrays(inputs, kernel)
    check_array("inputs", x, ndim=4, floating=True)
    check_array("kernel", w, ndim=4, floating=True)
    cf = _channels_first(data_format)
    xl = _to_nhwc(x, cf)
    s, d = (
        as_pair("strides", strides, min_value=1),
        as_pair("dilation_rate", dilation_rate, min_value=1),
    )
    C, Cg = xl.shape[3], w.shape[2]
    if C % Cg:
        raise fail("kernel", f"shape (HH, WW, a divisor of C = {C}, F)", w.shape)
    conv_param = {
        "stride": s,
        "dilation": d,
        "pad": _pads(padding, xl.shape[1:3], w.shape[:2], s, d),
        "groups": C // Cg,
    }
    zero = get_array_module(x).zeros(w.shape[3], dtype=xl.dtype)
    out, cache = conv_forward_nhwc(xl, w, zero, conv_param)

    def backward(g: Array) -> tuple[Array, Array]:
        dx, dw, _ = conv_backward_nhwc(_to_nhwc(g, cf), cache)
        return _from_nhwc(dx, cf), dw

    return record(_from_nhwc(out, cf), (inputs, kernel), backward)


def _pool(
    kind: str, inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: Any
) -> Array:
    (x,) = _arrays(inputs)
    check_array("inputs", x, ndim=4, floating=True)
    cf = _channels_first(data_format)
    xl = _to_nhwc(x, cf)
    k = as_pair("pool_size", pool_size, min_value=1)
    s = k if strides is None else as_pair("strides", strides, min_value=1)
    pool_param = {
        "pool_height": k[0],
        "pool_width": k[1],
        "stride": s,
        "pad": _pads(padding, xl.shape[1:3], k, s, (1, 1)),
    }
    if kind == "max":
        out, cache = max_pool_forward_nhwc(xl, pool_param)
        kernel_backward = max_pool_backward_nhwc
    else:
        out, cache = avg_pool_forward_nhwc(xl, pool_param)
        kernel_backward = avg_pool_backward_nhwc

    def backward(g: Array) -> tuple[Array]:
        return (_from_nhwc(kernel_backward(_to_nhwc(g, cf), cache), cf),)

    return record(_from_nhwc(out, cf), (inputs,), backward)


def max_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Array:
    """2-D max pooling (Keras' ``ops.max_pool``; ``strides`` defaults to the pool
    size), by ``max_pool_forward_nhwc``/``max_pool_backward_nhwc``.

    Shapes:
        inputs: (N, H, W, C) (or (N, C, H, W));  out: (N, H_out, W_out, C)
    """
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Array:
    """2-D average pooling over the real cells of each window (Keras'
    ``ops.average_pool``), by ``avg_pool_forward_nhwc``/``avg_pool_backward_nhwc``.

    Shapes:
        inputs: (N, H, W, C) (or (N, C, H, W));  out: (N, H_out, W_out, C)
    """
    return _pool("avg", inputs, pool_size, strides, padding, data_format)


UFUNC_OPS.update({np.matmul: matmul, np.tanh: tanh})

__all__ = [
    "average_pool",
    "conv",
    "elu",
    "gelu",
    "leaky_relu",
    "matmul",
    "max_pool",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
