import numpy as np
import pytest

from glassnet.classifiers.cnn import ThreeLayerConvNet
from glassnet.classifiers.convert import to_sequential
from glassnet.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from glassnet.models import load_model
from glassnet.solver import Solver

D, C, N = 12, 4, 7


def randomize(model, rng):
    """Random parameters of every kind, in the model's dtype (scales kept near 1)."""
    for key, value in model.params.items():
        if key.startswith("gamma"):
            new = rng.uniform(0.5, 1.5, size=value.shape)
        else:
            new = rng.normal(size=value.shape) / np.sqrt(value.shape[0])
        model.params[key] = new.astype(model.dtype)


def run_train_forwards(model, rng, sample_shape, times=3):
    """A few train-mode passes, which move batchnorm's running statistics."""
    for _ in range(times):
        X = rng.normal(loc=0.5, scale=2.0, size=(N, *sample_shape))
        model.loss(X, rng.integers(C, size=N))


def fc_net(rng, hidden_dims, normalization, keep, dtype=np.float64):
    model = FullyConnectedNet(
        hidden_dims,
        input_dim=D,
        num_classes=C,
        dropout_keep_ratio=keep,
        normalization=normalization,
        dtype=dtype,
        seed=0,
    )
    randomize(model, rng)
    run_train_forwards(model, rng, (D,))
    return model


def conv_net(rng, filter_size=3, dtype=np.float64, input_dim=(2, 5, 6)):
    model = ThreeLayerConvNet(
        input_dim=input_dim,
        num_filters=3,
        filter_size=filter_size,
        hidden_dim=6,
        num_classes=C,
        dtype=dtype,
        seed=0,
    )
    randomize(model, rng)
    return model


def assert_same_scores(seq, model, X, rtol):
    expected = model.loss(X)
    got = seq.predict(X, verbose=0)
    assert got.dtype == model.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.6])
@pytest.mark.parametrize("hidden_dims", [[5], [6, 5], [3, 8, 5]])
def test_fully_connected_net_predicts_its_test_mode_scores(
    rng, normalization, keep, hidden_dims
):
    model = fc_net(rng, hidden_dims, normalization, keep)
    seq = to_sequential(model)
    assert_same_scores(seq, model, rng.normal(size=(N, D)), rtol=1e-10)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_float32_models_convert_to_float32_layers_and_outputs(rng, normalization):
    model = fc_net(rng, [6, 5], normalization, 0.8, dtype=np.float32)
    seq = to_sequential(model)
    assert {layer.dtype for layer in seq.layers} == {np.dtype(np.float32)}
    assert all(w.dtype == np.float32 for w in seq.get_weights())
    assert_same_scores(seq, model, rng.normal(size=(N, D)), rtol=1e-5)


def test_a_float64_two_layer_net_stays_float64_through_a_save(rng, tmp_path):
    model = TwoLayerNet(input_dim=D, hidden_dim=5, num_classes=C, seed=0)
    randomize(model, rng)
    seq = model.to_sequential()
    X = rng.normal(size=(N, D))
    assert_same_scores(seq, model, X, rtol=1e-10)
    seq.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert all(w.dtype == np.float64 for w in loaded.get_weights())
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.loss(X))


def test_an_image_input_shape_is_flattened_row_major_like_affine(rng):
    model = fc_net(rng, [5], "batchnorm", 1)
    seq = to_sequential(model, input_shape=(3, 2, 2))
    assert type(seq.layers[0]).__name__ == "Flatten"
    assert_same_scores(seq, model, rng.normal(size=(N, 3, 2, 2)), rtol=1e-10)


@pytest.mark.parametrize("filter_size", [1, 3, 5])
@pytest.mark.parametrize("input_dim", [(2, 5, 6), (1, 4, 4)])
def test_three_layer_conv_net_predicts_its_scores(rng, filter_size, input_dim):
    # Odd H or W also checks that both pools floor the same way.
    model = conv_net(rng, filter_size, input_dim=input_dim)
    seq = model.to_sequential()
    assert_same_scores(seq, model, rng.normal(size=(N, *input_dim)), rtol=1e-10)


def test_float32_conv_net_converts_to_float32(rng):
    model = conv_net(rng, dtype=np.float32)
    seq = to_sequential(model)
    assert_same_scores(seq, model, rng.normal(size=(N, 2, 5, 6)), rtol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: fc_net(rng, [6, 5], "batchnorm", 0.7),
        lambda rng: fc_net(rng, [6], "layernorm", 1),
        lambda rng: conv_net(rng),
    ],
)
def test_saved_and_loaded_model_predicts_the_same(rng, tmp_path, make):
    model = make(rng)
    seq = to_sequential(model)
    shape = seq.input_spec[1:]
    X = rng.normal(size=(N, *shape))
    seq.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert loaded.name == seq.name
    np.testing.assert_array_equal(
        loaded.predict(X, verbose=0), seq.predict(X, verbose=0)
    )
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.loss(X), rtol=1e-10)


