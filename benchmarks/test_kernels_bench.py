"""pytest-benchmark timings of the fast kernels and of one training step per model.

Not part of the default test run (``testpaths`` leaves ``benchmarks/`` out)::

    pytest benchmarks/ --benchmark-only

Shapes are those of the throughput benchmark's models (``_throughput_models.py``):
the first convolution of ``cnn_cifar`` (7x7, 3 channels, pad 3, batch 50), both
of ``cnn_mnist`` (3x3, 1 -> 32 channels on 28x28, whose weight gradient is summed
over pieces of rows, and 32 -> 64 channels on 13x13, batch 128), the 2x2 max
pooling and ReLU after ``cnn_mnist``'s first convolution, batchnorm on
``mlp_bn_dropout``'s (256, 512) activations and on a (128, 28, 28, 32) feature map,
the first Dense of ``mlp_bn_dropout``, softmax cross-entropy and Adam. All float32.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _throughput_models as tm  # noqa: E402

from glassnet import optim  # noqa: E402
from glassnet.functional.activations import relu_backward, relu_forward  # noqa: E402
from glassnet.functional.affine import affine_backward, affine_forward  # noqa: E402
from glassnet.functional.conv_fast import (  # noqa: E402
    conv_backward_nhwc,
    conv_forward_nhwc,
)
from glassnet.functional.losses import softmax_loss  # noqa: E402
from glassnet.functional.normalization import (  # noqa: E402
    batchnorm_backward_alt,
    batchnorm_forward,
)
from glassnet.functional.pool_fast import (  # noqa: E402
    max_pool_backward_nhwc,
    max_pool_forward_nhwc,
)

CONVS = {
    "cifar_7x7_c3": ((50, 32, 32, 3), (7, 7, 3, 32), 3),
    "mnist_3x3_c1": ((128, 28, 28, 1), (3, 3, 1, 32), 0),
    "mnist_3x3_c32": ((128, 13, 13, 32), (3, 3, 32, 64), 0),
}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
BATCHNORM = {"mlp_256x512": (256, 512), "fmap_128x28x28x32": (128 * 28 * 28, 32)}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def normal(rng, shape):
    return rng.standard_normal(shape, dtype=np.float32)


@pytest.mark.parametrize("case", sorted(CONVS))
def test_conv_forward(benchmark, rng, case):
    x_shape, w_shape, pad = CONVS[case]
    x, w, b = normal(rng, x_shape), normal(rng, w_shape), normal(rng, w_shape[3])
    benchmark(conv_forward_nhwc, x, w, b, {"stride": 1, "pad": pad})


@pytest.mark.parametrize("need_dx", [True, False], ids=["with_dx", "no_dx"])
@pytest.mark.parametrize("case", sorted(CONVS))
def test_conv_backward(benchmark, rng, case, need_dx):
    x_shape, w_shape, pad = CONVS[case]
    x, w, b = normal(rng, x_shape), normal(rng, w_shape), normal(rng, w_shape[3])
    out, cache = conv_forward_nhwc(x, w, b, {"stride": 1, "pad": pad})
    benchmark(conv_backward_nhwc, normal(rng, out.shape), cache, need_dx=need_dx)


def test_max_pool_forward(benchmark, rng):
    benchmark(max_pool_forward_nhwc, normal(rng, (128, 26, 26, 32)), POOL)


def test_max_pool_backward(benchmark, rng):
    out, cache = max_pool_forward_nhwc(normal(rng, (128, 26, 26, 32)), POOL)
    benchmark(max_pool_backward_nhwc, normal(rng, out.shape), cache)


def test_relu_forward(benchmark, rng):
    benchmark(relu_forward, normal(rng, (128, 26, 26, 32)))


def test_relu_backward(benchmark, rng):
    x = normal(rng, (128, 26, 26, 32))
    benchmark(relu_backward, normal(rng, x.shape), relu_forward(x)[1])


@pytest.mark.parametrize("case", sorted(BATCHNORM))
def test_batchnorm_forward(benchmark, rng, case):
    x, D = normal(rng, BATCHNORM[case]), BATCHNORM[case][1]
    gamma, beta = np.ones(D, np.float32), np.zeros(D, np.float32)
    benchmark(batchnorm_forward, x, gamma, beta, {"mode": "train"})


@pytest.mark.parametrize("case", sorted(BATCHNORM))
def test_batchnorm_backward(benchmark, rng, case):
    x, D = normal(rng, BATCHNORM[case]), BATCHNORM[case][1]
    gamma, beta = np.ones(D, np.float32), np.zeros(D, np.float32)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    benchmark(batchnorm_backward_alt, normal(rng, x.shape), cache)


def test_dense_forward(benchmark, rng):
    x, w, b = normal(rng, (256, 3072)), normal(rng, (3072, 512)), normal(rng, 512)
    benchmark(affine_forward, x, w, b)


def test_dense_backward(benchmark, rng):
    x, w, b = normal(rng, (256, 3072)), normal(rng, (3072, 512)), normal(rng, 512)
    _, cache = affine_forward(x, w, b)
    benchmark(affine_backward, normal(rng, (256, 512)), cache)


def test_softmax_cross_entropy(benchmark, rng):
    x, y = normal(rng, (256, 10)), rng.integers(0, 10, 256)
    benchmark(softmax_loss, x, y)


def test_adam_step(benchmark, rng):
    w, dw = normal(rng, (3072, 512)), normal(rng, (3072, 512))
    config: dict = {}
    optim.adam(w, dw, config)
    benchmark(optim.adam, w, dw, config)


@pytest.mark.parametrize("name", list(tm.MODELS))
def test_train_step(benchmark, rng, name):
    spec = tm.MODELS[name]
    model = tm.glassnet_model(name)
    x = normal(rng, (spec.batch_size, *spec.input_shape))
    y = rng.integers(0, spec.num_classes, spec.batch_size)
    model.train_on_batch(x, y)
    benchmark(model.train_on_batch, x, y)


@pytest.mark.parametrize("name", list(tm.MODELS))
def test_predict_batch(benchmark, rng, name):
    spec = tm.MODELS[name]
    model = tm.glassnet_model(name)
    x = normal(rng, (spec.batch_size, *spec.input_shape))
    benchmark(model.predict_on_batch, x)
