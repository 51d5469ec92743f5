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
