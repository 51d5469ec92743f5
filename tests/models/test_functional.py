"""Graph models (Keras' functional API): Model(inputs, outputs) over symbolic
tensors. Oracles: the same layers as a Sequential, numerical gradients of the
whole graph's loss, and hand-computed values."""

import numpy as np
import pytest

from glassnet import layers, models, optimizers, utils
from glassnet.gradcheck import eval_numerical_gradient
from glassnet.layers.base import Layer
from glassnet.models import Functional
from glassnet.models.training import loss_and_output_grad


class Sum(Layer):
    """A two-input merge written against the engine's multi_input protocol, so
    that fan-in and fan-out are tested apart from the merge layers' own code."""

    multi_input = True

    def forward(self, xs, training=False):
        return xs[0] + xs[1]

    def backward(self, dout):
        return [dout, dout]

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


def float64_dense(units, activation=None, seed=0):
    return layers.Dense(
        units, activation=activation, dtype="float64", kernel_initializer="he_normal"
    )


def residual_model():
    # Seeded, and smooth activations only: a numerical gradient across ReLU's
    # kink would differ from the analytic one, by chance of the draw.
    utils.set_random_seed(5)
    x = layers.Input((5,))
    stem = float64_dense(5, "tanh")(x)
    h = float64_dense(5, "tanh")(stem)
    h = float64_dense(5)(h)
    s = Sum()([stem, h])  # stem fans out: to the block and to the sum
    y = float64_dense(3, "softmax")(s)
    model = models.Model(inputs=x, outputs=y)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def loss_of(model, x, y):
    out, penalty, _ = model.forward_pass(x, training=True)
    return model.loss.compute(y, out, None)[0] + penalty


def test_model_with_inputs_and_outputs_is_a_functional_model():
    x = layers.Input((4,))
    y = layers.Dense(2)(layers.Dense(3, activation="relu")(x))
    model = models.Model(inputs=x, outputs=y)
    assert isinstance(model, Functional) and isinstance(model, models.Model)
    assert model.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    assert model.output_shape == (None, 2)
    # Named when created, as Keras 3 does: Dense(2) was created first.
    assert [layer.name for layer in model.layers] == ["dense_1", "dense"]
    positional = models.Model(x, y)
    assert isinstance(positional, Functional)


