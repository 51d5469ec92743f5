"""Models used as layers (Keras' transfer-learning idiom): inside a Sequential,
called on a symbolic tensor in a graph model, and called eagerly. Oracles: the
same layers flattened into one model, numerical gradients, frozen weights."""

import numpy as np
import pytest

from glassnet import layers, models, optimizers, utils
from glassnet.gradcheck import eval_numerical_gradient, rel_error
from glassnet.models import training


def make_base(name="base", dtype=None):
    return models.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(5, activation="tanh", dtype=dtype),
            layers.Dense(3, dtype=dtype),
        ],
        name=name,
    )


def test_a_nested_sequential_trains_exactly_as_its_layers_flattened(rng):
    base = make_base()
    outer = models.Sequential([base, layers.Dense(2)])
    flat = models.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(5, activation="tanh"),
            layers.Dense(3),
            layers.Dense(2),
        ]
    )
    flat.set_weights(outer.get_weights())
    assert [w.shape for w in outer.weights] == [w.shape for w in flat.weights]
    x, y = rng.normal(size=(24, 4)), rng.normal(size=(24, 2))
    runs = []
    for model in (outer, flat):
        model.compile(optimizers.Adam(0.01), "mse", metrics=["mae"])
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        runs.append((history.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for u, v in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(u, v)


def test_a_model_called_on_a_tensor_is_one_node_and_trains_as_flattened(rng):
    base = make_base()
    x = layers.Input((4,))
    graph = models.Model(x, layers.Dense(2, name="head")(base(x)))
    assert graph.get_layer("base") is base
    flat = models.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(5, activation="tanh"),
            layers.Dense(3),
            layers.Dense(2),
        ]
    )
    flat.set_weights(graph.get_weights())
    data_x, data_y = rng.normal(size=(16, 4)), rng.normal(size=(16, 2))
    for model in (graph, flat):
        model.compile(optimizers.SGD(0.1, momentum=0.9), "mse")
        model.fit(data_x, data_y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for u, v in zip(graph.get_weights(), flat.get_weights(), strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-6)
    np.testing.assert_allclose(base(data_x), base.predict(data_x), rtol=1e-6)


def test_optimizer_keys_are_unique_when_inner_and_outer_names_repeat():
    base = models.Sequential(
        [layers.Input((4,)), layers.Dense(3, name="dense")], name="base"
    )
    outer = models.Sequential([base, layers.Dense(2, name="dense")])
    keys = list(training._trainable_weights(outer))
    assert keys == [
        "base/dense/kernel",
        "base/dense/bias",
        "dense/kernel",
        "dense/bias",
    ]
    assert len(outer.trainable_weights) == 4


def test_a_frozen_base_keeps_its_weights_through_fit(rng):
    base = make_base()
    outer = models.Sequential([base, layers.Dense(2)])
    base.trainable = False
    assert len(outer.trainable_weights) == 2
    assert len(outer.non_trainable_weights) == 4
    before = [w.copy() for w in base.get_weights()]
    head = [w.copy() for w in outer.layers[1].get_weights()]
    outer.compile("adam", "mse")
    outer.fit(rng.normal(size=(16, 4)), rng.normal(size=(16, 2)), verbose=0)
    for u, v in zip(before, base.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(head[0], outer.layers[1].get_weights()[0])
    base.trainable = True  # the fine-tuning step trains it again
    outer.fit(rng.normal(size=(16, 4)), rng.normal(size=(16, 2)), verbose=0)
    assert not np.array_equal(before[0], base.get_weights()[0])


def test_summary_shows_the_nested_model_as_one_row(capsys):
    base = make_base()
    outer = models.Sequential([base, layers.Dense(2)])
    base.trainable = False
    outer.summary()
    text = capsys.readouterr().out
    assert "base (Sequential)" in text
    row = next(line for line in text.splitlines() if line.startswith("base"))
    assert row.split()[-1] == "43"  # 4 * 5 + 5 + 5 * 3 + 3
    assert "Trainable params: 8" in text and "Non-trainable params: 43" in text


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_model_with_a_nested_model_saves_and_loads(rng, tmp_path, kind):
    base = make_base()
    if kind == "sequential":
        outer = models.Sequential([base, layers.Dense(2)])
    else:
        x = layers.Input((4,))
        outer = models.Model(x, layers.Dense(2)(base(x)))
    outer.compile("adam", "mse")
    data_x, data_y = rng.normal(size=(8, 4)), rng.normal(size=(8, 2))
    outer.fit(data_x, data_y, epochs=2, verbose=0)
    base.trainable = False
    outer.save(tmp_path / "outer.h5")
    clone = models.load_model(tmp_path / "outer.h5")
    inner = clone.get_layer("base")
    assert isinstance(inner, models.Sequential) and inner.trainable is False
    np.testing.assert_array_equal(clone.predict(data_x), outer.predict(data_x))
    outer.fit(data_x, data_y, epochs=1, shuffle=False, verbose=0)
    clone.fit(data_x, data_y, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(outer.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def test_a_nested_weight_forged_in_a_file_is_refused_before_it_is_made(tmp_path):
    import json

    from glassnet.errors import InvalidFileError
    from glassnet.saving.container import read_file, write_file

    outer = models.Sequential([make_base(), layers.Dense(2)])
    outer.save(tmp_path / "outer.h5")
    meta, tensors = read_file(str(tmp_path / "outer.h5"))
    spec = json.loads(meta["model"])
    spec["config"]["layers"][0]["config"]["layers"][0]["config"]["units"] = 2**30
    meta["model"] = json.dumps(spec)
    path = str(tmp_path / "forged.h5")
    write_file(path, tensors, {k: v for k, v in meta.items() if k != "checksum"})
    with pytest.raises(InvalidFileError, match="weight 'kernel' of layer 'dense'"):
        models.load_model(path)


def test_a_shared_nested_model_passes_a_numerical_gradient_check(rng):
    utils.set_random_seed(2)
    base = make_base(dtype="float64")
    a, b = layers.Input((4,)), layers.Input((4,))
    # A siamese pair: one model at two nodes; each node's caches are its own.
    merged = layers.Concatenate()([base(a), base(b)])
    model = models.Model([a, b], layers.Dense(1, dtype="float64")(merged))
    model.compile("sgd", "mse")
    xs, y = [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))], rng.normal(size=(3, 1))

    def loss(_):
        out, _, _ = model.forward_pass(xs, training=True)
        return model.loss.compute(y, out, None)[0]

    out, _, activity = model.forward_pass(xs, training=True)
    _, dout, flag = training.loss_and_output_grad(model, y, out, None)
    model.backward_pass(dout, flag, activity)
    for layer in model.layers:
        for key in list(layer.grads):
            analytic = np.array(layer.grads[key])
            num = eval_numerical_gradient(loss, layer.params[key], verbose=False)
            assert rel_error(analytic, num) < 1e-7, (layer.name, key)


def test_a_nested_model_below_weights_passes_its_input_gradient_on(rng):
    # The head's gradient must cross the nested model to reach the stem below.
    utils.set_random_seed(4)
    stem = layers.Dense(4, activation="tanh", dtype="float64")
    outer = models.Sequential(
        [
            layers.Input((3,)),
            stem,
            make_base(dtype="float64"),
            layers.Dense(1, dtype="float64"),
        ]
    )
    outer.compile("sgd", "mse")
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    out, _, activity = outer.forward_pass(x, training=True)
    _, dout, flag = training.loss_and_output_grad(outer, y, out, None)
    outer.backward_pass(dout, flag, activity)

    def loss(_):
        return outer.loss.compute(y, outer.forward_pass(x, True)[0], None)[0]

    num = eval_numerical_gradient(loss, stem.params["kernel"], verbose=False)
    assert rel_error(stem.grads["kernel"], num) < 1e-7


def test_activity_penalties_inside_a_nested_model_join_the_loss(rng):
    def stack():
        return [
            layers.Dense(5, activation="tanh", activity_regularizer="l2"),
            layers.Dense(3),
        ]

    base = models.Sequential([layers.Input((4,)), *stack()], name="base")
    x = layers.Input((4,))
    graph = models.Model(x, layers.Dense(2)(base(x)))
    flat = models.Sequential([layers.Input((4,)), *stack(), layers.Dense(2)])
    flat.set_weights(graph.get_weights())
    data_x, data_y = rng.normal(size=(12, 4)), rng.normal(size=(12, 2))
    runs = []
    for model in (graph, flat):
        model.compile(optimizers.SGD(0.1), "mse")
        history = model.fit(data_x, data_y, epochs=2, shuffle=False, verbose=0)
        runs.append((history.history["loss"], model.losses, model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-6)
    for u, v in zip(runs[0][2], runs[1][2], strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-5)
