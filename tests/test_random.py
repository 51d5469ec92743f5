"""glassnet.random: Keras 3's seeding rules, the distributions' moments against
closed forms, and dropout/shuffle gradients against numerical ones (float64)."""

import math

import numpy as np
import pytest

from glassnet import ops
from glassnet import random as grandom
from glassnet.utils import set_random_seed
from tests.test_ops import check_op

DRAWS = [
    lambda seed: grandom.normal((3, 4), seed=seed),
    lambda seed: grandom.uniform((3, 4), seed=seed),
    lambda seed: grandom.truncated_normal((3, 4), seed=seed),
    lambda seed: grandom.randint((3, 4), 0, 1000, seed=seed),
    lambda seed: grandom.shuffle(np.arange(20.0), seed=seed),
    lambda seed: grandom.dropout(np.ones((3, 4)), 0.5, seed=seed),
    lambda seed: grandom.categorical(np.zeros((3, 50)), 4, seed=seed),
]
NAMES = ["normal", "uniform", "truncated", "randint", "shuffle", "dropout", "cat"]


@pytest.mark.parametrize("draw", DRAWS, ids=NAMES)
def test_an_int_seed_repeats_and_a_seed_generator_advances(draw):
    np.testing.assert_array_equal(draw(42), draw(42))
    assert not np.array_equal(draw(42), draw(43))
    gen = grandom.SeedGenerator(42)
    first, second = draw(gen), draw(gen)
    assert not np.array_equal(first, second)
    # Keras' rule: an int seed s is the state [s, 0], the first of SeedGenerator(s).
    np.testing.assert_array_equal(first, draw(42))
    again = grandom.SeedGenerator(42)
    np.testing.assert_array_equal(draw(again), first)
    np.testing.assert_array_equal(draw(again), second)


@pytest.mark.parametrize("draw", DRAWS, ids=NAMES)
def test_unseeded_draws_follow_set_random_seed(draw):
    set_random_seed(5)
    run_1 = [draw(None), draw(None)]
    set_random_seed(5)
    run_2 = [draw(None), draw(None)]
    for a, b in zip(run_1, run_2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(*run_1)


def test_a_seed_generator_made_without_a_seed_follows_set_random_seed():
    set_random_seed(3)
    a = grandom.SeedGenerator()
    set_random_seed(3)
    b = grandom.SeedGenerator()
    assert a.state.tolist() == b.state.tolist()
    assert a.get_config() == {"seed": None}


def test_seed_generator_state_counts_draws_and_round_trips_its_config():
    gen = grandom.SeedGenerator(7, name="g")
    assert gen.name == "g" and gen.state.tolist() == [7, 0]
    assert gen.next().tolist() == [7, 0] and gen.state.tolist() == [7, 1]
    assert grandom.SeedGenerator.from_config(gen.get_config()).state.tolist() == [7, 0]
    assert grandom.SeedGenerator(1).name.startswith("seed_generator")


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "1", True])
def test_a_bad_seed_is_refused_naming_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        grandom.SeedGenerator(bad)
    with pytest.raises(ValueError, match="seed"):
        grandom.normal((2,), seed=bad)


def test_float_draws_are_floatx_and_refuse_integer_dtypes():
    assert grandom.normal((2,)).dtype == np.float32
    assert grandom.uniform((2,), dtype="float64").dtype == np.float64
    assert grandom.randint((2,), 0, 3).dtype == np.int32
    with pytest.raises(ValueError, match="dtype"):
        grandom.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="dtype"):
        grandom.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="maxval"):
        grandom.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="kwargs"):
        grandom.SeedGenerator(1, device="cpu")


N = 200_000


def _within(sample_mean, mean, sd, n=N):
    """Within 5 standard errors of the mean."""
    return abs(sample_mean - mean) < 5 * sd / math.sqrt(n)


