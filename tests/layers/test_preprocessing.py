import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.layers import preprocessing
from glassnet.layers.core import Dense
from glassnet.layers.input_layer import Input
from glassnet.layers.preprocessing import Normalization, Rescaling
from glassnet.layers.reshaping import Flatten, Permute
from glassnet.models.sequential import Sequential
from glassnet.saving import load_model
from tests.helpers import check_layer

# -- Rescaling --


def test_rescaling_passes_the_layer_checks():
    kwargs = {"scale": 2.0, "offset": 1.0}
    check_layer(Rescaling, kwargs, (2, 3, 4), (2, 3, 4), expected_params=0)


def test_rescaling_computes_x_times_scale_plus_offset_in_the_input_dtype(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    layer = Rescaling(0.5, offset=-1.0)
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x * 0.5 - 1.0, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.full_like(x, 0.5))


def test_rescaling_maps_uint8_pixels_to_the_unit_interval():
    pixels = np.array([[0, 51, 255]], dtype=np.uint8)
    out = Rescaling(1.0 / 255)(pixels)
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-6)


def test_rescaling_config_holds_scale_and_offset_with_keras_default_offset():
    config = Rescaling(3.0).get_config()
    assert (config["scale"], config["offset"]) == (3.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"scale": "2"}, "scale"),
        ({"scale": [1.0, 2.0]}, "scale"),
        ({"scale": 1.0, "offset": np.inf}, "offset"),
        ({"scale": 1.0, "offset": None}, "offset"),
    ],
)
def test_rescaling_refuses_a_scale_or_offset_that_is_not_a_number(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Rescaling(**kwargs)


# -- Normalization --

STATS = {"mean": [0.5, -1.0, 2.0, 0.0], "variance": [4.0, 0.25, 1.0, 9.0]}


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_passes_the_layer_checks(invert):
    kwargs = {"axis": -1, **STATS, "invert": invert}
    check_layer(Normalization, kwargs, (2, 3, 4), (2, 3, 4), expected_params=8)


def test_normalization_with_per_pixel_stats_passes_the_layer_checks(rng):
    kwargs = {"axis": (1, 2), "mean": rng.normal(size=(3, 4)), "variance": 2.0}
    check_layer(Normalization, kwargs, (2, 3, 4), (2, 3, 4), expected_params=24)


def test_normalization_computes_the_keras_formula_and_its_inverse(rng):
    x = rng.normal(size=(5, 4)).astype(np.float32)
    mean, var = np.array(STATS["mean"]), np.array(STATS["variance"])
    layer = Normalization(**STATS)
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var), rtol=1e-5)
    np.testing.assert_allclose(
        layer.backward(np.ones_like(x)), np.broadcast_to(1 / np.sqrt(var), x.shape)
    )
    inverse = Normalization(**STATS, invert=True)
    np.testing.assert_allclose(inverse(out), x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        inverse.backward(np.ones_like(x)), np.broadcast_to(np.sqrt(var), x.shape)
    )


def test_normalization_floors_the_standard_deviation_at_keras_epsilon():
    # Keras divides by max(sqrt(variance), backend.epsilon()) with epsilon 1e-7.
    layer = Normalization(mean=0.0, variance=0.0, dtype="float64")
    np.testing.assert_allclose(layer(np.array([[2e-7]])), [[2.0]])


@pytest.mark.parametrize(
    ("axis", "kept"),
    [
        (-1, (3,)),
        ((1,), (1,)),
        ((1, 2, 3), (1, 2, 3)),
        ((-2, 3), (2, 3)),
        (None, ()),
        ([], ()),
    ],
)
def test_normalization_after_adapt_gives_zero_mean_unit_variance_per_kept_index(
    rng, axis, kept
):
    x = rng.normal(3.0, 2.0, size=(6, 4, 4, 3)) * rng.uniform(1, 5, size=(4, 4, 3))
    layer = Normalization(axis=axis, dtype="float64")
    layer.adapt(x)
    reduce = tuple(a for a in range(4) if a not in kept)
    out = layer(x)
    np.testing.assert_allclose(out.mean(axis=reduce), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=reduce), 1.0, rtol=1e-12)
    assert layer.get_weights()[0].shape == tuple(x.shape[a] for a in kept)


def test_adapt_matches_float64_numpy_moments_when_reduced_in_chunks(rng, monkeypatch):
    x = (rng.normal(size=(50, 4, 3)) * 100 + 1000).astype(np.float32)
    monkeypatch.setattr(preprocessing, "_CHUNK_VALUES", 30)  # 2 samples per slice
    layer = Normalization(axis=-1)
    layer.adapt(x)
    mean, var = layer.get_weights()
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 1)), rtol=1e-7)
    np.testing.assert_allclose(var, x64.var(axis=(0, 1)), rtol=1e-6)
    assert mean.dtype == np.float32


