import numpy as np
import pytest

from glassnet import losses


def test_keras_documented_values():
    # Values from the Keras docstrings of each loss class.
    y_true, y_pred = (
        np.array([[0.0, 1.0], [0.0, 0.0]]),
        np.array([[0.6, 0.4], [0.4, 0.6]]),
    )
    assert losses.BinaryCrossentropy()(y_true, y_pred) == pytest.approx(0.815, abs=1e-3)
    assert losses.MeanSquaredError()(
        np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0]])
    ) == pytest.approx(0.5)
    y_true = np.array([[0, 1, 0], [0, 0, 1]], dtype=float)
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert losses.CategoricalCrossentropy()(y_true, y_pred) == pytest.approx(
        1.177, abs=1e-3
    )
    assert losses.SparseCategoricalCrossentropy()(
        np.array([1, 2]), y_pred
    ) == pytest.approx(1.177, abs=1e-3)


def test_targets_of_shape_n_broadcast_against_outputs_n_by_1():
    y_pred = np.array([[0.2], [0.9]])
    a = losses.MeanSquaredError()(np.array([0.0, 1.0]), y_pred)
    b = losses.MeanSquaredError()(np.array([[0.0], [1.0]]), y_pred)
    assert a == pytest.approx(b) == pytest.approx((0.04 + 0.01) / 2)
    with pytest.raises(ValueError, match="y"):
        losses.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 2)))


def test_from_logits_equals_probabilities_after_softmax(rng):
    logits = rng.normal(size=(5, 4))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(4, size=5)
    a = losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    b = losses.SparseCategoricalCrossentropy()(y, probs)
    assert a == pytest.approx(b, rel=1e-9)
    assert losses.SparseCategoricalCrossentropy().fused_activation() == "softmax"
    assert losses.BinaryCrossentropy().fused_activation() == "sigmoid"
    assert losses.MeanSquaredError().fused_activation() is None


def test_get_resolves_names_and_aliases():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("MeanAbsoluteError"), losses.MeanAbsoluteError)
    loss = losses.get(
        losses.serialize(losses.CategoricalCrossentropy(from_logits=True))
    )
    assert loss.from_logits
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.get("xent")


def test_one_target_per_sample_broadcasts_against_every_output_as_in_keras():
    # Targets (N, 1) are repeated across the k outputs of their sample.
    y_pred = np.array([[1.0, 3.0], [2.0, 2.0]])
    per_sample = ((0 + 4) / 2 + (4 + 4) / 2) / 2  # targets 1 and 0: 3.0
    got = losses.MeanSquaredError()(np.array([[1.0], [0.0]]), y_pred)
    assert got == pytest.approx(per_sample)


def test_targets_of_shape_n_against_k_outputs_broadcast_as_keras_3():
    # Keras 3's mean_squared_error: squeeze_or_expand_to_same_rank leaves (N,)
    # against (N, k > 1), then mean(square(y_true - y_pred), axis=-1) broadcasts
    # y_true along the last axis: target j meets column j of every sample.
    y_pred = np.array([[1.0, 3.0], [2.0, 2.0]])
    y_true = np.array([1.0, 0.0])
    # Row 0: (1-1)^2, (0-3)^2 -> 4.5; row 1: (1-2)^2, (0-2)^2 -> 2.5.
    keras = ((0 + 9) / 2 + (1 + 4) / 2) / 2
    assert keras == 3.5
    assert losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(keras)
    assert losses.mean_squared_error(y_true, y_pred) == pytest.approx([4.5, 2.5])
    # N != k: Keras fails on the shapes; glassnet refuses, naming them.
    with pytest.raises(ValueError, match=r"y.*\(3, 1\).*\(3,\)"):
        losses.MeanSquaredError()(np.zeros(3), np.zeros((3, 2)))


def test_categorical_crossentropy_refuses_integer_labels_with_a_hint():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(
            np.array([0, 1]), np.array([[0.3, 0.7], [0.6, 0.4]])
        )


