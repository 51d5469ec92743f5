import math

import numpy as np
import pytest

from glassnet.classifiers import FullyConnectedNet, TwoLayerNet
from glassnet.gradcheck import check_model

N, D, H1, H2, C = 2, 15, 20, 30, 10


def small_problem(rng):
    X = rng.normal(size=(N, D))
    y = rng.integers(C, size=N)
    return X, y


def test_parameters_are_named_and_shaped_like_the_course(rng):
    model = FullyConnectedNet(
        [H1, H2], input_dim=D, num_classes=C, normalization="batchnorm"
    )
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {
        "W1": (D, H1),
        "b1": (H1,),
        "gamma1": (H1,),
        "beta1": (H1,),
        "W2": (H1, H2),
        "b2": (H2,),
        "gamma2": (H2,),
        "beta2": (H2,),
        "W3": (H2, C),
        "b3": (C,),
    }
    assert all(v.dtype == np.float32 for v in model.params.values())


@pytest.mark.parametrize("model_cls", [FullyConnectedNet, TwoLayerNet])
def test_initial_loss_with_small_weights_is_about_log_of_the_class_count(
    rng, model_cls
):
    kwargs = {"hidden_dims": [50, 50]} if model_cls is FullyConnectedNet else {}
    model = model_cls(input_dim=40, num_classes=C, weight_scale=1e-3, seed=0, **kwargs)
    X, y = rng.normal(size=(100, 40)), rng.integers(C, size=100)
    loss, _ = model.loss(X, y)
    # Scores are ~0, so the softmax is uniform: loss = -ln(1/C).
    assert abs(loss - math.log(C)) < 0.01


def test_raising_reg_raises_the_loss(rng):
    X, y = rng.normal(size=(20, D)), rng.integers(C, size=20)
    losses = [
        FullyConnectedNet([H1], input_dim=D, num_classes=C, reg=reg, seed=1).loss(X, y)[
            0
        ]
        for reg in (0.0, 1.0, 10.0)
    ]
    assert losses[0] < losses[1] < losses[2]


def test_scores_in_test_mode_match_an_independent_forward_pass(rng):
    model = FullyConnectedNet(
        [H1, H2], input_dim=D, num_classes=C, dtype=np.float64, seed=2
    )
    X = rng.normal(size=(N, D))
    p = model.params
    h = np.maximum(X @ p["W1"] + p["b1"], 0)
    h = np.maximum(h @ p["W2"] + p["b2"], 0)
    np.testing.assert_allclose(model.loss(X), h @ p["W3"] + p["b3"], rtol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 3.14])
@pytest.mark.parametrize("normalization", [None, "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.5])
def test_every_parameter_passes_the_gradient_check(rng, reg, normalization, keep):
    X, y = small_problem(rng)
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        reg=reg,
        weight_scale=5e-2,
        normalization=normalization,
        dropout_keep_ratio=keep,
        dtype=np.float64,
        seed=123,
    )
    errs = check_model(model, X, y)
    assert set(errs) == set(model.params)
    assert max(errs.values()) < 1e-6, errs


@pytest.mark.parametrize("reg", [0.0, 3.14])
@pytest.mark.parametrize("keep", [1, 0.5])
def test_every_parameter_passes_the_gradient_check_with_batchnorm(rng, reg, keep):
    X, y = small_problem(rng)
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        reg=reg,
        weight_scale=5e-2,
        normalization="batchnorm",
        dropout_keep_ratio=keep,
        dtype=np.float64,
        seed=123,
    )
    _, grads = model.loss(X, y)
    # Batchnorm subtracts the batch mean, which cancels any shift b before it: the
    # true gradient of b1 and b2 is exactly zero.
    assert np.abs(grads["b1"]).max() < 1e-12 and np.abs(grads["b2"]).max() < 1e-12
    # With N = 2 a feature whose two samples nearly coincide sits on the steep part
    # of d / sqrt(d**2 + eps), so the centred difference's truncation error (~h**2)
    # dominates at h = 1e-5; at h = 1e-7 it is gone (measured worst over 12 data
    # seeds: 1.6e-5, against errors of order 1 for a wrong formula).
    others = [k for k in model.params if k not in ("b1", "b2")]
    errs = check_model(model, X, y, params=others, h=1e-7)
    assert max(errs.values()) < 1e-4, errs


def test_batchnorm_test_mode_uses_running_statistics(rng):
    model = FullyConnectedNet(
        [H1],
        input_dim=D,
        num_classes=C,
        normalization="batchnorm",
        dtype=np.float64,
        seed=0,
    )
    X, y = rng.normal(size=(50, D)), rng.integers(C, size=50)
    model.loss(X, y)
    assert model.bn_params[0]["mode"] == "train"
    assert model.bn_params[0]["running_mean"].shape == (H1,)
    scores_a = model.loss(X[:1])
    scores_b = model.loss(X[:2])[:1]
    assert model.bn_params[0]["mode"] == "test"
    # In test mode a sample's scores do not depend on the rest of the batch.
    np.testing.assert_allclose(scores_a, scores_b)


