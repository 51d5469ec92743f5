import numpy as np
import pytest

from glassnet import metrics


def test_accuracy_is_resolved_from_the_loss_as_keras_does():
    assert metrics.resolve_accuracy("sparse_categorical_crossentropy") == (
        "sparse_categorical_accuracy"
    )
    assert metrics.resolve_accuracy("binary_crossentropy") == "binary_accuracy"
    assert (
        metrics.resolve_accuracy("categorical_crossentropy") == "categorical_accuracy"
    )
    m = metrics.get("acc", "sparse_categorical_crossentropy")
    m.update_state(np.array([1]), np.array([[0.2, 0.8]]))
    assert m.name == "acc" and m.fn is metrics.sparse_categorical_accuracy


def test_closed_forms():
    y_pred = np.array([[0.1, 0.9, 0.0], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(np.array([1, 1, 2]), y_pred), [1, 0, 1]
    )
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(np.array([1, 2, 0]), y_pred, k=2),
        [1, 0, 0],
    )
    one_hot = np.eye(3)[[1, 1, 2]]
    np.testing.assert_array_equal(
        metrics.categorical_accuracy(one_hot, y_pred), [1, 0, 1]
    )
    np.testing.assert_array_equal(
        metrics.binary_accuracy(np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]])),
        [1, 0],
    )
    np.testing.assert_allclose(
        metrics.mean_absolute_error(
            np.zeros((2, 2)), np.array([[1.0, 3.0], [2.0, 2.0]])
        ),
        [2, 2],
    )


def test_running_mean_is_weighted_by_samples_and_sample_weight():
    m = metrics.get("sparse_categorical_accuracy")
    m.update_state(np.array([0, 0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    m.update_state(np.array([1]), np.array([[0.0, 1.0]]))
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state(
        np.array([0, 0]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([3.0, 1.0])
    )
    assert m.result() == pytest.approx(0.75)


def test_unknown_metric_names_are_refused():
    with pytest.raises(ValueError, match="metrics"):
        metrics.get("precision")


def test_accuracy_follows_keras_shape_rules_on_the_first_batch():
    # One output column -> binary accuracy, whatever the loss.
    m = metrics.get("accuracy", "mean_squared_error")
    m.update_state(np.array([1.0, 0.0, 1.0]), np.array([[0.9], [0.2], [0.3]]))
    assert m.fn is metrics.binary_accuracy and m.result() == pytest.approx(2 / 3)
    # Integer labels against several outputs -> sparse categorical accuracy.
    m = metrics.get("accuracy", "categorical_crossentropy")
    m.update_state(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))
    assert m.fn is metrics.sparse_categorical_accuracy and m.result() == 0.5
    # One-hot targets -> categorical accuracy.
    m = metrics.get("acc", "mean_squared_error")
    m.update_state(np.eye(2)[[1, 0]], np.array([[0.1, 0.9], [0.2, 0.8]]))
    assert m.fn is metrics.categorical_accuracy and m.result() == 0.5


def test_regression_metrics_broadcast_one_target_per_sample():
    out = metrics.mean_squared_error(np.zeros(2), np.array([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(out, [5.0, 4.0])


def test_keras_metric_classes_wrap_the_functions_with_keras_names_and_defaults():
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert m.name == "sparse_top_k_categorical_accuracy"
    m.update_state(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))
    assert m.result() == 0.5
    b = metrics.BinaryAccuracy(name="acc", threshold=0.7)
    b.update_state(np.array([[1.0], [1.0]]), np.array([[0.8], [0.6]]))
    assert b.name == "acc" and b.result() == 0.5
    assert metrics.get(metrics.MeanSquaredError()).name == "mean_squared_error"
