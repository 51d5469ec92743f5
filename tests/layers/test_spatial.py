import numpy as np
import pytest

from glassnet.layers.spatial import Cropping2D, UpSampling2D, ZeroPadding2D
from tests.helpers import check_layer


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "expected"),
    [
        (ZeroPadding2D, {}, (2, 3, 4, 5), (2, 5, 6, 5)),
        (ZeroPadding2D, {"padding": (1, 2)}, (2, 3, 4, 5), (2, 5, 8, 5)),
        (ZeroPadding2D, {"padding": ((1, 0), (0, 2))}, (2, 3, 4, 5), (2, 4, 6, 5)),
        (
            ZeroPadding2D,
            {"padding": 1, "data_format": "channels_first"},
            (2, 3, 4, 5),
            (2, 3, 6, 7),
        ),
        (Cropping2D, {}, (2, 3, 4, 5), (2, 3, 4, 5)),
        (Cropping2D, {"cropping": 1}, (2, 4, 4, 5), (2, 2, 2, 5)),
        (Cropping2D, {"cropping": ((1, 0), (0, 2))}, (2, 3, 4, 5), (2, 2, 2, 5)),
        (
            Cropping2D,
            {"cropping": (1, 0), "data_format": "channels_first"},
            (2, 3, 4, 5),
            (2, 3, 2, 5),
        ),
        (UpSampling2D, {}, (2, 3, 4, 5), (2, 6, 8, 5)),
        (UpSampling2D, {"size": (1, 3)}, (2, 3, 4, 5), (2, 3, 12, 5)),
        (
            UpSampling2D,
            {"size": 2, "data_format": "channels_first"},
            (2, 3, 4, 5),
            (2, 3, 8, 10),
        ),
        (UpSampling2D, {"interpolation": "bilinear"}, (2, 3, 4, 5), (2, 6, 8, 5)),
        (
            UpSampling2D,
            {
                "size": (1, 3),
                "interpolation": "bicubic",
                "data_format": "channels_first",
            },
            (2, 3, 4, 5),
            (2, 3, 4, 15),
        ),
    ],
)
def test_layers_pass_the_layer_checks(cls, kwargs, input_shape, expected):
    check_layer(cls, kwargs, input_shape, expected, expected_params=0)


def test_keras_defaults_in_the_config():
    assert ZeroPadding2D().get_config()["padding"] == [[1, 1], [1, 1]]
    assert Cropping2D().get_config()["cropping"] == [[0, 0], [0, 0]]
    config = UpSampling2D().get_config()
    assert config["size"] == [2, 2]
    assert config["interpolation"] == "nearest"
    assert config["data_format"] == "channels_last"


def test_output_shapes_keep_unknown_sizes():
    assert ZeroPadding2D(2).compute_output_shape((None, None, 5, 3)) == (
        None,
        None,
        9,
        3,
    )
    assert UpSampling2D(3).compute_output_shape((None, 4, None, 2)) == (
        None,
        12,
        None,
        2,
    )


def test_the_image_size_may_change_after_building():
    layer = UpSampling2D()
    layer(np.zeros((1, 2, 2, 3)))
    assert layer(np.zeros((1, 5, 4, 3))).shape == (1, 10, 8, 3)
    with pytest.raises(ValueError, match="channels"):
        layer(np.zeros((1, 5, 4, 2)))


def test_upsampling_values_in_channels_last(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_array_equal(
        UpSampling2D((2, 3), dtype="float64")(x),
        x.repeat(2, axis=1).repeat(3, axis=2),
    )


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ZeroPadding2D((1, 2, 3)), "padding"),
        (lambda: ZeroPadding2D(-1), "padding"),
        (lambda: Cropping2D("x"), "cropping"),
        (lambda: Cropping2D(2)(np.zeros((1, 4, 6, 1))), "cropping"),
        (lambda: UpSampling2D(0), "size"),
        (lambda: UpSampling2D(interpolation="area"), "interpolation"),
        (lambda: UpSampling2D(data_format="nhwc"), "data_format"),
        (lambda: UpSampling2D()(np.zeros((2, 3, 4))), "rank-4"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_bilinear_upsampling_of_a_ramp_is_the_ramp_at_half_pixel_centres():
    # Keras' bilinear UpSampling2D is resize with half-pixel centres: output row
    # o samples (o + 0.5) / 2 - 0.5, clamped to the edge rows; a ramp along the
    # rows and the columns stays a ramp there.
    H, W = 4, 3
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    x = (3.0 * rows - cols + 2).reshape(1, H, W, 1)
    out = UpSampling2D(2, interpolation="Bilinear", dtype="float64")(x)
    r = np.clip((np.arange(2 * H) + 0.5) / 2 - 0.5, 0, H - 1)
    c = np.clip((np.arange(2 * W) + 0.5) / 2 - 0.5, 0, W - 1)
    want = 3.0 * r[:, None] - c[None, :] + 2
    np.testing.assert_allclose(out[0, :, :, 0], want, rtol=1e-12)


def test_interpolation_is_lower_cased_in_the_config_as_keras():
    config = UpSampling2D(interpolation="BILINEAR").get_config()
    assert config["interpolation"] == "bilinear"
    assert UpSampling2D.from_config(config).interpolation == "bilinear"
