import numpy as np
import pytest

from glassnet.functional.activations import (
    relu_backward,
    relu_forward,
    relu_general_backward,
    relu_general_forward,
)
from glassnet.gradcheck import check_kernel

OPTIONS = [
    {},
    {"negative_slope": 0.3},
    {"max_value": 6.0},
    {"threshold": 1.5},
    {"threshold": -1.0},
    {"threshold": -1.0, "max_value": 2.0},
    {"max_value": 2.5, "negative_slope": 0.2, "threshold": 0.5},
]


def keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras 3's activations.relu, step by step, one element at a time."""
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        y = v if v > threshold else 0.0
        if max_value is not None:
            y = min(max(y, 0.0), max_value)
        y -= negative_slope * max(threshold - v, 0.0)
        out[i] = y
    return out


def kinks(kw):
    return [0.0, kw.get("threshold", 0.0), kw.get("max_value") or 0.0]


def away_from_kinks(rng, shape, kw):
    x = rng.uniform(-4, 8, shape)
    for k in kinks(kw):
        x = np.where(np.abs(x - k) < 0.05, k + 0.1, x)
    return x


def test_keras_documented_values():
    # keras.io, keras.activations.relu's docstring.
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    f = lambda **kw: relu_general_forward(x, **kw)[0]  # noqa: E731
    np.testing.assert_array_equal(f(), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(f(negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(f(max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(f(threshold=5.0), [0, 0, 0, 0, 10])


@pytest.mark.parametrize("kw", OPTIONS)
def test_forward_matches_keras_elementwise_definition(rng, kw):
    x = rng.uniform(-4, 8, (4, 7))
    x[0, :3] = kinks(kw)
    out, _ = relu_general_forward(x, **kw)
    np.testing.assert_allclose(out, keras_relu(x, **kw), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kw", OPTIONS)
def test_gradients_match_numerical_in_float64(rng, kw):
    x = away_from_kinks(rng, (3, 6), kw)
    errors = check_kernel(
        lambda v: relu_general_forward(v, **kw), relu_general_backward, x
    )
    assert errors["v"] < 1e-9, errors


def test_defaults_equal_the_plain_relu_kernel(rng):
    x = rng.normal(size=(5, 4))
    dout = rng.normal(size=x.shape)
    out, cache = relu_general_forward(x)
    ref, ref_cache = relu_forward(x)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(
        relu_general_backward(dout, cache), relu_backward(dout, ref_cache)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept(rng, dtype):
    x = rng.normal(size=(3, 3)).astype(dtype)
    out, cache = relu_general_forward(x, max_value=1.0, negative_slope=0.1)
    assert out.dtype == dtype
    assert relu_general_backward(np.ones_like(x), cache).dtype == dtype


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"max_value": -1.0}, "max_value"),
        ({"negative_slope": -0.1}, "negative_slope"),
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": None}, "threshold"),
    ],
)
def test_invalid_options_are_refused_by_name(kw, name):
    with pytest.raises(ValueError, match=name):
        relu_general_forward(np.zeros(3), **kw)
