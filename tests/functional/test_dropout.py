import numpy as np
import pytest

from glassnet.functional.dropout import dropout_backward, dropout_forward
from glassnet.gradcheck import check_kernel


def train(p, **extra):
    return {"p": p, "mode": "train", **extra}


def test_gradients_match_numerical_gradients_with_a_fixed_seed(rng):
    x = rng.standard_normal((4, 5))
    errors = check_kernel(
        lambda x: dropout_forward(x, train(0.6, seed=123)), dropout_backward, x
    )
    assert errors["x"] < 1e-7, errors


def test_output_mean_matches_input_mean_on_a_large_array(rng):
    n, p = 1_000_000, 0.6
    x = np.ones(n)
    out, _ = dropout_forward(x, train(p), rng=rng)
    # out_i = m_i / p with m_i ~ Bernoulli(p): mean 1 and variance (1 - p) / p, so
    # the sample mean has standard deviation sqrt((1 - p) / (p n)) ~ 8.2e-4; allow
    # five of them.
    assert abs(out.mean() - 1.0) < 5 * np.sqrt((1 - p) / (p * n))


def test_fraction_of_zeros_is_one_minus_p(rng):
    n, p = 1_000_000, 0.3
    out, _ = dropout_forward(rng.uniform(1.0, 2.0, n), train(p), rng=rng)
    # The count of zeros is Binomial(n, 1 - p): standard deviation of the fraction
    # sqrt(p (1 - p) / n) ~ 4.6e-4; allow five of them.
    assert abs(np.mean(out == 0) - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)


def test_kept_units_are_scaled_by_one_over_p(rng):
    x = rng.uniform(1.0, 2.0, (50, 40))
    out, _ = dropout_forward(x, train(0.25, seed=0))
    ratio = out / x
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], 4.0, rtol=1e-15)


def test_backward_applies_the_same_mask_as_forward(rng):
    x = rng.uniform(1.0, 2.0, (6, 7))
    out, cache = dropout_forward(x, train(0.5, seed=3))
    dout = rng.standard_normal((6, 7))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout * (out / x))


def test_test_mode_is_the_identity_forward_and_backward(rng):
    x = rng.standard_normal((3, 4))
    out, cache = dropout_forward(x, {"p": 0.5, "mode": "test"})
    dout = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_p_of_one_keeps_everything_in_train_mode(rng):
    x = rng.standard_normal((3, 4))
    out, _ = dropout_forward(x, train(1.0), rng=rng)
    np.testing.assert_array_equal(out, x)


def test_same_seed_gives_the_same_mask_and_seed_beats_rng(rng):
    x = np.ones((20, 20))
    a, _ = dropout_forward(x, train(0.5, seed=7))
    b, _ = dropout_forward(x, train(0.5, seed=7), rng=rng)
    np.testing.assert_array_equal(a, b)


def test_rng_is_used_when_no_seed_is_given():
    x = np.ones((20, 20))
    a, _ = dropout_forward(x, train(0.5), rng=np.random.default_rng(11))
    b, _ = dropout_forward(x, train(0.5), rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(11)
    first, _ = dropout_forward(x, train(0.5), rng=gen)
    second, _ = dropout_forward(x, train(0.5), rng=gen)
    assert not np.array_equal(first, second)


def test_fresh_randomness_without_seed_or_rng_still_gives_a_valid_mask():
    out, _ = dropout_forward(np.ones((10, 10)), train(0.5))
    assert set(np.unique(out)) <= {0.0, 2.0}


def test_float32_in_gives_float32_out_and_dx(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out, cache = dropout_forward(x, train(0.7, seed=1))
    assert out.dtype == np.float32
    assert dropout_backward(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, "0.5"])
def test_p_outside_zero_one_is_rejected_naming_p(rng, p):
    with pytest.raises(ValueError, match=r"dropout_param\['p'\]"):
        dropout_forward(rng.standard_normal(3), train(p))


def test_unknown_mode_is_rejected_naming_mode(rng):
    with pytest.raises(ValueError, match="mode"):
        dropout_forward(rng.standard_normal(3), {"p": 0.5, "mode": "eval"})


def test_missing_key_is_rejected_naming_dropout_param(rng):
    with pytest.raises(ValueError, match="dropout_param"):
        dropout_forward(rng.standard_normal(3), {"mode": "train"})


def test_rng_that_is_not_a_generator_is_rejected_naming_rng(rng):
    with pytest.raises(ValueError, match="rng"):
        dropout_forward(rng.standard_normal(3), train(0.5), rng=42)
