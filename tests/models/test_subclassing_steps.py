"""Subclassed models' own steps (keras.io "Customizing what happens in fit()"
and its "Providing your own evaluation step"), the ``*_on_batch`` methods,
activity penalties and ``add_loss`` in ``call``, and saving a registered
subclassed model (Keras 3's ``register_keras_serializable`` + ``get_config``)."""

import numpy as np
import pytest

from glassnet import backend, layers, models, ops, optimizers, regularizers, saving
from glassnet.gradcheck import eval_numerical_gradient, rel_error
from glassnet.models import training
from glassnet.saving import registration


class MLP(models.Model):
    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="tanh")
        self.out = layers.Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))

    def get_config(self):
        return {"units": self.units}


class CountingEval(MLP):  # keras.io's "Providing your own evaluation step"
    calls = 0

    def test_step(self, data):
        CountingEval.calls += 1
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class Doubling(MLP):
    def predict_step(self, data):
        (x,) = data  # Keras hands predict_step a 1-tuple
        return 2 * self(x, training=False)


def _data(rng, n=32):
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x[:, :1] - x[:, 1:2]).astype("float32")


def _twins(cls):
    a, b = cls(), MLP()
    x = np.zeros((1, 3), np.float32)
    a(x), b(x)
    b.set_weights(a.get_weights())
    for m in (a, b):
        m.compile(optimizer=optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return a, b


def test_evaluate_and_test_on_batch_call_an_overridden_test_step(rng):
    x, y = _data(rng)
    custom, plain = _twins(CountingEval)
    CountingEval.calls = 0
    got = custom.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert CountingEval.calls == 4
    # Equal batches: the mean of batch losses is the per-sample mean.
    want = plain.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert got == pytest.approx(want, rel=1e-6)
    assert custom.test_on_batch(x[:8], y[:8]) == pytest.approx(
        plain.test_on_batch(x[:8], y[:8]), rel=1e-6
    )
    assert CountingEval.calls == 5


def test_fit_validates_with_the_overridden_test_step(rng):
    x, y = _data(rng)
    custom, plain = _twins(CountingEval)
    CountingEval.calls = 0
    kw = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    h = custom.fit(x, y, validation_data=(x[:16], y[:16]), **kw).history
    assert CountingEval.calls == 2 * 2  # two validation batches per epoch
    ref = plain.fit(x, y, validation_data=(x[:16], y[:16]), **kw).history
    for key in ("loss", "val_loss", "val_mae"):
        np.testing.assert_allclose(h[key], ref[key], rtol=1e-5)


def test_logs_other_than_the_metrics_are_the_last_steps_as_in_keras(rng):
    class Odd(MLP):
        def test_step(self, data):
            x, y = data
            return {"mean": ops.mean(self(x)), "n": len(x)}

    x, y = _data(rng, 20)
    model = Odd()
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    last = model.predict(x[16:], verbose=0)
    assert logs == {"mean": pytest.approx(float(last.mean())), "n": 4}
    h = model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0).history
    assert set(h) == {"loss", "val_mean", "val_n"}


def test_predict_and_predict_on_batch_call_an_overridden_predict_step(rng):
    x, _ = _data(rng, 10)
    model = Doubling()
    out = model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(out, 2 * model(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), 2 * model(x), rtol=1e-6)


