import numpy as np
import pytest

from glassnet.layers import Activation, LeakyReLU, ReLU, Softmax
from tests.helpers import check_layer


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (Activation, {"activation": "tanh"}),
        (ReLU, {}),
        (Softmax, {}),
        (LeakyReLU, {"negative_slope": 0.2}),
    ],
)
def test_activation_layers_pass_the_layer_checks(cls, kwargs):
    check_layer(cls, kwargs, (3, 5), (3, 5), expected_params=0)


def test_leaky_relu_uses_keras_default_slope_and_accepts_alpha(rng):
    x = np.array([[-1.0, 2.0]])
    np.testing.assert_allclose(LeakyReLU()(x), [[-0.3, 2.0]])
    np.testing.assert_allclose(LeakyReLU(alpha=0.1)(x), [[-0.1, 2.0]])


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="axis"):
        Softmax(axis=1)
    with pytest.raises(ValueError, match="activation"):
        Activation("nope")
