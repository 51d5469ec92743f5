"""The classifier cells of FullyConnectedNets and ConvolutionalNetworks."""

import numpy as np

from glassnet.cs231n.classifiers.cnn import ThreeLayerConvNet
from glassnet.cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet


def test_two_layer_net_cell_gives_the_notebooks_scores_and_losses():
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    scores = model.loss(X)
    # correct_scores[0, :2] and the two losses as printed in the course notebook.
    np.testing.assert_allclose(scores[0, :2], [11.53165108, 12.2917344], atol=1e-6)
    y = np.asarray([0, 5, 1])
    assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
    model.reg = 1.0
    assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10


def test_fully_connected_net_initial_loss_is_near_log_c(rng):
    X, y = rng.normal(size=(2, 15)), rng.integers(10, size=2)
    model = FullyConnectedNet(
        [20, 30],
        input_dim=15,
        num_classes=10,
        weight_scale=5e-2,
        dtype=np.float64,
        seed=0,
    )
    loss, grads = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.5 and set(grads) == set(model.params)


def test_three_layer_conv_net_sanity_check_loss(rng):
    X, y = rng.normal(size=(4, 3, 8, 8)), rng.integers(10, size=4)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8),
        num_filters=3,
        filter_size=3,
        hidden_dim=7,
        dtype=np.float64,
        seed=0,
    )
    loss, _ = model.loss(X, y)
    assert abs(loss - np.log(10)) < 1e-2  # the notebook: "~2.3" at initialisation
