import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)
from glassnet.gradcheck import rel_error

SETTINGS = [
    # (x shape, w shape, conv_param)
    ((2, 3, 7, 5), (4, 3, 3, 3), {"stride": 1, "pad": 0}),
    ((2, 3, 7, 5), (4, 3, 3, 3), {"stride": 1, "pad": 1}),
    ((1, 2, 9, 7), (3, 2, 3, 2), {"stride": 2, "pad": 2}),
    ((2, 2, 8, 9), (2, 2, 2, 3), {"stride": 3, "pad": 1}),
    ((2, 1, 5, 6), (3, 1, 4, 4), {"stride": (1, 2), "pad": (2, 0)}),
    ((2, 3, 6, 7), (2, 3, 3, 3), {"stride": 1, "pad": ((0, 2), (1, 0))}),
    ((1, 2, 8, 8), (2, 2, 3, 3), {"stride": 2, "pad": ((1, 2), (2, 1))}),
    ((2, 2, 9, 7), (3, 2, 3, 2), {"stride": 1, "pad": 1, "dilation": 2}),
    ((1, 3, 9, 8), (2, 3, 2, 2), {"stride": (2, 1), "pad": 0, "dilation": (3, 2)}),
    ((2, 4, 6, 5), (6, 2, 3, 3), {"stride": 1, "pad": 1, "groups": 2}),
    ((2, 6, 7, 6), (3, 2, 2, 3), {"stride": 2, "pad": 2, "groups": 3, "dilation": 2}),
    ((1, 4, 5, 5), (4, 1, 3, 3), {"stride": 1, "pad": 1, "groups": 4}),  # depthwise
    ((3, 2, 1, 1), (5, 2, 1, 1), {"stride": 1, "pad": 0}),
]


def run_both(rng, x, w, b, conv_param):
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    fast_out, fast_cache = conv_forward_fast(x, w, b, conv_param)
    naive = (out, *conv_backward_naive(dout, cache))
    fast = (fast_out, *conv_backward_fast(dout, fast_cache))
    return naive, fast


def assert_fast_matches_naive(rng, x_shape, w_shape, conv_param, tol=1e-9):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    naive, fast = run_both(rng, x, w, b, conv_param)
    for name, a, c in zip(("out", "dx", "dw", "db"), naive, fast, strict=True):
        assert a.shape == c.shape, name
        assert rel_error(a, c) < tol, name
    return naive[0]


@pytest.mark.parametrize(("x_shape", "w_shape", "conv_param"), SETTINGS)
def test_fast_forward_and_gradients_match_naive(rng, x_shape, w_shape, conv_param):
    assert_fast_matches_naive(rng, x_shape, w_shape, conv_param)


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    f=st.integers(1, 3),
    hh=st.integers(1, 4),
    ww=st.integers(1, 4),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
)
def test_random_valid_shapes_give_the_cs231n_output_size_and_match_naive(
    n, c, h, w, f, hh, ww, stride, pad
):
    assume(h + 2 * pad >= hh and w + 2 * pad >= ww)
    rng = np.random.default_rng(0)
    out = assert_fast_matches_naive(
        rng, (n, c, h, w), (f, c, hh, ww), {"stride": stride, "pad": pad}
    )
    h_out = (h + 2 * pad - hh) // stride + 1
    w_out = (w + 2 * pad - ww) // stride + 1
    assert out.shape == (n, f, h_out, w_out)


@pytest.mark.parametrize(("x_shape", "w_shape", "conv_param"), SETTINGS[::3])
def test_channels_last_entry_points_equal_nchw_after_transposes(
    rng, x_shape, w_shape, conv_param
):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    x_nhwc, w_keras = x.transpose(0, 2, 3, 1).copy(), w.transpose(2, 3, 1, 0).copy()
    out_nhwc, cache_nhwc = conv_forward_nhwc(x_nhwc, w_keras, b, conv_param)
    dx_nhwc, dw_keras, db_nhwc = conv_backward_nhwc(
        dout.transpose(0, 2, 3, 1).copy(), cache_nhwc
    )
    assert rel_error(out_nhwc, out.transpose(0, 2, 3, 1)) < 1e-12
    assert rel_error(dx_nhwc, dx.transpose(0, 2, 3, 1)) < 1e-12
    assert rel_error(dw_keras, dw.transpose(2, 3, 1, 0)) < 1e-12
    assert rel_error(db_nhwc, db) < 1e-12


