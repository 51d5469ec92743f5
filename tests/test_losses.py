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
    y_pred = np.array([[1.0, 3.0], [2.0, 2.0]])
    expected = ((1 + 9) / 2 + (4 + 4) / 2) / 2
    assert losses.MeanSquaredError()(np.zeros(2), y_pred) == pytest.approx(expected)
    assert losses.MeanSquaredError()(np.zeros((2, 1)), y_pred) == pytest.approx(
        expected
    )


def test_categorical_crossentropy_refuses_integer_labels_with_a_hint():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(
            np.array([0, 1]), np.array([[0.3, 0.7], [0.6, 0.4]])
        )
