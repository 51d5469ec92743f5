import numpy as np
import pytest

from glassnet import activations


def test_each_name_maps_to_its_kernel_pair_and_output_functions(rng):
    x = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(activations.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_array_equal(activations.linear(x), x)
    assert set(activations.ACTIVATIONS) == {
        "linear",
        "relu",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "softmax",
        "elu",
        "gelu",
    }


def test_get_accepts_none_and_refuses_unknown_names():
    assert activations.get(None) == "linear"
    with pytest.raises(ValueError, match="activation"):
        activations.get("swish")


def test_layers_accept_the_activation_functions_and_initializer_classes_as_keras():
    from glassnet import initializers
    from glassnet.layers import Dense

    layer = Dense(
        2, activation=activations.relu, kernel_initializer=initializers.HeNormal
    )
    assert layer.activation is activations.relu and layer.activation_name == "relu"
    assert isinstance(layer.kernel_initializer, initializers.HeNormal)
    with pytest.raises(ValueError, match="activation"):
        activations.get(lambda x: x)
