import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from glassnet.functional.pool import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from glassnet.functional.pool_fast import (
    avg_pool_backward_fast,
    avg_pool_backward_nhwc,
    avg_pool_forward_fast,
    avg_pool_forward_nhwc,
    max_pool_backward_fast,
    max_pool_backward_nhwc,
    max_pool_forward_fast,
    max_pool_forward_nhwc,
)
from glassnet.gradcheck import rel_error

KINDS = ["max", "avg"]

SETTINGS = [
    # (x shape, pool_param); the first two tile the input: the reshape path
    ((2, 3, 8, 6), {"pool_height": 2, "pool_width": 2, "stride": 2}),
    ((1, 2, 9, 8), {"pool_height": 3, "pool_width": 2, "stride": (3, 2)}),
    ((2, 3, 7, 5), {"pool_height": 2, "pool_width": 2, "stride": 2}),  # leftovers
    ((2, 2, 7, 7), {"pool_height": 3, "pool_width": 3, "stride": 2}),  # overlapping
    ((1, 3, 6, 5), {"pool_height": 3, "pool_width": 2, "stride": 1}),
    ((2, 2, 9, 8), {"pool_height": 2, "pool_width": 3, "stride": (1, 3)}),
    ((2, 2, 6, 6), {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 1}),
    ((1, 2, 5, 7), {"pool_height": 3, "pool_width": 3, "stride": 2, "pad": (1, 2)}),
    (
        (2, 1, 5, 6),
        {"pool_height": 3, "pool_width": 2, "stride": 1, "pad": ((0, 2), (1, 0))},
    ),
    ((1, 2, 1, 1), {"pool_height": 1, "pool_width": 1, "stride": 1}),
]


KERNELS = {
    ("max", "naive"): (max_pool_forward_naive, max_pool_backward_naive),
    ("avg", "naive"): (avg_pool_forward_naive, avg_pool_backward_naive),
    ("max", "fast"): (max_pool_forward_fast, max_pool_backward_fast),
    ("avg", "fast"): (avg_pool_forward_fast, avg_pool_backward_fast),
    ("max", "nhwc"): (max_pool_forward_nhwc, max_pool_backward_nhwc),
    ("avg", "nhwc"): (avg_pool_forward_nhwc, avg_pool_backward_nhwc),
}


def kernels(kind, twin):
    return KERNELS[kind, twin]


def distinct(rng, shape):
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) / size


def run(kind, twin, x, pool_param, dout=None):
    forward, backward = kernels(kind, twin)
    out, cache = forward(x, pool_param)
    if dout is None:
        dout = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    return out, backward(dout, cache)


def assert_fast_matches_naive(kind, x, pool_param):
    out, dx = run(kind, "naive", x, pool_param)
    fast_out, fast_dx = run(kind, "fast", x, pool_param)
    assert fast_out.shape == out.shape and fast_dx.shape == dx.shape
    assert rel_error(fast_out, out) < 1e-9
    assert rel_error(fast_dx, dx) < 1e-9
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("x_shape", "pool_param"), SETTINGS)
def test_fast_forward_and_gradient_match_naive(rng, kind, x_shape, pool_param):
    assert_fast_matches_naive(kind, distinct(rng, x_shape), pool_param)


@pytest.mark.parametrize(("x_shape", "pool_param"), SETTINGS)
def test_fast_max_pooling_breaks_ties_like_naive(rng, x_shape, pool_param):
    x = rng.integers(0, 3, x_shape).astype(float)  # many ties in every window
    assert_fast_matches_naive("max", x, pool_param)


@pytest.mark.parametrize("index", range(len(SETTINGS)))
def test_exact_tilings_take_the_reshape_path(index):
    x_shape, pool_param = SETTINGS[index]
    _, cache = max_pool_forward_fast(np.zeros(x_shape), pool_param)
    # A white-box check of the dispatch (a private cache field): only the first
    # two settings and the 1x1 pool tile their input exactly, without padding.
    assert cache.tiled == (index in (0, 1, len(SETTINGS) - 1))


@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    hh=st.integers(1, 3),
    ww=st.integers(1, 3),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
)
def test_random_valid_shapes_give_the_cs231n_output_size_and_match_naive(
    kind, n, c, h, w, hh, ww, stride, pad
):
    assume(pad < min(hh, ww) and h + 2 * pad >= hh and w + 2 * pad >= ww)
    param = {"pool_height": hh, "pool_width": ww, "stride": stride, "pad": pad}
    x = distinct(np.random.default_rng(0), (n, c, h, w))
    out = assert_fast_matches_naive(kind, x, param)
    h_out, w_out = (h + 2 * pad - hh) // stride + 1, (w + 2 * pad - ww) // stride + 1
    assert out.shape == (n, c, h_out, w_out)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("x_shape", "pool_param"), SETTINGS[::2])
