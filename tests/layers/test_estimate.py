import numpy as np
import pytest

from glassnet import layers, models
from glassnet.layers._estimate import estimate_size


def _stacks():
    return [
        ((12,), [layers.Dense(7, activation="relu"), layers.Dense(3)]),
        (
            (10, 10, 3),
            [
                layers.Rescaling(1 / 255),
                layers.Conv2D(4, 3, padding="same", activation="relu"),
                layers.BatchNormalization(),
                layers.MaxPooling2D(),
                layers.Conv2D(6, (2, 3), groups=2, use_bias=False),
                layers.LayerNormalization(),
                layers.GlobalAveragePooling2D(),
                layers.Dropout(0.3),
                layers.Dense(5, dtype="float64"),
            ],
        ),
        (
            (6, 6),
            [
                layers.Reshape((6, 6, 1)),
                layers.Normalization(axis=-1),
                layers.AveragePooling2D(),
                layers.Flatten(),
                layers.Dense(4, trainable=False),
                layers.LeakyReLU(),
                layers.Softmax(),
            ],
        ),
    ]


@pytest.mark.parametrize("case", range(len(_stacks())))
def test_the_estimate_equals_the_built_models_counts(case):
    shape, stack = _stacks()[case]
    estimate = estimate_size(stack, shape)
    for layer in stack:
        assert not layer.built and not layer.params  # nothing was touched
    model = models.Sequential([layers.Input(shape), *stack], seed=0)
    assert estimate.params == model.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert estimate.trainable_params == trainable
    assert estimate.param_bytes == sum(w.nbytes for w in model.weights)
    out = np.zeros((1, *shape), dtype=np.float32)
    sizes, x = 0, out
    for layer in model.layers:
        x = layer.forward(x.astype(layer.dtype))
        sizes += x.nbytes
    assert estimate.activation_bytes_per_sample == sizes
    assert estimate.activation_bytes(32) == 32 * sizes


def test_a_model_far_too_large_to_build_is_estimated_without_allocating():
    estimate = estimate_size([layers.Dense(10**10), layers.Dense(10)], (64,))
    assert estimate.params == 64 * 10**10 + 10**10 + 10 * 10**10 + 10
    assert estimate.param_bytes == 4 * estimate.params
    assert estimate.peak_build_bytes == 12 * 64 * 10**10  # float64 draw + float32
    assert estimate.activation_bytes_per_sample == 4 * (10**10 + 10)


def test_the_input_shape_comes_from_an_input_a_model_or_the_first_layer():
    dense = [layers.Dense(2)]
    assert estimate_size([layers.Input((3,)), *dense]).params == 8
    assert estimate_size(models.Sequential([layers.Input((4,)), *dense])).params == 10
    assert estimate_size([layers.Dense(2, input_shape=(5,))]).params == 12


def test_an_unknown_input_shape_or_a_non_layer_is_refused():
    with pytest.raises(ValueError, match=r"^input_shape: expected the shape"):
        estimate_size([layers.Dense(2)])
    with pytest.raises(ValueError, match=r"^layers\[1\]: expected a glassnet Layer"):
        estimate_size([layers.Dense(2), "relu"], (3,))
    with pytest.raises(ValueError, match="input of layer"):
        estimate_size([layers.Conv2D(2, 3)], (8,))
