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


@pytest.mark.parametrize(
    "augmentation",
    [
        lambda: layers.RandomFlip("horizontal", seed=0),
        lambda: layers.RandomTranslation(0.2, (-0.1, 0.2), fill_mode="wrap", seed=0),
    ],
)
def test_a_model_with_augmentation_trains_and_round_trips(tmp_path, rng, augmentation):
    model = models.Sequential(
        [
            layers.Input((6, 6, 1)),
            augmentation(),
            layers.Conv2D(2, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.random((16, 6, 6, 1)).astype(np.float32)
    model.fit(x, rng.integers(0, 2, 16), epochs=1, verbose=0)
    model.save(tmp_path / "m.h5")
    again = models.load_model(tmp_path / "m.h5")
    assert again.get_config() == model.get_config()
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def _shift_of(image, moved):
    """(dy, dx) by which the single bright pixel of ``image`` moved in ``moved``."""
    (y0, x0), (y1, x1) = (np.argwhere(a[..., 0] == 1)[0] for a in (image, moved))
    return y1 - y0, x1 - x0


def test_translation_draws_shifts_within_the_factors():
    x = np.zeros((300, 21, 21, 1))
    x[:, 10, 10] = 1.0  # one bright pixel in the middle of each image
    layer = layers.RandomTranslation(
        (-0.2, 0.1), 0.3, fill_mode="constant", interpolation="nearest", seed=0
    )
    assert np.array_equal(layer(x), x)  # inference: the identity
    out = layer(x, training=True)
    shifts = np.array([_shift_of(a, b) for a, b in zip(x, out, strict=True)])
    dy, dx = shifts[:, 0], shifts[:, 1]
    # U(-0.2, 0.1) * 21 rounds to -4..2; U(-0.3, 0.3) * 21 to -6..6; all reached.
    assert set(dy) == set(range(-4, 3)) and set(dx) == set(range(-6, 7))
    again = layers.RandomTranslation(
        (-0.2, 0.1), 0.3, fill_mode="constant", interpolation="nearest", seed=0
    )
    assert np.array_equal(again(x, training=True), out)


def test_translation_channels_first_equals_channels_last(rng):
    x = rng.random((6, 5, 7, 2))
    last = layers.RandomTranslation(0.3, 0.2, seed=4)
    first = layers.RandomTranslation(0.3, 0.2, seed=4, data_format="channels_first")
    out = last(x, training=True)
    out_first = first(x.transpose(0, 3, 1, 2), training=True)
    np.testing.assert_allclose(out_first.transpose(0, 2, 3, 1), out, rtol=1e-12)
    g = rng.random(out.shape)
    np.testing.assert_allclose(
        first.backward(g.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1),
        last.backward(g),
        rtol=1e-12,
    )


def test_translation_backward_is_the_adjoint(rng):
    x = rng.random((8, 6, 5, 2))
    layer = layers.RandomTranslation(0.5, 0.5, seed=5, dtype="float64")
    out = layer(x, training=True)
    g = rng.random(out.shape)
    assert np.isclose(np.sum(out * g), np.sum(x * layer.backward(g)), rtol=1e-12)


def test_translation_arguments_are_checked():
    with pytest.raises(ValueError, match="height_factor"):
        layers.RandomTranslation(1.5, 0.1)
    # A reversed pair is sorted, as Keras does.
    assert layers.RandomTranslation((0.3, -0.2), 0.1).height_factor == (-0.2, 0.3)
    with pytest.raises(ValueError, match="width_factor"):
        layers.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        layers.RandomTranslation(0.1, 0.1, interpolation="cubic")
    with pytest.raises(ValueError, match="RandomTranslation"):
        layers.RandomTranslation(0.1, 0.1)(np.zeros((2, 3)))
