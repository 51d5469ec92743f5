"""Layer attributes as Keras 3 documents them: kernel and bias, activation as
the function, trainable set on a layer reaching its sublayers."""

import numpy as np
import pytest

from glassnet import activations, layers, models
from glassnet.layers.base import Layer


def test_kernel_and_bias_read_the_current_weights():
    dense = layers.Dense(3)
    dense.build((None, 4))
    assert dense.kernel.shape == (4, 3) and dense.bias.shape == (3,)
    dense.set_weights([np.ones((4, 3)), np.full(3, 2.0)])
    np.testing.assert_array_equal(dense.kernel, np.ones((4, 3)))
    np.testing.assert_array_equal(dense.bias, np.full(3, 2.0))


def test_conv2d_kernel_has_keras_layout_and_no_bias_when_unused():
    conv = layers.Conv2D(5, 3, use_bias=False)
    conv.build((None, 8, 8, 2))
    assert conv.kernel.shape == (3, 3, 2, 5) and conv.bias is None


def test_kernel_of_an_unbuilt_layer_is_an_attribute_error():
    with pytest.raises(AttributeError):
        _ = layers.Dense(3).kernel


def test_activation_is_the_function_and_its_name_stays_available():
    dense = layers.Dense(3, activation="relu")
    assert dense.activation is activations.relu
    assert dense.activation_name == "relu"
    assert dense.get_config()["activation"] == "relu"
    assert layers.Dense(3).activation is activations.linear
    np.testing.assert_array_equal(dense.activation(np.array([-1.0, 2.0])), [0, 2])
    assert layers.Activation("softmax").activation is activations.softmax


def test_setting_activation_takes_a_name_or_a_function():
    dense = layers.Dense(3)
    dense.activation = activations.tanh
    assert dense.activation_name == "tanh"
    with pytest.raises(ValueError, match="activation"):
        dense.activation = "nope"


def test_softmax_output_still_fuses_with_cross_entropy():
    from glassnet.models.training import loss_and_output_grad

    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(3, activation="softmax")]
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    out, _, _ = model.forward_pass(np.ones((2, 4), dtype=np.float32), True)
    assert loss_and_output_grad(model, np.array([0, 1]), out, None)[2] is True


class Block(Layer):
    def __init__(self):
        super().__init__()
        self.inner = layers.Dense(2)
        self.outer = layers.Dense(2)

    def call(self, x):
        return self.outer(self.inner(x))


def test_trainable_false_on_a_layer_freezes_its_sublayers():
    block = Block()
    block.build((None, 3))
    assert len(block.trainable_weights) == 4
    block.trainable = False
    assert not block.inner.trainable and not block.outer.trainable
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 4


def test_a_frozen_sublayer_goes_to_non_trainable_weights_only():
    block = Block()
    block.build((None, 3))
    block.inner.trainable = False
    assert block.trainable_keys() == ["dense_1/kernel", "dense_1/bias"]
    assert [w.shape for w in block.non_trainable_weights] == [(3, 2), (2,)]
