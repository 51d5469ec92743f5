import numpy as np
import pytest

from glassnet.functional.separable import separable_conv_forward_naive
from glassnet.layers import SeparableConv2D, SeparableConvolution2D
from tests.helpers import check_layer


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "expected", "params"),
    [
        ({"filters": 4, "kernel_size": 3}, (2, 5, 6, 3), (2, 3, 4, 4), 27 + 12 + 4),
        (
            {
                "filters": 2,
                "kernel_size": (2, 3),
                "depth_multiplier": 2,
                "padding": "same",
            },
            (2, 5, 6, 3),
            (2, 5, 6, 2),
            36 + 12 + 2,
        ),
        (
            {
                "filters": 3,
                "kernel_size": 3,
                "strides": 2,
                "use_bias": False,
                "activation": "tanh",
            },
            (2, 5, 6, 2),
            (2, 2, 2, 3),
            18 + 6,
        ),
        (
            {
                "filters": 2,
                "kernel_size": 2,
                "data_format": "channels_first",
                "dilation_rate": 2,
            },
            (2, 3, 5, 6),
            (2, 2, 3, 4),
            12 + 6 + 2,
        ),
    ],
)
def test_separable_passes_the_layer_checks(kwargs, input_shape, expected, params):
    check_layer(SeparableConv2D, kwargs, input_shape, expected, expected_params=params)


def test_weights_have_keras_names_order_and_layout(rng):
    layer = SeparableConv2D(5, 3, depth_multiplier=2, dtype="float64")
    x = rng.normal(size=(2, 6, 6, 4))
    out = layer(x)
    assert list(layer.params) == ["depthwise_kernel", "pointwise_kernel", "bias"]
    wd, wp, b = layer.get_weights()
    assert wd.shape == (3, 3, 4, 2) and wp.shape == (1, 1, 8, 5) and b.shape == (5,)
    ref, _ = separable_conv_forward_naive(
        x, wd, wp, b, {"stride": 1, "pad": 0}, channels_last=True
    )
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)  # outputs near 0


def test_config_has_keras_keys():
    config = SeparableConv2D(8, 3).get_config()
    for key, value in {
        "filters": 8,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "depth_multiplier": 1,
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": "linear",
        "use_bias": True,
    }.items():
        assert config[key] == value, key
    for key in ("depthwise_initializer", "pointwise_initializer", "bias_initializer"):
        assert key in config
    assert "kernel_initializer" not in config
    assert SeparableConvolution2D is SeparableConv2D


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: SeparableConv2D(0, 3), "filters"),
        (lambda: SeparableConv2D(2, 0), "kernel_size"),
        (lambda: SeparableConv2D(2, 3, depth_multiplier=0), "depth_multiplier"),
        (lambda: SeparableConv2D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
        (lambda: SeparableConv2D(2, 3, padding="full"), "padding"),
        (lambda: SeparableConv2D(2, 3)(np.zeros((2, 3, 4))), "rank-4"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()