def test_channels_last_entry_points_equal_nchw_after_transposes(
    rng, kind, x_shape, pool_param
):
    x = distinct(rng, x_shape)
    out, dx = run(kind, "fast", x, pool_param)
    x_nhwc = x.transpose(0, 2, 3, 1).copy()
    dout = np.random.default_rng(1).standard_normal(out.shape).transpose(0, 2, 3, 1)
    out_nhwc, dx_nhwc = run(kind, "nhwc", x_nhwc, pool_param, dout.copy())
    assert rel_error(out_nhwc, out.transpose(0, 2, 3, 1)) < 1e-14
    assert rel_error(dx_nhwc, dx.transpose(0, 2, 3, 1)) < 1e-14


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("x_shape", "pool_param"), SETTINGS[::3])
def test_float32_fast_is_within_1e4_of_float64_naive(rng, kind, x_shape, pool_param):
    x = distinct(rng, x_shape)
    out, dx = run(kind, "naive", x, pool_param)
    out32, dx32 = run(kind, "fast", x.astype(np.float32), pool_param)
    assert out32.dtype == dx32.dtype == np.float32
    assert np.max(np.abs(out32 - out)) < 1e-4 * np.max(np.abs(out))
    assert np.max(np.abs(dx32 - dx)) < 1e-4 * np.max(np.abs(dx))


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32_in_the_channels_last_path(rng, kind):
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    out, dx = run(kind, "nhwc", x, SETTINGS[7][1])
    assert out.dtype == dx.dtype == np.float32


def test_average_pooling_of_a_constant_is_that_constant_even_when_padded():
    for _, pool_param in SETTINGS:
        out, _ = avg_pool_forward_fast(np.full((1, 2, 9, 8), -2.0), pool_param)
        assert np.all(out == -2.0)


@pytest.mark.parametrize("kind", KINDS)
def test_outputs_do_not_alias_and_inputs_stay_untouched(rng, kind):
    x = distinct(rng, (1, 2, 3, 3))
    x_copy = x.copy()
    forward, backward = kernels(kind, "fast")
    out, cache = forward(x, {"pool_height": 1, "pool_width": 1, "stride": 1})
    dout = np.ones_like(out)
    dx = backward(dout, cache)
    out[...] = 7.0
    dx[...] = 7.0
    assert np.array_equal(x, x_copy) and np.all(dout == 1.0)


def test_non_contiguous_inputs_give_the_same_result(rng):
    x = distinct(rng, (2, 3, 12, 9))
    view = x[:, ::-1, ::2, 1:]
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = max_pool_forward_fast(view, param)
    expected, _ = max_pool_forward_fast(view.copy(), param)
    assert np.array_equal(out, expected)


def test_caches_cannot_be_mixed_between_twins_kinds_and_layouts(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, naive_cache = max_pool_forward_naive(x, param)
    _, fast_cache = max_pool_forward_fast(x, param)
    _, avg_cache = avg_pool_forward_fast(x, param)
    with pytest.raises(ValueError, match="cache"):
        max_pool_backward_fast(out, naive_cache)
    with pytest.raises(ValueError, match="cache"):
        max_pool_backward_naive(out, fast_cache)
    with pytest.raises(ValueError, match="cache"):
        max_pool_backward_fast(out, avg_cache)
    with pytest.raises(ValueError, match="cache"):
        max_pool_backward_nhwc(out, fast_cache)
    with pytest.raises(ValueError, match="dout"):
        avg_pool_backward_fast(out[:, :, :1], avg_cache)


@pytest.mark.parametrize(
    ("name", "x_shape", "pool_param"),
    [
        ("x", (4, 4, 3), {"pool_height": 2, "pool_width": 2, "stride": 2}),
        ("x", (1, 4, 1, 3), {"pool_height": 2, "pool_width": 2, "stride": 2}),
        ("pool_param", (1, 4, 4, 3), {"pool_width": 2, "stride": 2}),
        ("stride", (1, 4, 4, 3), {"pool_height": 2, "pool_width": 2, "stride": 0}),
        (
            "pad",
            (1, 4, 4, 3),
            {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 2},
        ),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_channels_last_entry_points_validate_in_their_own_layout(
    kind, name, x_shape, pool_param
):
    forward, _ = kernels(kind, "nhwc")
    with pytest.raises(ValueError, match=name):
        forward(np.zeros(x_shape), pool_param)
