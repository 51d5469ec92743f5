import numpy as np
import pytest

from glassnet import layers, models
from glassnet.layers.augmentation import RandomFlip


def _flipped_or_not(out, x, axis):
    """Per sample: 0 if kept, 1 if mirrored along ``axis``; fails otherwise."""
    kinds = []
    for o, s in zip(out, x, strict=True):
        if np.array_equal(o, s):
            kinds.append(0)
        else:
            assert np.array_equal(o, np.flip(s, axis=axis - 1))
            kinds.append(1)
    return np.array(kinds)


def test_inference_is_the_identity(rng):
    x = rng.random((3, 4, 5, 2)).astype(np.float32)
    assert np.array_equal(RandomFlip(seed=0)(x), x)


@pytest.mark.parametrize(
    ("mode", "data_format", "axis"),
    [
        ("horizontal", None, 2),
        ("vertical", None, 1),
        ("horizontal", "channels_first", 3),
    ],
)
def test_training_mirrors_about_half_of_the_samples(rng, mode, data_format, axis):
    x = rng.random((400, 3, 4, 3)).astype(np.float32)
    layer = RandomFlip(mode, seed=1, data_format=data_format)
    out = layer(x, training=True)
    assert out.dtype == np.float32
    kinds = _flipped_or_not(out, x, axis)
    assert 150 < kinds.sum() < 250  # Binomial(400, 1/2): mean 200, sd 10


def test_backward_is_the_adjoint_of_the_random_permutation(rng):
    # The flip is linear: <layer(x), g> = <x, layer.backward(g)> for every g.
    x = rng.random((50, 3, 4, 2))
    layer = RandomFlip(seed=2, dtype="float64")
    out = layer(x, training=True)
    g = rng.random(out.shape)
    dx = layer.backward(g)
    assert np.isclose(np.sum(out * g), np.sum(x * dx), rtol=1e-12)
    assert not np.array_equal(dx, g)  # some samples were flipped


def test_the_same_seed_flips_the_same_samples(rng):
    x = rng.random((20, 3, 3, 1))
    a = RandomFlip(seed=3)(x, training=True)
    b = RandomFlip(seed=3)(x, training=True)
    assert np.array_equal(a, b)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="data_format"):
        RandomFlip(data_format="nhwc")
    with pytest.raises(ValueError, match="RandomFlip"):
        RandomFlip()(np.zeros((2, 3)))


def test_a_model_with_random_flip_trains_and_round_trips(tmp_path, rng):
    model = models.Sequential(
        [
            layers.Input((4, 4, 1)),
            layers.RandomFlip("horizontal", seed=0),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.random((16, 4, 4, 1)).astype(np.float32)
    model.fit(x, rng.integers(0, 2, 16), epochs=1, verbose=0)
    model.save(tmp_path / "m.h5")
    again = models.load_model(tmp_path / "m.h5")
    assert again.get_config() == model.get_config()
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
