import numpy as np
import pytest

from glassnet.functional.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_norm_relu_grads,
    affine_relu_backward,
    affine_relu_forward,
    affine_relu_grads,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_backward_nhwc,
    conv_relu_pool_forward,
    conv_relu_pool_forward_nhwc,
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


def test_the_grads_variants_skip_dx_and_keep_every_weight_gradient(rng):
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 6)), rng.normal(size=6)
    gamma, beta = rng.uniform(0.5, 1.5, size=6), rng.normal(size=6)
    _, cache = affine_relu_forward(x, w, b)
    full, skipped = (
        affine_relu_backward(x @ w, cache),
        affine_relu_grads(x @ w, cache, need_dx=False),
    )
    assert skipped[0] is None
    for got, want in zip(skipped[1:], full[1:], strict=True):
        np.testing.assert_array_equal(got, want)
    _, cache = affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"})
    dout = rng.normal(size=(4, 6))
    full = affine_norm_relu_backward(dout, cache)
    skipped = affine_norm_relu_grads(dout, cache, need_dx=False)
    assert skipped[0] is None
    for got, want in zip(skipped[1:], full[1:], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_channels_last_conv_relu_pool_equals_the_nchw_sandwich(rng, dtype):
    x = rng.normal(size=(2, 3, 6, 6)).astype(dtype)
    w = rng.normal(size=(4, 3, 3, 3)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    conv = {"stride": 1, "pad": 1}
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = conv_relu_pool_forward(x, w, b, conv, pool)
    out_l, cache_l = conv_relu_pool_forward_nhwc(
        x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), b, conv, pool
    )
    assert out_l.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out_l.transpose(0, 3, 1, 2), out, rtol=tol, atol=tol)
    dout = rng.normal(size=out.shape).astype(dtype)
    dx, dw, db = conv_relu_pool_backward(dout, cache)
    dout_l = dout.transpose(0, 2, 3, 1)
    dx_l, dw_l, db_l = conv_relu_pool_backward_nhwc(dout_l, cache_l)
    np.testing.assert_allclose(dx_l.transpose(0, 3, 1, 2), dx, rtol=tol, atol=tol)
    np.testing.assert_allclose(dw_l.transpose(3, 2, 0, 1), dw, rtol=tol, atol=tol)
    np.testing.assert_allclose(db_l, db, rtol=tol, atol=tol)
    _, cache_l = conv_relu_pool_forward_nhwc(
        x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), b, conv, pool
    )
    skipped = conv_relu_pool_backward_nhwc(dout_l, cache_l, need_dx=False)
    assert skipped[0] is None
    np.testing.assert_array_equal(skipped[1], dw_l)
    np.testing.assert_array_equal(skipped[2], db_l)


def test_conv_relu_pool_equals_relu_then_pool_of_the_naive_kernels(rng):
    # The sandwich pools before its ReLU; the oracle applies them in the
    # textbook order. Integer values make windows tie, at 0 and above.
    from glassnet.functional.activations import relu_backward, relu_forward
    from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
    from glassnet.functional.pool import max_pool_backward_naive, max_pool_forward_naive

    x = np.round(rng.normal(size=(3, 2, 6, 6)))
    w, b = np.round(rng.normal(size=(4, 2, 3, 3))), np.array([0.0, 1.0, -1.0, 0.5])
    conv = {"stride": 1, "pad": 1}
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    a, conv_cache = conv_forward_naive(x, w, b, conv)
    s, relu_cache = relu_forward(a)
    want, pool_cache = max_pool_forward_naive(s, pool)
    dout = rng.normal(size=want.shape)
    want_grads = conv_backward_naive(
        relu_backward(max_pool_backward_naive(dout, pool_cache), relu_cache), conv_cache
    )
    out, cache = conv_relu_pool_forward(x, w, b, conv, pool)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    got_grads = conv_relu_pool_backward(dout, cache)
    for got, expected in zip(got_grads, want_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
