"""glassnet._internal.threads: batch splitting, and kernels that give the same bits
split or not.

The oracle for every split kernel is the same kernel run whole on one thread
(bitwise equal: only element-wise work is split) and, for pooling and
convolution, the naive loop kernels.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from glassnet._internal import threads as _threads
from glassnet.functional import activations, conv, conv_fast, pool, pool_fast


@pytest.fixture
def forced_split(monkeypatch):
    """Split everything: 3 threads, no size threshold, blocks of a few elements."""
    monkeypatch.setattr(_threads, "MIN_ELEMENTS_PER_THREAD", 1)
    monkeypatch.setattr(_threads, "BLOCK_ELEMENTS", 64)
    before = _threads.num_threads()
    _threads.set_num_threads(3)
    yield
    _threads.set_num_threads(before)


def printed(code, env):
    """What ``python -c code`` prints in a fresh process with ``env``."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def whole(fn, *args, **kwargs):
    """fn run with splitting off."""
    before = _threads.num_threads()
    _threads.set_num_threads(1)
    old_block = _threads.BLOCK_ELEMENTS
    _threads.BLOCK_ELEMENTS = 1 << 40
    try:
        return fn(*args, **kwargs)
    finally:
        _threads.BLOCK_ELEMENTS = old_block
        _threads.set_num_threads(before)


def test_split_batch_covers_every_item_once_across_threads(forced_split):
    seen = np.zeros(37, dtype=int)
    names = set()

    def part(s):
        names.add(threading.current_thread().name)
        seen[s] += 1

    _threads.split_batch(part, np.zeros((37, 5)))
    np.testing.assert_array_equal(seen, 1)
    assert len(names) > 1


def test_nested_splits_run_inline_without_deadlock(forced_split):
    out = np.zeros((8, 8))

    def inner_row(i):
        def part(s):
            out[i, s] += 1

        _threads.split_batch(part, out[i])

    def outer(s):
        for i in range(s.start, s.stop):
            inner_row(i)

    _threads.split_batch(outer, out)
    np.testing.assert_array_equal(out, 1)


def test_small_work_and_one_thread_run_in_the_calling_thread():
    calls = []
    _threads.split_batch(
        lambda s: calls.append((s, threading.current_thread())), np.zeros((4, 3))
    )
    assert calls == [(slice(0, 4), threading.current_thread())]


def test_scalar_array_gets_the_whole_array():
    got = []
    _threads.split_batch(lambda s: got.append(np.zeros(())[s]), np.zeros(()))
    assert got[0].shape == ()


def test_worker_errors_reach_the_caller(forced_split):
    def part(s):
        if s.start > 0:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _threads.split_batch(part, np.zeros((9, 2)))


def test_set_num_threads_validates_and_limit_threads_restores():
    before = _threads.num_threads()
    with pytest.raises(ValueError, match="n"):
        _threads.set_num_threads(0)
    with _threads.limit_threads(1):
        assert _threads.num_threads() == 1
    assert _threads.num_threads() == before
    with _threads.limit_threads(None):
        assert _threads.num_threads() == before


@pytest.mark.parametrize("var", ["GLASSNET_NUM_THREADS", "OMP_NUM_THREADS"])
def test_thread_count_comes_from_the_environment(var):
    env = {k: v for k, v in os.environ.items() if "NUM_THREADS" not in k}
    env[var] = "3"
    assert printed("from glassnet import utils; print(utils.num_threads())", env) == "3"


def test_relu_split_equals_whole_bitwise(forced_split, rng):
    x = rng.standard_normal((11, 6, 5)).astype(np.float32)
    x[0, 0, 0] = np.nan
    dout = rng.standard_normal(x.shape).astype(np.float32)
    out, mask = activations.relu_forward(x)
    ref_out, ref_mask = whole(activations.relu_forward, x)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(
        activations.relu_backward(dout, mask),
        whole(activations.relu_backward, dout, mask),
    )
    np.testing.assert_array_equal(out[1:], np.maximum(x[1:], 0))


