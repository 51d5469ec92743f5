"""Every forward kernel refuses integer and bool arrays, naming the argument.

Integer arithmetic wraps silently (uint8 ``x @ w`` gave 64 instead of 1600), so a
kernel given an integer array must say so instead of returning a wrong result.
"""

import numpy as np
import pytest

import glassnet.functional as F
from glassnet.functional.translate import translate_forward

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _f(*shape):
    return np.ones(shape)


# (kernel, its arguments with floating arrays, the names of the array arguments)
CASES = [
    (F.affine_forward, lambda: [_f(2, 3), _f(3, 4), _f(4)], ("x", "w", "b")),
    (F.affine_relu_forward, lambda: [_f(2, 3), _f(3, 4), _f(4)], ("x", "w", "b")),
    (
        F.affine_norm_relu_forward,
        lambda: [_f(2, 3), _f(3, 4), _f(4), _f(4), _f(4), {"mode": "train"}],
        ("x", "w", "b", "gamma", "beta"),
    ),
    (
        F.conv_forward_naive,
        lambda: [_f(1, 2, 4, 4), _f(3, 2, 3, 3), _f(3), CONV],
        ("x", "w", "b"),
    ),
    (
        F.conv_forward_fast,
        lambda: [_f(1, 2, 4, 4), _f(3, 2, 3, 3), _f(3), CONV],
        ("x", "w", "b"),
    ),
    (
        F.conv_forward_nhwc,
        lambda: [_f(1, 4, 4, 2), _f(3, 3, 2, 3), _f(3), CONV],
        ("x", "w", "b"),
    ),
    (
        F.conv_relu_forward,
        lambda: [_f(1, 2, 4, 4), _f(3, 2, 3, 3), _f(3), CONV],
        ("x", "w", "b"),
    ),
    (
        F.conv_relu_pool_forward,
        lambda: [_f(1, 2, 4, 4), _f(3, 2, 3, 3), _f(3), CONV, POOL],
        ("x", "w", "b"),
    ),
    (
        F.batchnorm_forward,
        lambda: [_f(2, 3), _f(3), _f(3), {"mode": "train"}],
        ("x", "gamma", "beta"),
    ),
    (
        F.layernorm_forward,
        lambda: [_f(2, 3), _f(3), _f(3), {}],
        ("x", "gamma", "beta"),
    ),
    (
        F.spatial_batchnorm_forward,
        lambda: [_f(2, 3, 2, 2), _f(3), _f(3), {"mode": "train"}],
        ("x", "gamma", "beta"),
    ),
    (
        F.spatial_batchnorm_forward_nhwc,
        lambda: [_f(2, 2, 2, 3), _f(3), _f(3), {"mode": "train"}],
        ("x", "gamma", "beta"),
    ),
    (
        F.spatial_groupnorm_forward,
        lambda: [_f(2, 4, 2, 2), _f(1, 4, 1, 1), _f(1, 4, 1, 1), 2, {}],
        ("x", "gamma", "beta"),
    ),
    (F.dropout_forward, lambda: [_f(2, 3), {"mode": "train", "p": 0.5}], ("x",)),
    (F.max_pool_forward_naive, lambda: [_f(1, 2, 4, 4), POOL], ("x",)),
    (F.max_pool_forward_fast, lambda: [_f(1, 2, 4, 4), POOL], ("x",)),
    (F.max_pool_forward_nhwc, lambda: [_f(1, 4, 4, 2), POOL], ("x",)),
    (F.avg_pool_forward_naive, lambda: [_f(1, 2, 4, 4), POOL], ("x",)),
    (F.avg_pool_forward_fast, lambda: [_f(1, 2, 4, 4), POOL], ("x",)),
    (F.avg_pool_forward_nhwc, lambda: [_f(1, 4, 4, 2), POOL], ("x",)),
    (
        translate_forward,
        lambda: [_f(1, 4, 4, 2), np.zeros(1), np.zeros(1)],
        ("x",),
    ),
    (F.l2_penalty, lambda: [_f(3, 4), 0.1], ("w",)),
    (F.l1_penalty, lambda: [_f(3, 4), 0.1], ("w",)),
    (F.elastic_net_penalty, lambda: [_f(3, 4), 0.1, 0.5], ("w",)),
    (F.softmax_loss, lambda: [_f(2, 3), np.array([0, 1])], ("x",)),
    (F.svm_loss, lambda: [_f(2, 3), np.array([0, 1])], ("x",)),
    (F.mean_squared_error_loss, lambda: [_f(2, 3), _f(2, 3)], ("x",)),
    (F.mean_absolute_error_loss, lambda: [_f(2, 3), _f(2, 3)], ("x",)),
    (F.hinge_loss, lambda: [_f(2, 3), _f(2, 3)], ("x",)),
    (F.binary_crossentropy_loss, lambda: [_f(2, 3) / 2, _f(2, 3)], ("x",)),
    (F.categorical_crossentropy_loss, lambda: [_f(2, 3) / 3, _f(2, 3) / 3], ("x",)),
    (
        F.sparse_categorical_crossentropy_loss,
        lambda: [_f(2, 3) / 3, np.array([0, 2])],
        ("x",),
    ),
    (F.l1_l2_penalty, lambda: [_f(3, 4), 0.1, 0.1], ("w",)),
] + [
    (getattr(F, f"{op}_forward"), lambda: [_f(2, 3)], ("x",))
    for op in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "elu", "gelu")
]

PARAMS = [
    pytest.param(kernel, make, i, name, id=f"{kernel.__name__}-{name}")
    for kernel, make, names in CASES
    for i, name in enumerate(names)
]


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.bool_])
@pytest.mark.parametrize(("kernel", "make", "index", "name"), PARAMS)
def test_forward_refuses_an_integer_array_naming_it(kernel, make, index, name, dtype):
    args = make()
    args[index] = args[index].astype(dtype)
    with pytest.raises(ValueError) as info:
        kernel(*args)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    assert "floating-point" in message and f"dtype {np.dtype(dtype)}" in message


@pytest.mark.parametrize(("kernel", "make", "index", "name"), PARAMS)
def test_forward_accepts_the_same_arguments_in_float32(kernel, make, index, name):
    args = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in make()]
    kernel(*args)


def test_affine_forward_on_uint8_is_refused_rather_than_wrapping_around():
    x = np.full((1, 16), 10, dtype=np.uint8)
    w = np.full((16, 1), 10, dtype=np.uint8)
    with pytest.raises(ValueError, match=r"^x: expected a floating-point"):
        F.affine_forward(x, w, np.zeros(1))
