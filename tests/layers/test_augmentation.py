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
        lambda: layers.RandomRotation(0.1, fill_mode="constant", seed=0),
        lambda: layers.RandomZoom((-0.2, 0.3), 0.1, interpolation="nearest", seed=0),
        lambda: layers.RandomCrop(5, 4, seed=0),
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


# -- RandomRotation --


def test_rotation_by_a_quarter_turn_is_np_rot90_counter_clockwise(rng):
    # Keras: a positive factor turns the content counter-clockwise.
    x = rng.random((3, 5, 5, 2))
    for factor, k in (((0.25, 0.25), 1), ((-0.25, -0.25), -1)):
        layer = layers.RandomRotation(factor, interpolation="nearest", dtype="float64")
        np.testing.assert_array_equal(
            layer(x, training=True), np.rot90(x, k, axes=(1, 2))
        )


def test_rotation_by_half_a_turn_gives_keras_documented_output():
    # keras random_rotation_test: factor (0.5, 0.5) on arange(25) in 5 x 5.
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out = layers.RandomRotation((0.5, 0.5), dtype="float64")(x, training=True)
    np.testing.assert_allclose(out[0, :, :, 0], x[0, ::-1, ::-1, 0], atol=1e-12)


def test_rotation_angles_are_drawn_per_sample_within_the_factor():
    # A bright pixel at distance 4 right of the centre of 9 x 9 images moves
    # to the angle drawn for its sample: within +-0.1 turn, and they differ.
    x = np.zeros((200, 9, 9, 1))
    x[:, 4, 8] = 1.0
    layer = layers.RandomRotation(
        0.1, fill_mode="constant", interpolation="nearest", seed=3
    )
    out = layer(x, training=True)
    angles = []
    for image in out[..., 0]:
        (row, col), *_ = np.argwhere(image == 1)
        angles.append(np.arctan2(4 - row, col - 4))  # rows grow downwards
    angles = np.array(angles) / (2 * np.pi)
    assert np.all(np.abs(angles) <= 0.1 + 0.02)  # a pixel's worth of rounding
    assert angles.min() < -0.07 and angles.max() > 0.07


