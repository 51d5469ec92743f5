import math
import warnings

import numpy as np
import pytest

from glassnet.functional.activations import (
    elu_backward,
    elu_forward,
    erf,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from glassnet.gradcheck import check_kernel, rel_error

PAIRS = {
    "relu": (relu_forward, relu_backward, {}),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward, {"alpha": 0.1}),
    "sigmoid": (sigmoid_forward, sigmoid_backward, {}),
    "tanh": (tanh_forward, tanh_backward, {}),
    "softmax": (softmax_forward, softmax_backward, {}),
    "softmax_axis0": (softmax_forward, softmax_backward, {"axis": 0}),
    "elu": (elu_forward, elu_backward, {"alpha": 1.5}),
    "gelu": (gelu_forward, gelu_backward, {}),
    "gelu_tanh": (gelu_forward, gelu_backward, {"approximate": True}),
}

# Scalar definitions, evaluated one element at a time with the math module.
SCALAR = {
    "relu": lambda v: max(v, 0.0),
    "leaky_relu": lambda v: v if v > 0 else 0.1 * v,
    "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
    "tanh": math.tanh,
    "elu": lambda v: v if v > 0 else 1.5 * (math.exp(v) - 1.0),
    "gelu": lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))),
    "gelu_tanh": lambda v: (
        0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))
    ),
}


def away_from_zero(rng, shape):
    """Values with 0.1 <= |v| <= 3, so no centred difference straddles a kink."""
    return rng.uniform(0.1, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


def kernel(name):
    forward, backward, kwargs = PAIRS[name]
    return lambda x: forward(x, **kwargs), backward


@pytest.mark.parametrize("name", PAIRS)
def test_gradients_match_numerical_gradients(rng, name):
    forward, backward = kernel(name)
    errors = check_kernel(forward, backward, away_from_zero(rng, (3, 4)))
    assert errors["x"] < 1e-7, errors


@pytest.mark.parametrize("name", SCALAR)
def test_forward_matches_the_scalar_definition(rng, name):
    x = away_from_zero(rng, (4, 5))
    out, _ = kernel(name)[0](x)
    expected = np.vectorize(SCALAR[name])(x)
    assert rel_error(out, expected) < 1e-12


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_matches_exp_over_sum_and_sums_to_one(rng, axis):
    x = rng.standard_normal((3, 4))
    out, _ = softmax_forward(x, axis=axis)
    e = np.exp(x)
    assert rel_error(out, e / e.sum(axis=axis, keepdims=True)) < 1e-12
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-12)


def test_softmax_backward_equals_the_explicit_jacobian_product(rng):
    x = rng.standard_normal((2, 5))
    dout = rng.standard_normal((2, 5))
    y, cache = softmax_forward(x)
    dx = softmax_backward(dout, cache)
    for n in range(2):
        jacobian = np.diag(y[n]) - np.outer(y[n], y[n])
        assert rel_error(dx[n], jacobian @ dout[n]) < 1e-12


def test_erf_matches_math_erf_on_a_dense_grid():
    x = np.linspace(-8.0, 8.0, 160_001)
    expected = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(erf(x) - expected)) <= 1e-12


def test_erf_matches_math_erf_near_region_boundaries_and_far_out():
    # 0.46875 and 4 are where the rational approximations switch; 6 is the clip.
    points = [0.46875, 4.0, 6.0]
    x = np.array([p + d for p in points for d in (-1e-12, 0.0, 1e-12)] + [1e3, 1e300])
    x = np.concatenate([x, -x])
    expected = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(erf(x) - expected)) <= 1e-12


def test_erf_is_odd_and_handles_infinities_and_nan():
    out = erf(np.array([np.inf, -np.inf, np.nan, 0.0]))
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2]) and out[3] == 0.0
    x = np.linspace(0.0, 5.0, 101)
    assert np.array_equal(erf(-x), -erf(x))


def test_erf_keeps_float32():
    x = np.linspace(-5.0, 5.0, 101, dtype=np.float32)
    out = erf(x)
    assert out.dtype == np.float32
    expected = np.array([math.erf(float(v)) for v in x])
    assert np.max(np.abs(out - expected)) < 1e-6


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_raise_no_floating_point_warnings(name, dtype):
    forward, backward = kernel(name)
    x = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        out, cache = forward(x)
        dx = backward(np.ones_like(out), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))


def test_sigmoid_saturates_to_exact_limits_at_extremes():
    out, _ = sigmoid_forward(np.array([-1000.0, 1000.0], dtype=np.float32))
    assert out[0] == 0.0 and out[1] == 1.0


@pytest.mark.parametrize("name", PAIRS)
def test_float32_in_gives_float32_out_and_dx(rng, name):
    forward, backward = kernel(name)
    x = away_from_zero(rng, (2, 3)).astype(np.float32)
    out, cache = forward(x)
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32


def test_relu_cache_is_a_boolean_mask(rng):
    _, cache = relu_forward(rng.standard_normal((2, 3)))
    assert cache.dtype == np.bool_


def test_gelu_tanh_form_is_close_to_the_exact_form():
    # The worst gap on a fine grid over [-10, 10] is 4.73e-4 (measured with the
    # erf-based form checked above against math.erf).
    x = np.linspace(-6.0, 6.0, 241)
    exact, _ = gelu_forward(x)
    approx, _ = gelu_forward(x, approximate=True)
    assert np.max(np.abs(exact - approx)) < 5e-4


def test_integer_input_is_rejected_naming_x():
    with pytest.raises(ValueError, match="x"):
        relu_forward(np.arange(3))
    with pytest.raises(ValueError, match="x"):
        erf(np.arange(3))


@pytest.mark.parametrize("forward", [leaky_relu_forward, elu_forward])
def test_non_numeric_alpha_is_rejected_naming_alpha(rng, forward):
    with pytest.raises(ValueError, match="alpha"):
        forward(rng.standard_normal(3), alpha="0.1")


def test_softmax_axis_out_of_range_is_rejected_naming_axis(rng):
    with pytest.raises(ValueError, match="axis"):
        softmax_forward(rng.standard_normal((2, 3)), axis=2)


def test_gelu_non_bool_approximate_is_rejected(rng):
    with pytest.raises(ValueError, match="approximate"):
        gelu_forward(rng.standard_normal(3), approximate="tanh")


@pytest.mark.parametrize("name", PAIRS)
def test_dout_of_the_wrong_shape_is_rejected_naming_dout(rng, name):
    forward, backward = kernel(name)
    _, cache = forward(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match="dout"):
        backward(np.ones((3, 2)), cache)
