"""End-to-end sanity checks of the training methodology on scikit-learn's digits."""

import numpy as np
import pytest

from glassnet.classifiers import FullyConnectedNet, ThreeLayerConvNet
from glassnet.solver import Solver

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def digits():
    d = sklearn_datasets.load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(X))
    return X[order], y[order]


def split(X, y, n_train, n_val=300):
    return {
        "X_train": X[:n_train],
        "y_train": y[:n_train],
        "X_val": X[n_train : n_train + n_val],
        "y_val": y[n_train : n_train + n_val],
    }


@pytest.mark.parametrize("hidden_dims", [[100, 100], [100, 100, 100, 100]])
@pytest.mark.parametrize("seed", [0, 1])
def test_three_and_five_layer_nets_overfit_50_examples_within_20_epochs(
    digits, hidden_dims, seed
):
    model = FullyConnectedNet(
        hidden_dims, input_dim=64, num_classes=10, weight_scale=2e-1, seed=seed
    )
    solver = Solver(
        model,
        split(*digits, 50),
        update_rule="sgd",
        optim_config={"learning_rate": 1e-1},
        num_epochs=20,
        batch_size=25,
        verbose=False,
        seed=seed,
    )
    solver.train()
    assert max(solver.train_acc_history) == 1.0


def test_the_convnet_overfits_a_small_subset(digits):
    X, y = digits
    X = X.reshape(-1, 1, 8, 8)
    model = ThreeLayerConvNet(
        input_dim=(1, 8, 8),
        num_filters=16,
        filter_size=3,
        hidden_dim=100,
        weight_scale=1e-1,
        seed=0,
    )
    solver = Solver(
        model,
        split(X, y, 50),
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        num_epochs=20,
        batch_size=10,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert max(solver.train_acc_history) == 1.0


@pytest.mark.parametrize("update_rule", ["sgd_momentum", "rmsprop", "adam"])
def test_float32_training_reaches_float64_accuracy_within_one_point(
    digits, update_rule
):
    data = split(*digits, 1200)
    accs = {}
    for dtype in (np.float32, np.float64):
        model = FullyConnectedNet(
            [64],
            input_dim=64,
            num_classes=10,
            weight_scale=5e-2,
            normalization="batchnorm",
            dtype=dtype,
            seed=3,
        )
        solver = Solver(
            model,
            data,
            update_rule=update_rule,
            optim_config={
                "learning_rate": 1e-3 if update_rule != "sgd_momentum" else 5e-2
            },
            num_epochs=5,
            batch_size=50,
            verbose=False,
            seed=3,
        )
        solver.train()
        assert all(p.dtype == dtype for p in model.params.values())
        accs[dtype] = solver.check_accuracy(data["X_val"], data["y_val"])
    assert accs[np.float64] > 0.9
    assert abs(accs[np.float32] - accs[np.float64]) <= 0.01