def test_normal_and_uniform_have_their_moments():
    x = grandom.normal((N,), mean=2.0, stddev=3.0, dtype="float64", seed=0)
    assert _within(x.mean(), 2.0, 3.0) and abs(x.std() - 3.0) < 0.03
    u = grandom.uniform((N,), minval=-1.0, maxval=3.0, dtype="float64", seed=0)
    assert u.min() >= -1.0 and u.max() < 3.0
    assert _within(u.mean(), 1.0, 4 / math.sqrt(12))


def test_truncated_normal_stays_within_two_deviations_with_the_truncated_variance():
    x = grandom.truncated_normal((N,), mean=1.0, stddev=2.0, dtype="float64", seed=0)
    assert x.min() >= 1.0 - 4.0 and x.max() <= 1.0 + 4.0
    # N(0, 1) truncated to [-2, 2]: var = 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2)).
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    sd = 2.0 * math.sqrt(1 - 4 * phi / mass)
    assert _within(x.mean(), 1.0, sd) and abs(x.std() - sd) < 0.02


def test_randint_hits_every_value_of_the_half_open_range():
    r = grandom.randint((N,), -2, 3, seed=0)
    counts = np.bincount(r + 2)
    assert len(counts) == 5
    assert all(_within(c / N, 0.2, math.sqrt(0.16)) for c in counts)


def test_categorical_draws_with_the_softmax_probabilities():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 1e-9]]))
    out = grandom.categorical(logits, 50_000, seed=0)
    assert out.shape == (2, 50_000) and out.dtype == np.int32
    p = np.exp(logits)
    for row, probs in zip(out, p, strict=True):
        freq = np.bincount(row, minlength=3) / row.size
        sd = np.sqrt(probs * (1 - probs))
        assert all(abs(freq - probs) < 5 * sd / math.sqrt(row.size) + 1e-9)
    with pytest.raises(ValueError, match="logits"):
        grandom.categorical(np.zeros(3), 2)


def test_shuffle_permutes_whole_slices_along_the_axis(rng):
    x = rng.standard_normal((6, 3))
    out = grandom.shuffle(x, seed=1)
    assert not np.array_equal(out, x)
    assert sorted(map(tuple, out)) == sorted(map(tuple, x))  # rows intact
    cols = grandom.shuffle(x, axis=1, seed=1)
    assert sorted(map(tuple, cols.T)) == sorted(map(tuple, x.T))
    check_op(lambda v: grandom.shuffle(v, axis=-1, seed=3), x, rng=rng)
    with pytest.raises(ValueError, match="axis"):
        grandom.shuffle(x, axis=2)


def test_dropout_keeps_a_fraction_scaled_by_the_inverse_keep_probability():
    x = np.full((N,), 3.0)
    out = grandom.dropout(x, rate=0.25, seed=0)
    assert set(np.unique(out)) == {0.0, 4.0}
    assert _within((out == 0).mean(), 0.25, math.sqrt(0.25 * 0.75))
    assert grandom.dropout(x, 0.0) is x
    np.testing.assert_array_equal(grandom.dropout(x[:5], 1.0), np.zeros(5))
    with pytest.raises(ValueError, match="rate"):
        grandom.dropout(x, 1.5)


def test_dropout_gradient_is_the_mask(rng):
    x = rng.standard_normal((4, 5))
    check_op(lambda v: grandom.dropout(v, 0.4, seed=2), x, rng=rng)
    check_op(lambda v: grandom.dropout(v, 0.4, noise_shape=(4, 1), seed=2), x, rng=rng)
    with ops.GradientTape() as tape:
        y = ops.sum(grandom.dropout(x, 1.0))
    np.testing.assert_array_equal(tape.gradient(y, [x])[0], np.zeros_like(x))


def test_a_noise_shape_shares_the_mask_along_its_size_1_axes():
    out = grandom.dropout(np.ones((50, 6)), 0.5, noise_shape=(None, 1), seed=0)
    assert all(len(set(row)) == 1 for row in out)  # each row all kept or all dropped
    assert 0 < (out[:, 0] == 0).sum() < 50
    with pytest.raises(ValueError, match="noise_shape"):
        grandom.dropout(np.ones((4, 6)), 0.5, noise_shape=(4, 3))
