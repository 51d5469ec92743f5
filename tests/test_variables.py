"""glassnet.Variable: Keras 3's weights, as NumPy arrays that know their path."""

import copy
import pickle

import numpy as np
import pytest

from glassnet import Variable, layers, losses, models, ops, optimizers
from glassnet.layers import Layer
from glassnet.saving import load_model


def _mlp(seed=0):
    return models.Sequential(
        [layers.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)],
        seed=seed,
    )


def _data(rng, n=32):
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 2))


# ---- attributes ---------------------------------------------------------------


def test_a_layer_weight_has_keras_attributes_and_views_the_layer_array():
    model = _mlp()
    dense = model.layers[0]
    kernel = dense.kernel
    assert isinstance(kernel, Variable) and isinstance(kernel, np.ndarray)
    assert kernel.name == "kernel" and kernel.path == "dense/kernel"
    assert dense.bias.path == "dense/bias"
    assert [w.path for w in model.weights] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert kernel.shape == (3, 4) and kernel.dtype == np.float32
    assert kernel.trainable
    assert kernel.value is dense.params["kernel"]
    assert np.shares_memory(np.asarray(kernel), dense.params["kernel"])
    values = kernel.numpy()
    assert type(values) is np.ndarray and not np.shares_memory(values, kernel)
    np.testing.assert_array_equal(values, dense.params["kernel"])
    assert "path=dense/kernel" in repr(kernel) and "shape=(3, 4)" in repr(kernel)


def test_the_same_variable_object_between_accesses():
    model = _mlp()
    dense = model.layers[0]
    assert dense.kernel is dense.kernel is model.weights[0]
    assert model.trainable_weights[1] is dense.bias
    assert model.trainable_weights == model.weights


def test_arithmetic_indexing_and_numpy_functions_give_plain_arrays():
    kernel = _mlp().layers[0].kernel
    plain = np.array(kernel)
    for result, expected in [
        (kernel * 2, plain * 2),
        (kernel + kernel, plain + plain),
        (kernel @ np.ones(4, "float32"), plain @ np.ones(4, "float32")),
        (np.dot(kernel, np.ones(4)), np.dot(plain, np.ones(4))),
        (kernel[0], plain[0]),
        (kernel.T, plain.T),
        (kernel.reshape(4, 3), plain.reshape(4, 3)),
        (np.concatenate([kernel, kernel]), np.concatenate([plain, plain])),
        (np.zeros_like(kernel), np.zeros_like(plain)),
        (kernel.copy(), plain),
        (np.maximum(kernel, 0), np.maximum(plain, 0)),
    ]:
        assert type(result) is np.ndarray
        np.testing.assert_array_equal(result, expected)
    assert kernel.sum() == pytest.approx(plain.sum())
    assert float(np.linalg.norm(kernel)) == pytest.approx(np.linalg.norm(plain))


def test_moving_statistics_and_frozen_layers_are_not_trainable():
    bn = layers.BatchNormalization()
    bn(np.zeros((2, 3), "float32"))
    by_name = {w.name: w for w in bn.weights}
    assert by_name["gamma"].trainable and not by_name["moving_mean"].trainable
    assert by_name["moving_mean"].path == f"{bn.name}/moving_mean"
    bn.trainable = False
    assert not by_name["gamma"].trainable
    with pytest.raises(AttributeError, match="layer's trainable"):
        by_name["gamma"].trainable = True


# ---- assign -------------------------------------------------------------------


def test_assign_add_sub_write_the_layer_weight_in_place():
    model = _mlp()
    dense = model.layers[1]
    x = np.ones((1, 4), "float32")
    kernel, bias = dense.kernel, dense.bias
    kernel.assign(np.zeros((4, 2)))
    bias.assign([1.0, 2.0])
    np.testing.assert_array_equal(dense(x), [[1.0, 2.0]])
    bias.assign_add(np.array([0.5, 0.5]))
    kernel.assign_sub(np.ones((4, 2)))  # kernel -1: each output sums -4
    np.testing.assert_array_equal(dense(x), [[-2.5, -1.5]])
    assert kernel.value is dense.params["kernel"]  # in place: no new array
    with pytest.raises(ValueError, match=r"^value.*\(4, 2\).*\(2, 4\)"):
        kernel.assign(np.zeros((2, 4)))


def test_a_variable_held_across_fit_sees_the_trained_values_and_assign_reaches_predict(
    rng,
):
    model = _mlp()
    model.compile(optimizers.Adam(0.01), "mse")
    x, y = _data(rng)
    kernel = model.layers[1].kernel
    before = kernel.numpy()
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    dense = model.layers[1]
    assert not np.allclose(before, kernel)  # the optimizer wrote into it
    np.testing.assert_array_equal(kernel, dense.params["kernel"])
    assert kernel is dense.kernel
    kernel.assign(np.zeros((4, 2)))
    expected = np.broadcast_to(dense.bias.numpy(), (len(x), 2))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected)


def test_assign_reaches_the_layer_even_when_its_array_was_replaced():
    model = _mlp()
    dense = model.layers[1]
    old = dense.kernel
    dense.params["kernel"] = np.ones((4, 2), "float32")  # a new array
    old.assign(np.full((4, 2), 2.0))
    np.testing.assert_array_equal(dense.params["kernel"], np.full((4, 2), 2.0))
    np.testing.assert_array_equal(old, np.full((4, 2), 2.0))
    np.testing.assert_array_equal(old.numpy(), dense.params["kernel"])
    assert dense.kernel is not old and dense.kernel.value is dense.params["kernel"]


