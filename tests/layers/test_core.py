import numpy as np
import pytest

from glassnet import constraints, regularizers
from glassnet.layers import Dense
from tests.helpers import check_layer


@pytest.mark.parametrize(
    "activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu"]
)
def test_dense_passes_the_layer_checks(activation):
    check_layer(
        Dense,
        {"units": 3, "activation": activation},
        (4, 5),
        (4, 3),
        expected_params=5 * 3 + 3,
    )


def test_dense_without_bias_and_on_rank_3_inputs():
    layer = check_layer(
        Dense, {"units": 2, "use_bias": False}, (3, 4, 5), (3, 4, 2), expected_params=10
    )
    assert [w.shape for w in layer.get_weights()] == [(5, 2)]


def test_dense_computes_the_affine_map_in_keras_layout(rng):
    layer = Dense(3, activation="relu")
    x = rng.normal(size=(6, 4)).astype(np.float32)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.maximum(x @ kernel + bias, 0), rtol=1e-6)


def test_dense_accepts_integer_and_float64_inputs_and_computes_in_float32():
    layer = Dense(2)
    assert layer(np.ones((1, 3), dtype=np.int64)).dtype == np.float32
    assert layer(np.ones((1, 3))).dtype == np.float32


def test_dense_refuses_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="activation"):
        Dense(2, activation="swishy")
    with pytest.raises(ValueError, match="initializer"):
        Dense(2, kernel_initializer="nope")
    layer = Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match="dense|input"):
        layer(np.ones((1, 4)))


def test_set_weights_checks_shapes_and_names_the_weight():
    layer = Dense(2, name="d")
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match="'kernel' of layer 'd'"):
        layer.set_weights([np.ones((4, 2)), np.ones(2)])
    with pytest.raises(ValueError, match="2 arrays"):
        layer.set_weights([np.ones((3, 2))])


def test_config_keeps_regularizers_constraints_and_initializers():
    layer = Dense(
        4,
        kernel_regularizer=regularizers.L2(0.1),
        kernel_constraint="max_norm",
        kernel_initializer="he_normal",
        input_shape=(3,),
    )
    clone = Dense.from_config(layer.get_config())
    assert clone.kernel_regularizer.l2 == pytest.approx(0.1)
    assert isinstance(clone.kernel_constraint, constraints.MaxNorm)
    assert type(clone.kernel_initializer).__name__ == "HeNormal"
    assert clone.input_shape_arg == (3,)


def test_set_weights_copies_the_arrays_as_keras_does():
    layer = Dense(2)
    layer.build((None, 3))
    kernel = np.ones((3, 2), dtype=np.float32)
    layer.set_weights([kernel, np.zeros(2, np.float32)])
    kernel[0, 0] = 5.0  # changing the caller's array leaves the layer alone
    assert layer.get_weights()[0][0, 0] == 1.0


def test_a_models_first_layer_skips_its_input_gradient_but_not_its_weight_gradients(
    rng,
):
    from glassnet import layers, models
    from glassnet.models import training

    model = models.Sequential(
        [layers.Input((5,)), layers.Dense(4, activation="relu"), layers.Dense(3)],
        seed=0,
    )
    first, second = model.layers
    assert (first.need_dx, second.need_dx) == (False, True)
    # float32 like the layers: training.forward casts inputs to a layer's dtype
    x = rng.standard_normal((6, 5), dtype=np.float32)
    dout = rng.standard_normal((6, 3), dtype=np.float32)
    training.forward(model.layers, x, True)
    training.backward(model.layers, dout, False, {})
    skipped = dict(first.grads)
    first.need_dx = True  # the reference: the full backward pass
    training.forward(model.layers, x, True)
    assert first.backward(second.backward(dout)).shape == (6, 5)
    for key, grad in first.grads.items():
        np.testing.assert_array_equal(skipped[key], grad)


def test_layers_up_to_the_first_weighted_one_are_told_to_skip_dx():
    from glassnet import layers, models

    model = models.Sequential([layers.Flatten(), layers.Dense(4), layers.Dense(2)])
    model.build((None, 2, 3))
    assert [layer.need_dx for layer in model.layers] == [False, False, True]
    assert Dense(2).need_dx
