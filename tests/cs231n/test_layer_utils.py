"""The sandwich cells of ConvolutionalNetworks, and the course's conv_bn_relu."""

import numpy as np

from glassnet.cs231n.gradient_check import eval_numerical_gradient_array, rel_error
from glassnet.cs231n.layer_utils import (
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)


def test_conv_relu_pool_cell_gradient_checks(rng):
    x, w, b = (
        rng.normal(size=(2, 3, 8, 8)),
        rng.normal(size=(3, 3, 3, 3)),
        rng.normal(size=3),
    )
    dout = rng.normal(size=(2, 3, 4, 4))
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    dx, dw, db = conv_relu_pool_backward(dout, cache)

    def f(x, w, b):
        return conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]

    assert (
        rel_error(dx, eval_numerical_gradient_array(lambda x: f(x, w, b), x, dout))
        < 1e-8
    )
    assert (
        rel_error(dw, eval_numerical_gradient_array(lambda w: f(x, w, b), w, dout))
        < 1e-8
    )


def test_conv_bn_relu_is_conv_then_spatial_batchnorm_then_relu(rng):
    x, w, b = (
        rng.normal(size=(4, 2, 5, 5)),
        rng.normal(size=(3, 2, 3, 3)),
        rng.normal(size=3),
    )
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    conv_param = {"stride": 1, "pad": 1}
    out, _ = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, {"mode": "train"})
    # Independent oracle: the convolution by its definition, then per-channel
    # standardisation over (N, H, W) with eps 1e-5, then max(0, .).
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    a = np.empty((4, 3, 5, 5))
    for i in range(5):
        for j in range(5):
            a[:, :, i, j] = (
                np.tensordot(xp[:, :, i : i + 3, j : j + 3], w, ([1, 2, 3], [1, 2, 3]))
                + b
            )
    mu, var = (
        a.mean(axis=(0, 2, 3), keepdims=True),
        a.var(axis=(0, 2, 3), keepdims=True),
    )
    bn = (
        gamma[None, :, None, None] * (a - mu) / np.sqrt(var + 1e-5)
        + beta[None, :, None, None]
    )
    assert rel_error(out, np.maximum(bn, 0)) < 1e-8


def test_conv_bn_relu_backward_gradient_checks(rng):
    x, w, b = (
        rng.normal(size=(3, 2, 4, 4)),
        rng.normal(size=(3, 2, 3, 3)),
        rng.normal(size=3),
    )
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    dout = rng.normal(size=(3, 3, 4, 4))
    conv_param = {"stride": 1, "pad": 1}

    def f(x, w, b, gamma, beta):
        return conv_bn_relu_forward(
            x, w, b, gamma, beta, conv_param, {"mode": "train"}
        )[0]

    _, cache = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, {"mode": "train"})
    grads = conv_bn_relu_backward(dout, cache)
    args = [x, w, b, gamma, beta]
    for k, analytic in enumerate(grads):

        def g(v, k=k):
            return f(*[v if i == k else a for i, a in enumerate(args)])

        numeric = eval_numerical_gradient_array(g, args[k], dout)
        assert np.max(np.abs(analytic - numeric)) < 1e-6 * max(
            1.0, np.abs(numeric).max()
        )
