import math

import numpy as np
import pytest

from glassnet import layers, metrics, models


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


def test_accuracy_follows_keras_3s_shape_rule_whatever_the_loss():
    # keras/src/trainers/compile_utils.py: one output column is binary; labels of
    # lower rank (or a last axis of 1) sparse; otherwise categorical.
    multi = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    scores = np.array([[0.9, 0.2, 0.8], [0.6, 0.4, 0.1]])
    m = metrics.get("accuracy", "binary_crossentropy")
    m.update_state(multi, scores)
    # Keras 3 compares argmaxes: row 0 (0 vs 0) right, row 1 (1 vs 0) wrong. The
    # tf.keras 2 binary accuracy would be (3/3 + 1/3) / 2.
    assert m.fn is metrics.categorical_accuracy
    assert m.result() == pytest.approx(0.5)
    m = metrics.get("accuracy", "binary_crossentropy")
    m.update_state(np.array([[1.0], [0.0], [1.0]]), np.array([[0.7], [0.6], [0.2]]))
    assert m.fn is metrics.binary_accuracy and m.result() == pytest.approx(1 / 3)
    m = metrics.get("accuracy", "binary_crossentropy")
    m.update_state(np.array([1.0, 0.0]), np.array([[0.7], [0.4]]))
    assert m.fn is metrics.binary_accuracy and m.result() == pytest.approx(1.0)
    m = metrics.get("accuracy", "categorical_crossentropy")
    m.update_state(np.array([[2], [0]]), np.array([[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]]))
    assert m.fn is metrics.sparse_categorical_accuracy
    assert m.result() == pytest.approx(1.0)


