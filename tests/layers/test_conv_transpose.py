import numpy as np
import pytest

from glassnet.functional.conv_transpose import conv_transpose_forward_naive
from glassnet.layers import Conv2D, Conv2DTranspose, Convolution2DTranspose
from tests.helpers import check_layer


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "expected"),
    [
        ({"filters": 4, "kernel_size": 3}, (2, 3, 4, 2), (2, 5, 6, 4)),
        (
            {"filters": 2, "kernel_size": (2, 3), "strides": 2, "padding": "same"},
            (2, 3, 4, 3),
            (2, 6, 8, 2),
        ),
        (
            {
                "filters": 3,
                "kernel_size": 3,
                "strides": 2,
                "output_padding": 1,
                "use_bias": False,
                "activation": "tanh",
            },
            (2, 3, 3, 2),
            (2, 8, 8, 3),
        ),
        (
            {
                "filters": 2,
                "kernel_size": 2,
                "data_format": "channels_first",
                "dilation_rate": 2,
                "padding": "same",
            },
            (2, 3, 4, 5),
            (2, 2, 4, 5),
        ),
        ({"filters": 2, "kernel_size": 2, "strides": 3}, (2, 2, 3, 2), (2, 6, 9, 2)),
    ],
)
def test_conv_transpose_passes_the_layer_checks(kwargs, input_shape, expected):
    C, F = input_shape[1 if "data_format" in kwargs else 3], kwargs["filters"]
    k = kwargs["kernel_size"]
    k = k if isinstance(k, tuple) else (k, k)
    params = k[0] * k[1] * C * F + (F if kwargs.get("use_bias", True) else 0)
    check_layer(Conv2DTranspose, kwargs, input_shape, expected, expected_params=params)


# Output sizes by Keras 3's deconv_output_length, worked by hand for n = 7.
@pytest.mark.parametrize(
    ("k", "s", "padding", "output_padding", "size"),
    [
        (3, 2, "same", None, 14),  # n * s
        (3, 2, "valid", None, 15),  # n * s + max(k - s, 0)
        (2, 3, "valid", None, 21),  # k < s: n * s
        (3, 2, "same", 1, 14),  # (n - 1) * s + k - 2 * (k // 2) + op
        (3, 2, "valid", 1, 16),  # (n - 1) * s + k + op
        (4, 2, "same", 0, 12),  # even kernel: (n - 1) * s + k - 4
        (5, 1, "same", None, 7),
    ],
)
def test_output_size_is_keras_deconv_output_length(k, s, padding, output_padding, size):
    layer = Conv2DTranspose(
        2, k, strides=s, padding=padding, output_padding=output_padding
    )
    assert layer(np.zeros((1, 7, 7, 3))).shape == (1, size, size, 2)
    assert layer.compute_output_shape((None, 7, None, 3)) == (None, size, None, 2)


@pytest.mark.parametrize(
    ("k", "s", "padding", "output_padding"),
    [
        (3, 1, "same", None),
        (3, 2, "same", None),
        (4, 2, "same", None),
        (2, 2, "same", None),
        (5, 3, "same", None),
        (3, 2, "valid", None),
        (2, 3, "valid", None),
        (3, 2, "same", 1),
        (3, 2, "valid", 1),
    ],
)
def test_is_the_adjoint_of_the_keras_conv2d_it_transposes(
    rng, k, s, padding, output_padding
):
    # TensorFlow defines conv2d_transpose as the input gradient of conv2d on the
    # output's size with the same padding name, so <Conv2D(y), x> = <y, T(x)>:
    # this pins where the cropped cells sit, not only how many there are.
    t = Conv2DTranspose(
        3,
        k,
        strides=s,
        padding=padding,
        output_padding=output_padding,
        use_bias=False,
        dtype="float64",
    )
    x = rng.normal(size=(2, 5, 6, 4))
    out = t(x)
    conv = Conv2D(4, k, strides=s, padding=padding, use_bias=False, dtype="float64")
    y = rng.normal(size=out.shape)
    conv(y)
    conv.set_weights([t.get_weights()[0]])
    cy = conv(y)
    assert cy.shape == x.shape
    np.testing.assert_allclose(np.sum(cy * x), np.sum(y * out), rtol=1e-12, atol=1e-12)


def test_kernel_has_keras_layout(rng):
    layer = Conv2DTranspose(5, (3, 2), strides=2, dtype="float64")
    x = rng.normal(size=(2, 4, 4, 3))
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 5, 3) and bias.shape == (5,)
    ref, _ = conv_transpose_forward_naive(
        x, kernel, bias, {"stride": 2, "pad": 0}, channels_last=True
    )
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_config_has_keras_keys():
    # Keras refuses output_padding >= strides: strides 2 for output_padding 1.
    config = Conv2DTranspose(8, 3, strides=2, output_padding=1).get_config()
    for key, value in {
        "filters": 8,
        "kernel_size": [3, 3],
        "strides": [2, 2],
        "padding": "valid",
        "output_padding": [1, 1],
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": "linear",
        "use_bias": True,
    }.items():
        assert config[key] == value, key
    assert Conv2DTranspose(8, 3).get_config()["output_padding"] is None
    assert Convolution2DTranspose is Conv2DTranspose


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: Conv2DTranspose(0, 3), "filters"),
        (lambda: Conv2DTranspose(2, 0), "kernel_size"),
        (lambda: Conv2DTranspose(2, 3, output_padding=-1), "output_padding"),
        (lambda: Conv2DTranspose(2, 3, output_padding=(1, 1, 1)), "output_padding"),
        (
            lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2)(
                np.zeros((1, 4, 4, 1))
            ),
            "output_padding",
        ),
        (lambda: Conv2DTranspose(2, 3, padding="full"), "padding"),
        (lambda: Conv2DTranspose(2, 3)(np.zeros((2, 3, 4))), "rank-4"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_an_output_padding_reaching_the_stride_is_refused_when_made():
    with pytest.raises(ValueError, match="output_padding: expected values smaller"):
        Conv2DTranspose(4, 3, strides=2, output_padding=2)
