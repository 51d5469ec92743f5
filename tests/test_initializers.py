import math

import numpy as np
import pytest

from glassnet import initializers


def test_fans_follow_keras_for_dense_and_conv_kernels():
    assert initializers.compute_fans((20, 30)) == (20, 30)
    assert initializers.compute_fans((3, 3, 16, 32)) == (9 * 16, 9 * 32)


@pytest.mark.parametrize(
    ("name", "expected_std"),
    [
        # Keras: glorot_uniform's limit sqrt(6 / (fan_in + fan_out)) = std * sqrt(3)
        ("glorot_uniform", math.sqrt(2 / (200 + 300))),
        ("glorot_normal", math.sqrt(2 / (200 + 300))),
        ("he_normal", math.sqrt(2 / 200)),
        ("he_uniform", math.sqrt(2 / 200)),
        ("lecun_normal", math.sqrt(1 / 200)),
    ],
)
def test_variance_scaling_family_has_the_documented_spread(name, expected_std):
    w = initializers.get(name)((200, 300), "float64", np.random.default_rng(0))
    assert abs(w.std() / expected_std - 1) < 0.02
    assert abs(w.mean()) < 0.05 * expected_std * 10


def test_uniform_families_stay_within_their_limit_and_normals_are_truncated():
    w = initializers.GlorotUniform(seed=1)((50, 70))
    assert np.abs(w).max() <= math.sqrt(6 / 120)
    w = initializers.HeNormal(seed=1)((400, 10), "float64")
    std = math.sqrt(2 / 400) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * std


def test_seeded_initializers_repeat_and_default_dtype_is_float32():
    a, b = initializers.HeNormal(seed=3)((4, 5)), initializers.HeNormal(seed=3)((4, 5))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert initializers.get("zeros")((2,)).sum() == 0
    np.testing.assert_array_equal(initializers.Constant(2.5)((3,)), [2.5] * 3)
    w = initializers.RandomNormal(stddev=0.2, seed=0)((2000,), "float64")
    assert abs(w.std() - 0.2) < 0.01


def test_get_resolves_names_class_names_configs_and_refuses_unknowns():
    assert isinstance(initializers.get("HeUniform"), initializers.HeUniform)
    init = initializers.get(
        initializers.serialize(initializers.RandomNormal(stddev=0.3))
    )
    assert init.stddev == pytest.approx(0.3)
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot")