def test_label_smoothing_is_keras_smoothing_of_the_targets():
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    y_pred = np.array([[0.4, 0.6], [0.3, 0.7]])
    smoothed = y_true * 0.8 + 0.1
    a = losses.CategoricalCrossentropy(label_smoothing=0.2)(y_true, y_pred)
    assert a == pytest.approx(losses.CategoricalCrossentropy()(smoothed, y_pred))
    b = losses.SparseCategoricalCrossentropy(label_smoothing=0.2)([1, 0], y_pred)
    assert b == pytest.approx(a)
    c = losses.BinaryCrossentropy(label_smoothing=0.2)(y_true, y_pred)
    assert c == pytest.approx(losses.BinaryCrossentropy()(smoothed, y_pred))
    config = losses.CategoricalCrossentropy(True, 0.1).get_config()
    assert config == {
        "name": "categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": True,
        "label_smoothing": 0.1,
        "axis": -1,
    }
    restored = losses.get(losses.serialize(losses.BinaryCrossentropy(True, 0.3)))
    assert restored.from_logits and restored.label_smoothing == 0.3
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=2.0)


def test_function_forms_return_keras_per_sample_values():
    y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([1, 2], y_pred),
        [0.0513, 2.3026],
        atol=1e-4,
    )
    np.testing.assert_allclose(
        losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], y_pred),
        [0.0513, 2.3026],
        atol=1e-4,
    )
    np.testing.assert_allclose(
        losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]),
        [0.916, 0.714],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        losses.mse([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]), [0.5, 0.5]
    )
    # Keras 3: (N,) targets against (N, k) broadcast along the last axis.
    np.testing.assert_allclose(
        losses.mae([1.0, 2.0], [[1.0, 3.0], [0.0, 2.0]]), [0.5, 0.5]
    )
    assert losses.mean_squared_error is losses.mse
    # Only the last axis is reduced, as in Keras.
    y = np.random.default_rng(0).uniform(size=(2, 3, 4))
    assert losses.mean_absolute_error(y, y + 1).shape == (2, 3)
    labels = np.array([[0, 1, 2], [3, 0, 1]])
    out = losses.sparse_categorical_crossentropy(labels, y, from_logits=True)
    logp = y - np.log(np.exp(y).sum(-1, keepdims=True))
    np.testing.assert_allclose(
        out, -np.take_along_axis(logp, labels[..., None], -1)[..., 0]
    )


def test_function_forms_mean_equals_the_loss_object():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(5, 4)), rng.integers(4, size=5)
    per_sample = losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True
    )
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    assert per_sample.mean() == pytest.approx(loss, rel=1e-12)


def test_get_wraps_function_forms_and_partials_into_their_loss_classes():
    import functools

    loss = losses.get(losses.sparse_categorical_crossentropy)
    assert type(loss) is losses.SparseCategoricalCrossentropy and not loss.from_logits
    assert isinstance(losses.get(losses.mse), losses.MeanSquaredError)
    loss = losses.get(
        functools.partial(
            losses.categorical_crossentropy, from_logits=True, label_smoothing=0.1
        )
    )
    assert type(loss) is losses.CategoricalCrossentropy
    assert loss.from_logits and loss.label_smoothing == 0.1
    assert isinstance(losses.get("bce"), losses.BinaryCrossentropy)
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)


def test_get_refuses_a_user_callable_saying_it_has_no_gradient():
    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(-1)

    with pytest.raises(ValueError, match="no gradient.*my_loss"):
        losses.get(my_loss)


