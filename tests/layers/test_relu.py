import numpy as np
import pytest

from glassnet import models
from glassnet.layers import MaxPooling2D, ReLU
from tests.helpers import check_layer


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"negative_slope": 0.2},
        {"max_value": 1.0, "threshold": -0.5},
        {"max_value": 6, "negative_slope": 0.1, "threshold": 0.3},
    ],
)
def test_relu_passes_the_layer_checks(kwargs):
    check_layer(ReLU, kwargs, (3, 5), (3, 5), expected_params=0)


def test_keras_documented_example():
    # keras.io, keras.layers.ReLU's docstring.
    layer = ReLU(max_value=10, negative_slope=0.5, threshold=0)
    out = layer(np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]]))
    np.testing.assert_array_equal(out, [[-5.0, -2.5, 0.0, 5.0, 10.0]])


def test_config_holds_keras_keys_and_defaults():
    config = ReLU().get_config()
    assert config["max_value"] is None
    assert config["negative_slope"] == 0.0
    assert config["threshold"] == 0.0
    assert "activation" not in config
    clone = ReLU.from_config(ReLU(6.0, 0.1, 0.5).get_config())
    assert (clone.max_value, clone.negative_slope, clone.threshold) == (6.0, 0.1, 0.5)


def test_positional_order_is_keras():
    layer = ReLU(6.0, 0.1, 0.5)
    assert (layer.max_value, layer.negative_slope, layer.threshold) == (6.0, 0.1, 0.5)


def test_only_the_plain_relu_is_swapped_with_max_pooling(rng):
    assert ReLU().relu_last
    assert not ReLU(max_value=1.0).relu_last
    x = rng.normal(size=(2, 4, 4, 3))
    layer = ReLU(max_value=0.5, negative_slope=0.2)
    model = models.Sequential([layer, MaxPooling2D(2)])
    expected = MaxPooling2D(2)(layer(x))
    np.testing.assert_allclose(model(x), expected)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_value": -1.0}, "max_value"),
        ({"negative_slope": -0.5}, "negative_slope"),
        ({"threshold": None}, "threshold"),
    ],
)
def test_invalid_arguments_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ReLU(**kwargs)