@given(st.sets(st.integers(1, 3)))
def test_adapt_keeps_exactly_the_chosen_axes(kept):
    x = np.random.default_rng(1).normal(size=(5, 2, 3, 4))
    layer = Normalization(axis=sorted(kept), dtype="float64")
    layer.adapt(x)
    reduce = tuple(a for a in range(4) if a not in kept)
    np.testing.assert_allclose(layer.get_weights()[0], x.mean(axis=reduce))
    np.testing.assert_allclose(layer.get_weights()[1], x.var(axis=reduce))


def test_normalization_built_from_an_input_is_the_identity_until_adapted(rng):
    layer = Normalization()
    model = Sequential([Input((4, 4, 3)), layer])
    mean, var = layer.get_weights()
    np.testing.assert_array_equal(mean, np.zeros(3))
    np.testing.assert_array_equal(var, np.ones(3))
    assert layer.non_trainable_weights and not layer.trainable_weights
    x = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    layer.adapt(x)
    np.testing.assert_allclose(layer.get_weights()[0], x.mean(axis=(0, 1, 2)), 1e-5)


def test_normalization_holds_a_per_pixel_mean_image_set_after_build(rng):
    x = rng.normal(size=(5, 4, 4, 3))
    mean_image, var_image = x.mean(axis=0), x.var(axis=0)
    layer = Normalization(axis=(1, 2, 3), dtype="float64")
    Sequential([Input((4, 4, 3)), layer])
    layer.set_weights([mean_image, var_image])
    assert layer.mean.shape == (1, 4, 4, 3)
    np.testing.assert_allclose(layer(x), (x - mean_image) / np.sqrt(var_image))
    np.testing.assert_allclose(layer(x).mean(axis=0), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="mean"):
        layer.set_weights([mean_image[0], var_image])


def test_constructor_stats_broadcast_to_the_kept_axes_as_in_keras():
    layer = Normalization(axis=(1, 2, 3), mean=[1.0, 2.0, 3.0], variance=4.0)
    layer.build((None, 2, 2, 3))
    mean, var = layer.get_weights()
    np.testing.assert_array_equal(mean, np.broadcast_to([1.0, 2.0, 3.0], (2, 2, 3)))
    np.testing.assert_array_equal(var, np.full((2, 2, 3), 4.0))
    with pytest.raises(ValueError, match="mean"):
        Normalization(mean=[1.0, 2.0], variance=1.0).build((None, 2, 3))


def test_normalization_config_carries_given_stats_but_not_adapted_ones(rng):
    config = Normalization(axis=(1, 2), **STATS, invert=True).get_config()
    assert config["axis"] == [1, 2] and config["invert"] is True
    assert config["mean"] == STATS["mean"]
    assert config["variance"] == STATS["variance"]
    layer = Normalization(axis=None)
    layer.adapt(rng.normal(size=(10, 8, 8, 3)))
    config = layer.get_config()
    assert (config["axis"], config["mean"], config["variance"]) == (None, None, None)
    json.dumps(config)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"axis": "channels"}, "axis"),
        ({"axis": 1.5}, "axis"),
        ({"mean": 1.0}, "mean"),
        ({"variance": 1.0}, "variance"),
        ({"mean": 0.0, "variance": -1.0}, "variance"),
        ({"mean": np.nan, "variance": 1.0}, "mean"),
        ({"mean": "a", "variance": 1.0}, "mean"),
        ({"mean": [[1.0], [1.0, 2.0]], "variance": 1.0}, "mean"),
        ({"invert": 1}, "invert"),
    ],
)
def test_normalization_refuses_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Normalization(**kwargs)


@pytest.mark.parametrize("axis", [0, 3, -3, (1, 1)])
def test_normalization_refuses_the_batch_axis_and_axes_out_of_range(axis):
    with pytest.raises(ValueError, match="axis"):
        Normalization(axis=axis).build((None, 4, 3))


