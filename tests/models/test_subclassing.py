"""``class MyModel(Model)`` with ``call`` (keras.io's ``Model`` docs and
"Making new layers and models via subclassing"), and an overridden
``train_step`` ("Customizing what happens in fit()"), imports changed."""

import numpy as np
import pytest

from glassnet import layers, models, ops, optimizers
from glassnet.layers import Layer


class MyModel(models.Model):  # keras.io's Model docstring example
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(32, activation="relu")
        self.dense2 = layers.Dense(5, activation="softmax")

    def call(self, inputs, training=None):
        x = self.dense1(inputs)
        return self.dense2(x)


def _functional_twin():
    inputs = layers.Input(shape=(8,))
    x = layers.Dense(32, activation="relu")(inputs)
    return models.Model(inputs, layers.Dense(5, activation="softmax")(x))


def _data(rng, n=64):
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, (x[:, :5].argmax(axis=1)).astype("int64")


def test_layers_are_tracked_from_attributes_and_built_on_first_call(rng):
    model = MyModel()
    assert isinstance(model, MyModel) and isinstance(model, models.Model)
    assert type(model).__name__ == "MyModel" and MyModel.__bases__ == (models.Model,)
    assert [type(la).__name__ for la in model.layers] == ["Dense", "Dense"]
    out = model(rng.normal(size=(3, 8)))
    assert out.shape == (3, 5) and model.count_params() == 8 * 32 + 32 + 32 * 5 + 5
    assert [w.shape for w in model.get_weights()] == [(8, 32), (32,), (32, 5), (5,)]
    assert len(model.trainable_weights) == 4


def test_a_subclassed_model_equals_the_functional_model_with_its_weights(rng):
    x, y = _data(rng)
    sub, graph = MyModel(), _functional_twin()
    sub(x[:1])
    graph.set_weights(sub.get_weights())
    np.testing.assert_allclose(sub.predict(x, verbose=0), graph.predict(x, verbose=0))
    for model in (sub, graph):
        model.compile(
            optimizer=optimizers.SGD(0.1),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    h_sub = sub.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    h_graph = graph.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    # The graph fuses softmax with the loss; the tape does not: float32 rounding.
    np.testing.assert_allclose(h_sub.history["loss"], h_graph.history["loss"], 1e-5)
    assert h_sub.history["accuracy"] == h_graph.history["accuracy"]
    for a, b in zip(sub.get_weights(), graph.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert sub.evaluate(x, y, verbose=0) == pytest.approx(
        graph.evaluate(x, y, verbose=0), rel=1e-5
    )


class Linear(Layer):  # keras.io's subclassing guide
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class OpsModel(models.Model):  # a model whose call mixes ops and layers
    def __init__(self):
        super().__init__()
        self.blocks = [Linear(16), Linear(1)]

    def call(self, inputs):  # no training argument: Keras passes it only if taken
        h = ops.relu(self.blocks[0](inputs))
        return self.blocks[1](h) + 0.5 * ops.sum(inputs, axis=-1, keepdims=True)


def test_a_model_using_ops_trains_with_fit_and_reduces_the_loss(rng):
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x**2).sum(axis=1, keepdims=True)
    model = OpsModel()
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    hist = model.fit(x, y, batch_size=16, epochs=40, verbose=0)
    assert [la.name for la in model.layers] == ["linear", "linear_1"]
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


class CustomModel(models.Model):  # "Customizing what happens in fit()", first one
    calls = 0

    def train_step(self, data):
        CustomModel.calls += 1  # type(self) is glassnet's subclass of it
        x, y = data
        with ops.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _regression(rng):
    x = rng.random((96, 32)).astype("float32")
    return x, rng.random((96, 1)).astype("float32")


def test_fit_calls_an_overridden_train_step_and_history_holds_its_logs(rng):
    x, y = _regression(rng)
    inputs = layers.Input(shape=(32,))
    outputs = layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    CustomModel.calls = 0
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert CustomModel.calls == 9
    assert set(history.history) >= {"loss", "mae"}
    assert len(history.history["loss"]) == 3
    assert all(isinstance(v, float) for v in history.history["mae"])


def test_the_train_step_override_equals_the_default_fit(rng):
    x, y = _regression(rng)
    inputs = layers.Input(shape=(32,))
    custom = CustomModel(inputs, layers.Dense(1)(inputs))
    inputs = layers.Input(shape=(32,))
    plain = models.Model(inputs, layers.Dense(1)(inputs))
    plain.set_weights(custom.get_weights())
    results = []
    for model in (custom, plain):
        model.compile(optimizer=optimizers.SGD(0.05), loss="mse", metrics=["mae"])
        h = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
        results.append(h.history)
    # Equal batches: the mean of batch losses is fit's per-sample mean.
    np.testing.assert_allclose(results[0]["loss"], results[1]["loss"], rtol=1e-5)
    np.testing.assert_allclose(results[0]["mae"], results[1]["mae"], rtol=1e-5)
    np.testing.assert_allclose(custom.get_weights()[0], plain.get_weights()[0], 1e-5)


def test_a_subclass_taking_arguments_and_one_user_base_stay_independent():
    # Model(...) is a graph model only for (inputs, outputs); user classes are
    # never rewritten, so two subclasses of one user base keep their engines.
    class MLP(models.Model):
        def __init__(self, units):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    assert MLP(4)(np.ones((2, 3), np.float32)).shape == (2, 4)

    class Base(models.Model):
        pass

    class A(Base):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    class B(Base):
        pass

    A()(np.ones((1, 3), np.float32))
    inp = layers.Input((3,))
    graph = B(inp, layers.Dense(2)(inp))
    assert isinstance(graph, B) and graph.output_shape == (None, 2)
    assert Base.__bases__ == (models.Model,) and A.__bases__ == (Base,)
