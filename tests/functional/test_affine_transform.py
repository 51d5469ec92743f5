"""affine_transform_forward/backward against its loop twin, numerical gradients,
scipy.ndimage and closed forms (quarter turns, the identity, shifts)."""

import numpy as np
import pytest

from glassnet.functional.translate import (
    FILL_MODES,
    affine_transform_backward,
    affine_transform_backward_naive,
    affine_transform_forward,
    affine_transform_forward_naive,
    translate_forward,
)
from glassnet.gradcheck import check_kernel, rel_error


def _transforms(rng, N, H, W):
    """Rotation, zoom and shear about the centre, a shift, a mild projective
    part: source points inside and far outside the image."""
    angle = rng.uniform(-np.pi, np.pi, N)
    zoom = rng.uniform(0.6, 1.8, (N, 2))
    shear = rng.uniform(-0.3, 0.3, N)
    cx, cy = (W - 1) / 2, (H - 1) / 2
    a0 = zoom[:, 0] * np.cos(angle)
    a1 = zoom[:, 0] * (-np.sin(angle) + shear)
    b0 = zoom[:, 1] * np.sin(angle)
    b1 = zoom[:, 1] * np.cos(angle)
    a2 = cx - a0 * cx - a1 * cy + rng.uniform(-3, 3, N)
    b2 = cy - b0 * cx - b1 * cy + rng.uniform(-3, 3, N)
    c = rng.uniform(-0.02, 0.02, (N, 2))
    return np.stack([a0, a1, a2, b0, b1, b2, c[:, 0], c[:, 1]], axis=1)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_fast_matches_the_naive_twin_forward_and_backward(
    rng, fill_mode, interpolation
):
    x = rng.standard_normal((3, 6, 5, 2))
    t = _transforms(rng, 3, 6, 5)
    args = (t, fill_mode, interpolation, 0.7)
    out, cache = affine_transform_forward(x, *args)
    want, naive_cache = affine_transform_forward_naive(x, *args)
    assert rel_error(out, want) < 1e-12
    dout = rng.standard_normal(out.shape)
    assert (
        rel_error(
            affine_transform_backward(dout, cache),
            affine_transform_backward_naive(dout, naive_cache),
        )
        < 1e-12
    )


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("naive", [False, True])
def test_backward_passes_a_numerical_gradient_check(
    rng, fill_mode, interpolation, naive
):
    x = rng.standard_normal((2, 5, 4, 2))
    t = _transforms(rng, 2, 5, 4)
    forward, backward = (
        (affine_transform_forward_naive, affine_transform_backward_naive)
        if naive
        else (affine_transform_forward, affine_transform_backward)
    )
    errs = check_kernel(
        lambda x: forward(x, t, fill_mode, interpolation, 0.3), backward, x
    )
    assert errs["x"] < 1e-8, errs


SCIPY_MODES = {
    "reflect": "reflect",
    "wrap": "grid-wrap",
    "nearest": "nearest",
    "constant": "grid-constant",
}


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_bilinear_sampling_equals_scipy_map_coordinates(rng, fill_mode):
    ndimage = pytest.importorskip("scipy.ndimage")
    x = rng.standard_normal((2, 7, 6, 1))
    t = _transforms(rng, 2, 7, 6)
    out, _ = affine_transform_forward(x, t, fill_mode, "bilinear", fill_value=-0.4)
    rows, cols = np.mgrid[0:7, 0:6].astype(float)
    for n in range(2):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[n]
        k = c0 * cols + c1 * rows + 1
        src = [(b0 * cols + b1 * rows + b2) / k, (a0 * cols + a1 * rows + a2) / k]
        want = ndimage.map_coordinates(
            x[n, :, :, 0], src, order=1, mode=SCIPY_MODES[fill_mode], cval=-0.4
        )
        np.testing.assert_allclose(out[n, :, :, 0], want, rtol=1e-10, atol=1e-12)


def _rotation(angle, H, W):
    # Keras' rotation about ((W - 1) / 2, (H - 1) / 2): output -> input.
    c, s = np.cos(angle), np.sin(angle)
    cx, cy = (W - 1) / 2, (H - 1) / 2
    return np.array([[c, -s, cx - cx * c + cy * s, s, c, cy - cx * s - cy * c, 0, 0]])


@pytest.mark.parametrize("quarter_turns", [1, 2, 3, -1])
def test_a_quarter_turn_is_np_rot90_counter_clockwise(rng, quarter_turns):
    x = rng.standard_normal((1, 5, 5, 3))
    t = _rotation(quarter_turns * np.pi / 2, 5, 5)
    want = np.rot90(x, quarter_turns, axes=(1, 2))
    near, _ = affine_transform_forward(x, t, "constant", "nearest")
    np.testing.assert_array_equal(near, want)
    linear, _ = affine_transform_forward(x, t, "constant", "bilinear")
    np.testing.assert_allclose(linear, want, atol=1e-12)


def test_the_identity_transform_returns_x_in_its_dtype(rng):
    x = rng.standard_normal((2, 4, 3, 2)).astype(np.float32)
    t = np.tile([1.0, 0, 0, 0, 1, 0, 0, 0], (2, 1))
    for interpolation in ("bilinear", "nearest"):
        out, _ = affine_transform_forward(x, t, interpolation=interpolation)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, x)


def test_a_translation_is_the_affine_special_case(rng):
    x = rng.standard_normal((2, 5, 6, 1))
    dy, dx = np.array([1.5, -0.25]), np.array([-2.0, 3.75])
    t = np.stack([[1, 0, -dx[n], 0, 1, -dy[n], 0, 0] for n in range(2)])
    for mode in FILL_MODES:
        a, _ = translate_forward(x, dy, dx, mode, "bilinear", 0.5)
        b, _ = affine_transform_forward(x, t, mode, "bilinear", 0.5)
        np.testing.assert_array_equal(a, b)


def test_constant_fill_reads_fill_value_for_each_outside_neighbour():
    # A shift by half a pixel right: column 0 mixes the fill value and x[:, 0].
    x = np.ones((1, 1, 3, 1))
    t = np.array([[1.0, 0, -0.5, 0, 1, 0, 0, 0]])
    out, _ = affine_transform_forward(x, t, "constant", "bilinear", fill_value=3.0)
    np.testing.assert_allclose(out.ravel(), [2.0, 1.0, 1.0])


def test_bad_arguments_are_refused_by_name(rng):
    x = rng.standard_normal((2, 3, 3, 1))
    t = np.tile([1.0, 0, 0, 0, 1, 0, 0, 0], (2, 1))
    with pytest.raises(ValueError, match="transform"):
        affine_transform_forward(x, t[:1])
    with pytest.raises(ValueError, match="transform"):
        affine_transform_forward(x, np.full((2, 8), np.nan))
    with pytest.raises(ValueError, match="transform"):  # k = 1 - x is 0 at x = 1
        affine_transform_forward(x, np.tile([1.0, 0, 0, 0, 1, 0, -1, 0], (2, 1)))
    with pytest.raises(ValueError, match="fill_mode"):
        affine_transform_forward(x, t, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        affine_transform_forward(x, t, interpolation="bicubic")
    with pytest.raises(ValueError, match="fill_value"):
        affine_transform_forward(x, t, fill_value="zero")
    with pytest.raises(ValueError, match="x"):
        affine_transform_forward(x.astype(int), t)
    _, cache = affine_transform_forward(x, t)
    with pytest.raises(ValueError, match="dout"):
        affine_transform_backward(x[:1], cache)
    with pytest.raises(ValueError, match="cache"):
        affine_transform_backward(x, ("not", "a", "cache"))
