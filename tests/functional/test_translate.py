"""translate_forward/backward against scipy.ndimage.shift and numerical gradients."""

import numpy as np
import pytest

from glassnet.functional.translate import translate_backward, translate_forward
from glassnet.gradcheck import check_kernel

ndimage = pytest.importorskip("scipy.ndimage")

# glassnet's (Keras') fill modes and scipy's names for the same extensions; scipy's
# "grid-" modes interpolate across the edge the way Keras does.
SCIPY_MODES = {
    "reflect": "reflect",
    "wrap": "grid-wrap",
    "nearest": "nearest",
    "constant": "grid-constant",
}


@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
def test_bilinear_shifts_equal_scipy_linear_shifts(rng, fill_mode):
    x = rng.standard_normal((4, 7, 6, 2))
    dy = np.array([1.25, -2.5, 0.0, 6.75])  # up to the whole height
    dx = np.array([-0.4, 3.0, -5.9, 0.5])
    out, _ = translate_forward(x, dy, dx, fill_mode, "bilinear", fill_value=0.7)
    for n in range(4):
        want = ndimage.shift(
            x[n], (dy[n], dx[n], 0), order=1, mode=SCIPY_MODES[fill_mode], cval=0.7
        )
        np.testing.assert_allclose(out[n], want, rtol=1e-12, atol=1e-12)


def test_nearest_integer_shifts_move_the_pixels_and_fill_the_border(rng):
    x = rng.standard_normal((2, 5, 6, 1)).astype(np.float32)
    out, _ = translate_forward(
        x, np.array([2.0, -1.0]), np.array([-3.0, 0.0]), "constant", "nearest"
    )
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 2:, :3], x[0, :3, 3:])
    np.testing.assert_array_equal(out[0, :2], 0)
    np.testing.assert_array_equal(out[0, :, 3:], 0)
    np.testing.assert_array_equal(out[1, :4], x[1, 1:])
    np.testing.assert_array_equal(out[1, 4], 0)


def test_nearest_rounds_half_away_from_zero(rng):
    x = rng.standard_normal((2, 4, 4, 1))
    out, _ = translate_forward(x, np.array([0.5, -0.5]), np.zeros(2), "wrap", "nearest")
    np.testing.assert_array_equal(out[0], np.roll(x[0], 1, axis=0))
    np.testing.assert_array_equal(out[1], np.roll(x[1], -1, axis=0))


@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_backward_passes_a_numerical_gradient_check(rng, fill_mode, interpolation):
    # Shifts past the edge make several outputs read one input pixel.
    x = rng.standard_normal((3, 5, 4, 2))
    dy, dx = np.array([1.3, -4.6, 2.0]), np.array([-2.2, 0.7, 3.4])

    def forward(x):
        return translate_forward(x, dy, dx, fill_mode, interpolation, 0.3)

    errs = check_kernel(forward, translate_backward, x)
    assert errs["x"] < 1e-8, errs


def test_bad_arguments_are_refused(rng):
    x = rng.standard_normal((2, 3, 3, 1))
    with pytest.raises(ValueError, match="dy"):
        translate_forward(x, np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="dx"):
        translate_forward(x, np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="fill_mode"):
        translate_forward(x, np.zeros(2), np.zeros(2), fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        translate_forward(x, np.zeros(2), np.zeros(2), interpolation="cubic")
    with pytest.raises(ValueError, match="x"):
        translate_forward(x[0], np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="cache"):
        translate_backward(x, {})
    _, cache = translate_forward(x, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="dout"):
        translate_backward(x[:1], cache)
