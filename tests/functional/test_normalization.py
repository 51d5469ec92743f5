import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_backward_nhwc,
    spatial_batchnorm_forward,
    spatial_batchnorm_forward_nhwc,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from glassnet.gradcheck import check_kernel

TOL = 1e-6
BACKWARDS = [batchnorm_backward, batchnorm_backward_alt]
SPATIAL = [
    (spatial_batchnorm_forward, spatial_batchnorm_backward, (2, 3, 4, 3)),
    (spatial_batchnorm_forward_nhwc, spatial_batchnorm_backward_nhwc, (2, 4, 3, 3)),
]


def _inputs(rng, shape, param_shape):
    # x is drawn last: were check_kernel's dout ever drawn from the same stream as
    # x, a dout proportional to x would make dx vanish and the check meaningless.
    gamma = rng.uniform(0.5, 2.0, size=param_shape)
    beta = rng.standard_normal(param_shape)
    x = 3.0 * rng.standard_normal(shape) + 1.5
    return x, gamma, beta


def _standardise(x, axis, eps=1e-5):
    # Independent oracle: the textbook definition with the biased variance.
    mu = x.mean(axis=axis, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


# --- batchnorm ---------------------------------------------------------------


@pytest.mark.parametrize("backward", BACKWARDS)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_gradients_match_numerical_gradients(rng, backward, mode):
    x, gamma, beta = _inputs(rng, (5, 4), (4,))
    bn_param = {
        "mode": mode,
        "running_mean": rng.standard_normal(4),
        "running_var": rng.uniform(0.5, 2.0, size=4),
    }
    errors = check_kernel(batchnorm_forward, backward, x, gamma, beta, bn_param)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL


@given(n=st.integers(2, 8), d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_batchnorm_backward_and_backward_alt_agree_to_1e_12(n, d, seed):
    rng = np.random.default_rng(seed)
    x, gamma, beta = _inputs(rng, (n, d), (d,))
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal((n, d))
    graph_grads = batchnorm_backward(dout, cache)
    alt_grads = batchnorm_backward_alt(dout, cache)
    for graph, alt in zip(graph_grads, alt_grads, strict=True):
        assert np.max(np.abs(graph - alt)) <= 1e-12 * max(1.0, np.max(np.abs(alt)))


def test_train_mode_output_has_per_feature_mean_beta_and_std_gamma(rng):
    x, gamma, beta = _inputs(rng, (200, 3), (3,))
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    # var(x) is about 9, so eps = 1e-5 shrinks the std by about 1e-5 / 18.
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)


def test_running_statistics_follow_the_closed_form_of_the_exponential_average(rng):
    x, gamma, beta = _inputs(rng, (10, 3), (3,))
    r0_mean, r0_var = rng.standard_normal(3), rng.uniform(size=3)
    m, steps = 0.8, 25
    bn_param = {
        "mode": "train",
        "momentum": m,
        "running_mean": r0_mean,
        "running_var": r0_var,
    }
    for _ in range(steps):
        batchnorm_forward(x, gamma, beta, bn_param)
    # Feeding one batch T times: r_T = m**T * r_0 + (1 - m**T) * batch statistic.
    decay = m**steps
    expected_mean = decay * r0_mean + (1 - decay) * x.mean(axis=0)
    expected_var = decay * r0_var + (1 - decay) * x.var(axis=0)
    np.testing.assert_allclose(bn_param["running_mean"], expected_mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], expected_var, rtol=1e-12)


def test_running_statistics_approach_the_mean_and_variance_of_the_data(rng):
    mean, std, n = np.array([-2.0, 0.5, 4.0]), np.array([0.5, 1.0, 3.0]), 256
    gamma, beta = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train"}
    for _ in range(200):
        x = mean + std * rng.standard_normal((n, 3))
        batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], mean, atol=0.05 * std.max())
    # The biased batch variance estimates (n - 1) / n of the true variance.
    np.testing.assert_allclose(bn_param["running_var"], std**2 * (n - 1) / n, rtol=0.1)


def test_test_mode_normalises_with_running_statistics_and_keeps_them(rng):
    x, gamma, beta = _inputs(rng, (6, 4), (4,))
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2.0, size=4)
    bn_param = {
        "mode": "test",
        "eps": 1e-3,
        "running_mean": rm.copy(),
        "running_var": rv.copy(),
    }
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-3) + beta)
    np.testing.assert_array_equal(bn_param["running_mean"], rm)
    np.testing.assert_array_equal(bn_param["running_var"], rv)


