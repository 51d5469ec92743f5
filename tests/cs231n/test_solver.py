"""The Solver cell, on tiny data, through glassnet.cs231n.solver and .optim."""

import numpy as np

from glassnet.cs231n.classifiers.fc_net import FullyConnectedNet
from glassnet.cs231n.gradient_check import rel_error
from glassnet.cs231n.optim import adam, rmsprop, sgd, sgd_momentum
from glassnet.cs231n.solver import Solver


def test_solver_overfits_fifty_examples(rng, capsys):
    centres = rng.normal(scale=3.0, size=(3, 6))
    y = rng.integers(3, size=60)
    X = centres[y] + rng.normal(size=(60, 6))
    data = {"X_train": X[:50], "y_train": y[:50], "X_val": X[50:], "y_val": y[50:]}
    model = FullyConnectedNet(
        [20], input_dim=6, num_classes=3, weight_scale=1e-1, dtype=np.float64, seed=0
    )
    solver = Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 1e-1},
        lr_decay=0.95,
        num_epochs=10,
        batch_size=10,
        print_every=20,
        seed=0,
    )
    solver.train()
    assert solver.train_acc_history[-1] >= 0.9
    assert (
        len(solver.loss_history) == 50
        and solver.loss_history[-1] < solver.loss_history[0]
    )
    assert "(Iteration 1 / 50)" in capsys.readouterr().out


def test_update_rule_cells_run_as_in_the_notebook():
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, _ = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    # The notebook's expected_next_w[0, :2] for sgd_momentum.
    assert rel_error(next_w[0, :2], np.array([0.1406, 0.20738947])) < 1e-7
    for rule in (sgd, rmsprop, adam):
        assert rule(w, dw, {"learning_rate": 1e-2})[0].shape == w.shape
