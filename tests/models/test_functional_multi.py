"""Graph models of several inputs and outputs: per-output losses, weights,
metrics and logs, structured data, saving. Oracles: closed forms from the
weights, numerical gradients (float64), the list and dict forms of one graph,
PyTorch's autograd where installed."""

import numpy as np
import pytest

from glassnet import layers, models, optimizers, utils
from glassnet.gradcheck import eval_numerical_gradient, rel_error
from glassnet.models.structure import Rows
from glassnet.models.training import loss_and_output_grad


def two_by_two():
    """Inputs a (2,), b (1,); outputs p = Dense(1) and q = Dense(2) of [a, b]."""
    a, b = layers.Input((2,), name="a"), layers.Input((1,), name="b")
    h = layers.Concatenate()([a, b])
    p = layers.Dense(1, name="p")(h)
    q = layers.Dense(2, name="q")(h)
    return a, b, p, q


def data(rng, n=10):
    return (
        rng.normal(size=(n, 2)),
        rng.normal(size=(n, 1)),
        rng.normal(size=(n, 1)),
        rng.normal(size=(n, 2)),
    )


def test_structure_attributes_follow_keras():
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    assert model.input_names == ["a", "b"] and model.output_names == ["p", "q"]
    assert model.inputs == [a, b] and model.outputs == [p, q]
    assert model.input_shape == [(None, 2), (None, 1)]
    assert model.output_shape == [(None, 1), (None, 2)]
    keyed = models.Model({"b": b, "a": a}, {"second": q, "first": p})
    assert keyed.output_names == ["first", "second"]  # sorted, as Keras flattens
    assert keyed.input_names == ["a", "b"]
    assert set(keyed.output) == {"first", "second"}


def test_weighted_losses_logs_and_one_sgd_step_match_closed_forms(rng):
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng)
    wp, bp = rng.normal(size=(3, 1)), rng.normal(size=(1,))
    wq, bq = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    model.set_weights([wp, bp, wq, bq])
    lr = 0.1
    model.compile(
        optimizers.SGD(lr), ["mse", "mae"], loss_weights=[0.5, 2.0], metrics=None
    )
    xc = np.concatenate([xa, xb], axis=1)
    err_p, err_q = xc @ wp + bp - yp, xc @ wq + bq - yq
    p_loss, q_loss = np.mean(err_p**2), np.mean(np.abs(err_q))
    expected = [0.5 * p_loss + 2.0 * q_loss, p_loss, q_loss]
    assert model.metrics_names == ["loss", "p_loss", "q_loss"]
    got = model.evaluate([xa, xb], [yp, yq], batch_size=4, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    model.train_on_batch({"a": xa, "b": xb}, {"p": yp, "q": yq})
    n = len(xa)
    # d(mse)/dwp = 2/N xc^T err; d(mae)/dwq = xc^T sign(err) / (N * 2 units)
    new_wp = wp - lr * 0.5 * (2 / n) * xc.T @ err_p
    new_wq = wq - lr * 2.0 * xc.T @ np.sign(err_q) / (n * 2)
    np.testing.assert_allclose(model.get_layer("p").get_weights()[0], new_wp, 1e-5)
    np.testing.assert_allclose(model.get_layer("q").get_weights()[0], new_wq, 1e-5)


def test_history_keys_are_keras_3s(rng):
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng, 20)
    model.compile("sgd", ["mse", "mse"], metrics=[[], ["mae", "mse"]])
    history = model.fit([xa, xb], [yp, yq], epochs=1, verbose=0, validation_split=0.25)
    keys = ["loss", "p_loss", "q_loss", "q_mae", "q_mse"]
    assert list(history.history) == [*keys, *(f"val_{k}" for k in keys)]
    # One loss for every output: each output's loss is logged (Keras 3).
    model.compile("sgd", "mse", metrics=["mae", None])
    history = model.fit([xa, xb], [yp, yq], epochs=1, verbose=0)
    assert list(history.history) == ["loss", "p_loss", "q_loss", "p_mae"]
    # Only one output with a loss: no per-output loss (dict outputs may omit).
    keyed = models.Model({"a": a, "b": b}, {"p": p, "q": q})
    keyed.compile("sgd", {"q": "mse"})
    history = keyed.fit({"a": xa, "b": xb}, {"q": yq}, epochs=1, verbose=0)
    assert list(history.history) == ["loss"]


