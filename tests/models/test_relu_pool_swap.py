"""A ReLU followed by max pooling runs after the pooling: same values, same gradients.

The oracle is the plain chain: every layer's own ``forward`` and ``backward`` in
order, which applies the ReLU before the pooling.
"""

import numpy as np
import pytest

from glassnet import layers, models, optimizers, regularizers
from glassnet.gradcheck import eval_numerical_gradient
from glassnet.models import training


def convnet(dtype="float32", **conv_kwargs):
    return models.Sequential(
        [
            layers.Input(shape=(8, 8, 2)),
            layers.Conv2D(4, 3, activation="relu", dtype=dtype, **conv_kwargs),
            layers.MaxPooling2D(2, dtype=dtype),
            layers.Conv2D(3, 3, padding="same", dtype=dtype),
            layers.BatchNormalization(dtype=dtype),
            layers.ReLU(dtype=dtype),
            layers.MaxPooling2D(2, strides=1, padding="same", dtype=dtype),
            layers.Flatten(),
            layers.Dense(5, activation="softmax", dtype=dtype),
        ],
        seed=0,
    )


def grads_of(model):
    return {
        (layer.name, key): grad.copy()
        for layer in model.layers
        for key, grad in layer.grads.items()
    }


def chain_step(model, x, dout):
    """Output and every weight gradient of the plain chain (ReLU, then pooling)."""
    h = x
    for layer in model.layers:
        h = layer.forward(h, True)
    out = h.copy()
    d = dout
    for layer in reversed(model.layers):
        d = layer.backward(d)
        if d is None:
            break
    return out, grads_of(model)


def swapped_step(model, x, dout):
    out, _, activity = training.forward(model.layers, x, True)
    training.backward(model.layers, dout, False, activity)
    return out.copy(), grads_of(model)


def test_the_pairs_found_are_a_relu_then_a_max_pooling():
    model = convnet()
    assert training.relu_before_max_pool(model.layers) == {0, 4}
    others = [
        layers.Conv2D(2, 3, activation="tanh"),  # not a ReLU
        layers.MaxPooling2D(2),
        layers.ReLU(),
        layers.AveragePooling2D(2),  # not a maximum
        layers.LeakyReLU(),  # negative values keep their order: not flattened
        layers.MaxPooling2D(2),
        layers.Activation("relu"),
        layers.GlobalMaxPooling2D(),
    ]
    assert training.relu_before_max_pool(others) == {6}


def test_an_activity_regularizer_keeps_the_plain_order():
    conv = layers.Conv2D(
        2, 3, activation="relu", activity_regularizer=regularizers.L2(0.1)
    )
    assert training.relu_before_max_pool([conv, layers.MaxPooling2D(2)]) == set()


@pytest.mark.parametrize("integer_valued", [False, True])
def test_output_and_gradients_equal_the_plain_chain_bitwise(rng, integer_valued):
    # Integer-valued inputs and weights make many windows tie, at 0 and above.
    model = convnet()
    x = rng.standard_normal((6, 8, 8, 2)).astype(np.float32)
    if integer_valued:
        x = np.round(x)
        for layer in model.layers[:1]:
            layer.params["kernel"][...] = np.round(layer.params["kernel"] * 2)
    dout = rng.standard_normal((6, 5)).astype(np.float32)
    # Training-mode batchnorm updates its running statistics; both runs start
    # from the same ones and see the same batch.
    out_chain, grads_chain = chain_step(model, x, dout)
    out_swapped, grads_swapped = swapped_step(model, x, dout)
    np.testing.assert_array_equal(out_swapped, out_chain)
    assert grads_swapped.keys() == grads_chain.keys()
    for key, grad in grads_chain.items():
        np.testing.assert_array_equal(grads_swapped[key], grad, err_msg=str(key))


def test_predict_equals_the_plain_chain(rng):
    model = convnet()
    x = rng.standard_normal((5, 8, 8, 2)).astype(np.float32)
    h = x
    for layer in model.layers:
        h = layer.forward(h, False)
    np.testing.assert_array_equal(model.predict(x, verbose=0), h)


def test_the_swapped_path_passes_a_numerical_gradient_check(rng):
    model = convnet(dtype="float64")
    model.compile(
        optimizer=optimizers.SGD(1e-9), loss="sparse_categorical_crossentropy"
    )
    x = rng.standard_normal((4, 8, 8, 2))
    y = rng.integers(0, 5, 4)

    def loss(_):
        out, _, _ = training.forward(model.layers, x, True)
        return training.loss_and_output_grad(model, y, out, None)[0]

    out, _, activity = training.forward(model.layers, x, True)
    _, dout, from_logits = training.loss_and_output_grad(model, y, out, None)
    training.backward(model.layers, dout, from_logits, activity)
    for index in (0, 2):
        kernel = model.layers[index].params["kernel"]
        analytic = model.layers[index].grads["kernel"].copy()
        numeric = eval_numerical_gradient(loss, kernel, verbose=False, h=1e-6)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
