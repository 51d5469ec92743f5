import json

import numpy as np
import pytest

from glassnet import constraints, initializers, regularizers
from glassnet.layers.activation import Activation
from glassnet.layers.core import Dense
from glassnet.layers.normalization import BatchNormalization, LayerNormalization
from glassnet.models.sequential import Sequential
from glassnet.optimizers import Adam
from tests.helpers import check_layer

# Non-trivial weights and moving statistics, so inference-mode gradient checks and
# the config round trip see more than the identity.
RANDOM_WEIGHTS = {
    "gamma_initializer": initializers.RandomUniform(0.5, 1.5, seed=1),
    "beta_initializer": initializers.RandomNormal(0.0, 0.5, seed=2),
}
RANDOM_MOVING = {
    "moving_mean_initializer": initializers.RandomNormal(0.0, 0.5, seed=3),
    "moving_variance_initializer": initializers.RandomUniform(0.5, 2.0, seed=4),
}


def _bn_reference(x, axis, gamma, beta, mean, var, eps):
    """Per-channel loop: normalise x's slices along ``axis`` with the given stats."""
    out = np.empty_like(x)
    for c in range(x.shape[axis]):
        xc = np.take(x, c, axis=axis)
        yc = (xc - mean[c]) / np.sqrt(var[c] + eps) * gamma[c] + beta[c]
        idx = [slice(None)] * x.ndim
        idx[axis] = c
        out[tuple(idx)] = yc
    return out


def _batch_stats(x, axis):
    per_channel = [np.take(x, c, axis=axis) for c in range(x.shape[axis])]
    # Keras normalises (and updates moving_variance) with the biased variance.
    return (
        np.array([v.mean() for v in per_channel]),
        np.array([v.var() for v in per_channel]),
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    ("input_shape", "kwargs"),
    [
        ((6, 4), {}),
        ((3, 2, 2, 3), {}),
        ((6, 4), {"scale": False}),
        ((3, 2, 2, 3), {"center": False}),
        ((6, 4), {"scale": False, "center": False}),
        ((2, 3, 2, 2), {"axis": 1}),
        ((2, 3, 4), {"axis": -2}),
    ],
)
def test_batchnorm_passes_the_layer_checks_in_training_and_inference(
    input_shape, kwargs, training
):
    axis = kwargs.get("axis", -1)
    c = input_shape[axis]
    n_weights = 2 + kwargs.get("scale", True) + kwargs.get("center", True)
    check_layer(
        BatchNormalization,
        {**kwargs, **RANDOM_WEIGHTS, **RANDOM_MOVING},
        input_shape,
        input_shape,
        expected_params=n_weights * c,
        training=training,
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    ("input_shape", "kwargs", "gamma_shape"),
    [
        ((3, 5), {}, (5,)),
        ((2, 2, 2, 3), {}, (3,)),
        ((3, 5), {"scale": False}, None),
        ((2, 2, 2, 3), {"center": False}, (3,)),
        ((2, 3, 4), {"axis": (-2, -1)}, (3, 4)),
        ((2, 3, 2, 2), {"axis": [1, 3]}, (3, 2)),
    ],
)
def test_layernorm_passes_the_layer_checks_in_training_and_inference(
    input_shape, kwargs, gamma_shape, training
):
    n_weights = kwargs.get("scale", True) + kwargs.get("center", True)
    size = int(np.prod(gamma_shape)) if gamma_shape else input_shape[-1]
    layer = check_layer(
        LayerNormalization,
        {**kwargs, **RANDOM_WEIGHTS},
        input_shape,
        input_shape,
        expected_params=n_weights * size,
        training=training,
    )
    if gamma_shape is not None:
        assert layer.params["gamma"].shape == gamma_shape


def test_batchnorm_on_16_channels_has_64_params_of_which_32_trainable():
    layer = BatchNormalization()
    layer.build((None, 8, 8, 16))
    assert layer.count_params() == 64
    assert sum(w.size for w in layer.trainable_weights) == 32
    assert sum(w.size for w in layer.non_trainable_weights) == 32
    frozen = BatchNormalization(trainable=False)
    frozen.build((None, 16))
    assert frozen.trainable_weights == []
    assert sum(w.size for w in frozen.non_trainable_weights) == 64


