"""The compiled loop kernels against the NumPy fast path and the naive twins.

Bitwise where the arithmetic is the same (max pooling, copies, sums in the same
order), else within rounding. Skipped when Numba is not installed.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from glassnet._internal import threads  # noqa: E402
from glassnet.functional import _loops  # noqa: E402
from glassnet.functional._im2col import (  # noqa: E402
    col2im_nhwc,
    conv_window,
    crop_nhwc,
    pad_nhwc,
    pool_window,
    windows_nhwc,
)
from glassnet.functional.conv import conv_backward_naive, conv_forward_naive  # noqa: E402
from glassnet.functional.conv_fast import (  # noqa: E402
    _copy_windows,
    conv_backward_nhwc,
    conv_forward_nhwc,
)
from glassnet.functional.pool import (  # noqa: E402
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from glassnet.functional.pool_fast import (  # noqa: E402
    avg_pool_backward_nhwc,
    avg_pool_forward_nhwc,
    max_pool_backward_nhwc,
    max_pool_forward_nhwc,
)
from glassnet.gradcheck import rel_error  # noqa: E402

FEW = settings(max_examples=15, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def pool_cases(draw):
    """(x shape NHWC, pool_param) with every window holding a real cell."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pads = (
        (draw(st.integers(0, kh - 1)), draw(st.integers(0, kh - 1))),
        (draw(st.integers(0, kw - 1)), draw(st.integers(0, kw - 1))),
    )
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers(max(kh - sum(pads[0]), 1), 7))
    W = draw(st.integers(max(kw - sum(pads[1]), 1), 7))
    shape = (draw(st.integers(1, 3)), H, W, draw(st.integers(1, 4)))
    return shape, {"pool_height": kh, "pool_width": kw, "stride": stride, "pad": pads}


