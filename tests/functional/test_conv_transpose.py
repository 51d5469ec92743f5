import numpy as np
import pytest

from glassnet.functional.conv import conv_forward_naive
from glassnet.functional.conv_transpose import (
    conv_transpose_backward,
    conv_transpose_backward_naive,
    conv_transpose_forward,
    conv_transpose_forward_naive,
)
from glassnet.gradcheck import check_kernel, rel_error

PARAMS = [
    {"stride": 1, "pad": 0},
    {"stride": 2, "pad": 1, "output_padding": 1},
    {"stride": (2, 3), "pad": ((0, 1), (1, 0))},
    {"stride": 1, "pad": ((0, 1), (1, 0)), "dilation": 2},
    {"stride": 3, "pad": 0},  # stride > kernel: some output cells get only the bias
]


def inputs(rng, channels_last, F=4):
    x = rng.normal(size=(2, 4, 5, 3) if channels_last else (2, 3, 4, 5))
    return x, rng.normal(size=(3, 2, F, 3)), rng.normal(size=F)


def call(forward, channels_last, param):
    return lambda x, w, b: forward(x, w, b, param, channels_last=channels_last)


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_naive_gradients_match_numerical(rng, param, channels_last):
    errors = check_kernel(
        call(conv_transpose_forward_naive, channels_last, param),
        conv_transpose_backward_naive,
        *inputs(rng, channels_last),
    )
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_gradients_match_numerical(rng, channels_last):
    errors = check_kernel(
        call(conv_transpose_forward, channels_last, PARAMS[1]),
        conv_transpose_backward,
        *inputs(rng, channels_last),
    )
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("param", PARAMS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_matches_naive(rng, param, channels_last):
    args = inputs(rng, channels_last)
    out, cache = call(conv_transpose_forward, channels_last, param)(*args)
    ref, ref_cache = call(conv_transpose_forward_naive, channels_last, param)(*args)
    assert out.shape == ref.shape
    assert rel_error(out, ref) < 1e-10
    dout = rng.normal(size=out.shape)
    for got, want in zip(
        conv_transpose_backward(dout, cache),
        conv_transpose_backward_naive(dout, ref_cache),
        strict=True,
    ):
        assert rel_error(got, want) < 1e-10


@pytest.mark.parametrize("param", PARAMS)
def test_is_the_adjoint_of_the_convolution(rng, param):
    # <conv(y, w), x> == <y, conv_transpose(x, w)> for any y of the output's shape,
    # with conv's filters (C, F, HH, WW) read from the (HH, WW, F, C) kernel.
    x, w, b = inputs(rng, False)
    out, _ = conv_transpose_forward(x, w, 0 * b, param)
    y = rng.normal(size=out.shape)
    conv_param = {k: v for k, v in param.items() if k != "output_padding"}
    conv, _ = conv_forward_naive(y, w.transpose(3, 2, 0, 1), np.zeros(3), conv_param)
    assert conv.shape == x.shape
    tol = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(np.sum(conv * x), np.sum(y * out), **tol)


def test_output_size_follows_the_formula(rng):
    # H_out = (H - 1) * s - pads + d * (k - 1) + 1 + output_padding.
    x, w, b = inputs(rng, True)
    out, _ = conv_transpose_forward(x, w, b, PARAMS[1], channels_last=True)
    assert out.shape == (2, 3 * 2 - 2 + 3 + 1, 4 * 2 - 2 + 2 + 1, 4)


def test_one_pixel_paints_the_kernel(rng):
    x = np.zeros((1, 1, 1, 2))
    x[0, 0, 0, 1] = 2.0
    w = rng.normal(size=(3, 2, 4, 2))
    out, _ = conv_transpose_forward(
        x, w, np.ones(4), {"stride": 2, "pad": 0}, channels_last=True
    )
    want = 2.0 * w[:, :, :, 1] + 1.0
    np.testing.assert_allclose(out[0], want, rtol=1e-12, atol=1e-12)


def test_float32_fast_is_close_to_float64_naive(rng):
    args = inputs(rng, True)
    out, cache = call(conv_transpose_forward, True, PARAMS[1])(
        *(a.astype(np.float32) for a in args)
    )
    ref, _ = call(conv_transpose_forward_naive, True, PARAMS[1])(*args)
    assert out.dtype == np.float32
    assert rel_error(out, ref) < 1e-4
    dx, dw, db = conv_transpose_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == np.float32


@pytest.mark.parametrize(
    ("w_shape", "param", "name"),
    [
        ((3, 3, 4, 2), PARAMS[0], "w"),
        ((3, 3, 4, 3), {"stride": 2, "pad": 0, "output_padding": 2}, "output_padding"),
        ((3, 3, 4, 3), {"stride": 1, "pad": 5}, "pad"),
        ((3, 3, 4, 3), {"pad": 0}, "stride"),
    ],
)
def test_invalid_arguments_are_refused_by_name(rng, w_shape, param, name):
    x = rng.normal(size=(1, 3, 2, 2))
    with pytest.raises(ValueError, match=name):
        conv_transpose_forward(x, np.zeros(w_shape), np.zeros(4), param)
