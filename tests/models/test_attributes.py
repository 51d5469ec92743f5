"""Model attributes as Keras 3 documents them: get_layer, input_shape and
output_shape, metrics_names, losses, and model.trainable = False (keras.io's
transfer-learning guide: freezing a model freezes every weight in it)."""

import numpy as np
import pytest

from glassnet import layers, models, regularizers


def small_sequential():
    return models.Sequential(
        [layers.Input((4,)), layers.Dense(3, name="hidden"), layers.Dense(2)]
    )


def small_functional():
    x = layers.Input((4,))
    y = layers.Dense(2, name="out")(layers.Dense(3, name="hidden")(x))
    return models.Model(inputs=x, outputs=y)


@pytest.mark.parametrize("make", [small_sequential, small_functional])
def test_get_layer_by_name_or_index_and_keras_errors(make):
    model = make()
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="Provide only a layer name or"):
        model.get_layer("hidden", 0)
    with pytest.raises(ValueError, match="Provide either a layer name or"):
        model.get_layer()
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 2 layers"):
        model.get_layer(index=5)


@pytest.mark.parametrize("make", [small_sequential, small_functional])
def test_input_and_output_shape_have_the_batch_axis_as_none(make):
    model = make()
    assert model.input_shape == (None, 4)
    assert model.output_shape == (None, 2)


def test_input_shape_of_an_unbuilt_sequential_is_refused():
    with pytest.raises(ValueError, match="built model"):
        _ = models.Sequential([layers.Dense(2)]).input_shape


def test_layer_input_and_output_are_the_symbolic_tensors_of_its_call():
    x = layers.Input((4,))
    hidden = layers.Dense(3)
    h = hidden(x)
    y = layers.Dense(2)(h)
    model = models.Model(x, y)
    assert hidden.input is x and hidden.output is h
    assert model.layers[-1].input is h and model.layers[-1].output is y


def test_layer_input_of_a_shared_layer_is_its_first_call_as_in_keras_3():
    shared = layers.Dense(4)
    x = layers.Input((4,))
    first = shared(x)
    shared(first)
    assert shared.input is x and shared.output is first


def test_a_layer_never_called_symbolically_has_no_input():
    with pytest.raises(AttributeError, match="has never been called"):
        _ = layers.Dense(2, name="d").output


def test_metrics_names_follow_evaluate_order():
    model = small_sequential()
    assert model.metrics_names == []
    model.compile("sgd", "mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "mae"]


def test_losses_hold_the_activity_penalty_of_the_last_call_and_weight_penalties():
    dense = layers.Dense(
        2,
        kernel_regularizer=regularizers.L2(0.1),
        activity_regularizer=regularizers.L1(0.01),
        kernel_initializer="ones",
    )
    model = models.Sequential([layers.Input((3,)), dense])
    x = np.ones((4, 3), dtype=np.float32)
    model(x)
    # Outputs are all 3 (ones @ ones, zero bias): L1 0.01 * 8 * 3 / batch 4;
    # the kernel's L2: 0.1 * 6 ones.
    np.testing.assert_allclose(model.losses, [0.06, 0.6], rtol=1e-6)
    assert all(isinstance(v, float) for v in model.losses)


def test_losses_of_a_functional_model_count_each_call():
    dense = layers.Dense(
        3, activity_regularizer=regularizers.L1(1.0), kernel_initializer="ones"
    )
    x = layers.Input((3,))
    model = models.Model(x, dense(dense(x)))
    model(np.ones((2, 3), dtype=np.float32))
    # Ones everywhere: outputs 3 then 9 per unit, L1 sums 18 and 54 over a batch of 2.
    np.testing.assert_allclose(model.losses, [9.0, 27.0], rtol=1e-6)


@pytest.mark.parametrize("make", [small_sequential, small_functional])
def test_a_frozen_model_moves_every_weight_to_non_trainable_and_fit_keeps_them(make):
    model = make()
    model.trainable = False
    assert all(not layer.trainable for layer in model.layers)
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 4
    before = model.get_weights()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 2)), verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unfreezing_one_layer_trains_only_that_layer():
    model = small_sequential()
    model.trainable = False
    model.trainable = True
    model.layers[0].trainable = False
    before = model.get_weights()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 2)), verbose=0)
    after = model.get_weights()
    np.testing.assert_array_equal(before[0], after[0])
    assert not np.array_equal(before[2], after[2])
    assert len(model.trainable_weights) == 2


def test_a_frozen_batchnorm_inside_a_model_runs_in_inference_mode(rng):
    bn = layers.BatchNormalization()
    model = models.Sequential([layers.Input((3,)), bn])
    model.trainable = False
    x = rng.normal(size=(16, 3)).astype(np.float32) + 5.0
    out = model(x, training=True)
    np.testing.assert_allclose(bn.get_weights()[2], 0.0)  # moving mean untouched
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-5)


def test_trainable_must_be_a_bool():
    with pytest.raises(ValueError, match="trainable"):
        small_sequential().trainable = "no"


def test_get_uid_counts_per_prefix_until_clear_session():
    from glassnet import backend, utils

    backend.clear_session()
    assert [backend.get_uid("dense") for _ in range(3)] == [1, 2, 3]
    assert backend.get_uid("conv") == 1
    utils.clear_session()  # keras.utils.clear_session is the same function
    assert backend.get_uid("dense") == 1
    assert models.Sequential().name == "sequential"  # names are per model here
