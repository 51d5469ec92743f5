import numpy as np
import pytest

from glassnet.functional.pool import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from glassnet.gradcheck import check_kernel

MAX = (max_pool_forward_naive, max_pool_backward_naive)
AVG = (avg_pool_forward_naive, avg_pool_backward_naive)

SETTINGS = [
    {"pool_height": 2, "pool_width": 2, "stride": 2},
    {"pool_height": 3, "pool_width": 3, "stride": 2},
    {"pool_height": 3, "pool_width": 2, "stride": (1, 2)},
    {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 1},
    {"pool_height": 3, "pool_width": 3, "stride": 1, "pad": ((0, 2), (1, 1))},
]


def distinct(rng, shape):
    """Inputs without ties (a scaled permutation), so that max is differentiable."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) / size


@pytest.mark.parametrize("kernels", [MAX, AVG], ids=["max", "avg"])
@pytest.mark.parametrize("pool_param", SETTINGS)
def test_naive_gradients_match_numerical_gradients(rng, kernels, pool_param):
    x = distinct(rng, (2, 2, 5, 6))
    out, _ = kernels[0](x, pool_param)
    # Both poolings are linear near a tie-free point, so a step well below the
    # gap between values (1 / 120) has no truncation error; a positive dout keeps
    # the gradient entries away from zero, where relative errors mean nothing.
    dout = rng.uniform(0.5, 1.5, out.shape)
    errors = check_kernel(*kernels, x, pool_param, h=1e-3, dout=dout)
    assert errors["x"] < 1e-8


def test_max_pooling_of_a_ramp_picks_each_block_bottom_right_corner():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    # In a row-major ramp the largest cell of each 2x2 block is its bottom right.
    assert np.array_equal(out[0, 0], [[5.0, 7.0], [13.0, 15.0]])


def test_max_pooling_routes_a_tie_to_the_first_cell_in_row_major_order():
    x = np.zeros((1, 1, 2, 2))
    out, cache = max_pool_forward_naive(
        x, {"pool_height": 2, "pool_width": 2, "stride": 1}
    )
    dx = max_pool_backward_naive(np.ones_like(out), cache)
    assert np.array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_padding_never_wins_a_max():
    x = -np.ones((1, 2, 3, 3))
    param = {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 1}
    out, _ = max_pool_forward_naive(x, param)
    assert out.shape == (1, 2, 2, 2) and np.all(out == -1.0)


@pytest.mark.parametrize("pool_param", SETTINGS)
def test_average_pooling_of_a_constant_is_that_constant(pool_param):
    out, _ = avg_pool_forward_naive(np.full((1, 2, 5, 6), 3.5), pool_param)
    assert np.all(out == 3.5)


def test_average_pooling_with_same_padding_divides_by_the_real_cells():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    param = {"pool_height": 2, "pool_width": 2, "stride": 1, "pad": ((0, 1), (0, 1))}
    out, _ = avg_pool_forward_naive(x, param)
    # TensorFlow's SAME rule by hand: windows cut by the bottom/right padding
    # average (2 + 4) / 2, (3 + 4) / 2 and 4 / 1.
    assert np.array_equal(out[0, 0], [[2.5, 3.0], [3.5, 4.0]])


def test_average_pooling_gradient_shares_dout_equally_among_real_cells():
    x = np.zeros((1, 1, 2, 2))
    param = {"pool_height": 2, "pool_width": 2, "stride": 1, "pad": ((0, 1), (0, 1))}
    out, cache = avg_pool_forward_naive(x, param)
    dx = avg_pool_backward_naive(np.ones_like(out), cache)
    # Cell (0, 0) is in one window of 4 cells; (1, 1) in windows of 4, 2, 2 and 1.
    assert np.allclose(dx[0, 0], [[0.25, 0.75], [0.75, 2.25]])


@pytest.mark.parametrize("kernels", [MAX, AVG], ids=["max", "avg"])
def test_float32_in_gives_float32_out_and_gradient(rng, kernels):
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    out, cache = kernels[0](x, SETTINGS[1])
    dx = kernels[1](np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32


GOOD = {"pool_height": 2, "pool_width": 2, "stride": 2}
BAD_ARGS = [
    ("x", np.zeros((2, 4, 4)), GOOD),
    ("x", np.zeros((1, 1, 4, 4), dtype=int), GOOD),
    ("x", np.zeros((1, 1, 1, 4)), GOOD),  # H < pool_height
    ("pool_param", np.zeros((1, 1, 4, 4)), {"pool_height": 2, "stride": 2}),
    ("pool_height", np.zeros((1, 1, 4, 4)), {**GOOD, "pool_height": 0}),
    ("pool_width", np.zeros((1, 1, 4, 4)), {**GOOD, "pool_width": 2.0}),
    ("stride", np.zeros((1, 1, 4, 4)), {**GOOD, "stride": (2, 0)}),
    ("pad", np.zeros((1, 1, 4, 4)), {**GOOD, "pad": -1}),
    ("pad", np.zeros((1, 1, 4, 4)), {**GOOD, "pad": 2}),  # a window of padding only
    ("pad", np.zeros((1, 1, 4, 4)), {**GOOD, "pad": ((0, 0), (0, 2))}),
]


@pytest.mark.parametrize("kernels", [MAX, AVG], ids=["max", "avg"])
@pytest.mark.parametrize(("name", "x", "pool_param"), BAD_ARGS)
def test_invalid_inputs_raise_value_errors_naming_the_argument(
    kernels, name, x, pool_param
):
    with pytest.raises(ValueError, match=name):
        kernels[0](x, pool_param)


def test_backward_rejects_the_other_poolings_cache_and_a_misshapen_dout(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    out, max_cache = max_pool_forward_naive(x, GOOD)
    _, avg_cache = avg_pool_forward_naive(x, GOOD)
    with pytest.raises(ValueError, match="cache"):
        max_pool_backward_naive(out, avg_cache)
    with pytest.raises(ValueError, match="cache"):
        avg_pool_backward_naive(out, max_cache)
    with pytest.raises(ValueError, match="dout"):
        max_pool_backward_naive(out[:, :, :1], max_cache)
