import math

import numpy as np
import pytest

from glassnet.layers.pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from tests.helpers import check_layer


def reference_pool(x, reduce, pool, strides, padding):
    """Channels-last pooling over the real cells of each window (TensorFlow)."""
    N, H, W, C = x.shape
    starts = []
    for size, k, s in zip((H, W), pool, strides, strict=True):
        if padding == "valid":
            out, before = (size - k) // s + 1, 0
        else:
            out = math.ceil(size / s)
            before = max((out - 1) * s + k - size, 0) // 2
        starts.append([i * s - before for i in range(out)])
    out = np.zeros((N, len(starts[0]), len(starts[1]), C))
    for n, i, j, c in np.ndindex(*out.shape):
        h0, w0 = starts[0][i], starts[1][j]
        cells = x[n, max(h0, 0) : h0 + pool[0], max(w0, 0) : w0 + pool[1], c]
        out[n, i, j, c] = reduce(cells)
    return out


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    ("cls", "reduce"), [(MaxPooling2D, np.max), (AveragePooling2D, np.mean)]
)
@pytest.mark.parametrize(
    ("hw", "kwargs"),
    [
        ((6, 6), {}),
        ((7, 5), {"pool_size": 2, "padding": "same"}),
        ((7, 5), {"pool_size": 3, "strides": 2, "padding": "same"}),
        ((5, 8), {"pool_size": (3, 2), "strides": 1, "padding": "same"}),
        ((8, 7), {"pool_size": (2, 3), "strides": (3, 2), "padding": "same"}),
        ((7, 7), {"pool_size": 3, "strides": 2}),
        ((5, 5), {"pool_size": 2}),
    ],
)  # fmt: skip
def test_pooling_matches_a_loop_reference_with_tensorflow_padding(
    rng, cls, reduce, hw, kwargs, data_format
):
    x = rng.normal(size=(2, *hw, 3))
    layer = cls(**kwargs, data_format=data_format, dtype="float64")
    if data_format == "channels_first":
        out = layer(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)
    else:
        out = layer(x)
    expected = reference_pool(x, reduce, layer.pool_size, layer.strides, layer.padding)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        # Output sizes worked by hand: 'valid' floor((in - k) / s) + 1,
        # 'same' ceil(in / s).
        ({}, (2, 4, 6, 3), (2, 2, 3, 3)),
        ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 4, 2), (2, 3, 2, 2)),
        ({"pool_size": (2, 3), "strides": 1}, (2, 4, 5, 2), (2, 3, 3, 2)),
        ({"pool_size": 2, "padding": "same", "data_format": "channels_first"},
         (2, 3, 5, 3), (2, 3, 3, 2)),
    ],
)  # fmt: skip
def test_pooling_passes_the_layer_checks(cls, kwargs, input_shape, output_shape):
    check_layer(cls, kwargs, input_shape, output_shape, expected_params=0)


@pytest.mark.parametrize("cls", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize(
    ("kwargs", "output_shape"),
    [
        ({}, (2, 4)),
        ({"keepdims": True}, (2, 1, 1, 4)),
        ({"data_format": "channels_first"}, (2, 3)),
        ({"data_format": "channels_first", "keepdims": True}, (2, 3, 1, 1)),
    ],
)
def test_global_pooling_passes_the_layer_checks(cls, kwargs, output_shape):
    check_layer(cls, kwargs, (2, 3, 5, 4), output_shape, expected_params=0)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(
    ("cls", "reduce"), [(GlobalAveragePooling2D, np.mean), (GlobalMaxPooling2D, np.max)]
)
def test_global_pooling_reduces_the_spatial_axes(rng, cls, reduce, keepdims):
    x = rng.normal(size=(3, 4, 5, 2))
    last = cls(keepdims=keepdims, dtype="float64")(x)
    first = cls(data_format="channels_first", keepdims=keepdims, dtype="float64")
    np.testing.assert_allclose(last, reduce(x, axis=(1, 2), keepdims=keepdims))
    np.testing.assert_allclose(
        first(x), reduce(x, axis=(2, 3), keepdims=keepdims), rtol=1e-12
    )


def test_global_max_sends_the_gradient_to_the_first_maximum_only():
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 2, 0] = x[0, 2, 0, 0] = 5.0
    layer = GlobalMaxPooling2D(dtype="float64")
    layer(x)
    dx = layer.backward(np.array([[2.0]]))
    expected = np.zeros_like(x)
    expected[0, 1, 2, 0] = 2.0  # (1, 2) comes before (2, 0) in row-major order
    np.testing.assert_array_equal(dx, expected)


def test_same_max_pooling_never_picks_padding():
    x = -np.ones((1, 3, 3, 1))
    out = MaxPooling2D(2, padding="same", dtype="float64")(x)
    np.testing.assert_array_equal(out, -np.ones((1, 2, 2, 1)))


def test_pooling_defaults_strides_to_pool_size_and_round_trips_its_config():
    layer = MaxPool2D(3, padding="SAME")
    assert layer.strides == (3, 3) and layer.padding == "same"
    config = layer.get_config()
    assert config["pool_size"] == [3, 3] and config["strides"] == [3, 3]
    assert config["data_format"] == "channels_last"
    assert MaxPooling2D.from_config(config).get_config() == config
    assert AvgPool2D is AveragePooling2D


@pytest.mark.parametrize(
    "cls", [MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D]
)
def test_float32_in_gives_float32_out(rng, cls):
    layer = cls()
    out = layer(rng.normal(size=(2, 5, 5, 3)).astype(np.float32))
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32


def test_pooling_refuses_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(0)
    with pytest.raises(ValueError, match="strides"):
        AveragePooling2D(2, strides=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        AveragePooling2D(data_format="NCHW")
    with pytest.raises(ValueError, match="data_format"):
        GlobalMaxPooling2D(data_format="last")
    with pytest.raises(ValueError, match="keepdims"):
        GlobalAveragePooling2D(keepdims=1)
    with pytest.raises(ValueError, match="rank-4"):
        MaxPooling2D()(np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="rank-4"):
        GlobalAveragePooling2D()(np.ones((2, 4)))
    with pytest.raises(ValueError, match="height"):
        MaxPooling2D(3)(np.ones((1, 2, 4, 1)))
    layer = MaxPooling2D(name="p")
    layer(np.ones((1, 4, 4, 2)))
    with pytest.raises(ValueError, match="input of layer 'p'"):
        layer(np.ones((1, 4, 4)))