def test_missing_running_statistics_are_created_as_zeros_then_updated(rng):
    x, gamma, beta = _inputs(rng, (8, 3), (3,))
    bn_param = {"mode": "test"}
    batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_array_equal(bn_param["running_mean"], np.zeros(3))
    np.testing.assert_array_equal(bn_param["running_var"], np.zeros(3))
    bn_param["mode"] = "train"
    batchnorm_forward(x, gamma, beta, bn_param)
    # One step from zeros with the default momentum 0.9.
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0))


# --- layernorm ---------------------------------------------------------------


def test_layernorm_gradients_match_numerical_gradients(rng):
    x, gamma, beta = _inputs(rng, (4, 5), (5,))
    errors = check_kernel(layernorm_forward, layernorm_backward, x, gamma, beta, {})
    assert max(errors.values()) < TOL


def test_layernorm_matches_an_independent_per_sample_computation(rng):
    x, gamma, beta = _inputs(rng, (4, 7), (7,))
    out, _ = layernorm_forward(x, gamma, beta, {"eps": 1e-3, "mode": "test"})
    expected = np.stack([gamma * _standardise(row, 0, 1e-3) + beta for row in x])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


# --- spatial batchnorm -------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward", "shape"), SPATIAL)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_batchnorm_gradients_match_numerical_gradients(
    rng, forward, backward, shape, mode
):
    x, gamma, beta = _inputs(rng, shape, (3,))
    bn_param = {
        "mode": mode,
        "running_mean": rng.standard_normal(3),
        "running_var": rng.uniform(0.5, 2.0, size=3),
    }
    errors = check_kernel(forward, backward, x, gamma, beta, bn_param)
    assert max(errors.values()) < TOL


def test_spatial_batchnorm_matches_an_independent_per_channel_computation(rng):
    x, gamma, beta = _inputs(rng, (3, 4, 2, 5), (4,))
    bn_param = {"mode": "train", "momentum": 0.5}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    for c in range(4):
        channel = x[:, c]
        expected = gamma[c] * _standardise(channel, None) + beta[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-12, atol=1e-12)
        assert bn_param["running_mean"][c] == pytest.approx(0.5 * channel.mean())
        assert bn_param["running_var"][c] == pytest.approx(0.5 * channel.var())


def test_nhwc_twin_matches_the_nchw_kernel_after_transposes(rng):
    x, gamma, beta = _inputs(rng, (2, 3, 4, 5), (3,))
    dout = rng.standard_normal(x.shape)
    nchw_param, nhwc_param = {"mode": "train"}, {"mode": "train"}
    out, cache = spatial_batchnorm_forward(x, gamma, beta, nchw_param)
    grads = spatial_batchnorm_backward(dout, cache)
    to_nhwc = (0, 2, 3, 1)
    out_t, cache_t = spatial_batchnorm_forward_nhwc(
        x.transpose(to_nhwc), gamma, beta, nhwc_param
    )
    grads_t = spatial_batchnorm_backward_nhwc(dout.transpose(to_nhwc), cache_t)
    np.testing.assert_allclose(out_t, out.transpose(to_nhwc), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads_t[0], grads[0].transpose(to_nhwc), atol=1e-12)
    for a, b in zip(grads_t[1:], grads[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(nhwc_param[key], nchw_param[key], rtol=1e-12)


# --- groupnorm ---------------------------------------------------------------


@pytest.mark.parametrize("G", [1, 2, 3, 6])
def test_groupnorm_gradients_match_numerical_gradients(rng, G):
    x, gamma, beta = _inputs(rng, (2, 6, 2, 3), (1, 6, 1, 1))
    errors = check_kernel(
        spatial_groupnorm_forward, spatial_groupnorm_backward, x, gamma, beta, G, {}
    )
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL


def test_groupnorm_with_one_group_equals_layernorm_over_channels_and_pixels(rng):
    x, _, _ = _inputs(rng, (3, 4, 2, 3), (1,))
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    dout = rng.standard_normal(x.shape)
    out, cache = spatial_groupnorm_forward(x, ones, zeros, 1, {})
    dx = spatial_groupnorm_backward(dout, cache)[0]
    flat = x.reshape(3, -1)
    ln_out, ln_cache = layernorm_forward(flat, np.ones(24), np.zeros(24), {})
    ln_dx = layernorm_backward(dout.reshape(3, -1), ln_cache)[0]
    np.testing.assert_allclose(out.reshape(3, -1), ln_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx.reshape(3, -1), ln_dx, rtol=1e-12, atol=1e-12)


def test_groupnorm_with_one_group_per_channel_equals_instance_norm(rng):
    x, gamma, beta = _inputs(rng, (2, 3, 4, 4), (1, 3, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, 3, {"eps": 1e-4})
    expected = gamma * _standardise(x, (2, 3), 1e-4) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# --- validation and dtypes ---------------------------------------------------


def _bn(x, gamma, beta, **param):
    return batchnorm_forward(x, gamma, beta, {"mode": "train", **param})


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x, g, b: _bn(x, g[:3], b), "gamma"),
        (lambda x, g, b: _bn(x, g, b[None]), "beta"),
        (lambda x, g, b: _bn(x[0], g, b), "x"),
        (lambda x, g, b: _bn(x.astype(np.int64), g, b), "x"),
        (lambda x, g, b: batchnorm_forward(x, g, b, {}), "bn_param"),
        (lambda x, g, b: _bn(x, g, b, mode="eval"), "mode"),
        (lambda x, g, b: _bn(x, g, b, eps=0.0), "eps"),
        (lambda x, g, b: _bn(x, g, b, momentum=1.5), "momentum"),
        (lambda x, g, b: _bn(x, g, b, momentum=-0.1), "momentum"),
        (lambda x, g, b: _bn(x, g, b, running_mean=np.zeros(3)), "running_mean"),
        (lambda x, g, b: layernorm_forward(x, g[:3], b, {}), "gamma"),
        (lambda x, g, b: layernorm_forward(x, g, b, {"eps": -1.0}), "eps"),
        (lambda x, g, b: spatial_batchnorm_forward(x, g, b, {"mode": "train"}), "x"),
        (lambda x, g, b: spatial_batchnorm_forward_nhwc(x, g, b, {}), "x"),
    ],
)
def test_invalid_batchnorm_and_layernorm_arguments_raise_value_error(rng, call, name):
    x, gamma, beta = _inputs(rng, (4, 5), (5,))
    with pytest.raises(ValueError, match=name):
        call(x, gamma, beta)