def test_adapt_refuses_bad_data_and_unsupported_arguments():
    layer = Normalization()
    layer.build((None, 4, 3))
    for data in (np.zeros((0, 4, 3)), np.zeros((2, 4)), np.zeros((2, 4, 5)), "abc"):
        with pytest.raises(ValueError, match="data"):
            layer.adapt(data)
    with pytest.raises(ValueError, match="data"):
        layer.adapt(np.full((2, 4, 3), np.nan))
    with pytest.raises(ValueError, match="steps"):
        layer.adapt(np.zeros((2, 4, 3)), steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        layer.adapt(np.zeros((2, 4, 3)), batch_size=0)


# -- the three together in a model --


def test_a_model_with_all_three_layers_predicts_identically_after_load(rng, tmp_path):
    x = rng.normal(5.0, 3.0, size=(8, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=8)
    norm = Normalization(axis=-1)
    norm.adapt(x)
    model = Sequential(
        [
            Input((4, 4, 3)),
            norm,
            Rescaling(2.0, 1.0),
            Permute((3, 1, 2)),
            Flatten(),
            Dense(2),
        ],
        seed=0,
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    stats = norm.get_weights()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    for before, after in zip(stats, norm.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # non-trainable
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    np.testing.assert_array_equal(loaded.layers[0].get_weights()[0], stats[0])
    assert loaded.layers[0].get_config()["mean"] is None
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Normalization",
        "Rescaling",
        "Permute",
        "Flatten",
        "Dense",
    ]


# -- Resizing and CenterCrop --


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "expected"),
    [
        (preprocessing.Resizing, {"height": 5, "width": 3}, (2, 4, 6, 2), (2, 5, 3, 2)),
        (
            preprocessing.Resizing,
            {"height": 3, "width": 3, "interpolation": "nearest"},
            (2, 4, 6, 2),
            (2, 3, 3, 2),
        ),
        (
            preprocessing.Resizing,
            {"height": 3, "width": 2, "crop_to_aspect_ratio": True, "antialias": True},
            (2, 4, 6, 2),
            (2, 3, 2, 2),
        ),
        (
            preprocessing.Resizing,
            {
                "height": 4,
                "width": 4,
                "pad_to_aspect_ratio": True,
                "fill_value": 1.5,
                "data_format": "channels_first",
            },
            (2, 2, 2, 4),
            (2, 2, 4, 4),
        ),
        (
            preprocessing.CenterCrop,
            {"height": 2, "width": 3},
            (2, 4, 6, 2),
            (2, 2, 3, 2),
        ),
        (
            preprocessing.CenterCrop,
            {"height": 5, "width": 3},
            (2, 4, 6, 2),
            (2, 5, 3, 2),
        ),
    ],
)
def test_resizing_layers_pass_the_layer_checks(cls, kwargs, input_shape, expected):
    check_layer(cls, kwargs, input_shape, expected, expected_params=0)


def test_resizing_a_constant_image_gives_the_constant_at_any_size():
    layer = preprocessing.Resizing(7, 3)
    for shape in ((1, 4, 4, 3), (2, 9, 2, 3)):  # the size may change after build
        out = layer(np.full(shape, 0.75))
        assert out.shape == (shape[0], 7, 3, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, 0.75, rtol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        layer(np.zeros((1, 4, 4, 2)))


def test_resizing_with_crop_to_aspect_ratio_resizes_the_central_window(rng):
    # (4, 8) to a square: Keras keeps the central 4 x 4 window.
    x = rng.normal(size=(2, 4, 8, 1))
    layer = preprocessing.Resizing(2, 2, crop_to_aspect_ratio=True, dtype="float64")
    want = preprocessing.Resizing(2, 2, dtype="float64")(x[:, :, 2:6])
    np.testing.assert_allclose(layer(x), want, rtol=1e-12)


def test_resizing_with_pad_to_aspect_ratio_pads_the_short_side_evenly():
    x = np.ones((1, 2, 4, 1))
    out = preprocessing.Resizing(
        4, 4, pad_to_aspect_ratio=True, fill_value=-1.0, interpolation="nearest"
    )(x)
    want = np.array([-1, 1, 1, -1])[:, None] * np.ones(4)  # a row of fill each side
    np.testing.assert_array_equal(out[0, :, :, 0], want)


def test_center_crop_keeps_the_middle_and_its_config_round_trips():
    x = np.arange(30.0).reshape(1, 5, 6, 1)
    layer = preprocessing.CenterCrop(3, 2)
    # Rows (5 - 3) // 2 = 1.. and columns (6 - 2) // 2 = 2.., as Keras.
    np.testing.assert_array_equal(layer(x)[0, :, :, 0], x[0, 1:4, 2:4, 0])
    config = layer.get_config()
    assert (config["height"], config["width"], config["data_format"]) == (
        3,
        2,
        "channels_last",
    )
    assert preprocessing.CenterCrop.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 9, 9, 1)) == (None, 3, 2, 1)


def test_resizing_config_has_keras_defaults_and_round_trips():
    config = preprocessing.Resizing(3, 4).get_config()
    assert {k: config[k] for k in ("height", "width", "interpolation")} == {
        "height": 3,
        "width": 4,
        "interpolation": "bilinear",
    }
    assert config["crop_to_aspect_ratio"] is False
    assert config["pad_to_aspect_ratio"] is False
    assert (config["fill_mode"], config["fill_value"]) == ("constant", 0.0)
    json.dumps(config)
    assert preprocessing.Resizing.from_config(config).get_config() == config


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: preprocessing.Resizing(0, 3), "height"),
        (lambda: preprocessing.Resizing(3, 2.5), "width"),
        (lambda: preprocessing.Resizing(3, 3, interpolation="area"), "interpolation"),
        (
            lambda: preprocessing.Resizing(
                3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True
            ),
            "pad_to_aspect_ratio",
        ),
        (lambda: preprocessing.Resizing(3, 3, fill_mode="reflect"), "fill_mode"),
        (lambda: preprocessing.Resizing(3, 3, crop_to_aspect_ratio=1), "crop_to"),
        (lambda: preprocessing.CenterCrop(2, -1), "width"),
        (lambda: preprocessing.CenterCrop(2, 2)(np.zeros((2, 3))), "rank-4"),
    ],
)
def test_resizing_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()
