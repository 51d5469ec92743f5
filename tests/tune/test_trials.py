import numpy as np
import pytest

from glassnet.datasets import kfold
from glassnet.presets import build_solver_model
from glassnet.tune.space import choice, loguniform, randint, uniform
from glassnet.tune.trials import (
    PresetTrial,
    _keras_model,
    _solver_model,
    check_params,
)


def test_kfold_folds_are_disjoint_cover_the_data_and_are_stratified(digits):
    y = digits["y"]
    folds = list(kfold(y, 5, seed=0))
    vals = [va for _, va in folds]
    assert sorted(np.concatenate(vals).tolist()) == list(range(len(y)))  # cover, once
    for tr, va in folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == len(y)
    per_class = np.array([np.bincount(y[va], minlength=10) for va in vals])
    assert (per_class.max(axis=0) - per_class.min(axis=0) <= 1).all()  # stratified


def test_cross_validation_on_digits_reports_the_mean_and_std_over_folds(digits):
    metrics = PresetTrial("digits-mlp", epochs=2, folds=3)({"lr": 1e-2}, digits)
    folds = metrics["fold_val_accuracy"]
    assert len(folds) == 3
    assert metrics["val_accuracy"] == pytest.approx(np.mean(folds))
    assert metrics["val_accuracy_std"] == pytest.approx(np.std(folds))
    assert 0 < metrics["val_accuracy_std"] < 0.1 and metrics["val_accuracy"] > 0.8
    assert len(metrics["history"]["val_accuracy"]) == 2


def test_holdout_trial_is_deterministic_for_a_seed(digits):
    trial = PresetTrial("digits-mlp", epochs=1)
    a = trial({"lr": 1e-2, "seed": 5}, digits)
    assert a == trial({"lr": 1e-2, "seed": 5}, digits)
    assert a != trial({"lr": 1e-2, "seed": 6}, digits)
    assert set(a) >= {"val_accuracy", "val_loss", "accuracy", "best_val_accuracy"}


def test_units_dropout_and_reg_reach_the_keras_model():
    model = _keras_model("digits-mlp", 0, {"units": 24, "dropout": 0.1, "reg": 1e-3})
    dense, dropout, last = model.layers[1], model.layers[2], model.layers[3]
    assert dense.units == 24 and dropout.rate == 0.1 and last.units == 10
    assert dense.kernel_regularizer.l2 == 1e-3
    same = _keras_model("digits-mlp", 0, {"units": 24, "dropout": 0.1, "reg": 1e-3})
    assert np.array_equal(model.get_weights()[0], same.get_weights()[0])


def test_units_on_a_preset_without_hidden_dense_layers_is_an_error():
    with pytest.raises(ValueError, match="units"):
        _keras_model("mnist-cnn", 0, {"units": 24})
    with pytest.raises(ValueError, match=r"params.*\['units'\]"):
        check_params("mnist-cnn", {"units": 24})


def test_the_trials_model_is_the_one_train_builds():
    from glassnet.presets import build_model
    from glassnet.regularizers import L2

    config = {"units": 24, "dropout": 0.1, "reg": 1e-3}
    ours = _keras_model("digits-cnn", 3, config).get_weights()
    theirs = build_model("digits-cnn", 3, L2(1e-3), dropout=0.1, units=24)
    assert all(
        np.array_equal(a, b) for a, b in zip(ours, theirs.get_weights(), strict=True)
    )


def test_unknown_hyperparameters_are_named():
    with pytest.raises(ValueError, match=r"params.*\['momentum'\]"):
        check_params("digits-mlp", {"lr": 1, "momentum": 0.9})
    with pytest.raises(ValueError, match="dropout"):
        check_params("cifar10-convnet", {"dropout": 0.5})
    with pytest.raises(ValueError, match="preset"):
        PresetTrial("nope")
    with pytest.raises(ValueError, match="folds"):
        PresetTrial("digits-mlp", folds=1)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"units": uniform(32.5, 100)}, r"units: expected integers .*low=32.5"),
        ({"batch_size": loguniform(16, 256)}, r"batch_size: expected integers"),
        ({"units": 32.5}, r"units: expected an integer; received 32.5"),
        ({"units": choice(32, 64.5)}, r"units: expected an integer; received 64.5"),
        ({"epochs": 2.0}, r"epochs: expected an integer; received 2.0"),
    ],
)
def test_integer_hyperparameters_refuse_floats_instead_of_truncating(space, message):
    with pytest.raises(ValueError, match=message):
        check_params("digits-mlp", space)
    # The trial itself refuses a config that would be truncated, before any data.
    config = {k: v for k, v in space.items() if not hasattr(v, "sample")}
    if config:
        with pytest.raises(ValueError, match=message):
            PresetTrial("digits-mlp")(config, None)