def test_batchnorm_weights_come_in_keras_order():
    layer = BatchNormalization(
        gamma_initializer=initializers.Constant(1.0),
        beta_initializer=initializers.Constant(2.0),
        moving_mean_initializer=initializers.Constant(3.0),
        moving_variance_initializer=initializers.Constant(4.0),
    )
    layer.build((None, 3))
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [float(w[0]) for w in layer.get_weights()] == [1.0, 2.0, 3.0, 4.0]
    assert sorted(layer.params) == ["beta", "gamma"]
    assert sorted(layer.states) == ["moving_mean", "moving_variance"]
    no_scale = BatchNormalization(scale=False)
    no_scale.build((None, 3))
    assert no_scale.weight_names == ["beta", "moving_mean", "moving_variance"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_moving_statistics_after_k_training_calls_follow_the_closed_form(rng, dtype):
    momentum, k, m0, v0 = 0.9, 7, 0.5, 2.0
    layer = BatchNormalization(
        momentum=momentum,
        moving_mean_initializer=initializers.Constant(m0),
        moving_variance_initializer=initializers.Constant(v0),
        dtype=dtype,
    )
    x = rng.normal(1.0, 3.0, size=(10, 4)).astype(dtype)
    for _ in range(k):
        layer(x, training=True)
    mean, var = _batch_stats(x.astype(np.float64), -1)
    # Unrolling m_k = momentum * m_{k-1} + (1 - momentum) * mean from m_0.
    decay = momentum**k
    _, _, moving_mean, moving_var = layer.get_weights()
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(moving_mean, m0 * decay + mean * (1 - decay), rtol=rtol)
    np.testing.assert_allclose(moving_var, v0 * decay + var * (1 - decay), rtol=rtol)
    assert moving_mean.dtype == np.dtype(dtype)


def test_inference_normalises_with_the_moving_statistics(rng):
    layer = BatchNormalization(momentum=0.5, epsilon=0.01, **RANDOM_WEIGHTS)
    x = rng.normal(size=(8, 3))
    for _ in range(3):
        layer(x, training=True)
    gamma, beta, mean, var = layer.get_weights()
    x_new = rng.normal(size=(5, 3)).astype(np.float32)
    before = [w.copy() for w in layer.get_weights()]
    expected = _bn_reference(x_new, -1, gamma, beta, mean, var, 0.01)
    np.testing.assert_allclose(layer(x_new), expected, rtol=1e-5, atol=1e-6)
    for w, w_before in zip(layer.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w_before)


def test_a_non_trainable_batchnorm_runs_in_inference_mode_even_in_training(rng):
    layer = BatchNormalization(trainable=False, **RANDOM_MOVING)
    x = rng.normal(2.0, 3.0, size=(8, 3)).astype(np.float32)
    layer.build((None, 3))
    before = layer.get_weights()
    out_training = layer(x, training=True)
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False))
    _, _, mean, var = before
    expected = _bn_reference(x, -1, np.ones(3), np.zeros(3), mean, var, 1e-3)
    np.testing.assert_allclose(out_training, expected, rtol=1e-5, atol=1e-6)
    for w, w_before in zip(layer.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w_before)


@pytest.mark.parametrize(("shape", "axis"), [((4, 3, 3, 5), -1), ((4, 5, 3, 3), 1)])
def test_training_output_matches_a_per_channel_numpy_computation(rng, shape, axis):
    layer = BatchNormalization(axis=axis, **RANDOM_WEIGHTS, dtype="float64")
    x = rng.normal(1.0, 2.0, size=shape)
    out = layer(x, training=True)
    gamma, beta, _, _ = layer.get_weights()
    mean, var = _batch_stats(x, axis)
    np.testing.assert_allclose(
        out, _bn_reference(x, axis, gamma, beta, mean, var, 1e-3), rtol=1e-12
    )


def test_float32_in_float32_out_for_both_layers(rng):
    x = rng.normal(size=(4, 2, 2, 3)).astype(np.float32)
    for layer in (BatchNormalization(), LayerNormalization()):
        for training in (True, False):
            out = layer(x, training=training)
            assert out.dtype == np.float32
            assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(w.dtype == np.float32 for w in layer.weights)


