import numpy as np
import pytest

from glassnet.functional.spatial import (
    crop2d_backward,
    crop2d_forward,
    upsample_nearest_backward,
    upsample_nearest_backward_naive,
    upsample_nearest_forward,
    upsample_nearest_forward_naive,
    zero_pad2d_backward,
    zero_pad2d_forward,
)
from glassnet.gradcheck import check_kernel, rel_error

PAIRS = {
    "pad": (zero_pad2d_forward, zero_pad2d_backward, ((1, 2), (0, 3))),
    "crop": (crop2d_forward, crop2d_backward, ((1, 0), (2, 1))),
    "up": (upsample_nearest_forward, upsample_nearest_backward, (2, 3)),
    "up_naive": (upsample_nearest_forward_naive, upsample_nearest_backward_naive, 2),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("channels_last", [False, True])
def test_gradients_match_numerical_in_float64(rng, name, channels_last):
    forward, backward, arg = PAIRS[name]
    x = rng.normal(size=(2, 3, 4, 5))
    errors = check_kernel(
        lambda v: forward(v, arg, channels_last=channels_last), backward, x
    )
    assert errors["v"] < 1e-9, errors


def test_pad_matches_numpy_pad_in_both_layouts(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    out, _ = zero_pad2d_forward(x, ((1, 2), (3, 0)))
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (1, 2), (3, 0))))
    out, _ = zero_pad2d_forward(x, (1, 2), channels_last=True)
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0))))
    out, _ = zero_pad2d_forward(x, 1)
    assert out.shape == (2, 3, 6, 7)


def test_crop_is_the_slice_and_undoes_the_pad(rng):
    x = rng.normal(size=(2, 6, 7, 3))
    out, _ = crop2d_forward(x, ((1, 2), (3, 1)), channels_last=True)
    np.testing.assert_array_equal(out, x[:, 1:4, 3:6, :])
    padded, _ = zero_pad2d_forward(x, ((1, 2), (0, 3)))
    back, _ = crop2d_forward(padded, ((1, 2), (0, 3)))
    np.testing.assert_array_equal(back, x)


def test_crop_that_leaves_nothing_is_refused():
    with pytest.raises(ValueError, match="crops"):
        crop2d_forward(np.zeros((1, 1, 4, 4)), ((2, 2), (0, 0)))


def test_upsample_is_a_kronecker_product_with_ones(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    out, _ = upsample_nearest_forward(x, (2, 3))
    np.testing.assert_array_equal(out, np.kron(x, np.ones((1, 1, 2, 3))))


@pytest.mark.parametrize("size", [1, (2, 3), (3, 1)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_upsampling_matches_naive(rng, size, channels_last):
    x = rng.normal(size=(2, 3, 4, 5))
    out, cache = upsample_nearest_forward(x, size, channels_last=channels_last)
    ref, ref_cache = upsample_nearest_forward_naive(
        x, size, channels_last=channels_last
    )
    assert rel_error(out, ref) < 1e-12
    dout = rng.normal(size=out.shape)
    dx = upsample_nearest_backward(dout, cache)
    assert rel_error(dx, upsample_nearest_backward_naive(dout, ref_cache)) < 1e-12


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept(rng, dtype):
    x = rng.normal(size=(1, 2, 5, 5)).astype(dtype)
    for forward, backward, arg in PAIRS.values():
        out, cache = forward(x, arg)
        assert out.dtype == dtype
        assert backward(np.ones_like(out), cache).dtype == dtype


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: zero_pad2d_forward(x, -1), "pads"),
        (lambda x: zero_pad2d_forward(x, (1, 2, 3)), "pads"),
        (lambda x: crop2d_forward(x, "a"), "crops"),
        (lambda x: upsample_nearest_forward(x, 0), "size"),
        (lambda x: upsample_nearest_forward(x[0], 2), "x"),
    ],
)
def test_invalid_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call(np.zeros((1, 2, 3, 3)))
