"""set_random_seed: one seed fixes initialisation, shuffling, dropout and splits."""

import numpy as np
import pytest

from glassnet import backend, layers, models
from glassnet.classifiers.fc_net import FullyConnectedNet
from glassnet.solver import Solver
from glassnet.utils import set_random_seed


@pytest.fixture(autouse=True)
def _fresh_entropy_afterwards():
    yield
    backend.seed_generators(None)


def _fit(seed, rng_data):
    set_random_seed(seed)
    model = models.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(8, "relu"),
            layers.Dropout(0.5),
            layers.Dense(3, "softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rng_data
    history = model.fit(x, y, batch_size=4, epochs=3, validation_split=0.25, verbose=0)
    return model.get_weights(), history.history


@pytest.fixture
def data(rng):
    return rng.standard_normal((24, 4)).astype(np.float32), rng.integers(0, 3, 24)


def test_two_fits_with_the_same_seed_are_bitwise_identical(data):
    (w1, h1), (w2, h2) = _fit(3, data), _fit(3, data)
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert h1 == h2  # exact float equality of every logged value


def test_different_seeds_give_different_weights(data):
    w1, _ = _fit(3, data)
    w2, _ = _fit(4, data)
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_an_explicit_seed_wins_over_the_global_one():
    def kernel(global_seed):
        set_random_seed(global_seed)
        m = models.Sequential([layers.Input(shape=(3,)), layers.Dense(2)], seed=5)
        return m.get_weights()[0]

    assert np.array_equal(kernel(1), kernel(2))


def test_the_solver_and_a_dropout_net_are_seeded_too(rng):
    data = {
        "X_train": rng.standard_normal((20, 5)),
        "y_train": rng.integers(0, 3, 20),
        "X_val": rng.standard_normal((6, 5)),
        "y_val": rng.integers(0, 3, 6),
    }

    def train():
        set_random_seed(11)
        net = FullyConnectedNet(
            [7], input_dim=5, num_classes=3, dropout_keep_ratio=0.5, dtype=np.float64
        )
        net.dropout_rng = backend.rng()
        solver = Solver(net, data, batch_size=5, num_epochs=2, verbose=False)
        solver.train()
        return net.params, solver.loss_history

    (p1, l1), (p2, l2) = train(), train()
    assert l1 == l2
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)


def test_without_a_seed_generators_draw_fresh_entropy():
    backend.seed_generators(None)
    assert backend.rng().integers(2**62) != backend.rng().integers(2**62)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_a_seed_that_is_not_a_natural_number_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        set_random_seed(seed)