@pytest.mark.parametrize(("shape", "axis"), [((4, 6), -1), ((2, 3, 4), (1, 2))])
def test_layernorm_output_matches_a_per_sample_numpy_computation(rng, shape, axis):
    layer = LayerNormalization(axis=axis, **RANDOM_WEIGHTS, dtype="float64")
    x = rng.normal(1.0, 2.0, size=shape)
    out = layer(x, training=True)
    gamma, beta = layer.get_weights()
    for i in range(shape[0]):
        xi = x[i]
        expected = (xi - xi.mean()) / np.sqrt(xi.var() + 1e-3) * gamma + beta
        np.testing.assert_allclose(out[i], expected, rtol=1e-12)
    np.testing.assert_array_equal(layer(x, training=False), out)


def test_a_small_sequential_with_batchnorm_learns_and_evaluates_with_moving_stats(
    rng,
):
    # Three classes split by two linear boundaries of standardisable features.
    x = rng.normal(3.0, 2.0, size=(256, 4))
    score = x[:, 0] - x[:, 1] + 0.5 * x[:, 2]
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    model = Sequential(
        [
            Dense(16, input_shape=(4,)),
            BatchNormalization(momentum=0.9),
            Activation("relu"),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]

    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    assert accuracy > 0.9
    kernel, bias, gamma, beta, mean, var, kernel2, bias2 = model.get_weights()
    assert not np.allclose(mean, 0.0)
    h = np.maximum(
        _bn_reference(x @ kernel + bias, -1, gamma, beta, mean, var, 1e-3), 0
    )
    logits = h @ kernel2 + bias2
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_p[np.arange(len(y)), y].mean(), rel=1e-4)
    # With moving statistics a sample's prediction does not depend on its batch.
    np.testing.assert_allclose(
        model.predict(x[:1], verbose=0), model.predict(x, verbose=0)[:1], rtol=1e-5
    )


def test_config_round_trips_every_argument_as_json():
    layer = BatchNormalization(
        axis=1,
        momentum=0.9,
        epsilon=1e-5,
        center=False,
        gamma_regularizer=regularizers.L2(0.1),
        gamma_constraint=constraints.NonNeg(),
        **RANDOM_MOVING,
    )
    config = json.loads(json.dumps(layer.get_config()))
    clone = BatchNormalization.from_config(config)
    assert (clone.axis, clone.momentum, clone.epsilon) == (1, 0.9, 1e-5)
    assert (clone.center, clone.scale) == (False, True)
    assert clone.gamma_regularizer.l2 == pytest.approx(0.1)
    assert isinstance(clone.gamma_constraint, constraints.NonNeg)
    assert type(clone.moving_variance_initializer).__name__ == "RandomUniform"
    clone.build((None, 3, 2))
    assert "gamma" in clone.regularizers and "gamma" in clone.constraints
    ln = LayerNormalization(axis=(1, 2), epsilon=1e-6, scale=False)
    config = json.loads(json.dumps(ln.get_config()))
    ln_clone = LayerNormalization.from_config(config)
    assert (ln_clone.axis, ln_clone.epsilon, ln_clone.scale) == ([1, 2], 1e-6, False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axis": "last"}, "axis"),
        ({"axis": 1.0}, "axis"),
        ({"axis": True}, "axis"),
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1e-3}, "epsilon"),
        ({"center": "yes"}, "center"),
        ({"gamma_initializer": "nope"}, "initializer"),
    ],
)
def test_batchnorm_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axis": []}, "axis"),
        ({"axis": [1, "2"]}, "axis"),
        ({"epsilon": 0}, "epsilon"),
        ({"scale": 1}, "scale"),
    ],
)
def test_layernorm_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LayerNormalization(**kwargs)


@pytest.mark.parametrize("cls", [BatchNormalization, LayerNormalization])
@pytest.mark.parametrize("axis", [0, 2, -3])
def test_the_batch_axis_and_out_of_range_axes_are_refused_when_built(cls, axis):
    with pytest.raises(ValueError, match="axis"):
        cls(axis=axis)(np.ones((2, 3)))


def test_layernorm_refuses_repeated_axes():
    with pytest.raises(ValueError, match="axis"):
        LayerNormalization(axis=[1, -2])(np.ones((2, 3, 4)))


def test_a_built_batchnorm_refuses_inputs_with_other_channels():
    layer = BatchNormalization()
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match="input"):
        layer(np.ones((2, 4)))
