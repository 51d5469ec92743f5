"""Keras-style subclassed layers: ``build`` + ``add_weight`` + ``call`` with
glassnet.ops, backward by the tape (keras.io "Making new layers and models via
subclassing")."""

import numpy as np

from glassnet import backend, ops
from glassnet.functional import affine_backward, affine_forward
from glassnet.gradcheck import eval_numerical_gradient_array, rel_error
from glassnet.layers import Dense, Layer
from glassnet.models import Sequential


class Linear(Layer):  # keras.io's example, imports changed
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class HandLinear(Layer):  # the glass-box way: the same layer by hand
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, rng=None):
        self.add_weight("w", (input_shape[-1], self.units), "random_normal", rng)
        self.add_weight("b", (self.units,), "random_normal", rng)
        super().build(input_shape)

    def forward(self, x, training=False):
        out, self._cache = affine_forward(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout):
        dx, dw, db = affine_backward(dout, self._cache)
        self.grads = {"w": dw, "b": db}
        return dx


class MLPBlock(Layer):  # keras.io's example: a layer holding layers
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = ops.relu(x)
        x = self.linear_2(x)
        x = ops.relu(x)
        return self.linear_3(x)


def test_linear_builds_weights_with_keras_add_weight_keywords(rng):
    layer = Linear(4, dtype="float64")
    out = layer(rng.standard_normal((2, 3)))
    assert out.shape == (2, 4) and type(out) is np.ndarray
    assert layer.weight_names == ["variable", "variable_1"]
    assert [w.shape for w in layer.trainable_weights] == [(3, 4), (4,)]
    # self.w is the weight's Variable: a view of the array the layer computes with.
    assert layer.w is layer.trainable_weights[0]
    assert layer.w.value is layer.params["variable"]


def test_linear_backward_by_the_tape_passes_a_gradient_check(rng):
    layer = Linear(4, dtype="float64")
    x = rng.standard_normal((5, 3))
    out = layer(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    num_dx = eval_numerical_gradient_array(lambda v: layer(v), x, dout)
    assert rel_error(dx, num_dx) < 1e-8
    layer(x)
    layer.backward(dout)
    for key, w in layer.params.items():
        num = eval_numerical_gradient_array(lambda _: layer(x), w, dout)
        assert rel_error(layer.grads[key], num) < 1e-8, key


def test_linear_equals_the_hand_written_layer_and_dense(rng):
    x = rng.standard_normal((6, 3))
    auto, hand, dense = Linear(4), HandLinear(4), Dense(4)
    auto(x), hand(x), dense(x)
    hand.set_weights(auto.get_weights())
    dense.set_weights(auto.get_weights())
    np.testing.assert_array_equal(auto(x), hand(x))
    np.testing.assert_array_equal(auto(x), dense(x))
    dout = rng.standard_normal((6, 4)).astype(np.float32)
    dx_auto, dx_hand = auto.backward(dout), hand.backward(dout)
    np.testing.assert_allclose(dx_auto, dx_hand, rtol=1e-6)
    for a, h in zip(auto.grads.values(), hand.grads.values(), strict=True):
        np.testing.assert_allclose(a, h, rtol=1e-6)


def test_a_sequential_with_a_subclassed_layer_trains_with_fit(rng):
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3
    model = Sequential([Linear(8), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.build((None, 3))
    assert model.output_shape == (None, 1)
    before = model.layers[0].get_weights()
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.75 * losses[0]
    after = model.layers[0]
    assert not np.array_equal(before[0], after.w)  # self.w follows the update
    assert after.w.value is after.params["variable"]


def test_a_layer_called_under_a_tape_is_one_op_on_it(rng):
    layer = Linear(2, dtype="float64")
    x = rng.standard_normal((3, 4))
    layer(x)
    with ops.GradientTape() as tape:
        loss = ops.sum(ops.square(layer(x)))
    grads = tape.gradient(loss, layer.trainable_weights)
    out = layer(x)
    layer.backward(2 * out)
    for g, key in zip(grads, ["variable", "variable_1"], strict=True):
        np.testing.assert_allclose(g, layer.grads[key])


def test_a_built_in_layer_under_a_tape_uses_its_own_backward(rng):
    dense = Dense(3, activation="tanh", dtype="float64")
    x = rng.standard_normal((4, 2))
    dense(x)
    with ops.GradientTape() as tape:
        loss = ops.sum(dense(x))
    dk, db = tape.gradient(loss, dense.trainable_weights)
    num = eval_numerical_gradient_array(
        lambda _: dense(x), dense.params["kernel"], np.ones((4, 3))
    )
    assert rel_error(dk, num) < 1e-8


def test_mlp_block_holds_its_sublayers_weights_and_trains(rng):
    backend.set_floatx("float64")  # the sublayers too, for the gradient check
    try:
        block = MLPBlock()
    finally:
        backend.set_floatx("float32")
    x = rng.standard_normal((5, 3))
    y = block(x)
    assert y.shape == (5, 1)
    assert len(block.trainable_weights) == 6  # keras.io: "weights: 6"
    assert block.weight_names[0] == "linear/variable"
    dout = rng.standard_normal(y.shape)
    block.backward(dout)
    key = "linear_1/variable"
    num = eval_numerical_gradient_array(lambda _: block(x), block.params[key], dout)
    # Relative to the largest entry (as gradcheck.check_kernel): entries near a
    # ReLU kink are tiny and carry only rounding noise.
    assert np.max(np.abs(block.grads[key] - num)) < 1e-7 * np.max(np.abs(num))
    model = Sequential([MLPBlock()], seed=0)
    model.compile(optimizer="adam", loss="mse")
    xs = rng.standard_normal((32, 3)).astype(np.float32)
    ys = xs.sum(axis=1, keepdims=True)
    losses = model.fit(xs, ys, epochs=20, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    inner = model.layers[0].linear_1  # named when created: linear_3 (Keras 3)
    assert inner.name == "linear_3"
    assert inner.w.value is model.layers[0].params["linear_3/variable"]


def test_add_weight_keeps_the_glassnet_positional_form(rng):
    dense = Dense(2)
    dense.build((None, 3), rng)
    assert dense.weight_names == ["kernel", "bias"]
