"""The notebooks' numerical-gradient cells against glassnet.cs231n.gradient_check."""

import numpy as np

from glassnet.cs231n.gradient_check import (
    eval_numerical_gradient,
    grad_check_sparse,
    rel_error,
)


def test_rel_error_is_the_notebooks_formula():
    x, y = np.array([1.0, 0.0, 2.0]), np.array([1.1, 0.0, 2.0])
    # The notebooks' first cell: max(|x - y| / max(1e-8, |x| + |y|)).
    want = np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))
    assert rel_error(x, y) == want


def test_eval_numerical_gradient_cell_checks_a_softmax_loss(rng, capsys):
    from glassnet.cs231n.classifiers.fc_net import TwoLayerNet

    X, y = rng.normal(size=(3, 5)), np.array([0, 1, 2])
    model = TwoLayerNet(5, 4, 3, weight_scale=0.5, reg=0.1, seed=0)
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731  (as in the notebook)
        num = eval_numerical_gradient(f, model.params[name], verbose=False)
        assert rel_error(num, grads[name]) < 1e-6, name
    errors = grad_check_sparse(
        lambda w: model.loss(X, y)[0], model.params["W1"], grads["W1"], 5, seed=0
    )
    assert len(errors) == 5 and max(errors) < 1e-6
    assert "relative error" in capsys.readouterr().out  # printed, as in the course