def test_evaluate_returns_losses_then_metrics_sorted(rng):
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng)
    model.compile("sgd", "mse", metrics={"q": ["mse"], "p": ["mae"]})
    logs = model.evaluate([xa, xb], [yp, yq], verbose=0, return_dict=True)
    values = model.evaluate([xa, xb], [yp, yq], verbose=0)
    order = ["loss", "p_loss", "q_loss", "p_mae", "q_mse"]
    assert model.metrics_names == order
    np.testing.assert_allclose(values, [logs[k] for k in order])
    np.testing.assert_allclose(logs["q_mse"], logs["q_loss"], rtol=1e-6)


def fan_out_graph():
    """h fans out; y1 is an output that another node reads too; y2's softmax
    fuses with its cross-entropy."""
    utils.set_random_seed(3)

    def dense(units, activation=None, name=None):
        return layers.Dense(units, activation=activation, dtype="float64", name=name)

    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    h = dense(4, "tanh")(layers.Concatenate()([a, b]))
    y1 = dense(3, name="y1")(h)
    g = dense(3, "tanh")(h)
    y2 = dense(2, "softmax", name="y2")(layers.Add()([g, y1]))
    model = models.Model([a, b], [y1, y2])
    model.compile("sgd", ["mse", "categorical_crossentropy"], loss_weights=[0.7, 1.3])
    return model


def total_loss(model, xs, ys):
    out, penalty, _ = model.forward_pass(xs, training=True)
    return loss_and_output_grad(model, Rows(ys), out, None)[0] + penalty


def test_a_multi_output_graph_with_fan_out_passes_a_numerical_gradient_check(rng):
    model = fan_out_graph()
    xs = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]
    ys = [rng.normal(size=(5, 3)), np.eye(2)[rng.integers(0, 2, 5)]]
    out, _, activity = model.forward_pass(xs, training=True)
    _, douts, flags = loss_and_output_grad(model, Rows(ys), out, None)
    assert flags == [False, True]  # y1 is read downstream: no fusion there
    model.apply_need_dx(everywhere=True)
    dxs = model.backward_pass(douts, flags, activity)
    for layer in model.layers:
        for key, w in layer.params.items():
            num = eval_numerical_gradient(
                lambda _: total_loss(model, xs, ys), w, verbose=False
            )
            assert rel_error(layer.grads[key], num) < 1e-7, (layer.name, key)
    for i, x in enumerate(xs):
        num = eval_numerical_gradient(
            lambda _: total_loss(model, xs, ys), x, verbose=False
        )
        assert rel_error(dxs[i], num) < 1e-7


def test_dict_and_list_forms_are_the_same_model(rng):
    a, b, p, q = two_by_two()
    listed = models.Model([a, b], [p, q])
    keyed = models.Model({"a": a, "b": b}, {"p": p, "q": q})  # the same layers
    xa, xb, yp, yq = data(rng, 12)
    start = listed.get_weights()
    runs = []
    for model, x, y, sw in (
        (listed, [xa, xb], [yp, yq], [np.arange(12.0), np.ones(12)]),
        (keyed, {"b": xb, "a": xa}, {"q": yq, "p": yp}, {"p": np.arange(12.0)}),
    ):
        model.set_weights(start)
        model.compile(optimizers.SGD(0.05), {"p": "mse", "q": "mae"}, metrics=None)
        history = model.fit(
            x, y, sample_weight=sw, epochs=2, batch_size=5, shuffle=False, verbose=0
        )
        runs.append((history.history, model.get_weights(), model.predict(x)))
    assert runs[0][0] == runs[1][0]
    for u, v in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(u, v)
    listed_out, keyed_out = runs[0][2], runs[1][2]
    assert isinstance(listed_out, list) and isinstance(keyed_out, dict)
    np.testing.assert_array_equal(listed_out[0], keyed_out["p"])
    np.testing.assert_array_equal(listed_out[1], keyed_out["q"])