def test_batchnorm_keeps_eps_momentum_and_running_statistics(rng):
    model = fc_net(rng, [5], "batchnorm", 1)
    model.bn_params[0].update(eps=1e-3, momentum=0.8)
    bn = to_sequential(model).layers[1]
    assert (bn.epsilon, bn.momentum) == (1e-3, 0.8)
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_array_equal(mean, model.bn_params[0]["running_mean"])
    np.testing.assert_array_equal(var, model.bn_params[0]["running_var"])
    np.testing.assert_array_equal(gamma, model.params["gamma1"])


def test_a_never_trained_batchnorm_net_converts_to_what_its_kernel_computes(rng):
    model = FullyConnectedNet(
        [5], input_dim=D, num_classes=C, normalization="batchnorm", seed=0
    )
    seq = to_sequential(model)
    # Converted before model.loss creates the running statistics (both zeros).
    _, _, mean, var = seq.layers[1].get_weights()
    assert not mean.any() and not var.any()
    X = rng.normal(size=(N, D)).astype(np.float32)
    assert_same_scores(seq, model, X, rtol=1e-5)


def test_dropout_rate_is_one_minus_the_keep_probability(rng):
    seq = to_sequential(fc_net(rng, [5, 4], None, 0.75))
    rates = [layer.rate for layer in seq.layers if hasattr(layer, "rate")]
    assert rates == [0.25, 0.25]


def test_weights_are_copied_not_shared(rng):
    model = fc_net(rng, [5], None, 1)
    X = rng.normal(size=(N, D))
    seq = to_sequential(model)
    before = seq.predict(X, verbose=0)
    model.params["W1"] += 1.0
    np.testing.assert_array_equal(seq.predict(X, verbose=0), before)


def test_solver_trained_batchnorm_net_converts_with_its_running_statistics(rng):
    model = FullyConnectedNet(
        [8, 6],
        input_dim=D,
        num_classes=C,
        normalization="batchnorm",
        weight_scale=0.1,
        seed=0,
    )
    data = {
        "X_train": rng.normal(loc=1.0, size=(40, D)).astype(np.float32),
        "y_train": rng.integers(C, size=40),
        "X_val": rng.normal(loc=1.0, size=(10, D)).astype(np.float32),
        "y_val": rng.integers(C, size=10),
    }
    Solver(
        model,
        data,
        update_rule="adam",
        batch_size=10,
        num_epochs=2,
        verbose=False,
        seed=0,
    ).train()
    seq = model.to_sequential()
    for layer, bn_param in zip(seq.layers[1:5:3], model.bn_params, strict=True):
        _, _, mean, var = layer.get_weights()
        assert mean.any()
        np.testing.assert_array_equal(mean, bn_param["running_mean"])
        np.testing.assert_array_equal(var, bn_param["running_var"])
    assert_same_scores(seq, model, data["X_val"], rtol=1e-5)


def test_default_and_given_names():
    model = TwoLayerNet(input_dim=D, hidden_dim=3, num_classes=C)
    assert to_sequential(model).name == "two_layer_net"
    assert to_sequential(model, name="mlp").name == "mlp"
    with pytest.raises(ValueError, match="name"):
        to_sequential(model, name=3)


def test_an_even_filter_size_is_refused(rng):
    model = conv_net(rng)
    # The constructor refuses even filters; a replaced W1 must be caught too.
    model.params["W1"] = rng.normal(size=(3, 2, 2, 2))
    model.conv_param["pad"] = 0
    with pytest.raises(ValueError, match="filter_size"):
        to_sequential(model)


def test_a_convolution_other_than_same_padding_is_refused(rng):
    model = conv_net(rng)
    model.conv_param["pad"] = 0
    with pytest.raises(ValueError, match="conv_param"):
        to_sequential(model)


@pytest.mark.parametrize("shape", [(D + 1,), (2, 5), "12", (0, 12)])
def test_a_fully_connected_input_shape_must_hold_input_dim_values(shape):
    model = FullyConnectedNet([3], input_dim=D, num_classes=C)
    with pytest.raises(ValueError, match="input_shape"):
        to_sequential(model, input_shape=shape)


@pytest.mark.parametrize("shape", [(5, 6, 2), (60,)])
def test_a_conv_net_input_shape_must_be_its_channels_first_input_dim(rng, shape):
    with pytest.raises(ValueError, match="input_shape"):
        to_sequential(conv_net(rng), input_shape=shape)


def test_other_models_are_refused():
    with pytest.raises(ValueError, match="model"):
        to_sequential(object())