def test_inputs_of_any_shape_with_the_right_size_are_flattened(rng):
    model = FullyConnectedNet([H1], input_dim=12, num_classes=C)
    assert model.loss(rng.normal(size=(3, 3, 4))).shape == (3, C)
    assert model.loss(rng.integers(0, 255, size=(3, 12))).dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"normalization": "groupnorm"}, "normalization"),
        ({"hidden_dims": 10}, "hidden_dims"),
        ({"hidden_dims": [10, 0]}, r"hidden_dims\[1\]"),
        ({"dropout_keep_ratio": 0}, "dropout_keep_ratio"),
        ({"dropout_keep_ratio": 1.5}, "dropout_keep_ratio"),
        ({"reg": -1.0}, "reg"),
        ({"weight_scale": 0}, "weight_scale"),
        ({"dtype": np.int32}, "dtype"),
        ({"num_classes": 1}, "num_classes"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs, name):
    args = {"hidden_dims": [10], "input_dim": 5, **kwargs}
    with pytest.raises(ValueError, match=name):
        FullyConnectedNet(**args)


def test_bad_inputs_and_labels_are_refused(rng):
    model = FullyConnectedNet([H1], input_dim=D, num_classes=C)
    with pytest.raises(ValueError, match="X"):
        model.loss(rng.normal(size=(2, D + 1)))
    with pytest.raises(ValueError, match="y"):
        model.loss(rng.normal(size=(2, D)), np.array([0, C]))
    with pytest.raises(ValueError, match="y"):
        model.loss(rng.normal(size=(2, D)), np.array([0, 1, 2]))


def test_two_layer_net_reproduces_the_course_notebook_values():
    # The expected scores and losses are those printed in cs231n assignment 2's
    # two-layer-net check (N, D, H, C = 3, 5, 50, 7 with linspace parameters).
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    correct_scores = np.asarray(
        [
            [
                11.53165108,
                12.2917344,
                13.05181771,
                13.81190102,
                14.57198434,
                15.33206765,
                16.09215096,
            ],
            [
                12.05769098,
                12.74614105,
                13.43459113,
                14.1230412,
                14.81149128,
                15.49994135,
                16.18839143,
            ],
            [
                12.58373087,
                13.20054771,
                13.81736455,
                14.43418138,
                15.05099822,
                15.66781506,
                16.2846319,
            ],
        ]
    )
    assert np.abs(model.loss(X) - correct_scores).sum() < 1e-6
    y = np.asarray([0, 5, 1])
    assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
    model.reg = 1.0
    assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10


def test_check_model_leaves_batchnorm_running_statistics_as_they_were(rng):
    X, y = small_problem(rng)
    model = FullyConnectedNet(
        [H1],
        input_dim=D,
        num_classes=C,
        normalization="batchnorm",
        dtype=np.float64,
        seed=0,
    )
    model.loss(X, y)
    before = model.bn_params[0]["running_mean"].copy()
    check_model(model, X, y, params=["b2"])
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], before)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("hidden", [[], [5, 4]])
def test_gradients_equal_the_course_sandwiches_that_compute_every_dx(
    rng, normalization, hidden
):
    from glassnet.functional.affine import affine_backward, affine_forward
    from glassnet.functional.layer_utils import (
        affine_norm_relu_backward,
        affine_norm_relu_forward,
        affine_relu_backward,
        affine_relu_forward,
    )
    from glassnet.functional.losses import softmax_loss

    model = FullyConnectedNet(
        hidden, input_dim=6, num_classes=3, normalization=normalization,
        weight_scale=0.5, dtype=np.float64, seed=0,
    )  # fmt: skip
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    _, grads = model.loss(X, y)

    p, h, caches, L = model.params, X, [], len(hidden) + 1
    for i in range(1, L):
        if normalization:
            args = (p[f"gamma{i}"], p[f"beta{i}"], {"mode": "train"}, normalization)
            h, cache = affine_norm_relu_forward(h, p[f"W{i}"], p[f"b{i}"], *args)
        else:
            h, cache = affine_relu_forward(h, p[f"W{i}"], p[f"b{i}"])
        caches.append(cache)
    scores, cache = affine_forward(h, p[f"W{L}"], p[f"b{L}"])
    want = {}
    d, want[f"W{L}"], want[f"b{L}"] = affine_backward(softmax_loss(scores, y)[1], cache)
    for i in range(L - 1, 0, -1):
        if normalization:
            d, *g = affine_norm_relu_backward(d, caches[i - 1])
            keys = ("W", "b", "gamma", "beta")
        else:
            d, *g = affine_relu_backward(d, caches[i - 1])
            keys = ("W", "b")
        want.update({f"{k}{i}": v for k, v in zip(keys, g, strict=True)})
    assert d.shape == X.shape
    assert grads.keys() == want.keys()
    for key in want:
        np.testing.assert_array_equal(grads[key], want[key])


def test_weights_that_cannot_fit_are_refused_before_drawing(monkeypatch):
    from glassnet._internal import memory as _memory
    from glassnet.errors import InsufficientMemoryError

    monkeypatch.setattr(_memory, "available_memory", lambda: 2**30)
    with pytest.raises(InsufficientMemoryError, match=r"shape \(3072, 100000\)"):
        FullyConnectedNet([100000], input_dim=3072, dtype=np.float32)
