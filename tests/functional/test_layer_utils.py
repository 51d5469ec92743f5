import numpy as np
import pytest

from glassnet.functional.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from glassnet.gradcheck import check_kernel


def test_affine_relu_is_relu_of_the_affine_map_and_passes_gradient_check(rng):
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(12, 10)), rng.normal(size=10)
    out, _ = affine_relu_forward(x, w, b)
    np.testing.assert_allclose(out, np.maximum(x.reshape(2, 12) @ w + b, 0))
    errs = check_kernel(affine_relu_forward, affine_relu_backward, x, w, b)
    assert max(errs.values()) < 1e-7, errs


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_affine_norm_relu_passes_gradient_check(rng, normalization):
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 6)), rng.normal(size=6)
    gamma, beta = rng.uniform(0.5, 1.5, size=6), rng.normal(size=6)
    param = {"mode": "train"} if normalization == "batchnorm" else {}

    def forward(x, w, b, gamma, beta):
        return affine_norm_relu_forward(x, w, b, gamma, beta, param, normalization)

    errs = check_kernel(forward, affine_norm_relu_backward, x, w, b, gamma, beta)
    assert set(errs) == {"x", "w", "b", "gamma", "beta"}
    if normalization == "batchnorm":
        # The batch mean cancels b, so its true gradient is zero: check it exactly.
        out, cache = forward(x, w, b, gamma, beta)
        db = affine_norm_relu_backward(np.ones_like(out), cache)[2]
        assert np.abs(db).max() < 1e-12
        del errs["b"]
    assert max(errs.values()) < 1e-6, errs


def test_affine_norm_relu_refuses_an_unknown_normalization(rng):
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 6)), rng.normal(size=6)
    with pytest.raises(ValueError, match="normalization"):
        affine_norm_relu_forward(x, w, b, np.ones(6), np.zeros(6), {}, "groupnorm")


def test_conv_relu_and_conv_relu_pool_pass_gradient_checks(rng):
    x, w, b = (
        rng.normal(size=(2, 3, 6, 6)),
        rng.normal(size=(3, 3, 3, 3)),
        rng.normal(size=3),
    )
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    errs = check_kernel(
        lambda x, w, b: conv_relu_forward(x, w, b, conv_param),
        conv_relu_backward,
        x,
        w,
        b,
    )
    assert max(errs.values()) < 1e-7, errs
    out, _ = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    assert out.shape == (2, 3, 3, 3)
    errs = check_kernel(
        lambda x, w, b: conv_relu_pool_forward(x, w, b, conv_param, pool_param),
        conv_relu_pool_backward,
        x,
        w,
        b,
    )
    assert max(errs.values()) < 1e-7, errs
