"""resize_forward/backward against its loop twin, numerical gradients, closed
forms (constants, ramps, index patterns), hand-derived values and, where it is
installed, torch.nn.functional.interpolate."""

import numpy as np
import pytest

from glassnet.functional.resize import (
    RESIZE_INTERPOLATIONS,
    aspect_resize_backward,
    aspect_resize_forward,
    center_crop_forward,
    crop_to_aspect_ratio,
    pad_to_aspect_ratio,
    resize_backward,
    resize_backward_naive,
    resize_forward,
    resize_forward_naive,
    resize_weights,
)
from glassnet.gradcheck import check_kernel, rel_error

SIZES = [(7, 3), (2, 9), (5, 4)]  # from (5, 4): down/up, up/down, the same


@pytest.mark.parametrize("interpolation", RESIZE_INTERPOLATIONS)
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("channels_last", [True, False])
def test_fast_matches_the_naive_twin_forward_and_backward(
    rng, interpolation, antialias, channels_last
):
    shape = (2, 5, 4, 3) if channels_last else (2, 3, 5, 4)
    x = rng.standard_normal(shape)
    for size in SIZES:
        kw = {"antialias": antialias, "channels_last": channels_last}
        out, cache = resize_forward(x, size, interpolation, **kw)
        want, naive_cache = resize_forward_naive(x, size, interpolation, **kw)
        assert out.shape == want.shape
        # Lanczos' negative lobes cancel: entries near 0 bound the tolerance.
        assert rel_error(out, want) < 1e-10, size
        dout = rng.standard_normal(out.shape)
        dx = resize_backward(dout, cache)
        assert rel_error(dx, resize_backward_naive(dout, naive_cache)) < 1e-10


@pytest.mark.parametrize("interpolation", RESIZE_INTERPOLATIONS)
@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize(("size", "antialias"), [((7, 3), False), ((3, 2), True)])
def test_backward_passes_a_numerical_gradient_check(
    rng, interpolation, naive, size, antialias
):
    x = rng.standard_normal((2, 5, 4, 2))
    forward, backward = (
        (resize_forward_naive, resize_backward_naive)
        if naive
        else (resize_forward, resize_backward)
    )
    errs = check_kernel(
        lambda x: forward(x, size, interpolation, antialias=antialias), backward, x
    )
    assert errs["x"] < 1e-8, errs


@pytest.mark.parametrize("interpolation", RESIZE_INTERPOLATIONS)
def test_a_constant_image_stays_constant(interpolation):
    x = np.full((1, 5, 7, 2), 3.25, dtype=np.float32)
    for size in ((9, 3), (2, 11)):
        out, _ = resize_forward(x, size, interpolation, antialias=True)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, 3.25, rtol=1e-6)


def test_bilinear_upsampling_of_a_ramp_is_the_ramp_at_half_pixel_centres():
    # x[i] = 2 i + 1 is linear, so bilinear reproduces it at the sample point
    # s = (o + 0.5) / 3 - 0.5, clamped to [0, n - 1] at the edges.
    n, factor = 6, 3
    x = (2.0 * np.arange(n) + 1).reshape(1, n, 1, 1)
    out, _ = resize_forward(x, (n * factor, 1))
    s = np.clip((np.arange(n * factor) + 0.5) / factor - 0.5, 0, n - 1)
    np.testing.assert_allclose(out.ravel(), 2 * s + 1, rtol=1e-12)


def test_bicubic_reproduces_a_ramp_away_from_the_edges():
    # Keys' kernel (a = -0.5) reproduces linear functions where all four taps
    # are inside the image.
    x = (0.5 * np.arange(8.0) - 1).reshape(1, 1, 8, 1)
    out, _ = resize_forward(x, (1, 16), "bicubic")
    s = (np.arange(16) + 0.5) / 2 - 0.5
    inner = (s >= 1) & (s <= 6)
    np.testing.assert_allclose(out.ravel()[inner], 0.5 * s[inner] - 1, atol=1e-12)