def test_a_sample_weight_array_weights_every_output(rng):
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng)
    model.compile("sgd", "mse")
    sw = rng.uniform(size=len(xa))
    one = model.evaluate([xa, xb], [yp, yq], sample_weight=sw, verbose=0)
    each = model.evaluate([xa, xb], [yp, yq], sample_weight=[sw, sw], verbose=0)
    np.testing.assert_allclose(one, each)
    plain = model.evaluate([xa, xb], [yp, yq], verbose=0)
    assert not np.allclose(one, plain)


@pytest.mark.parametrize("as_dict", [False, True])
def test_save_and_load_keep_the_graph_its_structure_and_predictions(
    rng, tmp_path, as_dict
):
    a, b, p, q = two_by_two()
    if as_dict:
        model = models.Model({"a": a, "b": b}, {"p": p, "q": q})
        x = {"a": None, "b": None}
    else:
        model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng)
    x = {"a": xa, "b": xb} if as_dict else [xa, xb]
    model.compile(
        "adam", ["mse", "mae"], loss_weights=[1.0, 3.0], metrics=[[], ["mse"]]
    )
    model.fit(x, [yp, yq], epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    clone = models.load_model(tmp_path / "m.h5")
    assert clone.output_names == model.output_names
    assert clone.input_names == model.input_names
    assert clone.metrics_names == model.metrics_names
    ours, theirs = model.predict(x, verbose=0), clone.predict(x, verbose=0)
    assert type(ours) is type(theirs)
    for u, v in zip(
        ours.values() if as_dict else ours,
        theirs.values() if as_dict else theirs,
        strict=True,
    ):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_allclose(
        clone.evaluate(x, [yp, yq], verbose=0), model.evaluate(x, [yp, yq], verbose=0)
    )
    # Training goes on identically (optimizer state and loss weights restored).
    model.fit(x, [yp, yq], epochs=1, shuffle=False, verbose=0)
    clone.fit(x, [yp, yq], epochs=1, shuffle=False, verbose=0)
    for u, v in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-6)


def test_a_file_of_one_input_in_the_old_layout_still_loads(rng):
    x = layers.Input((3,))
    y = layers.Dense(2)(layers.Dense(4, activation="tanh")(x))
    model = models.Model(x, y)
    config = model.get_config()
    old = {k: v for k, v in config.items() if k not in ("inputs", "outputs")}
    old.pop("input_keys"), old.pop("output_keys")
    old.update(input_shape=[3], output=len(config["nodes"]) - 1)
    for node in old["nodes"]:
        assert all(ref >= -1 for ref in node["inputs"])  # -1 was the input
    clone = models.Functional.from_config(old)
    clone.set_weights(model.get_weights())
    data_x = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(clone.predict(data_x), model.predict(data_x))


def test_summary_lists_every_input(capsys):
    a, b, p, q = two_by_two()
    models.Model([a, b], [p, q]).summary()
    text = capsys.readouterr().out
    assert "a (InputLayer)" in text and "b (InputLayer)" in text
    assert "a[0][0], b[0][0]" in text  # the concatenation reads both
    assert "Total params: 12" in text  # 3 * 1 + 1 + 3 * 2 + 2


