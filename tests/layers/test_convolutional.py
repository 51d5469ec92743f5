import math

import numpy as np
import pytest

from glassnet import regularizers
from glassnet.layers.convolutional import Conv2D
from glassnet.layers.core import Dense
from glassnet.layers.input_layer import Input
from glassnet.layers.pooling import MaxPooling2D
from glassnet.layers.reshaping import Flatten
from glassnet.models.sequential import Sequential
from tests.helpers import check_layer

# ---- an independent oracle: TensorFlow's padding rule and a loop over outputs ----


def tf_axis(size, k, stride, dilation, padding):
    """(out, pad_before, pad_after) by TensorFlow's documented formulas."""
    k_eff = dilation * (k - 1) + 1
    if padding == "valid":
        return math.floor((size - k_eff) / stride) + 1, 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def reference_conv(x, kernel, bias, strides, padding, dilation, groups):
    """Channels-last convolution, one output (n, i, j, f) at a time."""
    N, H, W, C = x.shape
    HH, WW, Cg, F = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    Ho, top, bottom = tf_axis(H, HH, sh, dh, padding)
    Wo, left, right = tf_axis(W, WW, sw, dw, padding)
    xpad = np.zeros((N, H + top + bottom, W + left + right, C))
    xpad[:, top : top + H, left : left + W] = x
    out = np.zeros((N, Ho, Wo, F))
    for n, i, j, f in np.ndindex(N, Ho, Wo, F):
        g = f // (F // groups)
        rows = slice(i * sh, i * sh + dh * (HH - 1) + 1, dh)
        cols = slice(j * sw, j * sw + dw * (WW - 1) + 1, dw)
        patch = xpad[n, rows, cols, g * Cg : (g + 1) * Cg]
        out[n, i, j, f] = np.sum(patch * kernel[..., f]) + bias[f]
    return out


# (input H, W, C, kwargs): strides, odd/even sizes for asymmetric 'same' padding,
# dilation, groups, channels_first, no bias and activations.
REFERENCE_CASES = [
    (7, 6, 3, {"filters": 4, "kernel_size": 3}),
    (7, 6, 3, {"filters": 4, "kernel_size": 3, "padding": "same"}),
    (8, 6, 2, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}),
    (7, 7, 2, {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}),
    (
        5,
        6,
        2,
        {"filters": 2, "kernel_size": (2, 3), "strides": (1, 2), "padding": "same"},
    ),
    (7, 8, 2, {"filters": 2, "kernel_size": (3, 2), "strides": (2, 3)}),
    (6, 7, 2, {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}),
    (
        7,
        6,
        2,
        {"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1), "padding": "same"},
    ),
    (7, 7, 2, {"filters": 2, "kernel_size": 3, "dilation_rate": 2}),
    (5, 5, 6, {"filters": 4, "kernel_size": 3, "groups": 2, "padding": "same"}),
    (5, 4, 3, {"filters": 6, "kernel_size": 2, "groups": 3, "strides": 2}),
    (6, 5, 4, {"filters": 2, "kernel_size": 3, "use_bias": False}),
    (
        6,
        5,
        2,
        {"filters": 3, "kernel_size": 3, "activation": "relu", "padding": "same"},
    ),
    (6, 5, 2, {"filters": 3, "kernel_size": 2, "activation": "tanh", "strides": 2}),
]
ACTIVATIONS = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(("h", "w", "c", "kwargs"), REFERENCE_CASES)
def test_conv2d_matches_a_loop_reference_with_tensorflow_padding(
    rng, h, w, c, kwargs, data_format
):
    x = rng.normal(size=(2, h, w, c))
    layer = Conv2D(**kwargs, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    layer(x_in)
    weights = [rng.normal(size=v.shape) for v in layer.get_weights()]
    layer.set_weights(weights)
    out = layer(x_in)
    if data_format == "channels_first":
        out = out.transpose(0, 2, 3, 1)
    bias = weights[1] if layer.use_bias else np.zeros(layer.filters)
    z = reference_conv(
        x,
        weights[0],
        bias,
        layer.strides,
        layer.padding,
        layer.dilation_rate,
        layer.groups,
    )
    expected = ACTIVATIONS[kwargs.get("activation")](z)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape", "params"),
    [
        # Output sizes from tf_axis above, worked by hand; params = HH*WW*C/G*F + F.
        ({"filters": 3, "kernel_size": 3}, (2, 5, 6, 2), (2, 3, 4, 3), 57),
        ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
         (2, 6, 5, 2), (2, 3, 3, 2), 38),
        ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"},
         (1, 5, 4, 2), (1, 5, 4, 2), 18),
        ({"filters": 4, "kernel_size": 2, "groups": 2}, (2, 4, 4, 4), (2, 3, 3, 4), 36),
        ({"filters": 2, "kernel_size": 3, "use_bias": False}, (2, 4, 5, 3),
         (2, 2, 3, 2), 54),
        ({"filters": 2, "kernel_size": (3, 2), "strides": (2, 1), "padding": "same",
          "data_format": "channels_first"}, (2, 3, 5, 4), (2, 2, 3, 4), 38),
        ({"filters": 3, "kernel_size": 2, "activation": "softmax"}, (2, 4, 4, 2),
         (2, 3, 3, 3), 27),
        ({"filters": 3, "kernel_size": 2, "activation": "tanh", "groups": 3,
          "data_format": "channels_first"}, (2, 3, 4, 4), (2, 3, 3, 3), 15),
    ],
)  # fmt: skip
def test_conv2d_passes_the_layer_checks(kwargs, input_shape, output_shape, params):
    check_layer(Conv2D, kwargs, input_shape, output_shape, expected_params=params)