@pytest.mark.parametrize(("x_shape", "w_shape", "conv_param"), SETTINGS[::4])
def test_channels_last_backward_without_dx_gives_none_and_the_same_weight_gradients(
    rng, x_shape, w_shape, conv_param
):
    x = rng.standard_normal(x_shape).transpose(0, 2, 3, 1).copy()
    w = rng.standard_normal(w_shape).transpose(2, 3, 1, 0).copy()
    b = rng.standard_normal(w_shape[0])
    out, cache = conv_forward_nhwc(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    _, dw, db = conv_backward_nhwc(dout, cache)
    dx, dw_only, db_only = conv_backward_nhwc(dout, cache, need_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dw_only, dw)
    np.testing.assert_array_equal(db_only, db)


def scaled_error(a, ref):
    """Worst difference relative to the largest entry of the reference."""
    return float(np.max(np.abs(a - ref)) / np.max(np.abs(ref)))


@pytest.mark.parametrize(("x_shape", "w_shape", "conv_param"), SETTINGS[1::4])
def test_float32_fast_is_within_1e4_of_float64_naive(rng, x_shape, w_shape, conv_param):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    naive = (out, *conv_backward_naive(dout, cache))
    f32 = [a.astype(np.float32) for a in (x, w, b, dout)]
    out32, cache32 = conv_forward_fast(*f32[:3], conv_param)
    fast = (out32, *conv_backward_fast(f32[3], cache32))
    for a, ref in zip(fast, naive, strict=True):
        assert a.dtype == np.float32
        assert scaled_error(a, ref) < 1e-4


def test_float32_stays_float32_in_the_channels_last_path(rng):
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = conv_forward_nhwc(x, w, b, {"stride": 1, "pad": 1})
    grads = conv_backward_nhwc(np.ones_like(out), cache)
    assert [a.dtype for a in (out, *grads)] == [np.float32] * 4


def test_output_follows_x_dtype_and_each_gradient_its_own_input(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    dx, dw, db = conv_backward_fast(np.ones_like(out), cache)
    assert (out.dtype, dx.dtype, dw.dtype, db.dtype) == (
        np.float32,
        np.float32,
        np.float64,
        np.float64,
    )


def test_non_contiguous_inputs_give_the_same_result(rng):
    x = rng.standard_normal((2, 3, 9, 8))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    param = {"stride": 2, "pad": 1}
    x_view, w_view = x[:, :, ::2, 1:], np.asfortranarray(w)
    out, _ = conv_forward_fast(x_view, w_view, b, param)
    expected, _ = conv_forward_fast(x_view.copy(), w.copy(), b, param)
    assert rel_error(out, expected) < 1e-14


def test_fast_kernels_leave_their_inputs_untouched(rng):
    x, w, b = (
        rng.standard_normal((2, 2, 5, 5)),
        rng.standard_normal((3, 2, 3, 3)),
        rng.standard_normal(3),
    )
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    conv_backward_fast(dout, cache)
    assert all(np.array_equal(a, c) for a, c in zip((x, w, b), copies, strict=True))
    assert np.array_equal(dout, dout_copy)


def test_outputs_chain_into_the_next_convolution(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    w1, w2 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 3, 3))
    b1, b2 = np.zeros(4), np.zeros(2)
    param = {"stride": 1, "pad": 1}
    h, _ = conv_forward_fast(x, w1, b1, param)
    out, _ = conv_forward_fast(h, w2, b2, param)
    h_naive, _ = conv_forward_naive(x, w1, b1, param)
    expected, _ = conv_forward_naive(h_naive, w2, b2, param)
    assert rel_error(out, expected) < 1e-9


def test_caches_of_the_naive_and_fast_twins_cannot_be_mixed(rng):
    x, w, b = (
        rng.standard_normal((1, 2, 4, 4)),
        rng.standard_normal((2, 2, 3, 3)),
        np.zeros(2),
    )
    param = {"stride": 1, "pad": 1}
    out, naive_cache = conv_forward_naive(x, w, b, param)
    _, fast_cache = conv_forward_fast(x, w, b, param)
    with pytest.raises(ValueError, match="cache"):
        conv_backward_fast(out, naive_cache)
    with pytest.raises(ValueError, match="cache"):
        conv_backward_naive(out, fast_cache)
    with pytest.raises(ValueError, match="cache"):
        conv_backward_nhwc(out.transpose(0, 2, 3, 1), fast_cache)


def test_backward_rejects_a_misshapen_dout(rng):
    x, w, b = (
        rng.standard_normal((1, 2, 4, 4)),
        rng.standard_normal((2, 2, 3, 3)),
        np.zeros(2),
    )
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="dout"):
        conv_backward_fast(out.transpose(0, 2, 3, 1), cache)