def test_nearest_reads_the_half_pixel_index_pattern():
    # floor((o + 0.5) * 5 / 3) = floor(0.83, 2.5, 4.17) = 0, 2, 4 and
    # floor((o + 0.5) * 2 / 5) = floor(0.2, 0.6, 1.0, 1.4, 1.8) = 0, 0, 1, 1, 1.
    x = np.arange(10.0).reshape(1, 5, 2, 1)
    out, _ = resize_forward(x, (3, 5), "nearest")
    rows, cols = [0, 2, 4], [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(out[0, :, :, 0], x[0, rows][:, cols, 0])


def test_hand_derived_bilinear_values():
    # 2 -> 4 samples at s = -0.25, 0.25, 0.75, 1.25: clamped, 1/4, 3/4, clamped.
    x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    np.testing.assert_allclose(
        resize_forward(x, (1, 4))[0].ravel(), [0.0, 0.25, 0.75, 1.0]
    )
    # 4 -> 2 samples at s = 0.5, 2.5: the mean of each pair (no antialias), and
    # with antialias the triangle of width 2: weights 1/8, 3/8, 3/8, 1/8 of
    # samples 0..3 around s = 0.5 (normalised over the inside ones: 1, 3, 3, 1
    # at distances 1.5, 0.5, 0.5, 1.5 over 2 -> 0.25, 0.75, 0.75, 0.25).
    x = np.array([0.0, 4.0, 8.0, 16.0]).reshape(1, 1, 4, 1)
    np.testing.assert_allclose(resize_forward(x, (1, 2))[0].ravel(), [2.0, 12.0])
    w = resize_weights(4, 2, antialias=True)
    np.testing.assert_allclose(w[0], np.array([0.75, 0.75, 0.25, 0.0]) / 1.75)


@pytest.mark.parametrize("interpolation", RESIZE_INTERPOLATIONS)
def test_weight_rows_sum_to_one(interpolation):
    for n_in, n_out in ((5, 2), (3, 11), (4, 4)):
        w = resize_weights(n_in, n_out, interpolation, antialias=True)
        assert w.shape == (n_out, n_in)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("size", [(7, 3), (2, 9), (3, 2)])
def test_bilinear_equals_torch_interpolate_without_align_corners(rng, size):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 4))
    out, _ = resize_forward(x, size, channels_last=False)
    want = torch.nn.functional.interpolate(
        torch.from_numpy(x),
        size=size,
        mode="bilinear",
        align_corners=False,
        antialias=False,
    ).numpy()
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)


def test_aspect_ratio_crops_and_pads_follow_keras():
    # Keras' rule: crop_h = min(H, int(W * h / w)), crop_w = min(W, int(H * w / h)).
    assert crop_to_aspect_ratio(8, 16, (10, 8)) == ((0, 0), (5, 5))
    assert crop_to_aspect_ratio(9, 4, (2, 2)) == ((2, 3), (0, 0))
    assert crop_to_aspect_ratio(6, 6, (3, 3)) == ((0, 0), (0, 0))
    assert pad_to_aspect_ratio(4, 8, (4, 4)) == ((2, 2), (0, 0))
    assert pad_to_aspect_ratio(3, 2, (1, 2)) == ((0, 0), (2, 2))


def test_aspect_resize_crops_or_pads_then_resizes(rng):
    x = rng.standard_normal((2, 4, 8, 1))
    out, _ = aspect_resize_forward(x, (2, 2), crop=True)
    np.testing.assert_allclose(out, resize_forward(x[:, :, 2:6], (2, 2))[0])
    out, _ = aspect_resize_forward(x, (4, 4), pad=True, fill_value=9.0)
    padded = np.pad(x, ((0, 0), (2, 2), (0, 0), (0, 0)), constant_values=9.0)
    np.testing.assert_allclose(out, resize_forward(padded, (4, 4))[0])


@pytest.mark.parametrize(
    "kw", [{"crop": True}, {"pad": True, "fill_value": 2.0}, {"crop": False}]
)
def test_aspect_resize_passes_a_numerical_gradient_check(rng, kw):
    x = rng.standard_normal((2, 3, 6, 2))
    errs = check_kernel(
        lambda x: aspect_resize_forward(x, (4, 3), **kw), aspect_resize_backward, x
    )
    assert errs["x"] < 1e-8, errs


def test_center_crop_takes_the_central_window_or_resizes(rng):
    x = rng.standard_normal((1, 5, 6, 2))
    out, cache = center_crop_forward(x, (2, 3))
    np.testing.assert_array_equal(out, x[:, 1:3, 1:4])
    out, _ = center_crop_forward(x, (6, 6))  # taller than x: crop, resize
    np.testing.assert_allclose(out, resize_forward(x[:, :, :5], (6, 6))[0])
    errs = check_kernel(
        lambda x: center_crop_forward(x, (2, 3)), aspect_resize_backward, x
    )
    assert errs["x"] < 1e-8


def test_bad_arguments_are_refused_by_name(rng):
    x = rng.standard_normal((1, 3, 3, 1))
    with pytest.raises(ValueError, match="size"):
        resize_forward(x, (0, 2))
    with pytest.raises(ValueError, match="size"):
        resize_forward(x, 4)
    with pytest.raises(ValueError, match="interpolation"):
        resize_forward(x, (2, 2), "area")
    with pytest.raises(ValueError, match="x"):
        resize_forward(x[0], (2, 2))
    with pytest.raises(ValueError, match="pad"):
        aspect_resize_forward(x, (2, 2), crop=True, pad=True)
    _, cache = resize_forward(x, (2, 4))
    with pytest.raises(ValueError, match="dout"):
        resize_backward(np.zeros((1, 3, 3, 1)), cache)
    with pytest.raises(ValueError, match="cache"):
        resize_backward(x, {})
    with pytest.raises(ValueError, match="cache"):
        aspect_resize_backward(x, {})