@pytest.mark.parametrize(
    ("size", "k", "stride", "dilation", "out", "pads"),
    [
        # TensorFlow: out = ceil(size / stride), total = max((out - 1) * stride
        # + dilation * (k - 1) + 1 - size, 0), split total // 2 before, rest after.
        (5, 3, 1, 1, 5, (1, 1)),
        (5, 3, 2, 1, 3, (1, 1)),
        (6, 3, 2, 1, 3, (0, 1)),
        (7, 4, 2, 1, 4, (1, 2)),
        (4, 2, 1, 1, 4, (0, 1)),
        (6, 1, 2, 1, 3, (0, 0)),
        (10, 5, 3, 1, 4, (2, 2)),
        (1, 3, 2, 1, 1, (1, 1)),
        (5, 3, 1, 2, 5, (2, 2)),
        (6, 2, 1, 3, 6, (1, 2)),
    ],
)
def test_same_padding_follows_the_tensorflow_table(
    size, k, stride, dilation, out, pads
):
    layer = Conv2D(
        1,
        (k, 1),
        strides=(stride, 1),
        dilation_rate=(dilation, 1),
        padding="same",
        kernel_initializer="ones",
        dtype="float64",
    )
    assert layer.compute_output_shape((None, size, 3, 1)) == (None, out, 3, 1)
    counts = layer(np.ones((1, size, 1, 1)))[0, :, 0, 0]
    # With ones in and a kernel of ones, each output counts its real input cells.
    top = pads[0]
    real = [
        sum(0 <= i * stride - top + p * dilation < size for p in range(k))
        for i in range(out)
    ]
    np.testing.assert_array_equal(counts, real)
    assert tf_axis(size, k, stride, dilation, "same") == (out, *pads)


def test_the_seed_cnn_has_keras_shapes_and_parameter_counts():
    conv = Conv2D(32, 3, activation="relu")
    pool = MaxPooling2D(2)
    conv.build((None, 28, 28, 1))
    assert conv.compute_output_shape((None, 28, 28, 1)) == (None, 26, 26, 32)
    assert conv.count_params() == 320  # 3 * 3 * 1 * 32 + 32, as Keras' summary
    assert pool.compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    model = Sequential([Input(shape=(28, 28, 1)), conv, pool])
    assert model.output_shape == (None, 13, 13, 32)