def test_compile_accepts_a_function_form_loss_and_trains():
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.integers(3, size=16)
    model = Sequential([Dense(3, activation="softmax")], seed=0)
    model.compile("sgd", loss=losses.sparse_categorical_crossentropy)
    assert isinstance(model.loss, losses.SparseCategoricalCrossentropy)
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ---- reductions, name, dtype (Keras 3's Loss arguments) ----------------------

# MSE of these rows, per sample: (1 + 0) / 2, (1 + 0) / 2, (0.25 + 0) / 2.
MSE_TRUE = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
MSE_PRED = np.array([[1.0, 1.0], [1.0, 0.0], [0.5, 1.0]])
MSE_WEIGHTS = np.array([3.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("reduction", "plain", "weighted"),
    [
        # sum(v) / 3 and sum(w v) / 3 = (1.5 + 0.5 + 0) / 3
        ("sum_over_batch_size", 1.125 / 3, 2.0 / 3),
        ("mean", 1.125 / 3, 2.0 / 3),
        # sum(w v) / sum(w) = 2 / 4; without weights the mean
        ("mean_with_sample_weight", 1.125 / 3, 2.0 / 4),
        ("sum", 1.125, 2.0),
    ],
)
def test_each_reduction_has_its_closed_form_with_and_without_weights(
    reduction, plain, weighted
):
    loss = losses.MeanSquaredError(reduction=reduction)
    assert loss(MSE_TRUE, MSE_PRED) == pytest.approx(plain, rel=1e-12)
    assert loss(MSE_TRUE, MSE_PRED, MSE_WEIGHTS) == pytest.approx(weighted, rel=1e-12)


@pytest.mark.parametrize("reduction", ["none", None])
def test_reduction_none_returns_the_weighted_per_sample_losses(reduction):
    loss = losses.MeanSquaredError(reduction=reduction)
    np.testing.assert_allclose(loss(MSE_TRUE, MSE_PRED), [0.5, 0.5, 0.125])
    np.testing.assert_allclose(loss(MSE_TRUE, MSE_PRED, MSE_WEIGHTS), [1.5, 0.5, 0.0])
    assert loss.reduction is reduction and loss.get_config()["reduction"] is reduction


def test_keras_documented_values_per_reduction():
    # keras.losses.SparseCategoricalCrossentropy's docstring: 1.177, 0.814 with
    # weights [0.3, 0.7], 2.354 with "sum", [0.0513, 2.303] with None.
    y_true, y_pred = [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    v = np.array([-np.log(0.95), -np.log(0.1)])  # the closed form behind them
    sw = np.array([0.3, 0.7])
    scce = losses.SparseCategoricalCrossentropy
    assert scce()(y_true, y_pred) == pytest.approx(1.177, abs=1e-3)
    assert scce()(y_true, y_pred, sw) == pytest.approx(0.814, abs=1e-3)
    assert scce(reduction="sum")(y_true, y_pred) == pytest.approx(2.354, abs=1e-3)
    np.testing.assert_allclose(
        scce(reduction=None)(y_true, y_pred), [0.0513, 2.303], atol=1e-3
    )
    got = scce(reduction="mean_with_sample_weight")(y_true, y_pred, sw)
    assert got == pytest.approx((sw * v).sum() / sw.sum(), rel=1e-6)
    cce = losses.CategoricalCrossentropy(reduction="sum")
    assert cce(np.eye(3)[[1, 2]], y_pred) == pytest.approx(v.sum(), rel=1e-6)


def test_mean_with_sample_weight_of_zero_weights_is_zero_as_divide_no_nan():
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(MSE_TRUE, MSE_PRED, np.zeros(3)) == 0.0


def test_bad_reduction_name_and_dtype_are_refused_naming_them():
    with pytest.raises(ValueError, match="^reduction.*'average'"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="^reduction"):
        losses.SparseCategoricalCrossentropy(reduction="auto")
    with pytest.raises(ValueError, match="^name"):
        losses.Hinge(name="")
    with pytest.raises(ValueError, match="^dtype"):
        losses.BinaryCrossentropy(dtype="int32")
    with pytest.raises(ValueError, match="^ignore_class"):
        losses.SparseCategoricalCrossentropy(ignore_class=1.5)
    with pytest.raises(ValueError, match="^axis"):
        losses.CategoricalCrossentropy(axis=1)


def test_name_and_dtype_are_kept_and_the_kind_stays_the_class():
    loss = losses.SparseCategoricalCrossentropy(name="seg", dtype="float64")
    assert loss.name == "seg" and loss.kind == "sparse_categorical_crossentropy"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    value = loss(
        [1], np.array([[0.25, 0.75]], dtype=np.float32), np.array([1.0], np.float32)
    )
    assert value == pytest.approx(-np.log(0.75), rel=1e-12)  # float64, not float32
    y_pred = np.array([[0.3, 0.7]], np.float32)
    _, dy = loss.compute(np.array([1]), y_pred)
    assert dy.dtype == np.float32  # the gradient comes back in y_pred's dtype


# ---- the training gradient is the gradient of the reduced loss ---------------


def _model(activation, units):
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    return Sequential(
        [Input((3,)), Dense(units, activation=activation, dtype="float64")], seed=0
    )


CASES_TRAIN = [
    # The softmax output is fused with the loss (from logits); MSE is not.
    ("softmax", 4, lambda r: losses.SparseCategoricalCrossentropy(reduction=r)),
    ("linear", 2, lambda r: losses.MeanSquaredError(reduction=r)),
]


@pytest.mark.parametrize(
    "reduction", ["sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", None]
)
@pytest.mark.parametrize("case", range(len(CASES_TRAIN)))
def test_compiled_training_step_follows_the_reduced_loss_numerical_gradient(
    rng, reduction, case
):
    from glassnet.gradcheck import eval_numerical_gradient, rel_error
    from glassnet.optimizers import SGD

    activation, units, make_loss = CASES_TRAIN[case]
    model, loss = _model(activation, units), make_loss(reduction)
    x = rng.normal(size=(5, 3))
    y = rng.integers(units, size=5) if units == 4 else rng.normal(size=(5, units))
    sw = rng.uniform(0.2, 2.0, size=5)
    model.compile(optimizer=SGD(learning_rate=0.1), loss=loss)
    layer = model.layers[0]

    def objective(_):
        value = loss(y, model.predict(x, verbose=0), sw)
        return float(np.sum(value))  # "none": the sum is what is minimised

    expected = {
        k: eval_numerical_gradient(objective, layer.params[k], verbose=False)
        for k in ("kernel", "bias")
    }
    value = loss(y, model.predict(x, verbose=0), sw)
    before = {k: np.array(layer.params[k]) for k in expected}
    logged = model.train_on_batch(x, y, sample_weight=sw)
    for k, g in expected.items():
        step = (before[k] - layer.params[k]) / 0.1
        assert rel_error(step, g) < 1e-7, (k, reduction)
    # The value logged is the reduced loss (the mean of the "none" losses).
    assert logged == pytest.approx(float(np.mean(value)), rel=1e-10)


def test_sum_has_batch_size_times_the_gradient_of_sum_over_batch_size(rng):
    x, y = rng.normal(size=(6, 3)), rng.integers(4, size=6)
    steps = {}
    for reduction in ("sum", "sum_over_batch_size"):
        model = _model("softmax", 4)
        model.compile("sgd", losses.SparseCategoricalCrossentropy(reduction=reduction))
        before = np.array(model.layers[0].params["kernel"])
        model.train_on_batch(x, y)
        steps[reduction] = before - model.layers[0].params["kernel"]
    np.testing.assert_allclose(steps["sum"], 6 * steps["sum_over_batch_size"])


# ---- ignore_class -------------------------------------------------------------

PROBS = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
IGNORED = np.array([1, 255, 2])  # the middle sample is "void"
V = np.array([-np.log(0.5), 0.0, -np.log(0.8)])  # its loss counts for nothing


@pytest.mark.parametrize(
    ("reduction", "plain", "weighted"),
    [
        # mean over the 2 samples that count: sum(w v) / 2
        ("sum_over_batch_size", (V[0] + V[2]) / 2, (2 * V[0] + 0.5 * V[2]) / 2),
        ("sum", V[0] + V[2], 2 * V[0] + 0.5 * V[2]),
        # sum(w m v) / sum(w m): the ignored sample's weight 3 is left out too
        (
            "mean_with_sample_weight",
            (V[0] + V[2]) / 2,
            (2 * V[0] + 0.5 * V[2]) / 2.5,
        ),
    ],
)
def test_ignore_class_closed_form_per_reduction(reduction, plain, weighted):
    loss = losses.SparseCategoricalCrossentropy(ignore_class=255, reduction=reduction)
    sw = np.array([2.0, 3.0, 0.5])
    assert loss(IGNORED, PROBS) == pytest.approx(plain, rel=1e-12)
    assert loss(IGNORED, PROBS, sw) == pytest.approx(weighted, rel=1e-12)


def test_ignore_class_none_reduction_is_zero_on_ignored_samples():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=255, reduction="none")
    np.testing.assert_allclose(loss(IGNORED, PROBS), V)
    fn = losses.sparse_categorical_crossentropy(IGNORED, PROBS, ignore_class=255)
    np.testing.assert_allclose(fn, V)  # Keras' function form: 0 where ignored


def test_ignore_class_gradient_is_zero_on_ignored_samples_and_numerical_elsewhere():
    from glassnet.gradcheck import eval_numerical_gradient, rel_error

    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    logits = np.random.default_rng(3).normal(size=(4, 3))
    y = np.array([0, -1, 2, -1])
    value, dx = loss.compute(y, logits)
    assert not dx[[1, 3]].any()
    numerical = eval_numerical_gradient(lambda _: loss(y, logits), logits, False)
    assert rel_error(dx, numerical) < 1e-8
    # Only the two labelled samples count: the mean of their two losses.
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert value == pytest.approx(-(logp[0, 0] + logp[2, 2]) / 2, rel=1e-12)


def test_ignore_class_per_pixel_is_the_mean_over_labelled_pixels(rng):
    logits = rng.normal(size=(2, 3, 2, 4))
    labels = rng.integers(4, size=(2, 3, 2))
    labels[0, 1, 0] = labels[1, 2, 1] = labels[1, 0, 0] = 9  # void pixels
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=9)
    terms = [  # a loop over the pixels, the oracle
        np.log(np.exp(logits[idx]).sum()) - logits[idx][labels[idx]]
        for idx in np.ndindex(*labels.shape)
        if labels[idx] != 9
    ]
    assert len(terms) == 9
    assert loss(labels, logits) == pytest.approx(np.mean(terms), rel=1e-12)
    assert losses.SparseCategoricalCrossentropy(reduction="none", ignore_class=9)(
        labels, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ).shape == (2, 3, 2)


def test_fit_with_ignore_class_accepts_void_labels_and_never_moves_on_them(rng):
    x = rng.normal(size=(8, 3))
    y = rng.integers(4, size=8)
    y[::2] = -1
    model = _model("softmax", 4)
    model.compile("sgd", losses.SparseCategoricalCrossentropy(ignore_class=-1))
    before = np.array(model.layers[0].params["kernel"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    # A step only on the void samples changes nothing.
    moved = np.array(model.layers[0].params["kernel"])
    assert not np.allclose(moved, before)
    model.train_on_batch(x[::2], y[::2])
    np.testing.assert_array_equal(model.layers[0].params["kernel"], moved)


def test_function_form_partial_with_ignore_class_becomes_the_loss_class():
    import functools

    loss = losses.get(
        functools.partial(losses.sparse_categorical_crossentropy, ignore_class=255)
    )
    assert type(loss) is losses.SparseCategoricalCrossentropy
    assert loss.ignore_class == 255


# ---- configuration and saving ------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [
        losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=255, reduction="sum", name="seg"
        ),
        losses.SparseCategoricalCrossentropy(label_smoothing=0.1, reduction=None),
        losses.CategoricalCrossentropy(label_smoothing=0.2, dtype="float64"),
        losses.BinaryCrossentropy(True, reduction="mean_with_sample_weight"),
        losses.MeanSquaredError(reduction="mean", name="mse_mean"),
        losses.MeanAbsoluteError(),
        losses.Hinge(reduction="none"),
    ],
)
def test_config_round_trips_with_keras_keys(loss):
    config = loss.get_config()
    assert {"name", "reduction"} <= set(config)
    again = type(loss).from_config(config)
    assert again.get_config() == config
    assert losses.get(losses.serialize(loss)).get_config() == config
    import json

    assert json.loads(json.dumps(config)) == config


def test_a_saved_model_keeps_its_loss_reduction_name_and_ignore_class(tmp_path, rng):
    from glassnet.saving import load_model

    model = _model("softmax", 4)
    loss = losses.SparseCategoricalCrossentropy(
        ignore_class=-1, reduction="sum", name="seg"
    )
    model.compile("sgd", loss)
    x, y = rng.normal(size=(6, 3)), np.array([0, 1, -1, 2, 3, -1])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.loss.get_config() == loss.get_config()
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-12
    )
