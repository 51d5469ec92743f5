import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.functional.affine import (
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from glassnet.gradcheck import check_kernel, rel_error


def loop_affine(x, w, b):
    N = x.shape[0]
    flat = x.reshape(N, -1)
    out = np.zeros((N, w.shape[1]))
    for n in range(N):
        for m in range(w.shape[1]):
            out[n, m] = sum(flat[n, d] * w[d, m] for d in range(w.shape[0])) + b[m]
    return out


def test_gradients_match_numerical_gradients_for_a_4d_input(rng):
    x = rng.standard_normal((3, 2, 2, 2))
    w = rng.standard_normal((8, 5))
    b = rng.standard_normal(5)
    errors = check_kernel(affine_forward, affine_backward, x, w, b)
    assert set(errors) == {"x", "w", "b"}
    assert max(errors.values()) < 1e-7, errors


@given(
    N=st.integers(1, 3),
    dims=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    M=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_forward_matches_a_loop_for_any_input_rank(N, dims, M, seed):
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((N, *dims))
    w = gen.standard_normal((int(np.prod(dims)), M))
    b = gen.standard_normal(M)
    out, _ = affine_forward(x, w, b)
    assert out.shape == (N, M)
    assert rel_error(out, loop_affine(x, w, b)) < 1e-12


def test_backward_returns_dx_shaped_like_x_and_closed_form_dw_db(rng):
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((12, 5))
    b = rng.standard_normal(5)
    _, cache = affine_forward(x, w, b)
    dout = rng.standard_normal((2, 5))
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    # out = X w + b, so dL/dX = dout w^T, dL/dw = X^T dout, dL/db = column sums.
    X = x.reshape(2, 12)
    assert rel_error(dx.reshape(2, 12), np.einsum("nm,dm->nd", dout, w)) < 1e-12
    assert rel_error(dw, np.einsum("nd,nm->dm", X, dout)) < 1e-12
    assert rel_error(db, dout[0] + dout[1]) < 1e-12


def test_float32_in_gives_float32_out_and_gradients(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_rank_1_x_is_rejected_naming_x(rng):
    with pytest.raises(ValueError, match="x"):
        affine_forward(rng.standard_normal(3), rng.standard_normal((3, 2)), np.zeros(2))


def test_w_with_wrong_row_count_is_rejected_naming_both_shapes(rng):
    x = rng.standard_normal((2, 3, 4))
    with pytest.raises(ValueError, match=r"^w: .*\(2, 3, 4\).*\(10, 5\)"):
        affine_forward(x, rng.standard_normal((10, 5)), np.zeros(5))


def test_w_of_rank_3_is_rejected_naming_w(rng):
    with pytest.raises(ValueError, match="^w"):
        affine_forward(rng.standard_normal((2, 3)), np.zeros((3, 2, 1)), np.zeros(2))


def test_b_of_the_wrong_shape_is_rejected_naming_both_shapes(rng):
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"^b: .*\(3, 4\).*\(5,\)"):
        affine_forward(x, w, np.zeros(5))
    with pytest.raises(ValueError, match="^b"):
        affine_forward(x, w, np.zeros((1, 4)))


def test_dout_of_the_wrong_shape_is_rejected_naming_dout(rng):
    _, cache = affine_forward(
        rng.standard_normal((2, 3)), np.zeros((3, 4)), np.zeros(4)
    )
    with pytest.raises(ValueError, match="dout"):
        affine_backward(np.zeros((2, 5)), cache)


def test_param_grads_equal_the_weight_half_of_affine_backward(rng):
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), np.zeros(5)
    out, cache = affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    _, dw, db = affine_backward(dout, cache)
    dw_only, db_only = affine_param_grads(dout, cache)
    np.testing.assert_array_equal(dw_only, dw)
    np.testing.assert_array_equal(db_only, db)
    with pytest.raises(ValueError, match="dout"):
        affine_param_grads(dout[:, :4], cache)


def test_the_bias_add_keeps_the_plain_formulas_values_and_dtype():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5), dtype=np.float32)
    w = rng.standard_normal((5, 4), dtype=np.float32)
    b32 = rng.standard_normal(4, dtype=np.float32)
    out, _ = affine_forward(x, w, b32)
    np.testing.assert_array_equal(out, x @ w + b32)
    # A float64 bias widens the output, as ``x @ w + b`` does.
    out64, _ = affine_forward(x, w, b32.astype(np.float64))
    assert out64.dtype == np.float64
    np.testing.assert_array_equal(out64, x @ w + b32.astype(np.float64))
