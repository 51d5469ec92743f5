"""The course's layer cells, re-typed against glassnet.cs231n.layers."""

# ruff: noqa: F403, F405  (the course's star import is what is tested)

import numpy as np

from glassnet.cs231n.gradient_check import eval_numerical_gradient_array, rel_error
from glassnet.cs231n.layers import *


def test_affine_backward_cell_gradient_checks(rng):
    x, w, b = rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(10, 5))
    dx_num = eval_numerical_gradient_array(
        lambda x: affine_forward(x, w, b)[0], x, dout
    )
    dw_num = eval_numerical_gradient_array(
        lambda w: affine_forward(x, w, b)[0], w, dout
    )
    db_num = eval_numerical_gradient_array(
        lambda b: affine_forward(x, w, b)[0], b, dout
    )
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    for analytic, numeric in ((dx, dx_num), (dw, dw_num), (db, db_num)):
        assert rel_error(analytic, numeric) < 1e-8


def test_affine_forward_cell_matches_the_course_output():
    # The notebook's own check: linspace inputs and its printed correct_out.
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    input_size = num_inputs * np.prod(input_shape)
    weight_size = output_dim * np.prod(input_shape)
    x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=weight_size).reshape(
        np.prod(input_shape), output_dim
    )
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, _ = affine_forward(x, w, b)
    correct_out = np.array(
        [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]]
    )
    assert rel_error(out, correct_out) < 1e-7


def test_relu_and_softmax_cells_run(rng):
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    scores = 0.001 * rng.normal(size=(50, 10))
    loss, dx = softmax_loss(scores, rng.integers(10, size=50))
    # The notebook: "loss should be close to 2.3" (= log 10 for near-zero scores).
    assert abs(loss - np.log(10)) < 1e-2 and dx.shape == scores.shape