def test_a_small_cnn_learns_a_toy_task(rng):
    x = rng.normal(size=(16, 6, 6, 1)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3)) > x[:, 3:].mean(axis=(1, 2, 3))).astype(int)
    model = Sequential(
        [
            Input(shape=(6, 6, 1)),
            Conv2D(4, 3, padding="same", activation="relu"),
            MaxPooling2D(2),
            Flatten(),
            Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_softmax_conv2d_exposes_logits_and_backward_logits(rng):
    x = rng.normal(size=(2, 4, 4, 2))
    soft = Conv2D(3, 2, activation="softmax", dtype="float64")
    linear = Conv2D(3, 2, dtype="float64")
    soft(x)
    linear(x)
    linear.set_weights(soft.get_weights())
    soft.forward(x, True)
    z = linear.forward(x, True)
    np.testing.assert_allclose(soft.logits, z)
    dz = rng.normal(size=z.shape)
    np.testing.assert_allclose(soft.backward_logits(dz), linear.backward(dz))
    for key in ("kernel", "bias"):
        np.testing.assert_allclose(soft.grads[key], linear.grads[key])


def test_float32_in_gives_float32_out_and_gradients(rng):
    layer = Conv2D(2, 3, padding="same", data_format="channels_first")
    out = layer(rng.normal(size=(2, 3, 5, 5)).astype(np.float32))
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert {g.dtype for g in layer.grads.values()} == {np.dtype(np.float32)}
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 3, 2), (2,)]


def test_config_round_trips_every_argument():
    layer = Conv2D(
        4,
        (3, 2),
        strides=2,
        padding="SAME",
        data_format="channels_first",
        groups=2,
        activation="relu",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizers.L2(0.1),
        bias_constraint="non_neg",
    )
    config = layer.get_config()
    assert config["kernel_size"] == [3, 2] and config["strides"] == [2, 2]
    assert config["padding"] == "same" and config["dilation_rate"] == [1, 1]
    clone = Conv2D.from_config(config)
    assert clone.get_config() == config
    assert clone.kernel_regularizer.l2 == pytest.approx(0.1)


def test_conv2d_refuses_bad_arguments():
    with pytest.raises(ValueError, match="dilation_rate"):
        Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="groups"):
        Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        Conv2D(2, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="filters"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="strides"):
        Conv2D(2, 3, strides=0)


def test_conv2d_refuses_inputs_of_the_wrong_rank_channels_or_size():
    with pytest.raises(ValueError, match="groups"):
        Conv2D(4, 3, groups=2)(np.ones((1, 5, 5, 3)))
    with pytest.raises(ValueError, match="rank-4"):
        Conv2D(2, 3)(np.ones((1, 5, 5)))
    layer = Conv2D(2, 3, name="c")
    layer(np.ones((1, 5, 5, 3)))
    with pytest.raises(ValueError, match="input of layer 'c'.*3 channels"):
        layer(np.ones((1, 5, 5, 4)))
    assert layer(np.ones((1, 7, 6, 3))).shape == (1, 5, 4, 2)  # any image size
    with pytest.raises(ValueError, match="height"):
        layer(np.ones((1, 2, 6, 3)))


def test_a_first_conv2d_layer_returns_no_input_gradient_and_the_same_weight_grads(rng):
    model = Sequential([Input((6, 6, 2)), Conv2D(3, 3, activation="relu")], seed=0)
    (layer,) = model.layers
    x = rng.standard_normal((2, 6, 6, 2)).astype(np.float32)
    dout = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    layer.forward(x, True)
    assert layer.backward(dout) is None
    skipped = dict(layer.grads)
    layer.need_dx = True
    layer.forward(x, True)
    assert layer.backward(dout).shape == x.shape
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(skipped[key], grad)