def test_train_on_batch_calls_an_overridden_train_step_and_its_default_twin(rng):
    class Stepping(MLP):
        steps = 0

        def train_step(self, data):  # Keras' default, through super()
            Stepping.steps += 1
            return super().train_step(data)

    x, y = _data(rng, 16)
    custom, plain = _twins(Stepping)
    for _ in range(3):
        logs = custom.train_on_batch(x, y, return_dict=True)
        ref = plain.train_on_batch(x, y, return_dict=True)
    assert Stepping.steps == 3 and set(logs) == {"loss", "mae"}
    assert logs["loss"] == pytest.approx(ref["loss"], rel=1e-5)
    for a, b in zip(custom.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# -- penalties --


class Penalised(models.Model):
    def __init__(self, rate=0.1, extra=0.0):
        super().__init__()
        self.extra = extra
        self.hidden = layers.Dense(
            4, activation="tanh", activity_regularizer=regularizers.L2(rate)
        )
        self.out = layers.Dense(1)

    def call(self, inputs):
        h = self.hidden(inputs)
        if self.extra:
            self.add_loss(self.extra * ops.mean(ops.square(h)))
        return self.out(h)


def test_an_activity_penalty_is_the_closed_form_in_loss_and_losses(rng):
    x, y = _data(rng, 12)
    model = Penalised(rate=0.1)
    model.compile(optimizer="sgd", loss="mse")
    model(x)
    kernel, bias, k2, b2 = model.get_weights()
    h = np.tanh(x @ kernel + bias)
    out = h @ k2 + b2
    penalty = 0.1 * np.sum(h**2) / len(x)  # per sample, as glassnet's Sequential
    loss = model.evaluate(x, y, batch_size=12, verbose=0)
    assert loss == pytest.approx(np.mean((out - y) ** 2) + penalty, rel=1e-5)
    assert model.losses == [pytest.approx(penalty, rel=1e-5)]


def test_the_loss_gradient_includes_the_penalties_on_both_paths(rng):
    backend.set_floatx("float64")
    try:
        model = Penalised(rate=0.3, extra=0.5)
    finally:
        backend.set_floatx("float32")
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 1))
    model.compile(optimizer="sgd", loss="mse")
    model(x)
    kernel = model.hidden.params["kernel"]

    def total(_):
        out = model(x)
        return float(np.mean((out - y) ** 2)) + sum(model.losses)

    num = eval_numerical_gradient(total, kernel, verbose=False)
    # fit's path: forward_pass, the loss kernel's gradient, backward_pass.
    out, _, grads = model.forward_pass(x, training=True)
    _, dout, from_logits = training.loss_and_output_grad(model, y, out, None)
    model.backward_pass(dout, from_logits, grads)
    assert rel_error(model.hidden.grads["kernel"], num) < 1e-7
    # a user's tape with compute_loss (keras.io's train_step)
    with ops.GradientTape() as tape:
        loss = model.compute_loss(y=y, y_pred=model(x, training=True))
    assert float(loss) == pytest.approx(total(None), rel=1e-10)
    assert rel_error(tape.gradient(loss, kernel), num) < 1e-7


# -- saving --


@pytest.fixture
def clean_registry():
    saved = dict(registration._REGISTERED), dict(registration._NAMES)
    yield
    for live, before in zip(
        (registration._REGISTERED, registration._NAMES), saved, strict=True
    ):
        live.clear()
        live.update(before)


def test_a_registered_subclassed_model_saves_and_loads_with_equal_predictions(
    rng, tmp_path, clean_registry
):
    saving.register_serializable(package="Test")(MLP)
    x, y = _data(rng)
    model = MLP(units=5)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    clone = models.load_model(tmp_path / "m.h5")
    assert isinstance(clone, MLP) and clone.units == 5
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert clone.optimizer.iterations == model.optimizer.iterations
    # Both go on training identically (the optimizer state came along).
    for m in (model, clone):
        m.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_unregistered_subclassed_model_is_refused_saying_what_to_do(
    rng, tmp_path, clean_registry
):
    model = MLP()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="register_serializable.*get_config"):
        model.save(tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()
    model.save_weights(tmp_path / "w")  # weights need no class
    twin = MLP()
    twin(np.zeros((1, 3), np.float32))
    twin.load_weights(tmp_path / "w")
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_file_naming_a_class_not_given_is_refused_with_the_remedy(
    tmp_path, clean_registry
):
    saving.register_serializable(package="Test")(MLP)
    model = MLP()
    model(np.zeros((1, 3), np.float32))
    model.save(tmp_path / "m.h5")
    registration.unregister(MLP)
    with pytest.raises(ValueError, match="custom_objects=.*'MLP'"):
        models.load_model(tmp_path / "m.h5")
    clone = models.load_model(tmp_path / "m.h5", custom_objects={"MLP": MLP})
    np.testing.assert_array_equal(clone.get_weights()[0], model.get_weights()[0])