@pytest.mark.parametrize(
    ("G", "gamma_shape", "gn_param", "name"),
    [
        (4, (1, 6, 1, 1), {}, "G"),
        (0, (1, 6, 1, 1), {}, "G"),
        (2.0, (1, 6, 1, 1), {}, "G"),
        (2, (6,), {}, "gamma"),
        (2, (1, 6, 1, 1), {"eps": 0}, "eps"),
        (2, (1, 6, 1, 1), None, "gn_param"),
    ],
)
def test_invalid_groupnorm_arguments_raise_value_error(
    rng, G, gamma_shape, gn_param, name
):
    x = rng.standard_normal((2, 6, 2, 2))
    with pytest.raises(ValueError, match=name):
        spatial_groupnorm_forward(
            x, np.ones(gamma_shape), np.zeros((1, 6, 1, 1)), G, gn_param
        )


def test_backward_rejects_dout_of_the_wrong_shape(rng):
    x, gamma, beta = _inputs(rng, (4, 5), (5,))
    _, bn_cache = _bn(x, gamma, beta)
    _, ln_cache = layernorm_forward(x, gamma, beta, {})
    for backward, cache in [
        (batchnorm_backward, bn_cache),
        (batchnorm_backward_alt, bn_cache),
        (layernorm_backward, ln_cache),
    ]:
        with pytest.raises(ValueError, match="dout"):
            backward(np.ones((4, 4)), cache)


def _float32_runs(x4, x2, p, p4):
    yield batchnorm_forward, batchnorm_backward, (x2, p, p, {"mode": "train"})
    yield batchnorm_forward, batchnorm_backward_alt, (x2, p, p, {"mode": "test"})
    yield layernorm_forward, layernorm_backward, (x2, p, p, {})
    yield (
        spatial_batchnorm_forward,
        spatial_batchnorm_backward,
        (x4, p, p, {"mode": "train"}),
    )
    yield (
        spatial_batchnorm_forward_nhwc,
        spatial_batchnorm_backward_nhwc,
        (x4, p, p, {"mode": "train"}),
    )
    yield spatial_groupnorm_forward, spatial_groupnorm_backward, (x4, p4, p4, 3, {})


def test_float32_inputs_give_float32_outputs_gradients_and_running_statistics(rng):
    x4 = rng.standard_normal((2, 3, 2, 3)).astype(np.float32)
    x2 = x4.reshape(-1, 3)
    p, p4 = np.ones(3, np.float32), np.ones((1, 3, 1, 1), np.float32)
    for forward, backward, args in _float32_runs(x4, x2, p, p4):
        # A NumPy float64 scalar for eps must not upcast the result either.
        args[-1]["eps"] = np.float64(1e-5)
        out, cache = forward(*args)
        grads = backward(np.ones_like(out), cache)
        assert [a.dtype for a in (out, *grads)] == [np.float32] * 4, forward.__name__
        for key in ("running_mean", "running_var"):
            if key in args[-1]:
                assert args[-1][key].dtype == np.float32, forward.__name__
