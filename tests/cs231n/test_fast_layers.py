"""The ConvolutionalNetworks "fast layers" cell: fast against naive."""

# ruff: noqa: F403, F405  (the course's star import is what is tested)

import numpy as np

from glassnet.cs231n.fast_layers import *
from glassnet.cs231n.gradient_check import rel_error
from glassnet.cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)


def test_conv_fast_matches_naive_forward_and_backward(rng):
    x, w, b = (
        rng.normal(size=(4, 3, 9, 9)),
        rng.normal(size=(5, 3, 3, 3)),
        rng.normal(size=5),
    )
    dout = rng.normal(size=(4, 5, 5, 5))
    conv_param = {"stride": 2, "pad": 1}
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    grads_naive = conv_backward_naive(dout, cache_naive)
    grads_fast = conv_backward_fast(dout, cache_fast)
    assert rel_error(out_naive, out_fast) < 1e-10
    for naive, fast in zip(grads_naive, grads_fast, strict=True):
        assert rel_error(naive, fast) < 1e-10


def test_max_pool_fast_matches_naive_forward_and_backward(rng):
    x = rng.normal(size=(3, 2, 8, 8))
    dout = rng.normal(size=(3, 2, 4, 4))
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    assert rel_error(out_naive, out_fast) < 1e-12
    dx_naive = max_pool_backward_naive(dout, cache_naive)
    assert rel_error(dx_naive, max_pool_backward_fast(dout, cache_fast)) < 1e-12


def test_the_course_variant_names_run_as_the_fast_kernel(rng):
    x, w, b = (
        rng.normal(size=(2, 3, 6, 6)),
        rng.normal(size=(4, 3, 3, 3)),
        rng.normal(size=4),
    )
    conv_param = {"stride": 1, "pad": 1}
    out, cache = conv_forward_strides(x, w, b, conv_param)
    out2, cache2 = conv_forward_im2col(x, w, b, conv_param)
    np.testing.assert_array_equal(out, out2)
    dx, dw, db = conv_backward_strides(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    pooled, pool_cache = max_pool_forward_reshape(
        x, {"pool_height": 2, "pool_width": 2, "stride": 2}
    )
    assert pooled.shape == (2, 3, 3, 3)
    assert max_pool_backward_reshape(np.ones_like(pooled), pool_cache).shape == x.shape
