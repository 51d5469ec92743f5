"""keras.io's "Writing a training loop from scratch", imports changed: a model
called under a GradientTape records its layers, a loss object records itself,
and ``optimizer.apply_gradients`` steps the weights in place. The loop equals
``fit`` with the same optimizer and batches."""

import numpy as np
import pytest

from glassnet import layers, losses, metrics, models, ops, optimizers


def _data(rng, n=128):
    x = rng.normal(size=(n, 20)).astype("float32")
    y = (x[:, :4].argmax(axis=1)).astype("int64")  # a learnable rule, 4 classes
    return x, y


def _functional():
    inputs = layers.Input(shape=(20,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = layers.Dense(64, activation="relu")(x1)
    outputs = layers.Dense(4, name="predictions")(x2)
    return models.Model(inputs=inputs, outputs=outputs)


def _sequential():
    return models.Sequential(
        [
            layers.Input(shape=(20,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(4),
        ]
    )


class MLP(models.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(64, activation="relu")
        self.dense2 = layers.Dense(64, activation="relu")
        self.dense3 = layers.Dense(4)

    def call(self, inputs, training=None):
        return self.dense3(self.dense2(self.dense1(inputs)))


def _subclassed():
    model = MLP()
    model(np.zeros((1, 20), "float32"))  # builds the layers
    return model


def _custom_loop(model, x, y, epochs, batch_size=32):
    """The guide's loop, with tf.data replaced by slicing."""
    optimizer = optimizers.SGD(learning_rate=0.1)
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = metrics.SparseCategoricalAccuracy()
    epoch_losses = []
    for _epoch in range(epochs):
        total = 0.0
        for step in range(0, len(x), batch_size):
            x_batch_train = x[step : step + batch_size]
            y_batch_train = y[step : step + batch_size]
            with ops.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))  # noqa: B905
            train_acc_metric.update_state(y_batch_train, logits)
            total += float(loss_value) * len(x_batch_train)
        epoch_losses.append(total / len(x))
        train_acc_metric.reset_state()
    return epoch_losses


@pytest.mark.parametrize("make", [_functional, _sequential, _subclassed])
def test_custom_loop_converges_and_equals_fit(make, rng):
    x, y = _data(rng)
    loop_model, fit_model = make(), make()
    fit_model.set_weights(loop_model.get_weights())
    loop_losses = _custom_loop(loop_model, x, y, epochs=10)
    fit_model.compile(
        optimizer=optimizers.SGD(learning_rate=0.1),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = fit_model.fit(x, y, batch_size=32, epochs=10, shuffle=False, verbose=0)
    np.testing.assert_allclose(loop_losses, history.history["loss"], rtol=1e-5)
    assert loop_losses[-1] < 0.5 * loop_losses[0]
    for a, b in zip(loop_model.get_weights(), fit_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradients_of_a_model_under_a_tape_are_the_fit_gradients(rng):
    model = _sequential()
    x, y = _data(rng, n=16)
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    with ops.GradientTape() as tape:
        loss_value = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss_value, model.trainable_weights)
    out, _, act = model.forward_pass(x, training=True)
    loss, dout = loss_fn.compute(y, out)
    model.backward_pass(dout, False, act)
    expected = [g for layer in model.layers for g in layer.grads.values()]
    assert float(loss_value) == pytest.approx(float(loss))
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(g, e)


def test_a_loss_outside_a_tape_is_a_float(rng):
    x, y = _data(rng, n=8)
    value = losses.SparseCategoricalCrossentropy(from_logits=True)(y, x[:, :4])
    assert isinstance(value, float)


def test_apply_gradients_updates_the_layers_weights_in_place():
    model = _sequential()
    weights = model.trainable_weights
    before = [w.copy() for w in weights]
    grads = [np.ones_like(w) for w in weights]
    optimizer = optimizers.SGD(learning_rate=0.5)
    assert optimizer.apply_gradients(zip(grads, weights)) == 1  # noqa: B905
    for w, b, now in zip(weights, before, model.trainable_weights, strict=True):
        assert w is now
        np.testing.assert_allclose(w, b - 0.5)


def test_apply_gradients_skips_none_and_refuses_mismatched_shapes():
    w = np.zeros(3, "float32")
    optimizer = optimizers.SGD(learning_rate=1.0)
    optimizer.apply_gradients([(None, w)])
    assert optimizer.iterations == 0
    with pytest.raises(ValueError, match="grads_and_vars"):
        optimizer.apply_gradients([(np.ones(2), w)])


def test_momentum_slots_follow_each_variable_across_steps():
    w = np.zeros(2, "float32")
    optimizer = optimizers.SGD(learning_rate=1.0, momentum=0.5)
    for _ in range(2):
        optimizer.apply_gradients([(np.ones(2, "float32"), w)])
    # v1 = -1, w1 = -1; v2 = 0.5 * -1 - 1 = -1.5, w2 = -2.5 (Keras' SGD rule)
    np.testing.assert_allclose(w, [-2.5, -2.5])
