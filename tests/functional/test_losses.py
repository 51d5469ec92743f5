import math
import warnings

import numpy as np
import pytest

from glassnet.functional.losses import (
    binary_crossentropy_loss,
    categorical_crossentropy_loss,
    hinge_loss,
    mean_absolute_error_loss,
    mean_squared_error_loss,
    softmax_loss,
    sparse_categorical_crossentropy_loss,
    svm_loss,
)
from glassnet.gradcheck import check_loss, rel_error

N, C = 4, 3


def soft_targets(rng, shape):
    t = rng.uniform(0.1, 1.0, shape)
    return t / t.sum(axis=-1, keepdims=True)


def make_case(rng, name):
    """(loss_fn, x, y, kwargs) with x away from every kink of that loss."""
    labels = rng.integers(0, C, N)
    logits = rng.standard_normal((N, C))
    shifted = rng.uniform(0.2, 0.8, (N, 2, 3)) * rng.choice([-1.0, 1.0], (N, 2, 3))
    cases = {
        "softmax": (softmax_loss, logits, labels, {}),
        "svm": (svm_loss, logits, labels, {}),
        "cce_logits": (
            categorical_crossentropy_loss,
            logits,
            soft_targets(rng, (N, C)),
            {"from_logits": True},
        ),
        "cce_probs": (
            categorical_crossentropy_loss,
            rng.uniform(0.2, 1.0, (N, C)),
            soft_targets(rng, (N, C)),
            {},
        ),
        "scce_logits": (
            sparse_categorical_crossentropy_loss,
            logits,
            labels,
            {"from_logits": True},
        ),
        "scce_probs": (
            sparse_categorical_crossentropy_loss,
            rng.uniform(0.2, 1.0, (N, C)),
            labels,
            {},
        ),
        "bce_logits": (
            binary_crossentropy_loss,
            rng.standard_normal((N, 2, 3)),
            rng.uniform(0.0, 1.0, (N, 2, 3)),
            {"from_logits": True},
        ),
        "bce_probs": (
            binary_crossentropy_loss,
            rng.uniform(0.05, 0.95, (N, 2, 3)),
            rng.uniform(0.0, 1.0, (N, 2, 3)),
            {},
        ),
        "mse": (
            mean_squared_error_loss,
            rng.standard_normal((N, 2, 3)),
            rng.standard_normal((N, 2, 3)),
            {},
        ),
        "mae": (
            mean_absolute_error_loss,
            shifted,
            np.zeros((N, 2, 3)),
            {},
        ),
        "hinge": (
            hinge_loss,
            1.0 + shifted,  # 1 - y x is at least 0.2 away from 0
            np.ones((N, 2, 3)),
            {},
        ),
    }
    return cases[name]


CASES = [
    "softmax", "svm", "cce_logits", "cce_probs", "scce_logits", "scce_probs",
    "bce_logits", "bce_probs", "mse", "mae", "hinge",
]  # fmt: skip
LOGIT_CASES = ["softmax", "svm", "cce_logits", "scce_logits", "bce_logits", "mse",
               "mae", "hinge"]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_numerical_gradients(rng, name, weighted):
    fn, x, y, kwargs = make_case(rng, name)
    if weighted:
        kwargs["sample_weight"] = rng.uniform(0.0, 2.0, N)
    errors = check_loss(fn, x, y, **kwargs)
    assert errors["x"] < 1e-7, errors