def test_a_linear_graph_trains_exactly_as_the_same_sequential(rng):
    x_data = rng.normal(size=(32, 6)).astype(np.float32)
    y_data = rng.integers(0, 3, 32)

    def stack():
        return [
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.2, seed=3),
            layers.Dense(3, activation="softmax"),
        ]

    seq = models.Sequential([layers.Input((6,)), *stack()], seed=0)
    x = layers.Input((6,))
    t = x
    for layer in stack():
        t = layer(t)
    graph = models.Model(inputs=x, outputs=t, seed=0)
    graph.set_weights(seq.get_weights())
    # The Sequential drew its weights from its generator; the graph's layers
    # were built before the model existed. Same weights, same generator state:
    graph.rng.bit_generator.state = seq.rng.bit_generator.state
    for model in (seq, graph):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    a = seq.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0)
    b = graph.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0)
    assert a.history == b.history
    for u, v in zip(seq.get_weights(), graph.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(seq.predict(x_data), graph.predict(x_data))


def test_gradients_sum_where_a_tensor_fans_out(rng):
    model = residual_model()
    x, y = rng.normal(size=(4, 5)), rng.integers(0, 3, 4)
    out, _, grads = model.forward_pass(x, training=True)
    _, dout, from_logits = loss_and_output_grad(model, y, out, None)
    model.backward_pass(dout, from_logits, grads)
    for layer in model.layers:
        for key, w in layer.params.items():

            def f(_, w=w, key=key, layer=layer):
                return loss_of(model, x, y)

            numeric = eval_numerical_gradient(f, w, verbose=False)
            np.testing.assert_allclose(layer.grads[key], numeric, rtol=1e-5, atol=1e-8)


def test_a_shared_layer_sums_the_gradients_of_its_calls(rng):
    shared = float64_dense(4, "tanh")
    x = layers.Input((4,))
    y = float64_dense(2)(shared(shared(x)))  # the same weights, twice in a row
    model = models.Model(x, y)
    model.compile("sgd", "mse")
    assert model.layers.count(shared) == 1 and len(model.layers) == 2
    xs, ys = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    out, _, act = model.forward_pass(xs, training=True)
    _, dout = model.loss.compute(ys, out, None)
    model.backward_pass(dout, False, act)
    w = shared.params["kernel"]
    numeric = eval_numerical_gradient(
        lambda _: loss_of(model, xs, ys), w, verbose=False
    )
    np.testing.assert_allclose(shared.grads["kernel"], numeric, rtol=1e-5, atol=1e-8)


def test_a_residual_graph_learns(rng):
    x = rng.normal(size=(64, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = residual_model()
    opt = optimizers.Adam(0.01)
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=60, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_summary_shows_what_each_layer_is_connected_to():
    model = residual_model()
    lines = []
    assert model.summary(print_fn=lines.append) is None
    text = lines[0]
    assert "Connected to" in text
    assert "dense[0][0], dense_2[0][0]" in text  # the sum reads both
    assert "Total params: 108" in text  # 30 + 30 + 30 + 18


def test_refusals_name_what_is_wrong():
    a, b = layers.Input((3,)), layers.Input((3,))
    y = layers.Dense(2)(a)
    with pytest.raises(ValueError, match="tensors made by Input"):
        models.Model(inputs=y, outputs=y)
    with pytest.raises(ValueError, match="every input the outputs depend on"):
        models.Model(inputs=b, outputs=y)
    with pytest.raises(ValueError, match="symbolic tensors"):
        models.Model(inputs=np.ones((2, 3)), outputs=y)
    with pytest.raises(ValueError, match="expected one tensor"):
        layers.Dense(2)([a, b])
    with pytest.raises(ValueError, match="samples of shape"):
        models.Model(a, y).predict(np.ones((2, 4)))


def test_compile_takes_keras_execution_options_and_checks_them():
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(
        "sgd", "mse", jit_compile=True, run_eagerly=True, steps_per_execution=8
    )
    assert (model.jit_compile, model.run_eagerly, model.steps_per_execution) == (
        True,
        True,
        8,
    )
    for kwargs, name in (
        ({"jit_compile": "yes"}, "jit_compile"),
        ({"run_eagerly": 1}, "run_eagerly"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
    ):
        with pytest.raises(ValueError, match=f"^{name}: expected"):
            model.compile("sgd", "mse", **kwargs)


def test_keras_residual_and_inception_blocks_train_with_the_merge_layers(rng):
    # keras.io's functional-API guide: a toy ResNet block (Add) and an
    # Inception-style block (Concatenate) on images.
    inputs = layers.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    block = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    block = layers.Conv2D(4, 3, padding="same")(block)
    x = layers.add([x, block])
    branches = [
        layers.Conv2D(2, 1, activation="relu")(x),
        layers.Conv2D(2, 3, padding="same", activation="relu")(x),
        layers.MaxPooling2D(3, strides=1, padding="same")(x),
    ]
    x = layers.concatenate(branches)  # 2 + 2 + 4 channels
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = models.Model(inputs, outputs, name="toy_resnet")
    assert model.layers[-2].compute_output_shape((None, 8, 8, 8)) == (None, 8)
    images = rng.normal(size=(32, 8, 8, 1)).astype(np.float32)
    labels = (images[:, :4].mean(axis=(1, 2, 3)) > 0).astype(int)
    model.compile(
        optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(images, labels, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def toy_graph():
    # The layers draw their weights when called, before the model exists: as in
    # Keras, the global seed (not Model's seed=, which seeds shuffling) fixes them.
    utils.set_random_seed(0)
    inputs = layers.Input((6,))
    stem = layers.Dense(6, activation="relu")(inputs)
    branch = layers.Dense(6, activation="tanh")(stem)
    joined = layers.concatenate([layers.add([stem, branch]), branch])
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.2, seed=1)(joined))
    model = models.Model(inputs, outputs, name="toy", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_graph_model_saves_and_loads_with_its_optimizer(rng, tmp_path):
    x, y = rng.normal(size=(24, 6)).astype(np.float32), rng.integers(0, 3, 24)
    model = toy_graph()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "toy.h5")
    loaded = models.load_model(tmp_path / "toy.h5")
    assert isinstance(loaded, Functional) and loaded.name == "toy"
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # Both go on training identically: optimizer slots and generators restored.
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    clone = Functional.from_config(model.get_config())
    assert [type(layer) for layer in clone.layers] == [
        type(layer) for layer in model.layers
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["nodes"][0].update(inputs=[3]), "node index < 0"),
        (lambda c: c["nodes"][1].update(layer=99), "layer index <"),
        (lambda c: c.update(outputs=[42]), "config\\['outputs'\\]"),
        (lambda c: c.update(output=0), "either 'output' or 'outputs'"),
        (lambda c: c["nodes"][0].update(inputs=[-2]), "-1..-1 or a node index"),
        (lambda c: c["nodes"][0].update(extra=1), "a dict {layer, inputs}"),
        (lambda c: c["layers"].append(c["layers"][0]), "only layers the graph uses"),
    ],
)
def test_a_forged_graph_in_a_file_is_refused(tmp_path, change, message):
    import json

    from glassnet.errors import InvalidFileError
    from glassnet.saving.container import read_file, write_file

    model = toy_graph()
    path = tmp_path / "toy.h5"
    model.save(path)
    meta, tensors = read_file(str(path))
    spec = json.loads(meta["model"])
    change(spec["config"])
    meta["model"] = json.dumps(spec)
    write_file(str(path), tensors, {k: v for k, v in meta.items() if k != "checksum"})
    with pytest.raises(InvalidFileError, match=message):
        models.load_model(path)


def test_an_interrupted_graph_model_resumes_bitwise(rng, tmp_path):
    from glassnet.callbacks import BackupAndRestore, Callback

    class Crash(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("crash")

    x, y = rng.normal(size=(24, 6)).astype(np.float32), rng.integers(0, 3, 24)

    def fit(model, *cbs):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=list(cbs))

    whole = toy_graph()
    fit(whole, BackupAndRestore(tmp_path / "w"))
    with pytest.raises(RuntimeError, match="crash"):
        fit(toy_graph(), Crash(), BackupAndRestore(tmp_path / "r"))
    resumed = toy_graph()
    fit(resumed, BackupAndRestore(tmp_path / "r"))
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert whole.history.history == resumed.history.history


# -- what the review found --


def test_a_second_model_sharing_a_layer_leaves_the_first_ones_gradients(rng):
    # keras.io's autoencoder: a decoder model built from the autoencoder's layer
    # used to switch off that layer's input gradient for the autoencoder too.
    inp = layers.Input((4,))
    enc, dec = float64_dense(2, "tanh"), float64_dense(4)
    auto = models.Model(inp, dec(enc(inp)))
    auto.compile("sgd", "mse")
    code = layers.Input((2,))
    models.Model(code, auto.layers[-1](code))  # the decoder alone
    xs = rng.normal(size=(3, 4))
    out, _, act = auto.forward_pass(xs, training=True)
    _, dout = auto.loss.compute(xs, out, None)
    auto.backward_pass(dout, False, act)
    numeric = eval_numerical_gradient(
        lambda _: loss_of(auto, xs, xs), enc.params["kernel"], verbose=False
    )
    np.testing.assert_allclose(enc.grads["kernel"], numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_tape_gives_the_gradient_of_a_models_input(rng, kind):
    from glassnet import ops

    dense, out_layer = float64_dense(3, "tanh"), float64_dense(1)
    if kind == "sequential":
        model = models.Sequential([layers.Input((4,)), dense, out_layer])
    else:
        x_in = layers.Input((4,))
        model = models.Model(x_in, out_layer(dense(x_in)))
    x = rng.normal(size=(2, 4))
    with ops.GradientTape() as tape:
        y = ops.sum(model(x))
    (dx,) = tape.gradient(y, [x])
    numeric = eval_numerical_gradient(
        lambda _: float(model.predict(x, verbose=0).sum()), x, verbose=False
    )
    np.testing.assert_allclose(dx, numeric, rtol=1e-5, atol=1e-8)
    # And fit's own passes still skip it (need_dx) afterwards.
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((2, 1)), epochs=1, verbose=0)
    assert dense.need_dx is False


def test_a_graph_with_a_keras_style_custom_layer_saves_and_loads(rng, tmp_path):
    from glassnet import saving

    @saving.register_serializable(package="test_functional")
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    try:
        inp = layers.Input((4,))
        model = models.Model(inp, Scale()(layers.Dense(4)(inp)))
        model.save(tmp_path / "m.h5")
        loaded = saving.load_model(tmp_path / "m.h5")
        x = rng.normal(size=(2, 4)).astype(np.float32)
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    finally:
        saving.registration.unregister(Scale)
