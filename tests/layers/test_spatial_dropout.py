import numpy as np
import pytest

from glassnet.layers import SpatialDropout2D
from tests.helpers import check_layer


@pytest.mark.parametrize("data_format", [None, "channels_first"])
def test_inference_passes_the_layer_checks(data_format):
    check_layer(
        SpatialDropout2D,
        {"rate": 0.4, "data_format": data_format},
        (2, 3, 4, 5),
        (2, 3, 4, 5),
        expected_params=0,
        training=False,
    )


@pytest.mark.parametrize(
    ("data_format", "axes"), [(None, (1, 2)), ("channels_first", (2, 3))]
)
def test_training_drops_whole_maps_at_rate(data_format, axes):
    x = np.ones((100, 4, 4, 20)) if data_format is None else np.ones((100, 20, 4, 4))
    layer = SpatialDropout2D(0.3, data_format=data_format, seed=0, dtype="float64")
    out = layer(x, training=True)
    per_map = out.max(axis=axes)
    np.testing.assert_array_equal(out.min(axis=axes), per_map)  # constant per map
    assert abs((per_map == 0).mean() - 0.3) < 0.03
    np.testing.assert_allclose(per_map[per_map != 0], 1 / 0.7)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)


def test_config_has_keras_keys():
    config = SpatialDropout2D(0.2, seed=3).get_config()
    assert (config["rate"], config["seed"], config["data_format"]) == (
        0.2,
        3,
        "channels_last",
    )


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: SpatialDropout2D(1.0), "rate"),
        (lambda: SpatialDropout2D(0.5, data_format="nchw"), "data_format"),
        (lambda: SpatialDropout2D(0.5)(np.zeros((2, 3))), "rank-4"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()
