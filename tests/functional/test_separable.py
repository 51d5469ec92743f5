import numpy as np
import pytest

from glassnet.functional.conv import conv_forward_naive
from glassnet.functional.depthwise import depthwise_conv_forward_naive
from glassnet.functional.separable import (
    separable_conv_backward,
    separable_conv_backward_naive,
    separable_conv_forward,
    separable_conv_forward_naive,
)
from glassnet.gradcheck import check_kernel, rel_error

PARAMS = [
    {"stride": 1, "pad": 0},
    {"stride": 2, "pad": 1},
    {"stride": 1, "pad": ((0, 1), (1, 0)), "dilation": 2},
]


def inputs(rng, channels_last, M=2, F=4):
    x = rng.normal(size=(2, 5, 6, 3) if channels_last else (2, 3, 5, 6))
    wd = rng.normal(size=(3, 2, 3, M))
    return x, wd, rng.normal(size=(1, 1, 3 * M, F)), rng.normal(size=F)


def call(forward, channels_last, param):
    return lambda x, wd, wp, b: forward(
        x, wd, wp, b, param, channels_last=channels_last
    )


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_naive_gradients_match_numerical(rng, param, channels_last):
    errors = check_kernel(
        call(separable_conv_forward_naive, channels_last, param),
        separable_conv_backward_naive,
        *inputs(rng, channels_last),
    )
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_gradients_match_numerical(rng, channels_last):
    errors = check_kernel(
        call(separable_conv_forward, channels_last, PARAMS[1]),
        separable_conv_backward,
        *inputs(rng, channels_last),
    )
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("M", [1, 3])
def test_fast_matches_naive(rng, param, channels_last, M):
    args = inputs(rng, channels_last, M)
    out, cache = call(separable_conv_forward, channels_last, param)(*args)
    ref, ref_cache = call(separable_conv_forward_naive, channels_last, param)(*args)
    assert rel_error(out, ref) < 1e-10
    dout = rng.normal(size=out.shape)
    for got, want in zip(
        separable_conv_backward(dout, cache),
        separable_conv_backward_naive(dout, ref_cache),
        strict=True,
    ):
        assert rel_error(got, want) < 1e-10


def test_is_a_bias_free_depthwise_step_then_a_pointwise_matrix_product(rng):
    # Closed form: out[n, :, i, j] = w_point[0, 0].T @ depthwise(x)[n, :, i, j] + b.
    x, wd, wp, b = inputs(rng, False)
    out, _ = separable_conv_forward(x, wd, wp, b, PARAMS[0])
    mid, _ = depthwise_conv_forward_naive(x, wd, np.zeros(6), PARAMS[0])
    want = np.einsum("ncij,cf->nfij", mid, wp[0, 0]) + b[None, :, None, None]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    one, _ = conv_forward_naive(
        x[:, :1], wd[:, :, 0, 0][None, None], b[:1] * 0, PARAMS[0]
    )
    np.testing.assert_allclose(mid[:, :1], one, rtol=1e-12, atol=1e-12)


def test_channels_last_may_skip_the_input_gradient(rng):
    x, wd, wp, b = inputs(rng, True)
    out, cache = separable_conv_forward(x, wd, wp, b, PARAMS[0], channels_last=True)
    dx, dwd, dwp, db = separable_conv_backward(np.ones_like(out), cache, need_dx=False)
    assert dx is None and dwd.shape == wd.shape and dwp.shape == wp.shape
    np.testing.assert_allclose(
        db, np.full(4, out.shape[0] * out.shape[1] * out.shape[2])
    )


def test_float32_fast_is_close_to_float64_naive(rng):
    args = inputs(rng, True)
    out, _ = call(separable_conv_forward, True, PARAMS[1])(
        *(a.astype(np.float32) for a in args)
    )
    ref, _ = call(separable_conv_forward_naive, True, PARAMS[1])(*args)
    assert out.dtype == np.float32
    assert rel_error(out, ref) < 1e-4


def test_a_pointwise_kernel_of_the_wrong_rank_is_refused(rng):
    x, wd, _, b = inputs(rng, False)
    with pytest.raises(ValueError, match="w_point"):
        separable_conv_forward(x, wd, np.zeros((6, 4)), b, PARAMS[0])