@pytest.mark.parametrize(
    ("name", "x_shape", "w_shape", "b_shape", "conv_param"),
    [
        ("x", (2, 5, 5), (4, 5, 3, 3), (4,), {"stride": 1, "pad": 0}),
        ("w", (2, 5, 5, 3), (3, 3, 2, 4), (4,), {"stride": 1, "pad": 0}),
        ("b", (2, 5, 5, 3), (3, 3, 3, 4), (3,), {"stride": 1, "pad": 0}),
        (
            "groups",
            (2, 5, 5, 3),
            (3, 3, 1, 4),
            (4,),
            {"stride": 1, "pad": 0, "groups": 3},
        ),
        ("stride", (2, 5, 5, 3), (3, 3, 3, 4), (4,), {"stride": 0, "pad": 0}),
        ("pad", (2, 5, 5, 3), (3, 3, 3, 4), (4,), {"stride": 1, "pad": (0, -1)}),
        (
            "dilation",
            (2, 5, 5, 3),
            (3, 3, 3, 4),
            (4,),
            {"stride": 1, "pad": 0, "dilation": 0},
        ),
        ("x", (2, 2, 5, 3), (3, 3, 3, 4), (4,), {"stride": 1, "pad": 0}),
    ],
)
def test_channels_last_entry_point_validates_in_its_own_layout(
    name, x_shape, w_shape, b_shape, conv_param
):
    x, w, b = np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape)
    with pytest.raises(ValueError, match=name):
        conv_forward_nhwc(x, w, b, conv_param)


def test_fast_entry_point_refuses_too_small_outputs(rng):
    x, w, b = np.zeros((1, 1, 2, 5)), np.zeros((1, 1, 3, 3)), np.zeros(1)
    with pytest.raises(ValueError, match="x"):
        conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})


