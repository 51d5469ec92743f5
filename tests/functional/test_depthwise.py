import numpy as np
import pytest

from glassnet.functional.conv import conv_forward_naive
from glassnet.functional.depthwise import (
    depthwise_conv_backward,
    depthwise_conv_backward_naive,
    depthwise_conv_forward,
    depthwise_conv_forward_naive,
)
from glassnet.gradcheck import check_kernel, rel_error

PARAMS = [
    {"stride": 1, "pad": 0},
    {"stride": 2, "pad": 1},
    {"stride": 1, "pad": ((0, 1), (1, 0)), "dilation": 2},
]


def inputs(rng, channels_last, M=2):
    x = rng.normal(size=(2, 5, 6, 3) if channels_last else (2, 3, 5, 6))
    return x, rng.normal(size=(3, 2, 3, M)), rng.normal(size=3 * M)


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_naive_gradients_match_numerical(rng, param, channels_last):
    x, w, b = inputs(rng, channels_last)
    errors = check_kernel(
        lambda x, w, b: depthwise_conv_forward_naive(
            x, w, b, param, channels_last=channels_last
        ),
        depthwise_conv_backward_naive,
        x,
        w,
        b,
    )
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("M", [1, 3])
def test_fast_matches_naive(rng, param, channels_last, M):
    x, w, b = inputs(rng, channels_last, M)
    out, cache = depthwise_conv_forward(x, w, b, param, channels_last=channels_last)
    ref, ref_cache = depthwise_conv_forward_naive(
        x, w, b, param, channels_last=channels_last
    )
    assert rel_error(out, ref) < 1e-10
    dout = rng.normal(size=out.shape)
    for got, want in zip(
        depthwise_conv_backward(dout, cache),
        depthwise_conv_backward_naive(dout, ref_cache),
        strict=True,
    ):
        assert rel_error(got, want) < 1e-10


def test_each_output_channel_is_one_input_channel_times_one_filter(rng):
    # Closed form: output channel c * M + m is channel c convolved with w[..., c, m].
    x, w, b = inputs(rng, False, M=2)
    out, _ = depthwise_conv_forward(x, w, b, {"stride": 1, "pad": 0})
    for c in range(3):
        for m in range(2):
            f = c * 2 + m
            one, _ = conv_forward_naive(
                x[:, c : c + 1],
                w[:, :, c, m][None, None],
                b[f : f + 1],
                {"stride": 1, "pad": 0},
            )
            np.testing.assert_allclose(out[:, f : f + 1], one, rtol=1e-12, atol=1e-12)


def test_float32_fast_is_close_to_float64_naive(rng):
    x, w, b = inputs(rng, True)
    out, _ = depthwise_conv_forward(
        x.astype(np.float32),
        w.astype(np.float32),
        b.astype(np.float32),
        PARAMS[1],
        channels_last=True,
    )
    ref, _ = depthwise_conv_forward_naive(x, w, b, PARAMS[1], channels_last=True)
    assert out.dtype == np.float32
    assert rel_error(out, ref) < 1e-4


def test_a_kernel_of_the_wrong_rank_is_refused(rng):
    with pytest.raises(ValueError, match="w"):
        depthwise_conv_forward(
            np.zeros((1, 2, 4, 4)), np.zeros((3, 3, 2)), np.zeros(2), PARAMS[0]
        )
