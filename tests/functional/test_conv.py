import numpy as np
import pytest

from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
from glassnet.gradcheck import check_kernel, rel_error

# Convolution is linear in x, in w and in b separately, so centred differences have
# no truncation error; a larger step than the default only shrinks rounding error.
H_STEP = 1e-3

SETTINGS = [
    {"stride": 1, "pad": 0},
    {"stride": 2, "pad": 1},
    {"stride": (1, 2), "pad": (2, 0)},
    {"stride": 1, "pad": ((0, 2), (1, 0))},
    {"stride": 1, "pad": 1, "dilation": 2},
    {"stride": 2, "pad": 1, "dilation": (1, 2), "groups": 2},
    {"stride": 1, "pad": 0, "groups": 4},
]


def make_inputs(rng, conv_param, N=2, C=4, H=5, W=6, F=4, HH=3, WW=2):
    groups = conv_param.get("groups", 1)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C // groups, HH, WW))
    b = rng.standard_normal(F)
    return x, w, b


@pytest.mark.parametrize("conv_param", SETTINGS)
def test_naive_gradients_match_numerical_gradients(rng, conv_param):
    x, w, b = make_inputs(rng, conv_param, N=1, H=4, W=5)
    errors = check_kernel(
        conv_forward_naive, conv_backward_naive, x, w, b, conv_param, h=H_STEP
    )
    assert set(errors) == {"x", "w", "b"}
    assert max(errors.values()) < 1e-8, errors


def test_output_size_is_floored_like_pytorch(rng):
    # H_out = 1 + (7 + 1 + 1 - 2 * (3 - 1) - 1) // 3 = 1 + 4 // 3 = 2
    # W_out = 1 + (6 + 0 + 0 - 2 * (3 - 1) - 1) // 3 = 1 + 1 // 3 = 1
    x, w, b = make_inputs(rng, {}, H=7, W=6, HH=3, WW=3)
    out, _ = conv_forward_naive(x, w, b, {"stride": 3, "pad": (1, 0), "dilation": 2})
    assert out.shape == (2, 4, 2, 1)


def test_one_by_one_conv_is_a_matrix_product_over_channels(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((6, 3, 1, 1))
    b = rng.standard_normal(6)
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    expected = np.tensordot(x, w[:, :, 0, 0], axes=([1], [1])) + b  # (N, H, W, F)
    assert rel_error(out, expected.transpose(0, 3, 1, 2)) < 1e-12


def test_delta_filter_shifts_the_image(rng):
    x = rng.standard_normal((2, 1, 5, 6))
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 2, 2] = 1.0  # out[i, j] = xpad[i + 2, j + 2] = x[i + 1, j + 1]
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 1})
    assert np.array_equal(out[:, :, :-1, :-1], x[:, :, 1:, 1:])
    assert not out[:, :, -1, :].any() and not out[:, :, :, -1].any()


def test_dilation_equals_a_kernel_with_zeros_between_taps(rng):
    x, w, b = make_inputs(rng, {}, H=7, W=8, F=2, HH=2, WW=3)
    dilated = np.zeros((2, 4, 1 + 2 * 1, 1 + 3 * 2))
    dilated[:, :, ::2, ::3] = w
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1, "dilation": (2, 3)})
    expected, _ = conv_forward_naive(x, dilated, b, {"stride": 1, "pad": 1})
    assert rel_error(out, expected) < 1e-12


def test_groups_equal_separate_convolutions_over_channel_slices(rng):
    x, w, b = make_inputs(rng, {"groups": 2}, F=6)
    param = {"stride": 1, "pad": 1}
    out, _ = conv_forward_naive(x, w, b, {**param, "groups": 2})
    first, _ = conv_forward_naive(x[:, :2], w[:3], b[:3], param)
    second, _ = conv_forward_naive(x[:, 2:], w[3:], b[3:], param)
    assert rel_error(out, np.concatenate([first, second], axis=1)) < 1e-12


def test_asymmetric_pad_equals_convolving_an_explicitly_padded_input(rng):
    x, w, b = make_inputs(rng, {})
    pads = ((1, 2), (0, 1))
    out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": pads})
    xpad = np.pad(x, ((0, 0), (0, 0), *pads))
    expected, _ = conv_forward_naive(xpad, w, b, {"stride": 2, "pad": 0})
    assert np.array_equal(out, expected)


def test_float32_in_gives_float32_out_and_gradients(rng):
    x, w, b = (a.astype(np.float32) for a in make_inputs(rng, {}))
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    grads = conv_backward_naive(np.ones_like(out), cache)
    assert [a.dtype for a in (out, *grads)] == [np.float32] * 4


def test_cache_unpacks_like_cs231n(rng):
    x, w, b = make_inputs(rng, {})
    param = {"stride": 1, "pad": 0}
    _, cache = conv_forward_naive(x, w, b, param)
    cx, cw, cb, cparam = cache[:4]
    assert cx is x and cw is w and cb is b and cparam is param


BAD_ARGS = [
    ("x", lambda x, w, b, p: (x[0], w, b, p)),
    ("x", lambda x, w, b, p: (x.astype(int), w, b, p)),
    ("w", lambda x, w, b, p: (x, w[0], b, p)),
    ("w", lambda x, w, b, p: (x, w[:, :2], b, p)),
    ("b", lambda x, w, b, p: (x, w, b[:2], p)),
    ("b", lambda x, w, b, p: (x, w, b.astype(int), p)),
    ("conv_param", lambda x, w, b, p: (x, w, b, {"stride": 1})),
    ("conv_param", lambda x, w, b, p: (x, w, b, [1, 1])),
    ("stride", lambda x, w, b, p: (x, w, b, {**p, "stride": 0})),
    ("stride", lambda x, w, b, p: (x, w, b, {**p, "stride": (1, 2, 3)})),
    ("stride", lambda x, w, b, p: (x, w, b, {**p, "stride": 1.5})),
    ("dilation", lambda x, w, b, p: (x, w, b, {**p, "dilation": (1, 0)})),
    ("pad", lambda x, w, b, p: (x, w, b, {**p, "pad": -1})),
    ("pad", lambda x, w, b, p: (x, w, b, {**p, "pad": ((1, 2), 3)})),
    ("pad", lambda x, w, b, p: (x, w, b, {**p, "pad": ((1, -2), (0, 0))})),
    ("groups", lambda x, w, b, p: (x, w, b, {**p, "groups": 0})),
    ("groups", lambda x, w, b, p: (x, w[:, :1], b, {**p, "groups": 3})),  # C=4
    ("groups", lambda x, w, b, p: (x, w[:3, :2], b[:3], {**p, "groups": 2})),  # F=3
    ("x", lambda x, w, b, p: (x[:, :, :2], w, b, p)),  # H + pad < HH
    ("x", lambda x, w, b, p: (x, w, b, {**p, "dilation": 4})),
]


@pytest.mark.parametrize(("name", "corrupt"), BAD_ARGS)
def test_invalid_inputs_raise_value_errors_naming_the_argument(rng, name, corrupt):
    x, w, b = make_inputs(rng, {})
    with pytest.raises(ValueError, match=name):
        conv_forward_naive(*corrupt(x, w, b, {"stride": 1, "pad": 0}))


def test_backward_rejects_a_foreign_cache_and_a_misshapen_dout(rng):
    x, w, b = make_inputs(rng, {})
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match="cache"):
        conv_backward_naive(out, (x, w, b, {"stride": 1, "pad": 0}))
    with pytest.raises(ValueError, match="dout"):
        conv_backward_naive(out[:, :, :-1], cache)
