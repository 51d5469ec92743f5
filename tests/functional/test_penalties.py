import numpy as np
import pytest

from glassnet.functional.penalties import (
    elastic_net_penalty,
    l1_l2_penalty,
    l1_penalty,
    l2_penalty,
)
from glassnet.gradcheck import check_loss, rel_error

PENALTIES = {
    "l1_l2": (l1_l2_penalty, {"l1": 0.3, "l2": 0.7}),
    "l2": (l2_penalty, {"reg": 0.5}),
    "l1": (l1_penalty, {"reg": 0.2}),
    "elastic_net": (elastic_net_penalty, {"reg": 0.4, "beta": 1.5}),
}


def away_from_zero(rng, shape):
    """|w| >= 0.1, so the centred difference of |w| never straddles its kink."""
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("name", PENALTIES)
def test_gradients_match_numerical_gradients(rng, name):
    fn, kwargs = PENALTIES[name]
    errors = check_loss(fn, away_from_zero(rng, (3, 4)), **kwargs)
    assert errors["x"] < 1e-7, errors


def test_l1_l2_matches_a_loop(rng):
    w = away_from_zero(rng, (3, 4))
    loss, dw = l1_l2_penalty(w, l1=0.3, l2=0.7)
    flat = w.ravel().tolist()
    assert loss == pytest.approx(sum(0.3 * abs(v) + 0.7 * v * v for v in flat))
    expected = [0.3 * (1 if v > 0 else -1) + 1.4 * v for v in flat]
    assert rel_error(dw.ravel(), np.array(expected)) < 1e-14


def test_l2_penalty_is_cs231n_half_reg_sum_of_squares_with_dw_reg_w(rng):
    w = rng.standard_normal((5, 3))
    loss, dw = l2_penalty(w, 0.1)
    assert loss == pytest.approx(0.5 * 0.1 * np.sum(w * w), rel=1e-12)
    assert rel_error(dw, 0.1 * w) < 1e-15


def test_l1_penalty_is_reg_sum_of_absolute_values(rng):
    w = away_from_zero(rng, (5, 3))
    loss, dw = l1_penalty(w, 0.2)
    assert loss == pytest.approx(0.2 * np.sum(np.abs(w)), rel=1e-12)
    assert rel_error(dw, 0.2 * np.sign(w)) < 1e-15


def test_elastic_net_is_reg_times_beta_square_plus_absolute(rng):
    w = away_from_zero(rng, (5, 3))
    loss, dw = elastic_net_penalty(w, 0.4, 1.5)
    assert loss == pytest.approx(0.4 * np.sum(1.5 * w * w + np.abs(w)), rel=1e-12)
    assert rel_error(dw, 0.4 * (3.0 * w + np.sign(w))) < 1e-14


def test_zero_coefficients_give_zero_loss_and_gradient(rng):
    loss, dw = l1_l2_penalty(rng.standard_normal((2, 3)))
    assert loss == 0.0 and np.all(dw == 0)


def test_l1_subgradient_at_zero_is_zero():
    _, dw = l1_penalty(np.zeros(3), 1.0)
    assert np.all(dw == 0)


@pytest.mark.parametrize("name", PENALTIES)
def test_float32_in_gives_float32_dw_and_a_python_float_loss(rng, name):
    fn, kwargs = PENALTIES[name]
    loss, dw = fn(rng.standard_normal((2, 3)).astype(np.float32), **kwargs)
    assert type(loss) is float and dw.dtype == np.float32


@pytest.mark.parametrize(
    ("fn", "kwargs", "argument"),
    [
        (l1_l2_penalty, {"l1": -0.1}, "l1"),
        (l1_l2_penalty, {"l2": -0.1}, "l2"),
        (l2_penalty, {"reg": -1.0}, "reg"),
        (l1_penalty, {"reg": "0.1"}, "reg"),
        (elastic_net_penalty, {"reg": 0.1, "beta": -2.0}, "beta"),
    ],
)
def test_negative_or_non_numeric_coefficients_are_rejected(rng, fn, kwargs, argument):
    with pytest.raises(ValueError, match=f"^{argument}"):
        fn(rng.standard_normal(3), **kwargs)


def test_integer_weights_are_rejected_naming_w():
    with pytest.raises(ValueError, match="^w"):
        l1_l2_penalty(np.arange(3), l2=1.0)
