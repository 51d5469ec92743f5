import numpy as np
import pytest

from glassnet.gradcheck import (
    check_kernel,
    check_loss,
    check_model,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    max_relative_error,
    rel_error,
)


def square_forward(x, w):
    return x * w, (x, w)


def square_backward(dout, cache):
    x, w = cache
    return dout * w, dout * x


def wrong_backward(dout, cache):
    x, w = cache
    return 2 * dout * w, dout * x


def test_numerical_gradient_of_a_sum_of_squares_is_twice_x_and_x_is_restored(
    rng, capsys
):
    x = rng.normal(size=(3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v**2), x, verbose=True)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)
    np.testing.assert_array_equal(x, before)
    assert len(capsys.readouterr().out.splitlines()) == 12


def test_numerical_array_gradient_is_the_backward_pass_at_df(rng):
    x, df = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    grad = eval_numerical_gradient_array(lambda v: np.tanh(v), x, df)
    np.testing.assert_allclose(grad, df * (1 - np.tanh(x) ** 2), rtol=1e-7)


def test_sparse_check_is_small_for_the_right_gradient_and_large_for_a_wrong_one(rng):
    x = rng.normal(size=(5, 5))
    good = grad_check_sparse(lambda v: np.sum(v**3), x, 3 * x**2, seed=0, verbose=False)
    bad = grad_check_sparse(lambda v: np.sum(v**3), x, 2 * x**2, seed=0, verbose=False)
    assert max(good) < 1e-7
    assert min(bad) > 0.1


def test_rel_error_follows_the_course_formula():
    assert rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_max_relative_error_divides_by_the_larger_magnitude():
    assert max_relative_error(
        np.array([2.0, 1.0]), np.array([1.0, 1.0])
    ) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="analytic"):
        max_relative_error(np.zeros(2), np.zeros(3))


def test_check_kernel_names_each_input_and_passes_a_correct_pair(rng):
    x, w = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    errs = check_kernel(square_forward, square_backward, x, w)
    assert set(errs) == {"x", "w"}
    assert max(errs.values()) < 1e-9


def test_check_kernel_catches_a_wrong_backward(rng):
    x, w = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    errs = check_kernel(square_forward, wrong_backward, x, w)
    assert errs["x"] == pytest.approx(0.5)
    assert errs["w"] < 1e-9


def test_check_kernel_warns_on_float32_and_refuses_a_wrong_gradient_count(rng):
    x, w = rng.normal(size=3).astype(np.float32), rng.normal(size=3).astype(np.float32)
    with pytest.warns(RuntimeWarning, match="float64 copies"):
        errs = check_kernel(square_forward, square_backward, x, w)
    # Checked on float64 copies, so the float32 inputs still give a clean result.
    assert max(errs.values()) < 1e-9
    with pytest.raises(ValueError, match="backward"):
        check_kernel(square_forward, lambda d, c: d, x.astype(float), w.astype(float))


def test_check_kernel_checks_only_the_arguments_named_in_wrt(rng):
    x, w = rng.normal(size=3), rng.normal(size=3)
    errs = check_kernel(square_forward, lambda d, c: d * c[1], x, w, wrt=["x"])
    assert list(errs) == ["x"] and errs["x"] < 1e-9


def test_check_loss_of_a_quadratic(rng):
    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))

    def loss(x, t):
        return float(0.5 * np.sum((x - t) ** 2)), x - t

    assert check_loss(loss, x, t)["x"] < 1e-8


class LinearModel:
    def __init__(self, rng, bug=False):
        self.params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
        self.bug = bug

    def loss(self, X, y=None):
        out = X @ self.params["W"] + self.params["b"]
        loss = 0.5 * np.sum(out**2)
        db = out.sum(axis=0) * (3.0 if self.bug else 1.0)
        return loss, {"W": X.T @ out, "b": db}


def test_check_model_reports_every_parameter_and_finds_a_wrong_bias_gradient(rng):
    X = rng.normal(size=(4, 3))
    errs = check_model(LinearModel(rng), X, None)
    assert set(errs) == {"W", "b"} and max(errs.values()) < 1e-8
    errs = check_model(LinearModel(rng, bug=True), X, None)
    assert errs["W"] < 1e-8 and errs["b"] > 0.5
    with pytest.raises(ValueError, match="params"):
        check_model(LinearModel(rng), X, None, params=["V"])
