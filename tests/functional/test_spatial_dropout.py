import numpy as np
import pytest

from glassnet.functional.dropout import dropout_forward
from glassnet.functional.spatial_dropout import (
    spatial_dropout_backward,
    spatial_dropout_forward,
)
from glassnet.gradcheck import check_kernel


@pytest.mark.parametrize("channels_last", [False, True])
def test_gradient_matches_numerical_for_a_fixed_mask(rng, channels_last):
    x = rng.normal(size=(3, 4, 5, 6))
    param = {"p": 0.6, "mode": "train", "seed": 3}
    errors = check_kernel(
        lambda v: spatial_dropout_forward(v, param, channels_last=channels_last),
        spatial_dropout_backward,
        x,
    )
    assert errors["v"] < 1e-9, errors


@pytest.mark.parametrize("channels_last", [False, True])
def test_whole_channels_are_dropped_with_dropouts_mask(channels_last):
    x = np.ones((40, 3, 3, 30))
    if not channels_last:
        x = x.transpose(0, 3, 1, 2)
    param = {"p": 0.75, "mode": "train", "seed": 7}
    out, _ = spatial_dropout_forward(x, param, channels_last=channels_last)
    # The mask is dropout's own, drawn on the (N, 1, 1, C) or (N, C, 1, 1) noise shape.
    shape = (40, 1, 1, 30) if channels_last else (40, 30, 1, 1)
    mask, _ = dropout_forward(np.ones(shape), param)
    np.testing.assert_array_equal(out, np.broadcast_to(mask, x.shape))
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((mask == 0).mean() - 0.25) < 0.03


def test_test_mode_is_the_identity(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    out, cache = spatial_dropout_forward(x, {"p": 0.5, "mode": "test"})
    assert out is x
    dout = rng.normal(size=x.shape)
    assert spatial_dropout_backward(dout, cache) is dout


def test_dtype_is_kept(rng):
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    out, cache = spatial_dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0})
    assert out.dtype == np.float32
    assert spatial_dropout_backward(np.ones_like(x), cache).dtype == np.float32


def test_invalid_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="x"):
        spatial_dropout_forward(np.zeros((2, 3)), {"p": 0.5, "mode": "train"})
    with pytest.raises(ValueError, match="p"):
        spatial_dropout_forward(np.zeros((1, 2, 2, 2)), {"p": 0.0, "mode": "train"})