def test_rotation_and_zoom_are_repeatable_and_the_identity_in_inference(rng):
    x = rng.random((4, 6, 7, 3)).astype(np.float32)
    for make in (
        lambda: layers.RandomRotation(0.3, seed=7),
        lambda: layers.RandomZoom(0.4, seed=7),
    ):
        assert np.array_equal(make()(x), x)
        a, b = make()(x, training=True), make()(x, training=True)
        assert np.array_equal(a, b) and not np.allclose(a, x)
        layer = make()
        layer(x)
        assert layer.backward(x) is x  # no cache: backward of the identity


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: layers.RandomRotation(0.4, fill_mode="wrap", seed=5, **kw),
        lambda **kw: layers.RandomZoom((-0.5, 0.5), seed=5, **kw),
        lambda **kw: layers.RandomCrop(3, 4, seed=5, **kw),
        lambda **kw: layers.RandomCrop(8, 4, seed=5, **kw),  # taller: resized
    ],
)
def test_random_layers_backward_is_the_adjoint_in_both_layouts(rng, make):
    x = rng.random((5, 6, 7, 2))
    last = make(dtype="float64")
    out = last(x, training=True)
    g = rng.random(out.shape)
    dx = last.backward(g)
    assert np.isclose(np.sum(out * g), np.sum(x * dx), rtol=1e-12)
    first = make(dtype="float64", data_format="channels_first")
    out_first = first(x.transpose(0, 3, 1, 2), training=True)
    np.testing.assert_allclose(out_first.transpose(0, 2, 3, 1), out, rtol=1e-12)
    dx_first = first.backward(g.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(dx_first.transpose(0, 2, 3, 1), dx, rtol=1e-12)


# -- RandomZoom --


def test_zoom_by_zero_is_the_identity(rng):
    x = rng.random((3, 5, 6, 2))
    layer = layers.RandomZoom(0.0, dtype="float64")
    np.testing.assert_allclose(layer(x, training=True), x, atol=1e-12)


def test_zoom_gives_keras_documented_outputs():
    # keras random_zoom_test: zoom out by (0.5, 0.8) and in by 0.5, constant fill.
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out = layers.RandomZoom(
        (0.5, 0.5), (0.8, 0.8), fill_mode="constant", dtype="float64"
    )(x, training=True)
    zoomed_out = [
        [0, 0, 0, 0, 0],
        [0, 2.7, 4.5, 6.3, 0],
        [0, 10.2, 12.0, 13.8, 0],
        [0, 17.7, 19.5, 21.3, 0],
        [0, 0, 0, 0, 0],
    ]
    np.testing.assert_allclose(out[0, :, :, 0], zoomed_out, atol=1e-12)
    out = layers.RandomZoom(-0.5, (-0.5, -0.5), fill_mode="constant", dtype="float64")
    zoomed_in = 6.0 + 2.5 * np.arange(5)[:, None] + 0.5 * np.arange(5)[None, :]
    # A symmetric height factor draws in [-0.5, 0.5]: fix it to -0.5.
    out.height_factor = (-0.5, -0.5)
    np.testing.assert_allclose(out(x, training=True)[0, :, :, 0], zoomed_in)


def test_zoom_without_width_factor_keeps_the_aspect_ratio(rng):
    x = rng.random((6, 7, 5, 1))
    kept = layers.RandomZoom((-0.3, 0.4), seed=2, dtype="float64")
    out = kept(x, training=True)
    zooms = 1 + np.random.default_rng(2).uniform(-0.3, 0.4, 6)
    for n in range(6):
        one = layers.RandomZoom(
            (zooms[n] - 1,) * 2, (zooms[n] - 1,) * 2, dtype="float64"
        )
        np.testing.assert_allclose(out[n : n + 1], one(x[n : n + 1], training=True))


def test_zoom_and_rotation_configs_round_trip_with_keras_names():
    for layer in (
        layers.RandomZoom((0.2, -0.1), None, fill_mode="nearest", seed=1),
        layers.RandomZoom(0.2, 0.3, interpolation="nearest", fill_value=2.0),
        layers.RandomRotation((-0.2, 0.4), fill_mode="constant", seed=4),
    ):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    config = layers.RandomZoom((0.2, -0.1)).get_config()
    assert config["height_factor"] == [-0.1, 0.2] and config["width_factor"] is None
    config = layers.RandomRotation(0.2).get_config()
    assert config["factor"] == [-0.2, 0.2]
    assert (config["fill_mode"], config["interpolation"]) == ("reflect", "bilinear")


def test_rotation_zoom_and_crop_arguments_are_checked():
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation((0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="height_factor"):
        layers.RandomZoom(-1.0)  # Keras' range is (-1, 1]
    with pytest.raises(ValueError, match="width_factor"):
        layers.RandomZoom(0.1, (0.1, 1.2))
    with pytest.raises(ValueError, match="interpolation"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    assert layers.RandomZoom(1.0).height_factor == (-1.0, 1.0)
    with pytest.raises(ValueError, match="height"):
        layers.RandomCrop(0, 2)
    with pytest.raises(ValueError, match="width"):
        layers.RandomCrop(2, "2")
    with pytest.raises(ValueError, match="RandomCrop"):
        layers.RandomCrop(2, 2)(np.zeros((2, 3)))


# -- RandomCrop --


def test_crop_takes_one_random_window_per_batch_over_every_offset():
    x = np.arange(6 * 7, dtype=float).reshape(1, 6, 7, 1).repeat(3, axis=0)
    layer = layers.RandomCrop(4, 5, seed=0, dtype="float64")
    offsets = set()
    for _ in range(60):
        out = layer(x, training=True)
        assert out.shape == (3, 4, 5, 1)
        top, left = divmod(int(out[0, 0, 0, 0]), 7)
        np.testing.assert_array_equal(out, x[:, top : top + 4, left : left + 5])
        offsets.add((top, left))
    # Keras' offsets int(U(0, H - h + 1)): 3 rows x 3 columns, all reached.
    assert offsets == {(t, c) for t in range(3) for c in range(3)}


def test_crop_in_inference_resizes_the_largest_window_of_the_aspect_ratio(rng):
    # Keras documents: resize and crop to the largest window of the target's
    # aspect ratio (its smart_resize): Resizing(crop_to_aspect_ratio=True).
    x = rng.random((2, 6, 9, 2))
    want = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x)
    np.testing.assert_array_equal(layers.RandomCrop(4, 4, seed=0)(x), want)
    same = rng.random((2, 4, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(layers.RandomCrop(4, 4)(same), same, rtol=1e-6)
    # Training on an image smaller than the target takes the same path.
    small = layers.RandomCrop(8, 3, seed=0)
    want = layers.Resizing(8, 3, crop_to_aspect_ratio=True)(x)
    np.testing.assert_array_equal(small(x, training=True), want)


def test_crop_config_round_trips_and_gives_the_output_shape():
    layer = layers.RandomCrop(3, 2, seed=9, data_format="channels_first")
    config = layer.get_config()
    assert (config["height"], config["width"], config["seed"]) == (3, 2, 9)
    assert layers.RandomCrop.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 4, 8, 8)) == (None, 4, 3, 2)