def test_fit_with_binary_crossentropy_on_multi_label_outputs_logs_keras_3_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4))
    y = (rng.random((16, 3)) < 0.5).astype(float)
    model = models.Sequential([layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    got = model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
    pred = model.predict(x, verbose=0)
    assert got == pytest.approx(np.mean(pred.argmax(1) == y.argmax(1)))


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
        metrics.get("precisio")


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


def test_precision_and_recall_match_keras_documented_values():
    p, r = metrics.Precision(), metrics.Recall()
    for m in (p, r):
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        assert m.result() == pytest.approx(2 / 3)
        m.reset_state()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        assert m.result() == pytest.approx(1.0)
    assert p.name == "precision" and r.name == "recall"
    top2, top4 = metrics.Precision(top_k=2), metrics.Precision(top_k=4)
    top2.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    top4.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert top2.result() == 0.0 and top4.result() == pytest.approx(0.5)


def test_precision_and_recall_by_class_id_and_thresholds_list():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]])
    y_pred = np.array(
        [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2]]
    )
    # Class 1: predicted > 0.5 in rows 2 and 3, of which row 2 is right; the
    # positives are rows 1 and 2.
    p = metrics.Precision(class_id=1)
    p.update_state(y_true, y_pred)
    r = metrics.Recall(class_id=1)
    r.update_state(y_true, y_pred)
    assert p.result() == pytest.approx(0.5) and r.result() == pytest.approx(0.5)
    # top_k=1 with class_id: row 1's top score is class 0, so it stays negative.
    p1 = metrics.Recall(top_k=1, class_id=1)
    p1.update_state(y_true, y_pred)
    assert p1.result() == pytest.approx(0.5)
    many = metrics.Recall(thresholds=[0.25, 0.5, 0.9], class_id=1)
    many.update_state(y_true, y_pred)
    assert many.result() == pytest.approx([1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Precision(thresholds=1.5)


def test_auc_matches_the_keras_documented_computation():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    # tpr = [1, 0.5, 0], fpr = [1, 0, 0]: trapezoids (1 - 0) * 0.75 + 0 * 0.25.
    assert m.result() == pytest.approx(0.75) and m.name == "auc"
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    for method, expected in (("minoring", 0.5), ("majoring", 1.0)):
        m = metrics.AUC(num_thresholds=3, summation_method=method)
        m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        assert m.result() == pytest.approx(expected)


def test_roc_auc_equals_the_mann_whitney_statistic_when_each_bin_holds_one_score():
    rng = np.random.default_rng(0)
    n, bins = 40, 200
    scores = (rng.permutation(bins)[:n] + 0.5) / bins  # distinct bin centres
    labels = rng.integers(0, 2, n)
    m = metrics.AUC(num_thresholds=bins + 1)
    for part in np.array_split(np.arange(n), 3):  # over several batches
        m.update_state(labels[part], scores[part])
    pos, neg = scores[labels == 1], scores[labels == 0]
    mann_whitney = (pos[:, None] > neg[None, :]).mean()
    assert m.result() == pytest.approx(mann_whitney, rel=1e-12)


def test_pr_auc_interpolation_closed_form():
    # Thresholds (-eps, 0.5, 1 + eps): tp = [2, 1, 0], fp = [1, 1, 0], fn = [0, 1, 2].
    # Davis & Goadrich: slopes [1, 0.5], intercepts [-1, 0], p ratio 3/2 then 1.
    m = metrics.AUC(num_thresholds=3, curve="PR")
    m.update_state([1, 0, 1], [0.9, 0.6, 0.3])
    assert m.result() == pytest.approx((1 - math.log(1.5)) / 2 + 0.25, rel=1e-12)
    perfect = metrics.AUC(curve="PR")
    perfect.update_state([0, 1, 0, 1], [0.1, 0.8, 0.3, 0.9])
    assert perfect.result() == pytest.approx(1.0)


def test_auc_multi_label_averages_the_columns_and_from_logits_applies_a_sigmoid():
    rng = np.random.default_rng(1)
    y, logits = rng.integers(0, 2, (30, 2)), rng.normal(size=(30, 2))
    probs = 1 / (1 + np.exp(-logits))
    m = metrics.AUC(multi_label=True, from_logits=True)
    m.update_state(y, logits)
    per_column = []
    for j in range(2):
        c = metrics.AUC()
        c.update_state(y[:, j], probs[:, j])
        per_column.append(c.result())
    assert m.result() == pytest.approx(np.mean(per_column), rel=1e-12)
    w = metrics.AUC(multi_label=True, label_weights=[1.0, 3.0])
    w.update_state(y, probs)
    assert w.result() == pytest.approx(
        (per_column[0] + 3 * per_column[1]) / 4, rel=1e-12
    )


def test_regression_and_top_k_metric_objects_match_keras_documented_values():
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert (
        rmse.result() == pytest.approx(0.5) and rmse.name == "root_mean_squared_error"
    )
    rmse.reset_state()
    rmse.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
    assert rmse.result() == pytest.approx(math.sqrt(0.5))
    mse = metrics.MeanSquaredError()
    mse.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert mse.result() == pytest.approx(0.25)
    top = metrics.TopKCategoricalAccuracy(k=1)
    top.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    sparse = metrics.SparseTopKCategoricalAccuracy(k=1)
    sparse.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert top.result() == pytest.approx(0.5) == sparse.result()
    acc = metrics.BinaryAccuracy()
    acc.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert acc.result() == pytest.approx(0.75)


def test_get_builds_keras_names_classes_and_callables():
    assert isinstance(metrics.get("precision"), metrics.Precision)
    auc = metrics.get("AUC")
    assert isinstance(auc, metrics.AUC) and auc.name == "AUC"
    assert metrics.get("root_mean_squared_error").name == "root_mean_squared_error"
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)

    def my_metric(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    m = metrics.get(my_metric)
    m.update_state([[0.0, 1.0]], [[0.5, 1.0]])
    assert m.name == "my_metric" and m.result() == pytest.approx(0.5)


def test_state_round_trips_through_get_state_and_set_state():
    a = metrics.AUC(num_thresholds=5)
    a.update_state([0, 1, 1], [0.2, 0.7, 0.4])
    b = metrics.AUC(num_thresholds=5)
    b.set_state(a.get_state())
    assert b.result() == a.result()
    m = metrics.get("mse")
    m.update_state([0.0], [[2.0]])
    n = metrics.get("mse")
    n.set_state(m.get_state())
    assert n.result() == 4.0 and (n.total, n.count) == (4.0, 1.0)


def test_compile_accepts_metric_objects_and_names():
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3))
    y = (x[:, 0] > 0).astype(float)
    model = Sequential([Dense(1, activation="sigmoid")], seed=0)
    model.compile(
        "adam", "binary_crossentropy", metrics=["auc", metrics.Precision(), "recall"]
    )
    logs = model.fit(x, y, epochs=2, verbose=0).history
    assert {"auc", "precision", "recall"} <= set(logs)
    out = model.predict(x, verbose=0)
    m = metrics.AUC()
    m.update_state(y, out)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["auc"] == pytest.approx(
        m.result()
    )