def test_self_w_of_a_subclassed_layer_is_its_variable_with_a_nested_path():
    class Linear(Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")

        def call(self, inputs):
            return ops.matmul(inputs, self.w)

    class Block(Layer):
        def __init__(self):
            super().__init__(name="block")
            self.inner = Linear(2)

        def call(self, inputs):
            return self.inner(inputs)

    block = Block()
    block(np.ones((1, 3), "float32"))
    w = block.inner.w
    assert isinstance(w, Variable) and w is block.weights[0]
    assert w.path == f"block/{block.inner.name}/w" and w.name == "w"
    w.assign(np.ones((3, 2)))
    np.testing.assert_array_equal(block(np.ones((1, 3), "float32")), [[3.0, 3.0]])


# ---- tapes and optimizers ----------------------------------------------------


def test_tape_gradient_and_apply_gradients_over_model_variables(rng):
    model = _mlp()
    x, y = _data(rng, n=8)
    loss_fn = losses.MeanSquaredError()
    with ops.GradientTape(persistent=True) as tape:
        loss = loss_fn(y, model(x, training=True))
    variables = model.trainable_weights
    grads = tape.gradient(loss, variables)
    arrays = [layer.params[k] for layer in model.layers for k in ("kernel", "bias")]
    # A Variable and its layer's array are one source.
    for g, a in zip(grads, tape.gradient(loss, arrays), strict=True):
        np.testing.assert_array_equal(g, a)
    # fit's own gradient, from the layers' backward passes, is the same.
    out, _, act = model.forward_pass(x, training=True)
    _, dout = loss_fn.compute(y, out)
    model.backward_pass(dout, False, act)
    for g, layer_grad in zip(
        grads, [g for la in model.layers for g in la.grads.values()], strict=True
    ):
        np.testing.assert_allclose(g, layer_grad, rtol=1e-6)
    before = [v.numpy() for v in variables]
    optimizer = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    assert len(optimizer.slots) == 4  # one set of slots per weight, both steps
    for v, b, g in zip(model.trainable_weights, before, grads, strict=True):
        # Two momentum steps with the same gradient: -lr g (1 + (1 + 0.9)).
        np.testing.assert_allclose(v, b - 0.1 * g * 2.9, rtol=1e-5, atol=1e-7)
    assert model.trainable_weights[0] is variables[0]


def test_a_standalone_variable_under_a_tape_and_an_optimizer():
    v = Variable(np.array([1.0, 2.0, 3.0]), name="v")
    x = np.array([1.0, -1.0, 2.0])
    with ops.GradientTape(persistent=True) as tape:
        a = ops.sum(ops.square(v))
        t = ops.square(x)
        b = ops.sum(v * t)  # the op output on either side is recorded
        c = ops.sum(t * v)
    np.testing.assert_allclose(tape.gradient(a, v), 2 * v.numpy())
    np.testing.assert_allclose(tape.gradient(b, v), x**2)
    np.testing.assert_allclose(tape.gradient(c, v), x**2)
    optimizers.SGD(learning_rate=0.5).apply_gradients([(np.ones(3, "float32"), v)])
    assert isinstance(v, Variable)
    np.testing.assert_allclose(v, [0.5, 1.5, 2.5])


def test_keras_variable_construction():
    v = Variable("zeros", shape=(2, 3))
    assert v.dtype == np.float32 and v.shape == (2, 3) and not v.any()
    assert v.name == "variable" and Variable(1.0).name == "variable_1"
    w = Variable([[1, 2]], dtype="float64", trainable=False, name="w")
    assert w.dtype == np.float64 and not w.trainable and w.path == "w"
    w.trainable = True
    assert w.trainable
    w.assign([[3.0, 4.0]])
    np.testing.assert_array_equal(w.value, [[3.0, 4.0]])
    v += 1  # in place: still the variable
    assert isinstance(v, Variable) and v.numpy().sum() == 6
    with pytest.raises(ValueError, match="^shape"):
        Variable("ones")
    with pytest.raises(ValueError, match="^shape"):
        Variable(np.zeros(3), shape=(2,))
    with pytest.raises(ValueError, match="^dtype"):
        Variable(np.zeros(3), dtype="int32")


# ---- get_weights, saving, copies ----------------------------------------------


def test_get_weights_gives_plain_numpy_copies():
    model = _mlp()
    weights = model.get_weights()
    assert all(type(w) is np.ndarray for w in weights)
    weights[0][...] = 7.0
    assert not np.any(model.layers[0].kernel == 7.0)
    assert all(type(w) is np.ndarray for w in model.layers[0].get_weights())


def test_saving_and_loading_are_unaffected_and_load_writes_in_place(tmp_path, rng):
    model = _mlp()
    model.compile("adam", "mse")
    x, y = _data(rng)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [w.path for w in loaded.weights][0].endswith("/kernel")
    twin = _mlp(seed=1)
    held = twin.layers[0].kernel
    twin.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(held, model.layers[0].kernel)
    twin.set_weights([np.zeros_like(w) for w in twin.get_weights()])
    assert not held.any()


def test_pickle_and_copies_of_a_weight_are_plain_arrays():
    kernel = _mlp().layers[0].kernel
    for other in (pickle.loads(pickle.dumps(kernel)), copy.deepcopy(kernel)):
        assert type(other) is np.ndarray
        np.testing.assert_array_equal(other, kernel)
        assert not np.shares_memory(other, kernel)
