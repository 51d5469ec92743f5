"""keras.io "Customizing what happens in fit()" (TensorFlow version,
guides/custom_train_step_in_tensorflow.py), imports changed: ``tf.GradientTape``
is ``glassnet.ops.GradientTape``, ``tf.concat`` is ``ops.concatenate``,
``keras.Model`` is ``models.Model`` (glassnet has no top-level ``Model``).

256 random samples replace the guide's 1000, with the guide's shapes; the GAN's
images are 8x8 with 16 filters instead of 28x28 with 128, on 128 random images.
"""

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, models, ops


def _data(rng, n=256):
    return rng.random((n, 32)), rng.random((n, 1))


class CustomModel(models.Model):
    calls = 0

    def train_step(self, data):
        CustomModel.calls += 1
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        with ops.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compute_loss(y=y, y_pred=y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


def test_fit_runs_the_overridden_train_step_as_the_built_in_one(rng):
    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # Oracle: the plain model, same weights, same batches (shuffle=False).
    inputs = keras.Input(shape=(32,))
    plain = models.Model(inputs, keras.layers.Dense(1)(inputs))
    plain.set_weights(model.get_weights())
    plain.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # Just use `fit` as usual
    x, y = _data(rng)
    CustomModel.calls = 0
    history = model.fit(x, y, epochs=3, shuffle=False, verbose=0).history
    expected = plain.fit(x, y, epochs=3, shuffle=False, verbose=0).history

    assert CustomModel.calls == 3 * 8  # batch_size defaults to 32
    assert set(history) == {"loss", "mae"}
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["mae"], expected["mae"], rtol=1e-5)


class LowLevelModel(models.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data

        with ops.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute our own loss
            loss = self.loss_fn(y, y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {
            "loss": self.loss_tracker.result(),
            "mae": self.mae_metric.result(),
        }

    @property
    def metrics(self):
        # Listed here so that their states are reset at each epoch's start.
        return [self.loss_tracker, self.mae_metric]


@pytest.mark.xfail(
    strict=True,
    reason="compile() without a loss is refused (gap): 'loss: expected a loss "
    "name or Loss object; received None'",
)
def test_a_train_step_with_its_own_loss_and_metrics_needs_only_an_optimizer(rng):
    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = LowLevelModel(inputs, outputs)

    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")

    # Just use `fit` as usual -- you can use callbacks, etc.
    x, y = _data(rng)
    epoch_ends = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_ends.append(
            float(model.loss_tracker.result())
        )
    )
    history = model.fit(x, y, epochs=5, callbacks=[record], verbose=0).history
    assert set(history) == {"loss", "mae"}
    assert history["loss"][-1] < history["loss"][0]
    # The metrics listed in `metrics` are reset at the start of each epoch.
    assert epoch_ends == [0.0] * 5


class WeightedModel(models.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        with ops.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value.
            # The loss function is configured in `compile()`.
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update the metrics.
        # Metrics are configured in `compile()`.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.xfail(
    strict=True,
    reason="fit(sample_weight=) of shape (N, 1) is refused (gap): 'sample_weight: "
    "expected shape (256,); received shape (256, 1)' (Keras accepts (N, 1))",
)
def test_a_train_step_receives_the_sample_weights(rng):
    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = WeightedModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # You can now use sample_weight argument
    x, y = _data(rng)
    sw = rng.random((256, 1))
    # Oracle: the plain model with the same weights and batches.
    inputs = keras.Input(shape=(32,))
    plain = models.Model(inputs, keras.layers.Dense(1)(inputs))
    plain.set_weights(model.get_weights())
    plain.compile(optimizer="adam", loss="mse", metrics=["mae"])

    history = model.fit(x, y, sample_weight=sw, epochs=3, shuffle=False, verbose=0)
    expected = plain.fit(x, y, sample_weight=sw, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        history.history["loss"], expected.history["loss"], rtol=1e-5
    )


class EvalModel(models.Model):
    calls = 0

    def test_step(self, data):
        EvalModel.calls += 1
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        loss = self.compute_loss(y=y, y_pred=y_pred)
        # Update the metrics.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_evaluate_runs_the_overridden_test_step(rng):
    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = EvalModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])

    # Evaluate with our custom test_step
    x, y = _data(rng)
    EvalModel.calls = 0
    result = model.evaluate(x, y, verbose=0)

    assert EvalModel.calls == 8  # batch_size defaults to 32
    y_pred = model.predict(x, verbose=0)
    # Equal batches: the mean of the batch means is the mean over samples.
    np.testing.assert_allclose(
        result, [np.mean((y_pred - y) ** 2), np.mean(np.abs(y_pred - y))], rtol=1e-5
    )


class GAN(models.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        # Sample random points in the latent space
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images
        combined_images = ops.concatenate([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = ops.concatenate(
            [np.ones((batch_size, 1)), np.zeros((batch_size, 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * keras.random.uniform(
            ops.shape(labels), seed=self.seed_generator
        )

        # Train the discriminator
        with ops.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # Sample random points in the latent space
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Assemble labels that say "all real images"
        misleading_labels = np.zeros((batch_size, 1))

        # Train the generator (the discriminator's weights must not change)!
        with ops.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)

        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {
            "d_loss": self.d_loss_tracker.result(),
            "g_loss": self.g_loss_tracker.result(),
        }


@pytest.mark.xfail(
    strict=True,
    reason="glassnet has no keras.random (SeedGenerator, normal, uniform) nor "
    "ops.shape (gap)",
)
def test_the_gan_trains_both_networks_with_its_own_compile(rng):
    # Create the discriminator
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    # Create the generator
    latent_dim = 16
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # 2 * 2 * 16 coefficients, reshaped into a 2x2x16 map
            layers.Dense(2 * 2 * 16),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((2, 2, 16)),
            layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    all_digits = rng.random((128, 8, 8, 1)).astype("float32")

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    d_before = [w.copy() for w in discriminator.get_weights()]
    g_before = [w.copy() for w in generator.get_weights()]
    history = gan.fit(all_digits, epochs=1, batch_size=64, verbose=0).history

    assert set(history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(history["d_loss"] + history["g_loss"]))
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(
            d_before + g_before,
            discriminator.get_weights() + generator.get_weights(),
            strict=True,
        )
    ]
    assert all(changed)
