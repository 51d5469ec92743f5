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
    assert config == {"from_logits": True, "label_smoothing": 0.1}
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
    with pytest.raises(ValueError, match="ignore_class"):
        losses.sparse_categorical_crossentropy([0], [[1.0, 0.0]], ignore_class=0)


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
