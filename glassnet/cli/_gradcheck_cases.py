"""The tables behind ``glassnet gradcheck``: every kernel pair and every layer.

Each kernel case is ``(name, forward, backward, args, threshold)`` for
:func:`glassnet.gradcheck.check_kernel`; each layer case builds a float64 layer
and compares its backward pass with centred differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import layers


def without_db(backward: Callable) -> Callable:
    def wrapped(dout: np.ndarray, cache: Any) -> tuple:
        dx, dw, _, *rest = backward(dout, cache)
        return (dx, dw, *rest)

    return wrapped


def kernel_cases(rng: np.random.Generator) -> list[tuple]:
    from glassnet import functional as F

    def r(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    conv = {"stride": 1, "pad": 1}
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    xc, wc, bc = r(2, 2, 4, 4), r(3, 2, 3, 3), r(3)
    g3, b3 = 1 + 0.1 * r(3), r(3)
    cases = [
        ("affine", F.affine_forward, F.affine_backward, (r(3, 2, 2), r(4, 5), r(5))),
        ("relu", F.relu_forward, F.relu_backward, (r(3, 4),)),
        ("leaky_relu", F.leaky_relu_forward, F.leaky_relu_backward, (r(3, 4), 0.1)),
        ("sigmoid", F.sigmoid_forward, F.sigmoid_backward, (r(3, 4),)),
        ("tanh", F.tanh_forward, F.tanh_backward, (r(3, 4),)),
        ("softmax", F.softmax_forward, F.softmax_backward, (r(3, 4),)),
        ("elu", F.elu_forward, F.elu_backward, (r(3, 4),)),
        ("gelu", F.gelu_forward, F.gelu_backward, (r(3, 4),)),
        ("gelu (tanh)", F.gelu_forward, F.gelu_backward, (r(3, 4), True)),
        (
            "dropout (seeded)",
            F.dropout_forward,
            F.dropout_backward,
            (r(4, 5), {"mode": "train", "p": 0.6, "seed": 1}),
        ),
    ]
    bn = (r(5, 3), g3, b3)
    cases += [
        (
            "batchnorm",
            F.batchnorm_forward,
            F.batchnorm_backward,
            (*bn, {"mode": "train"}),
        ),
        (
            "batchnorm (alt backward)",
            F.batchnorm_forward,
            F.batchnorm_backward_alt,
            (*bn, {"mode": "train"}),
        ),
        ("layernorm", F.layernorm_forward, F.layernorm_backward, (*bn, {})),
        (
            "spatial batchnorm",
            F.spatial_batchnorm_forward,
            F.spatial_batchnorm_backward,
            (r(2, 3, 3, 3), g3, b3, {"mode": "train"}),
        ),
        (
            "spatial groupnorm",
            F.spatial_groupnorm_forward,
            F.spatial_groupnorm_backward,
            (r(2, 4, 2, 2), 1 + 0.1 * r(1, 4, 1, 1), r(1, 4, 1, 1), 2, {}),
        ),
        ("conv naive", F.conv_forward_naive, F.conv_backward_naive, (xc, wc, bc, conv)),
        ("conv fast", F.conv_forward_fast, F.conv_backward_fast, (xc, wc, bc, conv)),
    ]
    for kind in ("max", "avg"):
        for twin in ("naive", "fast"):
            fwd = getattr(F, f"{kind}_pool_forward_{twin}")
            bwd = getattr(F, f"{kind}_pool_backward_{twin}")
            cases.append((f"{kind} pool {twin}", fwd, bwd, (r(2, 2, 4, 4), pool)))
    cases += [
        (
            "affine_relu",
            F.affine_relu_forward,
            F.affine_relu_backward,
            (r(3, 4), r(4, 5), r(5)),
        ),
        (
            "affine_norm_relu (layernorm)",
            F.affine_norm_relu_forward,
            F.affine_norm_relu_backward,
            (r(4, 3), r(3, 5), r(5), 1 + 0.1 * r(5), r(5), {}, "layernorm"),
        ),
        # The batch mean cancels b, so its true gradient is zero and only rounding
        # noise is left to compare: b is left out of the batchnorm check.
        (
            "affine_norm_relu (batchnorm)",
            F.affine_norm_relu_forward,
            without_db(F.affine_norm_relu_backward),
            (r(4, 3), r(3, 5), r(5), 1 + 0.1 * r(5), r(5), {"mode": "train"}),
            ("x", "w", "gamma", "beta"),
        ),
        ("conv_relu", F.conv_relu_forward, F.conv_relu_backward, (xc, wc, bc, conv)),
        (
            "conv_relu_pool",
            F.conv_relu_pool_forward,
            F.conv_relu_pool_backward,
            (xc, wc, bc, conv, pool),
        ),
    ]
    return cases


def layer_cases() -> list[tuple[str, Any, dict[str, Any], tuple[int, ...]]]:
    L = layers
    img = (2, 4, 4, 2)
    return [
        ("Dense", L.Dense, {"units": 3, "activation": "tanh"}, (3, 4)),
        ("Conv2D", L.Conv2D, {"filters": 3, "kernel_size": 3, "padding": "same"}, img),
        ("MaxPooling2D", L.MaxPooling2D, {"pool_size": 2}, img),
        ("AveragePooling2D", L.AveragePooling2D, {"pool_size": 2}, img),
        ("GlobalAveragePooling2D", L.GlobalAveragePooling2D, {}, img),
        ("BatchNormalization", L.BatchNormalization, {}, img),
        ("LayerNormalization", L.LayerNormalization, {}, (3, 4)),
        ("Activation(sigmoid)", L.Activation, {"activation": "sigmoid"}, (3, 4)),
        ("LeakyReLU", L.LeakyReLU, {}, (3, 4)),
        ("Softmax", L.Softmax, {}, (3, 4)),
        ("Flatten", L.Flatten, {}, img),
    ]


def check_layer(cls: Any, kwargs: dict[str, Any], shape: tuple[int, ...]) -> float:
    from glassnet.gradcheck import eval_numerical_gradient_array, max_relative_error

    rng = np.random.default_rng(0)
    layer = cls(**kwargs, dtype="float64")
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(layer(x, training=True).shape)
    layer.forward(x, True)
    dx = layer.backward(dout)
    grads = dict(layer.grads)

    def f(_: np.ndarray) -> np.ndarray:
        return layer.forward(x, True)

    errors = [max_relative_error(dx, eval_numerical_gradient_array(f, x, dout))]
    for key, w in layer.params.items():
        num = eval_numerical_gradient_array(f, w, dout)
        errors.append(max_relative_error(grads[key], num))
    return max(errors)


__all__ = ["check_layer", "kernel_cases", "layer_cases", "without_db"]