@st.composite
def conv_cases(draw):
    """(x shape NHWC, w shape (HH, WW, C/G, F), conv_param)."""
    G = draw(st.integers(1, 3))
    C, F = G * draw(st.integers(1, 2)), G * draw(st.integers(1, 2))
    HH, WW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    H = draw(st.integers(max(dil[0] * (HH - 1) + 1 - sum(pads[0]), 1), 7))
    W = draw(st.integers(max(dil[1] * (WW - 1) + 1 - sum(pads[1]), 1), 7))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    param = {"stride": stride, "pad": pads, "dilation": dil, "groups": G}
    return (draw(st.integers(1, 3)), H, W, C), (HH, WW, C // G, F), param


def _nchw(a):
    return a.transpose(0, 3, 1, 2)


@pytest.fixture
def numpy_path(monkeypatch):
    """Run the NumPy path (what GLASSNET_KERNELS=numpy selects) inside a block."""

    class Switch:
        def __enter__(self):
            monkeypatch.setenv("GLASSNET_KERNELS", "numpy")

        def __exit__(self, *exc):
            monkeypatch.setenv("GLASSNET_KERNELS", "numba")

    monkeypatch.setenv("GLASSNET_KERNELS", "numba")
    return Switch()


@FEW
@given(case=pool_cases(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_max_pool_loops_equal_the_numpy_path_and_the_naive_twin(case, dtype, seed):
    shape, pool_param = case
    rng = np.random.default_rng(seed)
    # Small integers: many ties, so the first-maximum rule is exercised.
    x = rng.integers(-3, 4, shape).astype(dtype)
    win = pool_window(x, pool_param, channels_last=True)
    out, idx = _loops.max_pool_forward(x, win, True)
    out_inference, none = _loops.max_pool_forward(x, win, False)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = _loops.max_pool_backward(dout, idx, win, x.shape)

    with pytest.MonkeyPatch.context() as m:
        m.setenv("GLASSNET_KERNELS", "numpy")
        ref, cache = max_pool_forward_nhwc(x, pool_param)
        ref_dx = max_pool_backward_nhwc(dout, cache)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out_inference, ref)
    assert none is None
    np.testing.assert_array_equal(idx, cache.saved)
    np.testing.assert_array_equal(dx, ref_dx)  # the gather adds in col2im's order

    naive, naive_cache = max_pool_forward_naive(_nchw(x), pool_param)
    np.testing.assert_array_equal(_nchw(out), naive)
    naive_dx = max_pool_backward_naive(_nchw(dout), naive_cache)
    np.testing.assert_allclose(_nchw(dx), naive_dx, rtol=1e-6, atol=1e-6)


@FEW
@given(case=pool_cases(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_avg_pool_loops_equal_the_numpy_path_and_the_naive_twin(case, dtype, seed):
    shape, pool_param = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    win = pool_window(x, pool_param, channels_last=True)
    out = _loops.avg_pool_forward(x, win)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = _loops.avg_pool_backward(dout, win, x.shape)

    with pytest.MonkeyPatch.context() as m:
        m.setenv("GLASSNET_KERNELS", "numpy")
        ref, cache = avg_pool_forward_nhwc(x, pool_param)
        ref_dx = avg_pool_backward_nhwc(dout, cache)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(dx, ref_dx)

    tol = 1e-5 if dtype == np.float32 else 1e-12
    naive, naive_cache = avg_pool_forward_naive(_nchw(x), pool_param)
    np.testing.assert_allclose(_nchw(out), naive, rtol=tol, atol=tol)
    naive_dx = avg_pool_backward_naive(_nchw(dout), naive_cache)
    np.testing.assert_allclose(_nchw(dx), naive_dx, rtol=tol, atol=tol)


def _numpy_cols(x, win, G, HH, WW):
    """The NumPy path's column matrix (G, N*H_out*W_out, K + 1)."""
    N, (Ho, Wo), Cg = x.shape[0], win.out, x.shape[3] // G
    K = HH * WW * Cg
    cols = np.empty((G, N * Ho * Wo, K + 1), x.dtype)
    cols[:, :, K] = 1.0
    src = windows_nhwc(pad_nhwc(x, win.pads, 0.0), win)
    src = src.reshape(N, Ho, Wo, HH, WW, G, Cg).transpose(5, 0, 1, 2, 3, 4, 6)
    _copy_windows(cols[:, :, :K].reshape(G, N, Ho, Wo, HH, WW, Cg), src, np)
    return cols


@FEW
@given(case=conv_cases(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_im2col_loop_copies_the_same_columns_as_the_strided_views(case, dtype, seed):
    x_shape, w_shape, param = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    win, G = conv_window(x, w, np.zeros(w_shape[3], dtype), param, channels_last=True)
    ref = _numpy_cols(x, win, G, *w_shape[:2])
    cols = np.full_like(ref, np.nan)
    N = x.shape[0]
    # In two blocks of samples, as the forward pass calls it.
    _loops.im2col(x, cols, slice(0, N // 2), win)
    _loops.im2col(x, cols, slice(N // 2, N), win)
    np.testing.assert_array_equal(cols, ref)


@FEW
@given(case=conv_cases(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_col2im_gather_equals_the_slice_add_scatter(case, dtype, seed):
    x_shape, w_shape, param = case
    rng = np.random.default_rng(seed)
    x = np.zeros(x_shape, dtype)
    w = np.zeros(w_shape, dtype)
    win, G = conv_window(x, w, np.zeros(w_shape[3], dtype), param, channels_last=True)
    (N, H, W, C), (HH, WW), (Ho, Wo) = x_shape, win.kernel, win.out
    Cg = C // G
    dcols = rng.standard_normal((G, N * Ho * Wo, HH * WW * Cg)).astype(dtype)
    dx = np.full(x_shape, np.nan, dtype)
    _loops.col2im(dcols, dx, win)

    (top, bottom), (left, right) = win.pads
    dxpad = np.zeros((N, H + top + bottom, W + left + right, G, Cg), dtype)

    def grad_at(p, q):
        o = p * WW + q
        part = dcols[:, :, o * Cg : (o + 1) * Cg]
        return part.reshape(G, N, Ho, Wo, Cg).transpose(1, 2, 3, 0, 4)

    col2im_nhwc(dxpad, grad_at, win)
    ref = crop_nhwc(dxpad.reshape(*dxpad.shape[:3], C), win.pads, (H, W))
    np.testing.assert_array_equal(dx, ref)


@FEW
@given(case=conv_cases(), seed=st.integers(0, 2**16))
def test_conv_with_loops_matches_the_numpy_path_and_the_naive_twin(case, seed):
    x_shape, w_shape, param = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[3])
    with pytest.MonkeyPatch.context() as m:
        m.setenv("GLASSNET_KERNELS", "numba")
        out, cache = conv_forward_nhwc(x, w, b, param)
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv_backward_nhwc(dout, cache)
        m.setenv("GLASSNET_KERNELS", "numpy")
        ref, ref_cache = conv_forward_nhwc(x, w, b, param)
        ref_dx, ref_dw, ref_db = conv_backward_nhwc(dout, ref_cache)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(dw, ref_dw)
    np.testing.assert_array_equal(db, ref_db)
    # dcols comes from one product here, one per offset there: rounding only.
    assert rel_error(dx, ref_dx) < 1e-10

    naive, naive_cache = conv_forward_naive(_nchw(x), w.transpose(3, 2, 0, 1), b, param)
    assert rel_error(_nchw(out), naive) < 1e-10
    naive_dx = conv_backward_naive(_nchw(dout), naive_cache)[0]
    assert rel_error(_nchw(dx), naive_dx) < 1e-10


def test_loops_in_float32_agree_with_float64_within_rounding():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 9, 9, 6))
    w, b = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    param = {"stride": 2, "pad": 1, "dilation": 1, "groups": 2}
    dout = rng.standard_normal((4, 5, 5, 4))
    out64, cache64 = conv_forward_nhwc(x, w, b, param)
    out32, cache32 = conv_forward_nhwc(
        *(a.astype(np.float32) for a in (x, w, b)), param
    )
    dx32 = conv_backward_nhwc(dout.astype(np.float32), cache32)[0]
    assert out32.dtype == dx32.dtype == np.float32
    dx64 = conv_backward_nhwc(dout, cache64)[0]
    # Relative to each array's scale: a sum that cancels to near 0 has a large
    # elementwise relative error in float32 without any fault of the kernels.
    for got, want in ((out32, out64), (dx32, dx64)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_glassnet_kernels_numpy_turns_the_loops_off(monkeypatch):
    x = np.ones((2, 4, 4, 3), np.float32)
    monkeypatch.setenv("GLASSNET_KERNELS", "numba")
    assert _loops.enabled(x) and _loops.kernels_in_use() == "numba"
    monkeypatch.setenv("GLASSNET_KERNELS", "numpy")
    assert not _loops.enabled(x) and _loops.kernels_in_use() == "numpy"

    # The pooling core really dispatches on it: a loop kernel that fails shows.
    def broken(*args):
        raise RuntimeError("loop kernel called")

    monkeypatch.setattr(_loops, "max_pool_forward", broken)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    max_pool_forward_nhwc(x, pool_param)
    monkeypatch.setenv("GLASSNET_KERNELS", "numba")
    with pytest.raises(RuntimeError, match="loop kernel called"):
        max_pool_forward_nhwc(x, pool_param)


def test_other_arrays_and_dtypes_take_the_numpy_path(monkeypatch):
    monkeypatch.setenv("GLASSNET_KERNELS", "numba")
    x = np.ones((2, 3), np.float32)
    assert not _loops.enabled(x.astype(np.float16))
    assert not _loops.enabled(x, x.astype(np.float64))  # mixed dtypes
    assert not _loops.enabled(x.tolist())
    assert not _loops.enabled(np.ma.masked_array(x))  # not a plain ndarray


def test_an_unknown_glassnet_kernels_value_is_refused(monkeypatch):
    monkeypatch.setenv("GLASSNET_KERNELS", "cython")
    with pytest.raises(ValueError, match="GLASSNET_KERNELS"):
        _loops.enabled(np.ones(3))


def test_numba_threads_follow_glassnet_threads():
    numba = pytest.importorskip("numba")
    x = np.ones((4, 6, 6, 2), np.float32)
    win = pool_window(
        x, {"pool_height": 2, "pool_width": 2, "stride": 2}, channels_last=True
    )
    before = threads.num_threads()
    try:
        threads.set_num_threads(1)
        _loops.max_pool_forward(x, win, True)
        assert numba.get_num_threads() == 1
        threads.set_num_threads(64)
        with threads.limit_threads(1):
            _loops.max_pool_forward(x, win, True)
            assert numba.get_num_threads() == 1
        _loops.max_pool_forward(x, win, True)
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        threads.set_num_threads(before)


def test_a_read_only_package_gets_a_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(_loops.os, "access", lambda path, mode: False)
    _loops._set_cache_dir()
    assert _loops.os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "glassnet" / "numba")
    # A directory the user chose is kept.
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    _loops._set_cache_dir()
    assert _loops.os.environ["NUMBA_CACHE_DIR"] == "/somewhere/else"


def test_fit_with_and_without_loops_agrees_within_rounding(monkeypatch):
    from glassnet import layers, models, optimizers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 10, 10, 2)).astype(np.float32)
    y = rng.integers(0, 3, 16)

    def train(mode):
        monkeypatch.setenv("GLASSNET_KERNELS", mode)
        model = models.Sequential(
            [
                layers.Input((10, 10, 2)),
                layers.Conv2D(4, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),
                layers.Conv2D(4, 3, activation="relu"),
                layers.AveragePooling2D(2, padding="same"),
                layers.Flatten(),
                layers.Dense(3),
            ],
            seed=1,
        )
        model.compile(
            optimizer=optimizers.SGD(0.1),
            loss="sparse_categorical_crossentropy",
        )
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        return [np.asarray(v) for v in model.get_weights()]

    for a, b in zip(train("numba"), train("numpy"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
