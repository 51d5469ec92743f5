"""keras.io "Writing a training loop from scratch" (TensorFlow version,
guides/writing_a_custom_training_loop_in_tensorflow.py), imports changed:
``tf.GradientTape`` is ``glassnet.ops.GradientTape``, ``tf.reduce_sum`` is
``ops.sum``, and ``keras.Model`` is ``models.Model`` (glassnet has no top-level
``Model``).

600 synthetic flat "digits" (uint8, as the guide's unscaled MNIST) replace MNIST,
the last 100 held out for validation (the guide: the last 10,000), and a small
batching generator replaces ``tf.data.Dataset.from_tensor_slices(...)
.shuffle(1024).batch(batch_size)``. The GAN at the end of the guide is left out.
"""

import numpy as np
import pytest

import glassnet as keras
from glassnet import models, ops


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = models.Model(inputs=inputs, outputs=outputs)
    return model


def _load_data(rng, n=600):
    templates = rng.random((10, 28, 28))
    y = rng.integers(0, 10, size=n)
    x = (255 * (0.6 * templates[y] + 0.4 * rng.random((n, 28, 28)))).astype("uint8")
    return x, y


def _dataset(x, y, batch_size, rng=None):
    """Batches of (x, y) in order, or shuffled each pass when given an rng."""

    class Dataset:
        def __iter__(self):
            order = np.arange(len(x)) if rng is None else rng.permutation(len(x))
            for i in range(0, len(x), batch_size):
                yield x[order[i : i + batch_size]], y[order[i : i + batch_size]]

    return Dataset()


def _prepare(rng, batch_size=32):
    x_train, y_train = _load_data(rng)
    x_train = np.reshape(x_train, (-1, 784))
    # Reserve 100 samples for validation.
    x_val = x_train[-100:]
    y_val = y_train[-100:]
    x_train = x_train[:-100]
    y_train = y_train[:-100]
    train_dataset = _dataset(x_train, y_train, batch_size, np.random.default_rng(1))
    val_dataset = _dataset(x_val, y_val, batch_size)
    return (x_train, y_train), (x_val, y_val), train_dataset, val_dataset


def test_the_first_end_to_end_loop_reduces_the_loss(rng):
    model = get_model()
    # Instantiate an optimizer.
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    _, _, train_dataset, _ = _prepare(rng)

    epoch_losses = []
    epochs = 3
    for _epoch in range(epochs):
        losses = []
        for _step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            with ops.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply(grads, model.trainable_weights)
            losses.append(float(loss_value))
        epoch_losses.append(np.mean(losses))

    assert len(losses) == 16  # ceil(500 / 32) steps an epoch
    assert epoch_losses[-1] < 0.5 * epoch_losses[0]


def test_the_tape_loop_with_apply_gradients_equals_fit(rng):
    # The older text of the guide: optimizer.apply_gradients(zip(grads, vars)).
    # Oracle: fit() on the same batches in the same order, from the same
    # weights, with the same optimizer, must end at the same weights.
    (x_train, y_train), _, _, _ = _prepare(rng)
    x_train = x_train.astype("float32") / 255
    model, twin = get_model(), get_model()
    twin.set_weights(model.get_weights())

    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for _epoch in range(2):
        for x_batch_train, y_batch_train in _dataset(x_train, y_train, 50):
            with ops.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))  # noqa: B905

    twin.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss_fn)
    twin.fit(x_train, y_train, batch_size=50, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_metrics_update_reset_and_the_validation_loop(rng):
    # Get a fresh model
    model = get_model()
    # Instantiate an optimizer to train the model.
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Prepare the metrics.
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    _, (x_val, y_val), train_dataset, val_dataset = _prepare(rng)

    def train_step(x, y):  # the guide's @tf.function step, run eagerly
        with ops.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value, logits

    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    val_accs = []
    epochs = 2
    for _epoch in range(epochs):
        hits = []
        for x_batch_train, y_batch_train in train_dataset:
            _, logits = train_step(x_batch_train, y_batch_train)
            hits.extend(np.argmax(logits, axis=-1) == y_batch_train)

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        # The metric is the accuracy over every sample seen this epoch.
        assert float(train_acc) == pytest.approx(np.mean(hits))
        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_state()
        assert float(train_acc_metric.result()) == 0.0

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        expected = np.mean(np.argmax(model(x_val, training=False), -1) == y_val)
        assert float(val_acc) == pytest.approx(expected)
        val_accs.append(float(val_acc))

    assert val_accs[-1] > 0.5  # ten classes: chance is 0.1


class ActivityRegularizationLayer(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * ops.sum(inputs))
        return inputs


@pytest.mark.xfail(strict=True, reason="Layer.add_loss is missing (gap)")
def test_losses_added_in_the_forward_pass_join_the_loss(rng):
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    model = models.Model(inputs=inputs, outputs=outputs)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x_batch, y_batch = next(iter(_prepare(rng)[2]))
    x_batch = x_batch.astype("float32") / 255

    with ops.GradientTape() as tape:
        logits = model(x_batch, training=True)
        loss_value = loss_fn(y_batch, logits)
        # Add any extra losses created during the forward pass.
        loss_value += sum(model.losses)
    grads = tape.gradient(loss_value, model.trainable_weights)
    optimizer.apply(grads, model.trainable_weights)

    assert len(model.losses) == 1
    hidden = model.layers[0](x_batch)
    assert float(model.losses[0]) == pytest.approx(1e-2 * float(np.sum(hidden)), 1e-4)
