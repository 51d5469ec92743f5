import numpy as np
import pytest

from glassnet import layers, losses, models, optimizers


def blobs(rng, n=600, d=20, classes=3):
    centres = rng.normal(size=(classes, d)) * 3
    y = rng.integers(classes, size=n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def mlp(seed=0, **kwargs):
    return models.Sequential(
        [
            layers.Input(shape=(20,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ],
        seed=seed,
        **kwargs,
    )


def test_the_seed_mlp_has_keras_parameter_count_and_summary():
    model = models.Sequential(
        [
            layers.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    # Keras reports 101,770 parameters for this model: 784*128+128 + 128*10+10.
    assert model.count_params() == 101_770
    lines = []
    assert model.summary(print_fn=lines.append) is None  # a notebook shows it once
    text = lines[0]
    assert "dense_1 (Dense)" in text and "(None, 10)" in text
    assert "Total params: 101,770" in text


def test_an_mlp_learns_a_learnable_problem_and_logs_keras_keys(rng):
    X, y = blobs(rng)
    model = mlp()
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(X, y, epochs=5, batch_size=32, validation_split=0.2, verbose=0)
    assert set(history.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
    }  # Keras 3: learning_rate only with ReduceLROnPlateau/LearningRateScheduler
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(X, y, verbose=0)
    assert acc > 0.95
    probs = model.predict(X[:7], batch_size=3, verbose=0)
    assert probs.shape == (7, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    # float32 matrix products may round differently with another batch size.
    np.testing.assert_allclose(model(X[:7]), probs, rtol=1e-5)


def test_validation_split_takes_the_last_samples_before_shuffling(rng):
    X, y = blobs(rng, n=100)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=1, validation_split=0.25, verbose=0)
    val_loss = model.history.history["val_loss"][0]
    expected = model.evaluate(X[75:], y[75:], verbose=0)
    assert val_loss == pytest.approx(expected, rel=1e-6)


def test_the_fused_softmax_crossentropy_equals_the_loss_on_probabilities(rng):
    X, y = blobs(rng, n=40)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    probs = model.predict(X, verbose=0)
    direct = losses.SparseCategoricalCrossentropy()(y, probs)
    assert model.evaluate(X, y, verbose=0) == pytest.approx(direct, rel=1e-5)


def test_train_on_batch_takes_one_sgd_step_with_the_right_gradient(rng):
    X, y = blobs(rng, n=8)
    model = models.Sequential([layers.Dense(3, input_shape=(20,))], seed=0)
    model.compile(optimizer=optimizers.SGD(0.5), loss="mse")
    target = rng.normal(size=(8, 3)).astype(np.float32)
    kernel, bias = model.get_weights()
    model.train_on_batch(X, target)
    out = X @ kernel + bias
    dout = 2 * (out - target) / (8 * 3)  # d/dout of mean over samples and outputs
    np.testing.assert_allclose(
        model.get_weights()[0], kernel - 0.5 * X.T @ dout, rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        model.get_weights()[1], bias - 0.5 * dout.sum(0), rtol=1e-4, atol=1e-6
    )


def test_layer_names_are_unique_and_weights_round_trip(rng):
    model = mlp()
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    other = mlp(seed=1)
    other.set_weights(model.get_weights())
    X, _ = blobs(rng, n=5)
    np.testing.assert_array_equal(other(X), model(X))
    with pytest.raises(ValueError, match="weights"):
        other.set_weights(model.get_weights()[:1])


def test_stop_training_set_by_a_callback_ends_training(rng):
    from glassnet.callbacks import Callback

    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    X, y = blobs(rng, n=64)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(X, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert history.epoch == [0, 1]


def test_bad_inputs_and_settings_raise_value_errors(rng):
    X, y = blobs(rng, n=10)
    model = mlp()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(X, y, verbose=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x and y"):
        model.fit(X, y[:5], verbose=0)
    with pytest.raises(ValueError, match="x"):
        model.fit(X[:, :5], y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="loss"):
        model.compile(optimizer="adam", loss="crossentropy")
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(optimizer="adamax", loss="mse")
    with pytest.raises(ValueError, match="metrics"):
        model.compile(optimizer="adam", loss="mse", metrics=["f1"])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, y, verbose=0)


def test_validation_steps_limit_the_validation_batches(rng):
    X, y = blobs(rng, n=100)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(
        X[:60],
        y[:60],
        epochs=1,
        validation_data=(X[60:], y[60:]),
        validation_batch_size=10,
        validation_steps=1,
        verbose=0,
    )
    expected = model.evaluate(X[60:70], y[60:70], verbose=0)
    assert model.history.history["val_loss"][0] == pytest.approx(expected, rel=1e-6)


def test_a_small_cnn_learns_a_synthetic_image_problem_to_high_accuracy(rng):
    # The class is the quadrant holding a bright 3x3 blob on a noisy 12x12 image.
    n = 400
    y = rng.integers(4, size=n)
    X = rng.normal(scale=0.3, size=(n, 12, 12, 1)).astype(np.float32)
    for i, q in enumerate(y):
        r, c = 6 * (q // 2) + rng.integers(0, 3), 6 * (q % 2) + rng.integers(0, 3)
        X[i, r : r + 3, c : c + 3, 0] += 2.0
    model = models.Sequential(
        [
            layers.Input(shape=(12, 12, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(4, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(X[:300], y[:300], epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(X[300:], y[300:], verbose=0)[1] > 0.9


def test_weighted_metrics_use_sample_weights_and_get_their_own_key(rng):
    X, y = blobs(rng, n=64)
    model = mlp()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy"],
    )
    sw = np.zeros(64)
    sw[:8] = 1.0
    logs = model.evaluate(X, y, sample_weight=sw, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy", "weighted_accuracy"}
    hits = model.predict(X, verbose=0).argmax(1) == y
    assert logs["accuracy"] == pytest.approx(hits.mean())
    assert logs["weighted_accuracy"] == pytest.approx(hits[:8].mean())


def test_fit_options_class_weight_initial_epoch_steps_and_validation_freq(rng):
    X, y = blobs(rng, n=64)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(
        X,
        y,
        epochs=4,
        initial_epoch=1,
        steps_per_epoch=2,
        batch_size=8,
        validation_data=(X, y),
        validation_freq=2,
        shuffle=False,
        class_weight={0: 1.0, 1: 2.0, 2: 0.5},
        verbose=0,
    )
    assert history.epoch == [1, 2, 3]
    assert len(history.history["loss"]) == 3
    # Validation after the 2nd and 4th epochs (Keras counts epochs from 1).
    assert len(history.history["val_loss"]) == 2
    assert model.optimizer.iterations == 3 * 2
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(X, y, class_weight={0: 1.0}, verbose=0)


def test_validation_runs_the_users_test_hooks_and_on_batch_aliases_are_called(rng):
    from glassnet.callbacks import Callback

    class Counter(Callback):
        def __init__(self):
            super().__init__()
            self.calls = {"test_begin": 0, "batch_end": 0}

        def on_test_begin(self, logs=None):
            self.calls["test_begin"] += 1

        def on_batch_end(self, batch, logs=None):
            self.calls["batch_end"] += 1

    X, y = blobs(rng, n=40)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    counter = Counter()
    model.fit(
        X,
        y,
        epochs=2,
        batch_size=10,
        validation_split=0.25,
        callbacks=[counter],
        verbose=0,
    )
    assert counter.calls == {"test_begin": 2, "batch_end": 2 * 3}


def test_activity_regularizer_on_a_softmax_output_gets_the_right_gradient(rng):
    from glassnet import regularizers
    from glassnet.gradcheck import eval_numerical_gradient
    from glassnet.models import training

    X, y = blobs(rng, n=6)
    model = models.Sequential(
        [
            layers.Dense(
                3,
                activation="softmax",
                input_shape=(20,),
                activity_regularizer=regularizers.L2(0.5),
                dtype="float64",
            )
        ],
        seed=0,
    )
    model.compile(
        optimizer=optimizers.SGD(1e-9), loss="sparse_categorical_crossentropy"
    )
    layer = model.layers[0]

    def total_loss(_):
        out, penalty, _ = training.forward(model.layers, X.astype(np.float64), True)
        return training.loss_and_output_grad(model, y, out, None)[0] + penalty

    out, _, activity = training.forward(model.layers, X.astype(np.float64), True)
    _, dout, from_logits = training.loss_and_output_grad(model, y, out, None)
    training.backward(model.layers, dout, from_logits, activity)
    analytic = layer.grads["kernel"].copy()
    numeric = eval_numerical_gradient(total_loss, layer.params["kernel"], verbose=False)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_evaluate_and_predict_validate_verbose(rng):
    X, y = blobs(rng, n=4)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="verbose"):
        model.evaluate(X, y, verbose=7)
    with pytest.raises(ValueError, match="verbose"):
        model.predict(X, verbose="loud")


def test_batch_methods_and_pop(rng):
    X, y = blobs(rng, n=16)
    model = mlp()
    model.compile(
        optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    loss, acc = model.test_on_batch(X, y)
    assert [loss, acc] == pytest.approx(model.evaluate(X, y, batch_size=16, verbose=0))
    np.testing.assert_allclose(
        model.predict_on_batch(X), model.predict(X, verbose=0), rtol=1e-5
    )
    before = model.get_weights()
    model.test_on_batch(X, y)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    last = model.pop()
    assert last.name == "dense_1" and len(model.layers) == 1
    assert model.output_shape == (None, 32)


def test_evaluate_counts_the_weight_and_activity_penalties(rng):
    from glassnet import regularizers

    X, y = blobs(rng, n=8)
    model = models.Sequential(
        [
            layers.Dense(
                3,
                activation="softmax",
                input_shape=(20,),
                kernel_regularizer=regularizers.L2(0.1),
                activity_regularizer=regularizers.L1(0.2),
            )
        ],
        seed=0,
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    probs = model.predict(X, verbose=0)
    data = losses.SparseCategoricalCrossentropy()(y, probs)
    kernel = model.get_weights()[0]
    expected = data + 0.1 * np.sum(kernel**2) + 0.2 * np.abs(probs).sum() / len(X)
    assert model.evaluate(X, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def _grads_after_one_backward(model, x, dout):
    from glassnet.models import training

    training.forward(model.layers, x, True)
    training.backward(model.layers, dout, False, {})
    return [dict(layer.grads) for layer in model.layers if layer.params]


@pytest.mark.parametrize(
    "stack, sample_shape",
    [
        (lambda: [layers.Flatten(), layers.Dense(4, "relu"), layers.Dense(3)], (2, 3)),
        (
            lambda: [
                layers.Rescaling(0.5, offset=0.1),
                layers.Normalization(mean=0.2, variance=2.0),
                layers.Conv2D(2, 3, padding="same", activation="relu"),
                layers.Flatten(),
                layers.Dense(3),
            ],
            (5, 5, 2),
        ),
    ],
)
def test_skipping_dx_below_the_first_weighted_layer_keeps_every_weight_gradient(
    rng, stack, sample_shape
):
    model = models.Sequential([layers.Input(sample_shape), *stack()], seed=0)
    first = next(i for i, layer in enumerate(model.layers) if layer.params)
    assert [layer.need_dx for layer in model.layers[: first + 1]] == [False] * (
        first + 1
    )
    x = rng.standard_normal((4, *sample_shape)).astype(np.float32)
    dout = rng.standard_normal((4, 3)).astype(np.float32)
    skipped = _grads_after_one_backward(model, x, dout)
    for layer in model.layers:  # the reference: every input gradient computed
        layer.need_dx = True
    full = _grads_after_one_backward(model, x, dout)
    for got, want in zip(skipped, full, strict=True):
        assert got.keys() == want.keys()
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def test_fit_ends_with_the_weights_moving_averages_when_the_optimizer_uses_ema(rng):
    # Oracle: the same run without EMA (the trajectory is the same, since the
    # weights are never overwritten mid-run), averaged by hand batch by batch.
    from glassnet.callbacks import Callback

    class Record(Callback):
        def __init__(self):
            super().__init__()
            self.steps, self.at_end = [], None

        def on_train_batch_end(self, batch, logs=None):
            self.steps.append([w.copy() for w in self.model.get_weights()])

        def on_train_end(self, logs=None):
            self.at_end = [w.copy() for w in self.model.get_weights()]

    X, y = blobs(rng, n=96)
    runs = {}
    for use_ema in (False, True):
        model = mlp()
        model.compile(
            optimizers.Adam(0.01, use_ema=use_ema, ema_momentum=0.8),
            "sparse_categorical_crossentropy",
        )
        record = Record()
        model.fit(X, y, batch_size=32, epochs=2, callbacks=[record], verbose=0)
        runs[use_ema] = (model, record)
    plain, ema = runs[False][1], runs[True][1]
    assert len(plain.steps) == 6
    for a, b in zip(plain.steps[-1], ema.steps[-1], strict=True):
        np.testing.assert_array_equal(a, b)  # same trajectory until the end
    averages = plain.steps[0]
    for step in plain.steps[1:]:
        averages = [0.8 * a + 0.2 * w for a, w in zip(averages, step, strict=True)]
    final = runs[True][0].get_weights()
    for got, seen_by_callback, want in zip(final, ema.at_end, averages, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(seen_by_callback, got)