@pytest.mark.parametrize(
    "pool_param",
    [
        {"pool_height": 2, "pool_width": 2, "stride": 2},  # tiled
        {"pool_height": 3, "pool_width": 2, "stride": 1, "pad": 1},  # strided
    ],
)
def test_max_pool_split_equals_whole_and_naive(forced_split, rng, pool_param):
    # Rounded values give ties, which must go to the first cell in both.
    x = np.round(rng.standard_normal((9, 3, 6, 8)), 0)
    out, cache = pool_fast.max_pool_forward_fast(x, pool_param)
    ref, ref_cache = whole(pool_fast.max_pool_forward_fast, x, pool_param)
    naive, naive_cache = pool.max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out, naive)
    dout = rng.standard_normal(out.shape)
    dx = pool_fast.max_pool_backward_fast(dout, cache)
    np.testing.assert_array_equal(
        dx, whole(pool_fast.max_pool_backward_fast, dout, ref_cache)
    )
    np.testing.assert_allclose(dx, pool.max_pool_backward_naive(dout, naive_cache))


@pytest.mark.parametrize("layout", ["nhwc", "fast"])
def test_max_pool_without_argmax_still_has_the_same_backward(rng, layout):
    x = np.round(rng.standard_normal((4, 6, 6, 3)), 0)
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}
    forward = getattr(pool_fast, f"max_pool_forward_{layout}")
    backward = getattr(pool_fast, f"max_pool_backward_{layout}")
    out, cache = forward(x, pp)
    lazy_out, lazy_cache = forward(x, pp, keep_argmax=False)
    np.testing.assert_array_equal(lazy_out, out)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(backward(dout, lazy_cache), backward(dout, cache))


@pytest.mark.parametrize(
    ("channels", "conv_param"),
    [
        (4, {"stride": 1, "pad": 1}),
        (4, {"stride": 2, "pad": 0, "groups": 2}),
        (1, {"stride": 1, "pad": 1}),  # one channel: copied one offset at a time
        (2, {"stride": 1, "pad": 0, "groups": 2}),  # one channel per group
    ],
)
def test_conv_split_equals_whole_and_naive(forced_split, rng, channels, conv_param):
    x = rng.standard_normal((7, channels, 7, 6))
    w = rng.standard_normal((6, channels // conv_param.get("groups", 1), 3, 3))
    b = rng.standard_normal(6)
    out, cache = conv_fast.conv_forward_fast(x, w, b, conv_param)
    ref, _ = whole(conv_fast.conv_forward_fast, x, w, b, conv_param)
    np.testing.assert_array_equal(out, ref)
    naive, naive_cache = conv.conv_forward_naive(x, w, b, conv_param)
    np.testing.assert_allclose(out, naive, rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        conv_fast.conv_backward_fast(dout, cache),
        conv.conv_backward_naive(dout, naive_cache),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_keep_freed_memory_is_idempotent_and_can_be_turned_off():
    from glassnet._internal import malloc as _malloc

    first = _malloc.keep_freed_memory()
    assert _malloc.keep_freed_memory() is first
    env = dict(os.environ, GLASSNET_MALLOC="system")
    code = "from glassnet._internal import malloc; print(malloc.keep_freed_memory())"
    assert printed(code, env) == "False"


@pytest.mark.parametrize("rows", [48, 45])  # widened 16 rows to one; not widened
def test_batchnorm_split_equals_whole_and_the_step_by_step_backward(
    forced_split, monkeypatch, rng, rows
):
    from glassnet.functional import normalization

    monkeypatch.setattr(normalization, "_SMALL", 0)  # split even tiny arrays
    x = rng.standard_normal((rows, 4)) * 3 + 5
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    out, cache = normalization.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    ref, _ = whole(normalization.batchnorm_forward, x, gamma, beta, {"mode": "train"})
    np.testing.assert_array_equal(out, ref)
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(out, gamma * xhat + beta, rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(x.shape)
    got = normalization.batchnorm_backward_alt(dout, cache)
    want = whole(normalization.batchnorm_backward_alt, dout, cache)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(got, normalization.batchnorm_backward(dout, cache), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    params = {"mode": "test", "running_mean": x.mean(0), "running_var": x.var(0)}
    test_out, _ = normalization.batchnorm_forward(x, gamma, beta, params)
    np.testing.assert_allclose(test_out, out, rtol=1e-10, atol=1e-12)