@pytest.mark.parametrize(
    ("preset", "space", "message"),
    [
        ("digits-mlp", {"lr": -1}, r"lr: expected a number in \(0.0, inf\]"),
        ("digits-mlp", {"lr": "adam"}, r"lr: expected a real number; received 'adam'"),
        ("digits-mlp", {"lr": choice(0.1, "")}, r"lr: .*received ''"),
        ("digits-mlp", {"dropout": uniform(0, 1.5)}, r"dropout \(high bound\)"),
        ("digits-mlp", {"dropout": uniform(0, 1)}, r"dropout \(high bound\)"),
        ("digits-mlp", {"reg": uniform(-1, 1)}, r"reg \(low bound\)"),
        ("digits-mlp", {"units": randint(0, 8)}, r"units \(low bound\): .*>= 1"),
        ("digits-mlp", {"seed": randint(-2, 3)}, r"seed \(low bound\)"),
        ("digits-mlp", {"batch_size": 0}, r"batch_size: expected an integer >= 1"),
        ("digits-mlp", {"optimizer": choice("adam", "foo")}, r"optimizer: .*'foo'"),
        ("digits-mlp", {"optimizer": "sgd_momentum"}, r"optimizer: .*'sgd_momentum'"),
        ("digits-mlp", {"optimizer": uniform(0, 1)}, r"optimizer: expected a choice"),
        (
            "cifar10-fc",
            {"weight_scale": 0},
            r"weight_scale: expected a number in \(0.0, inf\]",
        ),
        ("cifar10-fc", {"lr_decay": uniform(-1, 1)}, r"lr_decay \(low bound\)"),
    ],
)
def test_values_no_trial_could_use_are_refused_before_any_trial(preset, space, message):
    with pytest.raises(ValueError, match=message):
        check_params(preset, space)


def test_a_space_of_valid_values_passes():
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "units": randint(16, 64),
        "optimizer": choice("adam", "sgd"),
        "dropout": uniform(0, 0.5),
        "batch_size": choice(32, 64),
        "reg": 0,
        "seed": 3,
    }
    check_params("digits-mlp", space)
    solver = {"optimizer": choice("sgd_momentum", "adam"), "lr_decay": 0.95}
    check_params("cifar10-fc", {**solver, "weight_scale": loguniform(1e-3, 1e-1)})


def test_check_data_refuses_more_folds_than_samples(digits):
    PresetTrial("digits-mlp", folds=5).check_data(digits)
    with pytest.raises(ValueError, match=r"^folds: expected an integer <= 1437"):
        PresetTrial("digits-mlp", folds=5000).check_data(digits)


# The presets' own weight scales, from build_solver_model: 2e-2 (the course's
# best FullyConnectedNet) and 1e-3 (ThreeLayerConvNet's default).
@pytest.mark.parametrize(
    ("preset", "scale"), [("cifar10-fc", 2e-2), ("cifar10-convnet", 1e-3)]
)
def test_solver_weight_scale_matches_the_preset_model(preset, scale):
    w = build_solver_model(preset, 0).params["W1"]
    assert np.std(w) == pytest.approx(scale, rel=0.05)
    config = {"weight_scale": 1e-1, "reg": 0.5, "dropout": 0.25, "units": 20}
    if preset == "cifar10-convnet":
        del config["dropout"]
    model = _solver_model(preset, 0, config)
    assert np.std(model.params["W1"]) == pytest.approx(1e-1, rel=0.05)
    assert model.params["W1"].dtype == np.float32 and model.reg == 0.5
    assert model.params["W2"].shape[1] == 20  # a hidden layer's width
    if preset == "cifar10-fc":
        assert model.dropout_param["p"] == 0.75


def test_solver_dropout_zero_builds_the_fc_model_without_dropout():
    model = _solver_model("cifar10-fc", 0, {"dropout": 0.0})
    assert not model.use_dropout and model.dropout_param == {}


def test_solver_trial_on_tiny_cifar_shaped_data(rng):
    def part(n):
        x = rng.standard_normal((n, 3, 32, 32)).astype(np.float32)
        return x, np.arange(n) % 10

    (xt, yt), (xv, yv) = part(40), part(20)
    data = {"X_train": xt, "y_train": yt, "X_val": xv, "y_val": yv}
    trial = PresetTrial("cifar10-fc", epochs=1)
    metrics = trial({"lr": 1e-3, "batch_size": 20, "seed": 1}, data)
    assert 0 <= metrics["val_accuracy"] <= 1
    assert len(metrics["history"]["val_accuracy"]) == 2  # before and after epoch 1
    cv = PresetTrial("cifar10-fc", epochs=1, folds=2)({"batch_size": 20}, data)
    assert len(cv["fold_val_accuracy"]) == 2


def test_check_data_refuses_batch_sizes_larger_than_a_trials_training_set(digits):
    # glassnet train refuses such a batch size: the best trial's printed
    # command would fail. The trials train on 90% of the samples (or k-1 folds).
    n = len(digits["y"])
    n_train = n - round(0.1 * n)
    space = {"batch_size": choice(32, n_train)}
    PresetTrial("digits-mlp").check_data(digits, space)
    with pytest.raises(ValueError, match=f"at most the {n_train} training samples"):
        PresetTrial("digits-mlp").check_data(digits, {"batch_size": n_train + 1})
    with pytest.raises(ValueError, match=r"received up to 99998"):
        PresetTrial("digits-mlp").check_data(digits, {"batch_size": randint(1, 99999)})
    with pytest.raises(ValueError, match="batch_size"):
        PresetTrial("digits-mlp", folds=2).check_data(digits, space)
