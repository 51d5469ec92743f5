"""A model whose layers have different dtypes: each layer casts its input."""

import numpy as np
import pytest

from glassnet import layers, models, optimizers


def _stack(dtypes):
    d1, d2, d3 = dtypes
    return models.Sequential(
        [
            layers.Input((6, 6, 1)),
            layers.Conv2D(3, 3, activation="relu", dtype=d1),
            layers.MaxPooling2D(dtype=d2),
            layers.Flatten(dtype=d2),
            layers.Dense(4, activation="tanh", dtype=d2),
            layers.Dense(2, activation="softmax", dtype=d3),
        ],
        seed=0,
    )


@pytest.mark.parametrize(
    "dtypes",
    [
        ("float64", "float32", "float32"),
        ("float32", "float32", "float64"),
        ("float64", "float32", "float64"),
    ],
)
def test_mixed_dtypes_train_like_the_float64_model(dtypes, rng):
    x = rng.standard_normal((8, 6, 6, 1))
    y = np.eye(2)[rng.integers(0, 2, 8)]
    mixed, exact = _stack(dtypes), _stack(("float64",) * 3)
    exact.set_weights(mixed.get_weights())
    for m in (mixed, exact):
        m.compile(optimizers.SGD(0.1), "categorical_crossentropy")
        m.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for layer, dtype in zip(
        mixed.layers, (*dtypes[:1], *dtypes[1:2] * 3, dtypes[2]), strict=True
    ):
        assert all(w.dtype == np.dtype(dtype) for w in layer.weights)
    for got, want in zip(mixed.get_weights(), exact.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    out = mixed.predict(x, verbose=0)
    assert out.dtype == np.dtype(dtypes[2])
    np.testing.assert_allclose(out, exact.predict(x, verbose=0), atol=1e-5)