@pytest.mark.parametrize("groups", [1, 2])
def test_the_forward_pass_in_blocks_of_the_batch_equals_one_block(
    rng, monkeypatch, groups
):
    # Blocks of one or two images (the last one ragged) against the whole batch
    # in one product: the same columns, and the same products up to rounding
    # (BLAS may take another path for a block of a few rows).
    from glassnet.functional import conv_fast

    x = rng.standard_normal((5, 6, 7, 4), dtype=np.float32)
    w = rng.standard_normal((3, 3, 4 // groups, 6), dtype=np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    param = {"stride": 1, "pad": 1, "groups": groups}
    whole, whole_cache = conv_forward_nhwc(x, w, b, param)
    per_image = 6 * 7 * (9 * 4 // groups + 1) * groups * 4  # column bytes
    for images in (1, 2):
        monkeypatch.setattr(conv_fast, "_BLOCK_BYTES", images * per_image)
        out, cache = conv_forward_nhwc(x, w, b, param)
        np.testing.assert_allclose(out, whole, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(cache.cols, whole_cache.cols)


def _weight_grad_oracle(x, dout, k):
    """dw[p, q, c, f] = sum over n, i, j of x[n, i + p, j + q, c] * dout[n, i, j, f]."""
    Ho, Wo = dout.shape[1:3]
    return np.stack(
        [
            np.stack(
                [
                    np.einsum("nijc,nijf->cf", x[:, p : p + Ho, q : q + Wo], dout)
                    for q in range(k)
                ]
            )
            for p in range(k)
        ]
    )


@pytest.mark.parametrize("piece_rows", [None, 1000, 1024])
def test_a_first_convolutions_weight_gradient_in_pieces_matches_the_sum(
    rng, monkeypatch, piece_rows
):
    # One input channel and 32 filters: (10, 5408) @ (5408, 32), a long product
    # with a small result, which is summed over pieces of rows (ragged last one
    # when 5408 is not a multiple of the piece).
    from glassnet.functional import conv_fast

    if piece_rows is not None:  # pieces of exactly this many rows
        monkeypatch.setattr(conv_fast, "_PIECE_MULADDS", piece_rows * 10 * 32)
    x = rng.standard_normal((8, 28, 28, 1))
    w = rng.standard_normal((3, 3, 1, 32))
    dout = rng.standard_normal((8, 26, 26, 32))
    _, cache = conv_forward_nhwc(x, w, np.zeros(32), {"stride": 1, "pad": 0})
    _, dw, db = conv_backward_nhwc(dout, cache, need_dx=False)
    np.testing.assert_allclose(dw, _weight_grad_oracle(x, dout, 3), rtol=1e-10)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 1, 2)), rtol=1e-10)


def test_the_pieces_give_the_same_bits_for_any_number_of_threads(rng):
    from glassnet.functional.conv_fast import _long_product
    from glassnet.utils import num_threads, set_num_threads

    a = rng.standard_normal((20000, 10), dtype=np.float32)
    b = rng.standard_normal((20000, 32), dtype=np.float32)
    results, before = [], num_threads()
    try:
        for threads in (1, 2, 3):
            set_num_threads(threads)
            results.append(_long_product(a, b))
    finally:
        set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    exact = a.T.astype(np.float64) @ b  # entries of size ~140
    np.testing.assert_allclose(results[0], exact, rtol=1e-5, atol=1e-3)


def test_a_product_with_a_large_result_is_one_product(rng):
    # K * F too large for pieces of >= _MIN_PIECE_ROWS rows: the plain product.
    from glassnet.functional.conv_fast import _long_product

    a = rng.standard_normal((3000, 149), dtype=np.float32)
    b = rng.standard_normal((3000, 64), dtype=np.float32)
    np.testing.assert_array_equal(_long_product(a, b), a.T @ b)


@pytest.mark.parametrize("C", [3, 2])
def test_nhwc_given_an_nchw_filter_blames_w_and_names_both_layouts(rng, C):
    x = rng.standard_normal((2, 8, 8, C))
    w = rng.standard_normal((4, C, 3, 3))  # (F, C, HH, WW): the NCHW layout
    with pytest.raises(ValueError) as info:
        conv_forward_nhwc(x, w, np.zeros(4), {"stride": 1, "pad": 1})
    message = str(info.value)
    assert message.startswith("w: expected the conv_forward_nhwc layout ")
    assert f"(HH, WW, C // groups, F) with C // groups = {C} and F = 4" in message
    assert f"received shape (4, {C}, 3, 3), the NCHW" in message
    out, _ = conv_forward_nhwc(
        x, w.transpose(2, 3, 1, 0), np.zeros(4), {"stride": 1, "pad": 1}
    )
    assert out.shape == (2, 8, 8, 4)


def test_fast_given_a_channels_last_filter_blames_w(rng):
    x = rng.standard_normal((2, 3, 8, 8))
    w = rng.standard_normal((3, 3, 3, 4))  # (HH, WW, C, F)
    with pytest.raises(ValueError, match=r"^w: expected the conv_forward_fast"):
        conv_forward_fast(x, w, np.zeros(4), {"stride": 1, "pad": 1})


def test_a_wrong_bias_with_a_consistent_filter_still_blames_b(rng):
    x = rng.standard_normal((2, 8, 8, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    with pytest.raises(ValueError, match=r"^b: expected shape \(4,\)"):
        conv_forward_nhwc(x, w, np.zeros(5), {"stride": 1, "pad": 1})
