"""Tests of the cs231n Solver: the loop, its printing, best-parameter tracking and
checkpoints. Models are defined here in plain NumPy, independent of classifiers."""

import numpy as np
import pytest

from glassnet.optim import sgd
from glassnet.solver import Solver

C, D = 3, 5


class SoftmaxRegression:
    """scores = X W + b with the softmax loss, written out in NumPy.

    With ``hidden`` units, a ReLU layer ``max(X W1 + b1, 0)`` comes first.
    """

    def __init__(self, rng, dtype=np.float64, d=D, hidden=None):
        self.params = {}
        if hidden is not None:
            self.params["W1"] = np.sqrt(2 / d) * rng.standard_normal((d, hidden))
            self.params["b1"] = np.zeros(hidden)
            d = hidden
        self.params["W"] = 0.01 * rng.standard_normal((d, C))
        self.params["b"] = np.zeros(C)
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}

    def loss(self, X, y=None):
        p = self.params
        h = np.maximum(X @ p["W1"] + p["b1"], 0) if "W1" in p else X
        scores = h @ p["W"] + p["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        N = X.shape[0]
        loss = -log_probs[np.arange(N), y].mean()
        dscores = np.exp(log_probs)
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W": h.T @ dscores, "b": dscores.sum(axis=0)}
        if "W1" in p:
            dh = (dscores @ p["W"].T) * (h > 0)
            grads.update(W1=X.T @ dh, b1=dh.sum(axis=0))
        return loss, grads


class NormalizedSoftmax(SoftmaxRegression):
    """Softmax regression on batch-standardised inputs, with a fake ``bn_params``.

    Like cs231n batchnorm, training uses batch statistics and updates running ones
    (created lazily on the first training forward); testing uses the running ones.
    """

    def __init__(self, rng, dtype=np.float64, hidden=None):
        super().__init__(rng, dtype, hidden=hidden)
        self.bn_params = [{"mode": "train"}]

    def loss(self, X, y=None):
        bn = self.bn_params[0]
        if y is None:
            return super().loss((X - bn["running_mean"]) / np.sqrt(bn["running_var"]))
        mean, var = X.mean(axis=0), X.var(axis=0) + 1e-5
        bn.setdefault("running_mean", np.zeros_like(mean))
        bn.setdefault("running_var", np.ones_like(var))
        bn["running_mean"] = 0.9 * bn["running_mean"] + 0.1 * mean
        bn["running_var"] = 0.9 * bn["running_var"] + 0.1 * var
        return super().loss((X - mean) / np.sqrt(var), y)


def blobs(rng, n_train=300, n_val=100, spread=3.0, dtype=np.float64):
    """Three Gaussian classes around random centres: learnable by softmax."""
    centers = spread * rng.standard_normal((C, D))
    y = rng.integers(0, C, size=n_train + n_val)
    X = (centers[y] + rng.standard_normal((y.size, D))).astype(dtype)
    return {
        "X_train": X[:n_train],
        "y_train": y[:n_train],
        "X_val": X[n_train:],
        "y_val": y[n_train:],
    }


def make_solver(rng, model=None, data=None, **kwargs):
    kwargs = {"batch_size": 50, "num_epochs": 2, "verbose": False, "seed": 0, **kwargs}
    model = SoftmaxRegression(rng) if model is None else model
    return Solver(model, blobs(rng) if data is None else data, **kwargs)


def assert_same_training_state(a, b):
    for k in a.model.params:
        assert np.array_equal(a.model.params[k], b.model.params[k])
        assert np.array_equal(a.best_params[k], b.best_params[k])
        assert a.model.params[k].dtype == b.model.params[k].dtype
        assert a.optim_configs[k].keys() == b.optim_configs[k].keys()
        for key, value in a.optim_configs[k].items():
            assert np.array_equal(value, b.optim_configs[k][key]), key
            assert type(value) is type(b.optim_configs[k][key]), key
    bn_a, bn_b = (getattr(s.model, "bn_params", []) for s in (a, b))
    for d_a, d_b in zip(bn_a, bn_b, strict=True):
        for stat in ("running_mean", "running_var"):
            assert np.array_equal(d_a[stat], d_b[stat])
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    assert (a.best_val_acc, a.epoch) == (b.best_val_acc, b.epoch)


# --- the training loop -------------------------------------------------------------


def test_printed_lines_follow_cs231n_format(rng, capsys):
    data = blobs(rng, n_train=100)
    solver = make_solver(rng, data=data, verbose=True, print_every=2)
    solver.train()
    loss, train, val = (
        solver.loss_history,
        solver.train_acc_history,
        solver.val_acc_history,
    )
    # cs231n's solver.py: "(Iteration %d / %d) loss: %f" when t % print_every == 0,
    # "(Epoch %d / %d) train acc: %f; val_acc: %f" at t == 0 and at each epoch end.
    # 100 samples / batch 50 = 2 iterations per epoch, 4 in all.
    expected = [
        f"(Iteration 1 / 4) loss: {loss[0]:f}",
        f"(Epoch 0 / 2) train acc: {train[0]:f}; val_acc: {val[0]:f}",
        f"(Epoch 1 / 2) train acc: {train[1]:f}; val_acc: {val[1]:f}",
        f"(Iteration 3 / 4) loss: {loss[2]:f}",
        f"(Epoch 2 / 2) train acc: {train[2]:f}; val_acc: {val[2]:f}",
    ]
    assert capsys.readouterr().out.splitlines() == expected
    assert len(loss) == 4


def test_quiet_solver_prints_nothing(rng, capsys):
    make_solver(rng).train()
    assert capsys.readouterr().out == ""


def test_learning_rate_decays_once_per_epoch(rng):
    seen = []

    def recording_sgd(w, dw, config):
        if w.ndim == 2:
            seen.append(config["learning_rate"])
        return sgd(w, dw, config)

    solver = make_solver(
        rng,
        update_rule=recording_sgd,
        optim_config={"learning_rate": 0.1},
        lr_decay=0.5,
        num_epochs=3,
    )
    solver.train()
    # 300 samples / 50 = 6 iterations per epoch; halving is exact in binary.
    assert seen == [0.1 * 0.5**e for e in range(3) for _ in range(6)]
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == 0.1 * 0.5**3


def test_each_parameter_gets_its_own_config_dict(rng):
    optim_config = {"learning_rate": 1e-2, "momentum": 0.9}
    solver = make_solver(rng, update_rule="sgd_momentum", optim_config=optim_config)
    configs = solver.optim_configs
    assert configs["W"] is not configs["b"] and configs["W"] is not optim_config
    solver.train()
    assert optim_config == {"learning_rate": 1e-2, "momentum": 0.9}
    for name, w in solver.model.params.items():
        assert configs[name]["velocity"].shape == w.shape


@pytest.mark.parametrize(
    ("rule", "learning_rate"),
    [
        ("sgd", 0.5),
        ("sgd_momentum", 0.05),
        ("nesterov", 0.05),
        ("rmsprop", 1e-2),
        ("adagrad", 0.5),
        ("adam", 1e-2),
        ("adamw", 1e-2),
    ],
)
def test_every_update_rule_learns_softmax_regression(rng, rule, learning_rate):
    solver = make_solver(
        rng,
        update_rule=rule,
        optim_config={"learning_rate": learning_rate},
        num_epochs=5,
    )
    solver.train()
    assert np.mean(solver.loss_history[-6:]) < 0.5 * solver.loss_history[0]
    assert solver.best_val_acc >= 0.9


def test_float32_model_trains_in_float32(rng):
    data = blobs(rng, dtype=np.float32)
    model = SoftmaxRegression(rng, dtype=np.float32)
    solver = make_solver(rng, model=model, data=data, update_rule="adam")
    solver.train()
    for name, w in model.params.items():
        assert w.dtype == np.float32
        assert solver.best_params[name].dtype == np.float32
        assert solver.optim_configs[name]["m"].dtype == np.float32


def test_same_seed_gives_same_run_without_touching_global_state(rng):
    data = blobs(rng)
    before = np.random.get_state()  # noqa: NPY002 (read only)
    a = make_solver(rng, model=SoftmaxRegression(np.random.default_rng(1)), data=data)
    b = make_solver(rng, model=SoftmaxRegression(np.random.default_rng(1)), data=data)
    a.train()
    b.train()
    assert_same_training_state(a, b)
    after = np.random.get_state()  # noqa: NPY002 (read only)
    assert np.array_equal(before[1], after[1]) and before[2] == after[2]


def test_check_accuracy_matches_argmax_of_scores(rng):
    solver = make_solver(rng)
    X, y = solver.X_val, solver.y_val
    expected = np.mean(np.argmax(solver.model.loss(X), axis=1) == y)
    assert solver.check_accuracy(X, y, batch_size=7) == expected
    subsampled = solver.check_accuracy(X, y, num_samples=8)
    assert subsampled * 8 == round(subsampled * 8)


# --- best parameters ------------------------------------------------------------


def diverging_run(rng, model_cls, num_epochs):
    # The learning rate grows 10x per epoch: after a few good epochs the steps kill
    # the hidden ReLUs and predictions collapse to about one class.
    data = blobs(np.random.default_rng(3))
    model = model_cls(np.random.default_rng(4), hidden=10)
    kwargs = {"optim_config": {"learning_rate": 0.05}, "lr_decay": 10.0}
    solver = make_solver(rng, model=model, data=data, num_epochs=num_epochs, **kwargs)
    solver.train()
    return solver


@pytest.mark.parametrize("model_cls", [SoftmaxRegression, NormalizedSoftmax])
def test_best_parameters_and_running_statistics_are_restored(rng, model_cls):
    solver = diverging_run(rng, model_cls, num_epochs=5)
    history = solver.val_acc_history
    best_epoch = int(np.argmax(history))  # history[e] is checked at epoch e's end
    assert 0 < best_epoch < len(history) - 1
    assert history[-1] < solver.best_val_acc - 0.3
    model = solver.model
    assert solver.check_accuracy(solver.X_val, solver.y_val) == solver.best_val_acc
    # Oracle: the same run stopped at the best epoch ends in exactly that state.
    short = diverging_run(rng, model_cls, num_epochs=best_epoch)
    assert short.val_acc_history == history[: best_epoch + 1]
    for k, w in short.model.params.items():
        assert np.array_equal(model.params[k], w)
        assert model.params[k] is not solver.best_params[k]
    for d_short, d in zip(
        getattr(short.model, "bn_params", []),
        getattr(model, "bn_params", []),
        strict=True,
    ):
        assert np.array_equal(d["running_mean"], d_short["running_mean"])
        assert np.array_equal(d["running_var"], d_short["running_var"])


# --- argument validation --------------------------------------------------------


class NoLoss:
    params = {"W": np.zeros((D, C))}


class NoParams:
    def loss(self, X, y=None):
        return X


def _with(key, transform):
    return lambda data: {**data, key: transform(data[key])}


def _nan(X):
    X = X.copy()
    X[3, 1] = np.nan
    return X


BAD_DATA = [
    (lambda d: {k: v for k, v in d.items() if k != "y_val"}, r"data: .*y_val"),
    (_with("y_train", lambda y: y[:-1]), r"data\['X_train'\] and data\['y_train'\]"),
    (_with("y_train", lambda y: y.astype(float)), r"data\['y_train'\]: .*integer"),
    (_with("y_val", lambda y: y - 5), r"data\['y_val'\]: .*>= 0"),
    (_with("X_train", _nan), r"data\['X_train'\]: .*finite"),
    (_with("X_val", lambda X: X * np.inf), r"data\['X_val'\]: .*finite"),
    (_with("X_val", lambda X: X[:, :2]), r"data\['X_val'\]: .*shape"),
    (
        lambda d: {**d, "X_train": d["X_train"][:0], "y_train": d["y_train"][:0]},
        r"data\['X_train'\]: expected at least one sample",
    ),
]


@pytest.mark.parametrize(("corrupt", "match"), BAD_DATA)
def test_malformed_data_is_rejected(rng, corrupt, match):
    with pytest.raises(ValueError, match=match):
        make_solver(rng, data=corrupt(blobs(rng)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"num_epochs": 0}, "num_epochs"),
        ({"num_epochs": "3"}, "num_epochs"),
        ({"lr_decay": 0.0}, "lr_decay"),
        ({"lr_decay": -1.0}, "lr_decay"),
        ({"update_rule": "adamax"}, r"update_rule: .*'adam', 'adamw'"),
        ({"update_rule": 3}, "update_rule"),
        ({"optim_config": [("learning_rate", 1e-3)]}, "optim_config"),
        ({"num_train_samples": 0}, "num_train_samples"),
        ({"num_val_samples": -1}, "num_val_samples"),
        ({"print_every": 0}, "print_every"),
        ({"verbose": "yes"}, "verbose"),
        ({"checkpoint_name": 7}, "checkpoint_name"),
        ({"seed": "abc"}, "seed"),
        ({"learning_rate": 1e-3, "momentum": 0.9}, "learning_rate.*momentum"),
    ],
)
def test_bad_argument_is_rejected_by_name(rng, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_solver(rng, **kwargs)


@pytest.mark.parametrize(
    ("rule", "optim_config", "unknown"),
    [
        ("sgd_momentum", {"learning_rat": 1e-2}, "'learning_rat'"),
        ("adam", {"learning_rate": 1e-3, "beta_1": 0.9}, "'beta_1'"),
        ("sgd", {"learning_rate": 1e-2, "momentum": 0.9}, "'momentum'"),
        ("rmsprop", {"decay": 0.9}, "'decay'"),
    ],
)
def test_an_optim_config_key_the_rule_does_not_read_is_refused(
    rng, rule, optim_config, unknown
):
    expected = f"optim_config: expected only the keys of update rule '{rule}': "
    with pytest.raises(
        ValueError, match=f"^{expected}.*received unknown key {unknown}"
    ):
        make_solver(rng, update_rule=rule, optim_config=optim_config)


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam", "adamw"])
def test_course_configs_and_configs_a_rule_filled_in_are_accepted(rng, rule):
    course = {  # the keys of cs231n's optim.py and Solver, glassnet's extras
        "learning_rate": 1e-2,
        **({"momentum": 0.9} if rule == "sgd_momentum" else {}),
        **({"decay_rate": 0.99, "epsilon": 1e-8} if rule == "rmsprop" else {}),
        **({"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8} if "adam" in rule else {}),
        **({"weight_decay": 1e-4} if rule == "adamw" else {}),
        "gradient_centralization": True,
    }
    first = make_solver(rng, update_rule=rule, optim_config=course, num_epochs=1)
    first.train()
    # cs231n users copy a config the rule has filled in (its state included).
    filled = first.optim_configs["W"]
    assert make_solver(rng, update_rule=rule, optim_config=filled).optim_config == (
        filled
    )


def test_a_custom_rules_config_keys_are_not_checked(rng):
    def my_sgd(w, dw, config):
        return w - config["step"] * dw, config

    make_solver(rng, update_rule=my_sgd, optim_config={"step": 0.1}).train()


@pytest.mark.parametrize(
    ("model", "match"), [(NoLoss(), "model.loss"), (NoParams(), "model.params")]
)
def test_model_without_params_or_loss_is_rejected(rng, model, match):
    with pytest.raises(ValueError, match=match):
        make_solver(rng, model=model)


def test_check_accuracy_rejects_mismatched_inputs(rng):
    solver = make_solver(rng)
    with pytest.raises(ValueError, match="X and y"):
        solver.check_accuracy(solver.X_val, solver.y_val[:-1])
    with pytest.raises(ValueError, match="num_samples"):
        solver.check_accuracy(solver.X_val, solver.y_val, num_samples=0)


def test_labels_outside_the_models_classes_are_refused_at_the_first_check():
    model = SoftmaxRegression(np.random.default_rng(0))
    data = blobs(np.random.default_rng(1))
    data["y_val"] = data["y_val"].copy()
    data["y_val"][0] = C + 4
    solver = Solver(model, data, num_epochs=1, verbose=False, seed=0)
    with pytest.raises(
        ValueError, match=rf"data\['y_val'\]: expected labels in \[0, {C}\)"
    ):
        solver.train()
    with pytest.raises(ValueError, match=r"y: expected labels"):
        solver.check_accuracy(data["X_val"], data["y_val"])
