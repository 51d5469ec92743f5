import numpy as np
import pytest

from glassnet.functional.depthwise import depthwise_conv_forward_naive
from glassnet.layers import DepthwiseConv2D
from tests.helpers import check_layer


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "expected", "params"),
    [
        ({"kernel_size": 3}, (2, 5, 6, 3), (2, 3, 4, 3), 3 * 9 + 3),
        (
            {"kernel_size": (2, 3), "depth_multiplier": 2, "padding": "same"},
            (2, 5, 6, 3),
            (2, 5, 6, 6),
            6 * 6 + 6,
        ),
        (
            {"kernel_size": 3, "strides": 2, "use_bias": False, "activation": "tanh"},
            (2, 5, 6, 2),
            (2, 2, 2, 2),
            18,
        ),
        (
            {"kernel_size": 2, "data_format": "channels_first", "dilation_rate": 2},
            (2, 3, 5, 6),
            (2, 3, 3, 4),
            3 * 4 + 3,
        ),
    ],
)
def test_depthwise_passes_the_layer_checks(kwargs, input_shape, expected, params):
    check_layer(DepthwiseConv2D, kwargs, input_shape, expected, expected_params=params)


def test_kernel_has_keras_layout_and_output_order(rng):
    layer = DepthwiseConv2D(3, depth_multiplier=2, dtype="float64")
    x = rng.normal(size=(2, 6, 6, 4))
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 4, 2) and bias.shape == (8,)
    ref, _ = depthwise_conv_forward_naive(
        x, kernel, bias, {"stride": 1, "pad": 0}, channels_last=True
    )
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_config_has_keras_keys():
    config = DepthwiseConv2D(3).get_config()
    for key, value in {
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
    assert "depthwise_initializer" in config and "filters" not in config


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: DepthwiseConv2D(0), "kernel_size"),
        (lambda: DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
        (lambda: DepthwiseConv2D(3, strides=2, dilation_rate=2), "dilation_rate"),
        (lambda: DepthwiseConv2D(3, padding="full"), "padding"),
        (lambda: DepthwiseConv2D(3)(np.zeros((2, 3, 4))), "rank-4"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()