@pytest.mark.parametrize("name", CASES)
def test_weights_of_all_ones_equal_no_weights(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    loss, dx = fn(x, y, **kwargs)
    loss_w, dx_w = fn(x, y, sample_weight=np.ones(N), **kwargs)
    assert loss_w == pytest.approx(loss, rel=1e-14)
    assert rel_error(dx_w, dx) < 1e-14


@pytest.mark.parametrize("name", CASES)
def test_zero_weight_removes_a_sample(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    weights = np.ones(N)
    weights[1] = 0.0
    loss, dx = fn(x, y, sample_weight=weights, **kwargs)
    keep = [0, 2, 3]
    loss_sub, dx_sub = fn(x[keep], y[keep], **kwargs)
    # The sum is still divided by N, not by the N - 1 samples that count.
    assert loss == pytest.approx(loss_sub * (N - 1) / N, rel=1e-12)
    assert np.all(dx[1] == 0)
    assert rel_error(dx[keep], dx_sub * (N - 1) / N) < 1e-12


def test_sample_weights_scale_each_sample_and_divide_by_n(rng):
    x, y = rng.standard_normal((N, C)), rng.integers(0, C, N)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    per_sample = [softmax_loss(x[i : i + 1], y[i : i + 1])[0] for i in range(N)]
    loss, _ = softmax_loss(x, y, sample_weight=w)
    assert loss == pytest.approx(sum(w * per_sample) / N, rel=1e-12)


@pytest.mark.parametrize("name", LOGIT_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_plus_minus_1000_stay_finite_without_warnings(rng, name, dtype):
    fn, x, y, kwargs = make_case(rng, name)
    x = (1000.0 * np.sign(rng.standard_normal(x.shape))).astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss, dx = fn(x, y, **kwargs)
    assert math.isfinite(loss) and np.all(np.isfinite(dx))


@pytest.mark.parametrize("name", CASES)
def test_float32_in_gives_float32_dx_and_a_python_float_loss(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    loss, dx = fn(x.astype(np.float32), y, sample_weight=np.ones(N), **kwargs)
    assert type(loss) is float
    assert dx.dtype == np.float32 and dx.shape == x.shape


# ---- closed forms and loop oracles -------------------------------------------


@pytest.mark.parametrize("C", [2, 5, 10])
def test_uniform_logits_give_log_c_for_every_cross_entropy(rng, C):
    x = np.full((N, C), 0.7)
    y = rng.integers(0, C, N)
    one_hot = np.eye(C)[y]
    for loss, _ in [
        softmax_loss(x, y),
        sparse_categorical_crossentropy_loss(x, y, from_logits=True),
        categorical_crossentropy_loss(x, one_hot, from_logits=True),
        # As probabilities, equal entries renormalise to 1 / C as well.
        sparse_categorical_crossentropy_loss(x, y),
    ]:
        assert loss == pytest.approx(math.log(C), rel=1e-12)


def test_softmax_loss_matches_a_loop(rng):
    x, y = rng.standard_normal((N, C)), rng.integers(0, C, N)
    loss, dx = softmax_loss(x, y)
    expected, expected_dx = 0.0, np.zeros((N, C))
    for i in range(N):
        z = sum(math.exp(v) for v in x[i])
        expected -= math.log(math.exp(x[i, y[i]]) / z) / N
        for j in range(C):
            expected_dx[i, j] = (math.exp(x[i, j]) / z - (j == y[i])) / N
    assert loss == pytest.approx(expected, rel=1e-12)
    assert rel_error(dx, expected_dx) < 1e-12


def test_softmax_loss_and_sparse_from_logits_agree_exactly(rng):
    x, y = rng.standard_normal((N, C)), rng.integers(0, C, N)
    w = rng.uniform(0.0, 1.0, N)
    a = softmax_loss(x, y, sample_weight=w)
    b = sparse_categorical_crossentropy_loss(x, y, from_logits=True, sample_weight=w)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_equals_categorical_with_one_hot_targets(rng, from_logits):
    x = rng.uniform(0.1, 1.0, (N, C))
    y = rng.integers(0, C, N)
    a = sparse_categorical_crossentropy_loss(x, y, from_logits=from_logits)
    b = categorical_crossentropy_loss(x, np.eye(C)[y], from_logits=from_logits)
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    assert rel_error(a[1], b[1]) < 1e-14


def test_svm_loss_matches_cs231n_naive_loop(rng):
    x, y = rng.standard_normal((N, 5)), rng.integers(0, 5, N)
    loss, dx = svm_loss(x, y)
    expected, expected_dx = 0.0, np.zeros_like(x)
    for i in range(N):
        for j in range(5):
            margin = x[i, j] - x[i, y[i]] + 1
            if j != y[i] and margin > 0:
                expected += margin / N
                expected_dx[i, j] += 1 / N
                expected_dx[i, y[i]] -= 1 / N
    assert loss == pytest.approx(expected, rel=1e-12)
    assert rel_error(dx, expected_dx) < 1e-12


def test_svm_loss_of_equal_scores_is_c_minus_one():
    # Every wrong class sits exactly at margin delta = 1 above the correct one.
    loss, _ = svm_loss(np.zeros((N, 5)), np.arange(N))
    assert loss == pytest.approx(4.0)


def test_categorical_crossentropy_matches_keras_docstring_example():
    # keras.losses.CategoricalCrossentropy docstring: 1.177, and 0.814 with
    # sample_weight [0.3, 0.7].
    y = np.array([[0, 1, 0], [0, 0, 1]])
    x = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    assert categorical_crossentropy_loss(x, y)[0] == pytest.approx(1.177, abs=5e-4)
    weighted = categorical_crossentropy_loss(x, y, sample_weight=np.array([0.3, 0.7]))
    assert weighted[0] == pytest.approx(0.814, abs=5e-4)


def test_categorical_crossentropy_renormalises_probabilities(rng):
    x, t = rng.uniform(0.1, 1.0, (N, C)), soft_targets(rng, (N, C))
    a = categorical_crossentropy_loss(x, t)
    b = categorical_crossentropy_loss(3.0 * x, t)
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    # Scaling x by 3 divides the gradient by 3 (the loss is scale invariant).
    assert rel_error(a[1], 3.0 * b[1]) < 1e-13


def test_categorical_crossentropy_clipped_entries_pass_no_gradient():
    x = np.array([[1e-9, 0.3, 0.7]])
    s = x.sum()
    # Target on the clipped entry: the loss is -log(1e-7), constant in x.
    loss, dx = categorical_crossentropy_loss(x, np.array([[1.0, 0.0, 0.0]]))
    assert loss == pytest.approx(-math.log(1e-7), rel=1e-12)
    assert np.all(dx == 0)
    # Target on entry 1: L = -log(x1 / s), so dL/dx = 1/s - [j == 1] / x1.
    _, dx = categorical_crossentropy_loss(x, np.array([[0.0, 1.0, 0.0]]))
    expected = np.array([[1 / s, 1 / s - 1 / 0.3, 1 / s]])
    assert rel_error(dx, expected) < 1e-12


def test_binary_crossentropy_matches_keras_docstring_example():
    # keras.losses.BinaryCrossentropy docstring: 0.815, and 0.458 with
    # sample_weight [1, 0].
    y = np.array([[0.0, 1.0], [0.0, 0.0]])
    x = np.array([[0.6, 0.4], [0.4, 0.6]])
    assert binary_crossentropy_loss(x, y)[0] == pytest.approx(0.815, abs=5e-4)
    weighted = binary_crossentropy_loss(x, y, sample_weight=np.array([1.0, 0.0]))
    assert weighted[0] == pytest.approx(0.458, abs=5e-4)


def test_binary_crossentropy_from_logits_matches_a_loop_and_probabilities(rng):
    x, y = rng.standard_normal((N, 5)), rng.uniform(0.0, 1.0, (N, 5))
    loss, _ = binary_crossentropy_loss(x, y, from_logits=True)
    p = 1 / (1 + np.exp(-x))
    expected = (
        sum(
            -(y[i, j] * math.log(p[i, j]) + (1 - y[i, j]) * math.log(1 - p[i, j])) / 5
            for i in range(N)
            for j in range(5)
        )
        / N
    )
    assert loss == pytest.approx(expected, rel=1e-12)
    assert binary_crossentropy_loss(p, y)[0] == pytest.approx(expected, rel=1e-12)


def test_binary_crossentropy_of_zero_logits_is_log_2(rng):
    loss, _ = binary_crossentropy_loss(
        np.zeros((N, 3)), rng.uniform(0, 1, (N, 3)), from_logits=True
    )
    assert loss == pytest.approx(math.log(2.0), rel=1e-12)


def test_binary_crossentropy_clips_certain_wrong_probabilities():
    loss, dx = binary_crossentropy_loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    # Both entries clip to a probability of 1e-7 for their target (float64).
    assert loss == pytest.approx(-math.log(1e-7), rel=1e-9)
    assert np.all(dx == 0)


def test_binary_crossentropy_accepts_rank_1_input(rng):
    x, y = rng.standard_normal(N), rng.uniform(0, 1, N)
    assert check_loss(binary_crossentropy_loss, x, y, from_logits=True)["x"] < 1e-7


def test_mean_squared_and_absolute_errors_match_keras_docstring_examples():
    # keras.losses.MeanSquaredError and MeanAbsoluteError docstrings: both 0.5.
    y = np.array([[0.0, 1.0], [0.0, 0.0]])
    x = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert mean_squared_error_loss(x, y)[0] == pytest.approx(0.5)
    assert mean_absolute_error_loss(x, y)[0] == pytest.approx(0.5)


def test_mean_squared_error_matches_a_loop(rng):
    x, y = rng.standard_normal((N, 2, 3)), rng.standard_normal((N, 2, 3))
    w = rng.uniform(0, 2, N)
    loss, _ = mean_squared_error_loss(x, y, sample_weight=w)
    expected = sum(w[i] * np.sum((x[i] - y[i]) ** 2) / 6 for i in range(N)) / N
    assert loss == pytest.approx(expected, rel=1e-12)


def test_hinge_matches_keras_docstring_example():
    # keras.losses.Hinge docstring: 1.3, and 0.55 with sample_weight [1, 0];
    # labels {0, 1} become {-1, 1}.
    y = np.array([[0.0, 1.0], [0.0, 0.0]])
    x = np.array([[0.6, 0.4], [0.4, 0.6]])
    assert hinge_loss(x, y)[0] == pytest.approx(1.3)
    assert hinge_loss(x, y, sample_weight=np.array([1.0, 0.0]))[0] == pytest.approx(
        0.55
    )


def test_hinge_with_zero_one_labels_equals_minus_one_one_labels(rng):
    x = rng.standard_normal((N, 3))
    y01 = rng.integers(0, 2, (N, 3))
    a = hinge_loss(x, y01)
    b = hinge_loss(x, 2.0 * y01 - 1.0)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


# ---- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "fn", [softmax_loss, svm_loss, sparse_categorical_crossentropy_loss]
)
def test_labels_out_of_range_are_rejected_naming_y(rng, fn):
    x = rng.standard_normal((N, C))
    with pytest.raises(ValueError, match="^y"):
        fn(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="^y"):
        fn(x, np.array([0, 1, -1, 2]))
    with pytest.raises(ValueError, match="^y"):
        fn(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="^y"):
        fn(x, np.array([0.5, 1, 2, 0]))


@pytest.mark.parametrize("fn", [softmax_loss, svm_loss, categorical_crossentropy_loss])
def test_x_that_is_not_a_float_matrix_is_rejected_naming_x(rng, fn):
    with pytest.raises(ValueError, match="^x"):
        fn(rng.standard_normal(N), np.zeros(N, dtype=int))
    if fn is not categorical_crossentropy_loss:  # Keras' takes (N, ..., C) too
        with pytest.raises(ValueError, match="^x"):
            fn(rng.standard_normal((N, C, 1)), np.zeros(N, dtype=int))
    with pytest.raises(ValueError, match="^x"):
        fn(np.ones((N, C), dtype=int), np.zeros(N, dtype=int))


@pytest.mark.parametrize("name", CASES)
def test_bad_sample_weight_is_rejected_naming_sample_weight(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    with pytest.raises(ValueError, match="sample_weight"):
        fn(x, y, sample_weight=np.ones(N + 1), **kwargs)
    with pytest.raises(ValueError, match="sample_weight"):
        fn(x, y, sample_weight=np.array([1.0, -1.0, 1.0, 1.0]), **kwargs)


@pytest.mark.parametrize(
    "fn",
    [
        categorical_crossentropy_loss,
        binary_crossentropy_loss,
        mean_squared_error_loss,
        mean_absolute_error_loss,
        hinge_loss,
    ],
)
def test_targets_of_another_shape_are_rejected_naming_y(rng, fn):
    with pytest.raises(ValueError, match=r"^y: .*\(4, 3\).*\(4, 1\)"):
        fn(rng.uniform(0.1, 0.9, (N, 3)), np.ones((N, 1)))


@pytest.mark.parametrize(
    "fn", [categorical_crossentropy_loss, binary_crossentropy_loss]
)
def test_targets_outside_zero_one_are_rejected_naming_y(rng, fn):
    with pytest.raises(ValueError, match="^y"):
        fn(rng.uniform(0.1, 0.9, (N, C)), np.full((N, C), 1.5))


def test_hinge_labels_outside_plus_minus_one_are_rejected_naming_y(rng):
    with pytest.raises(ValueError, match="^y"):
        hinge_loss(rng.standard_normal((N, 2)), np.full((N, 2), 0.5))
    with pytest.raises(ValueError, match="^y"):
        hinge_loss(rng.standard_normal((2, 2)), np.array([[-1.0, 0.0], [1.0, 1.0]]))


def test_non_bool_from_logits_is_rejected(rng):
    with pytest.raises(ValueError, match="from_logits"):
        binary_crossentropy_loss(
            rng.uniform(0, 1, (N, 2)), np.ones((N, 2)), from_logits=1
        )


SMOOTHED = ["cce_logits", "cce_probs", "scce_logits", "scce_probs", "bce_logits",
            "bce_probs"]  # fmt: skip


@pytest.mark.parametrize("name", SMOOTHED)
def test_label_smoothing_gradients_match_numerical_gradients(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    errors = check_loss(fn, x, y, label_smoothing=0.2, **kwargs)
    assert errors["x"] < 1e-7, errors


def test_label_smoothing_equals_the_smoothed_targets_as_keras_defines_them(rng):
    logits = rng.standard_normal((N, C))
    labels = rng.integers(0, C, N)
    onehot = np.eye(C)[labels]
    smoothed = onehot * 0.7 + 0.3 / C
    a = categorical_crossentropy_loss(
        logits, onehot, from_logits=True, label_smoothing=0.3
    )
    b = categorical_crossentropy_loss(logits, smoothed, from_logits=True)
    c = sparse_categorical_crossentropy_loss(
        logits, labels, from_logits=True, label_smoothing=0.3
    )
    assert a[0] == pytest.approx(b[0], rel=1e-12) == pytest.approx(c[0], rel=1e-12)
    assert rel_error(a[1], b[1]) < 1e-12 and rel_error(c[1], b[1]) < 1e-12
    t = rng.integers(0, 2, (N, 2)).astype(float)
    p = rng.uniform(0.1, 0.9, (N, 2))
    d = binary_crossentropy_loss(p, t, label_smoothing=0.2)
    e = binary_crossentropy_loss(p, t * 0.8 + 0.1)
    assert d[0] == pytest.approx(e[0], rel=1e-12)
    assert rel_error(d[1], e[1]) < 1e-12


def test_label_smoothing_closed_form_for_two_classes():
    # Keras' docstring case: ls=0.2 turns the one-hot target [0, 1] into [0.1, 0.9].
    p = np.array([[0.4, 0.6]])
    loss, _ = categorical_crossentropy_loss(
        p, np.array([[0.0, 1.0]]), label_smoothing=0.2
    )
    assert loss == pytest.approx(-(0.1 * math.log(0.4) + 0.9 * math.log(0.6)))


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.1", True])
def test_label_smoothing_outside_0_1_is_refused(rng, value):
    x = rng.uniform(0.2, 0.8, (N, C))
    with pytest.raises(ValueError, match="label_smoothing"):
        categorical_crossentropy_loss(
            x, soft_targets(rng, (N, C)), label_smoothing=value
        )
    with pytest.raises(ValueError, match="label_smoothing"):
        binary_crossentropy_loss(x, np.zeros((N, C)), label_smoothing=value)


@pytest.mark.parametrize("name", [c for c in CASES if c not in ("softmax", "svm")])
def test_reduction_none_and_sum_agree_with_the_mean_over_the_batch(rng, name):
    fn, x, y, kwargs = make_case(rng, name)
    w = rng.uniform(0.0, 2.0, N)
    mean, dx = fn(x, y, sample_weight=w, **kwargs)
    per_sample, dx_none = fn(x, y, sample_weight=w, reduction="none", **kwargs)
    total, dx_sum = fn(x, y, sample_weight=w, reduction="sum", **kwargs)
    assert per_sample.shape == (N,)
    assert per_sample.sum() / N == pytest.approx(mean, rel=1e-12)
    assert total == pytest.approx(mean * N, rel=1e-12)
    assert rel_error(dx_none, dx * N) < 1e-12 and rel_error(dx_sum, dx * N) < 1e-12
    with pytest.raises(ValueError, match="reduction"):
        fn(x, y, reduction="average", **kwargs)