def test_bad_structures_are_refused_with_what_was_expected(rng):
    a, b, p, q = two_by_two()
    model = models.Model([a, b], [p, q])
    xa, xb, yp, yq = data(rng)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="x: expected a list of 2 arrays"):
        model.predict([xa])
    with pytest.raises(ValueError, match="key 'c'"):
        model.fit({"a": xa, "c": xb}, [yp, yq], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([xa, xb[:-1]], [yp, yq], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([xa, xb], [yp, yq[:-1]], verbose=0)
    with pytest.raises(ValueError, match=r"x\['b'\]: expected samples of shape"):
        model.predict([xa, xa])
    with pytest.raises(ValueError, match="a target for output 'q'"):
        model.fit([xa, xb], {"p": yp}, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit([xa, xb], [yp, yq], class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="as many entries as the model has outputs"):
        model.compile("sgd", "mse", metrics=["mae"])
    with pytest.raises(ValueError, match="Expected keys"):
        model.compile("sgd", {"p": "mse"})
    with pytest.raises(ValueError, match="'r'"):
        model.compile("sgd", "mse", loss_weights={"r": 1.0})


# -- blocks of the literature: gradients against numerical ones and PyTorch --


def inception_block():
    """1x1, 3x3 and pool-then-1x1 branches concatenated (GoogLeNet's block)."""
    utils.set_random_seed(7)
    f64 = {"dtype": "float64"}
    x = layers.Input((5, 5, 3))
    one = layers.Conv2D(2, 1, **f64)(x)
    three = layers.Conv2D(2, 3, padding="same", activation="tanh", **f64)(x)
    pooled = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    proj = layers.Conv2D(2, 1, **f64)(pooled)
    h = layers.Concatenate()([one, three, proj])
    y = layers.Dense(2, **f64)(layers.GlobalAveragePooling2D()(h))
    model = models.Model(x, y)
    model.compile("sgd", "mse")
    return model


def residual_block():
    utils.set_random_seed(8)
    x = layers.Input((4,))
    h = layers.Dense(4, activation="tanh", dtype="float64")(x)
    h = layers.Dense(4, dtype="float64")(h)
    y = layers.Dense(2, dtype="float64")(layers.Add()([x, h]))
    model = models.Model(x, y)
    model.compile("sgd", "mse")
    return model


def gradients(model, x, y):
    out, _, activity = model.forward_pass(x, training=True)
    _, dout, flag = loss_and_output_grad(model, y, out, None)
    model.backward_pass(dout, flag, activity)
    return {(la.name, k): g for la in model.layers for k, g in la.grads.items()}


@pytest.mark.parametrize(
    ("make", "shape"), [(inception_block, (2, 5, 5, 3)), (residual_block, (3, 4))]
)
def test_blocks_pass_a_numerical_gradient_check(rng, make, shape):
    model = make()
    x, y = rng.normal(size=shape), rng.normal(size=(shape[0], 2))
    grads = gradients(model, x, y)

    def f(_):
        out, _, _ = model.forward_pass(x, training=True)
        return model.loss.compute(y, out, None)[0]

    for layer in model.layers:
        for key, w in layer.params.items():
            num = eval_numerical_gradient(f, w, verbose=False)
            assert rel_error(grads[(layer.name, key)], num) < 1e-6, (layer.name, key)


def torch_forward(torch, model, x):
    """The same graph in PyTorch, over the model's weights (Keras layouts)."""
    fn = torch.nn.functional
    weights = {
        (la.name, k): torch.tensor(np.array(w), requires_grad=True)
        for la in model.layers
        for k, w in la.params.items()
    }
    values = {id(model.inputs[0]): torch.tensor(x)}
    for node in model._nodes:
        layer, ins = node.layer, [values[id(t)] for t in node.inputs]
        w = {k: weights[(layer.name, k)] for k in layer.params}
        kind = type(layer).__name__
        if kind == "Dense":
            out = ins[0] @ w["kernel"] + w["bias"]
        elif kind == "Conv2D":
            pad = (layer.kernel_size[0] - 1) // 2
            nchw = ins[0].permute(0, 3, 1, 2)
            kernel = w["kernel"].permute(3, 2, 0, 1)
            out = fn.conv2d(nchw, kernel, w["bias"], padding=pad).permute(0, 2, 3, 1)
        elif kind == "MaxPooling2D":
            nchw = ins[0].permute(0, 3, 1, 2)
            out = fn.max_pool2d(nchw, 3, stride=1, padding=1).permute(0, 2, 3, 1)
        elif kind == "Concatenate":
            out = torch.cat(ins, dim=-1)
        elif kind == "Add":
            out = ins[0] + ins[1]
        elif kind == "GlobalAveragePooling2D":
            out = ins[0].mean(dim=(1, 2))
        else:
            raise AssertionError(kind)
        if getattr(layer, "activation_name", None) == "tanh":
            out = torch.tanh(out)
        values[id(node.output)] = out
    return values[id(model.outputs[0])], weights


@pytest.mark.parametrize(
    ("make", "shape"), [(inception_block, (2, 5, 5, 3)), (residual_block, (3, 4))]
)
def test_blocks_gradients_equal_pytorchs(rng, make, shape):
    torch = pytest.importorskip("torch")
    model = make()
    x, y = rng.normal(size=shape), rng.normal(size=(shape[0], 2))
    grads = gradients(model, x, y)
    out, weights = torch_forward(torch, model, x)
    np.testing.assert_allclose(
        out.detach().numpy(), model.forward_pass(x, training=False)[0], rtol=1e-10
    )
    torch.mean((out - torch.tensor(y)) ** 2).backward()
    for key, w in weights.items():
        np.testing.assert_allclose(grads[key], w.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_calling_and_validation_data_take_the_same_structures(rng, tmp_path):
    from glassnet.callbacks import BackupAndRestore

    a, b, p, q = two_by_two()
    model = models.Model({"a": a, "b": b}, {"p": p, "q": q})
    xa, xb, yp, yq = data(rng, 12)
    out = model({"a": xa, "b": xb})
    assert set(out) == {"p", "q"} and out["q"].shape == (12, 2)
    np.testing.assert_allclose(out["p"], model.predict({"a": xa, "b": xb})["p"])
    model.compile("sgd", "mse")
    history = model.fit(
        {"a": xa, "b": xb},
        {"p": yp, "q": yq},
        validation_data=({"a": xa[:4], "b": xb[:4]}, {"p": yp[:4], "q": yq[:4]}),
        callbacks=[BackupAndRestore(str(tmp_path / "backup"))],
        epochs=2,
        verbose=0,
    )
    val = model.evaluate(
        {"a": xa[:4], "b": xb[:4]}, {"p": yp[:4], "q": yq[:4]}, verbose=0
    )
    np.testing.assert_allclose(
        [history.history[k][-1] for k in ("val_loss", "val_p_loss", "val_q_loss")],
        val,
        rtol=1e-6,
    )


def test_a_multi_output_graph_under_a_tape_gives_fits_gradients(rng):
    from glassnet import losses, ops

    model = fan_out_graph()
    model.compile("sgd", "mse", loss_weights=[0.7, 1.3])
    xs = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]
    ys = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]
    mse = losses.MeanSquaredError()
    with ops.GradientTape() as tape:
        o1, o2 = model(xs, training=True)
        loss = 0.7 * mse(ys[0], o1) + 1.3 * mse(ys[1], o2)
    taped = tape.gradient(loss, model.trainable_weights)
    out, _, activity = model.forward_pass(xs, training=True)
    _, douts, flags = loss_and_output_grad(model, Rows(ys), out, None)
    model.backward_pass(douts, flags, activity)
    ours = [la.grads[k] for la in model.layers for k in la.trainable_keys()]
    for a, b in zip(taped, ours, strict=True):
        assert rel_error(np.asarray(a), b) < 1e-9
