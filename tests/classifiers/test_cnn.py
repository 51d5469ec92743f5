import math

import numpy as np
import pytest

from glassnet.classifiers import ThreeLayerConvNet
from glassnet.gradcheck import check_model


def test_parameter_shapes_follow_the_architecture():
    model = ThreeLayerConvNet(
        input_dim=(3, 9, 9), num_filters=4, filter_size=3, hidden_dim=7, num_classes=5
    )
    shapes = {k: v.shape for k, v in model.params.items()}
    # The pool floors 9 / 2 to 4.
    assert shapes == {
        "W1": (4, 3, 3, 3),
        "b1": (4,),
        "W2": (4 * 4 * 4, 7),
        "b2": (7,),
        "W3": (7, 5),
        "b3": (5,),
    }


def test_initial_loss_is_about_log_of_the_class_count(rng):
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, seed=0)
    X, y = rng.normal(size=(20, 3, 16, 16)), rng.integers(10, size=20)
    loss, _ = model.loss(X, y)
    assert abs(loss - math.log(10)) < 0.01
    model.reg = 0.5
    assert model.loss(X, y)[0] > loss


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_every_parameter_passes_the_gradient_check(rng, reg):
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8),
        num_filters=3,
        filter_size=3,
        hidden_dim=7,
        weight_scale=1e-1,
        reg=reg,
        dtype=np.float64,
        seed=0,
    )
    X, y = rng.normal(size=(2, 3, 8, 8)), rng.integers(10, size=2)
    errs = check_model(model, X, y)
    assert set(errs) == set(model.params)
    assert max(errs.values()) < 1e-5, errs


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="filter_size"):
        ThreeLayerConvNet(filter_size=4)
    with pytest.raises(ValueError, match="input_dim"):
        ThreeLayerConvNet(input_dim=(3, 32))
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=2, filter_size=3)
    with pytest.raises(ValueError, match="X"):
        model.loss(np.zeros((2, 3, 8, 8)))


def test_images_in_another_layout_are_refused_not_reshaped():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3)
    assert model.loss(np.zeros((2, 3 * 8 * 8))).shape == (2, 10)
    with pytest.raises(ValueError, match=r"X: expected samples of shape \(3, 8, 8\)"):
        model.loss(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="input_dim"):
        ThreeLayerConvNet(input_dim=32)


def test_loss_and_gradients_equal_the_naive_nchw_pipeline(rng):
    from glassnet.functional.activations import relu_backward, relu_forward
    from glassnet.functional.affine import affine_backward, affine_forward
    from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
    from glassnet.functional.losses import softmax_loss
    from glassnet.functional.pool import max_pool_backward_naive, max_pool_forward_naive

    model = ThreeLayerConvNet(
        (2, 6, 6), 3, 3, 5, 4, weight_scale=0.3, reg=0.1, dtype=np.float64, seed=0
    )
    X, y = rng.standard_normal((4, 2, 6, 6)), rng.integers(0, 4, 4)
    loss, grads = model.loss(X, y)

    # The course's pipeline, loop kernels in NCHW, every input gradient computed.
    p, reg = model.params, 0.1
    a, c1 = conv_forward_naive(X, p["W1"], p["b1"], model.conv_param)
    r, c2 = relu_forward(a)
    h1, c3 = max_pool_forward_naive(r, model.pool_param)
    z2, c4 = affine_forward(h1, p["W2"], p["b2"])
    h2, c5 = relu_forward(z2)
    scores, c6 = affine_forward(h2, p["W3"], p["b3"])
    want_loss, d = softmax_loss(scores, y)
    want_loss += 0.5 * reg * sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
    want = {}
    d, want["W3"], want["b3"] = affine_backward(d, c6)
    d, want["W2"], want["b2"] = affine_backward(relu_backward(d, c5), c4)
    d = relu_backward(max_pool_backward_naive(d, c3), c2)
    dx, want["W1"], want["b1"] = conv_backward_naive(d, c1)
    for k in ("W1", "W2", "W3"):
        want[k] = want[k] + reg * p[k]

    assert loss == pytest.approx(want_loss, rel=1e-12)
    assert grads.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(grads[key], want[key], rtol=1e-10, atol=1e-13)
