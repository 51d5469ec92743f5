"""``np.random.seed(231)`` reproduces the course's notebooks (issue 18).

Without ``seed=``, the course classes draw from NumPy's global generator with the
course's own calls and in its order. These tests are the exception to "never
``np.random.seed``" in the style guide: seeding the global generator is the
behaviour under test. The autouse fixture puts its state back afterwards.
"""

# ruff: noqa: NPY002  (NumPy's global generator is what these tests are about)

import json
import math

import numpy as np
import pytest

from glassnet.classifiers import FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from glassnet.errors import InvalidFileError
from glassnet.functional.dropout import dropout_forward
from glassnet.solver import Solver
from tests.test_solver_checkpoint import _meta, _read_meta, _rewrite

N, D, H1, H2, C = 2, 15, 20, 30, 10


@pytest.fixture(autouse=True)
def _keep_numpy_global_state():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def notebook_problem():
    """The course's gradient-check cell: seed 231, then X and y, then models."""
    np.random.seed(231)
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    return X, y


# Printed by the course's notebooks (assignment 2), cell "Initial loss and
# gradient check": FullyConnectedNets.ipynb (normalization None) and
# BatchNormalization.ipynb ("batchnorm"), for reg = 0 then reg = 3.14.
NOTEBOOK_LOSSES = {
    None: (2.3004790897684924, 7.052114776533016),
    "batchnorm": (2.2611955101340957, 6.996533220108303),
}


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_initial_losses_are_the_notebooks_after_np_random_seed_231(normalization):
    X, y = notebook_problem()
    for reg, expected in zip((0, 3.14), NOTEBOOK_LOSSES[normalization], strict=True):
        model = FullyConnectedNet(
            [H1, H2],
            input_dim=D,
            num_classes=C,
            reg=reg,
            weight_scale=5e-2,
            dtype=np.float64,
            normalization=normalization,
        )
        loss, _ = model.loss(X, y)
        assert math.isclose(loss, expected, rel_tol=1e-12)


def test_dropout_forward_without_seed_gives_the_notebooks_masks():
    # Dropout.ipynb, "Dropout forward pass": seed 231, x = randn(500, 500) + 10,
    # then one train-mode dropout_forward per p; printed mean and zero fraction.
    printed = {
        0.25: (10.014059116977283, 0.749784),
        0.4: (9.977917658761159, 0.600796),
        0.7: (9.987811912159426, 0.30074),
    }
    np.random.seed(231)
    x = np.random.randn(500, 500) + 10
    for p, (mean, zeros) in printed.items():
        out, _ = dropout_forward(x, {"mode": "train", "p": p})
        assert math.isclose(out.mean(), mean, rel_tol=1e-12)
        assert (out == 0).mean() == zeros


def test_the_dropout_mask_is_the_courses_call_and_arithmetic():
    x = np.ones((4, 6), dtype=np.float32)
    np.random.seed(3)
    out, (_, mask) = dropout_forward(x, {"mode": "train", "p": 0.3})
    np.random.seed(3)
    expected = ((np.random.rand(4, 6) < 0.3) / 0.3).astype(np.float32)
    assert mask.dtype == np.float32 and np.array_equal(mask, expected)
    assert np.array_equal(out, x * expected)


def course_weights(seed, shapes, scale, dtype):
    """The course's initialisation: weight_scale * np.random.randn, in order."""
    np.random.seed(seed)
    return [(scale * np.random.randn(*shape)).astype(dtype) for shape in shapes]


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fc_weights_are_the_courses_draws_cast_to_float32(normalization):
    dims = [D, H1, H2, C]
    shapes = list(zip(dims[:-1], dims[1:], strict=True))
    expected = course_weights(4, shapes, 5e-2, np.float32)
    np.random.seed(4)
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        weight_scale=5e-2,
        normalization=normalization,
    )
    for i, w in enumerate(expected, start=1):
        assert model.params[f"W{i}"].dtype == np.float32
        assert np.array_equal(model.params[f"W{i}"], w)
        assert not model.params[f"b{i}"].any()


def test_conv_net_weights_are_the_courses_draws_w1_w2_w3():
    F, fs, hidden = 4, 3, 7
    shapes = [(F, 3, fs, fs), (F * 4 * 4, hidden), (hidden, C)]
    expected = course_weights(5, shapes, 1e-2, np.float32)
    np.random.seed(5)
    model = ThreeLayerConvNet(
        (3, 8, 8), num_filters=F, filter_size=fs, hidden_dim=hidden, weight_scale=1e-2
    )
    for i, w in enumerate(expected, start=1):
        assert np.array_equal(model.params[f"W{i}"], w)


@pytest.mark.parametrize(
    "build",
    [
        lambda: TwoLayerNet(input_dim=D, hidden_dim=H1, num_classes=C),
        lambda: FullyConnectedNet(
            [H1, H2], input_dim=D, num_classes=C, dropout_keep_ratio=0.5
        ),
        lambda: ThreeLayerConvNet((3, 8, 8), num_filters=2, filter_size=3),
    ],
)
def test_the_same_global_seed_gives_the_same_initial_loss_twice(build):
    def initial_loss():
        np.random.seed(231)
        model = build()
        conv = isinstance(model, ThreeLayerConvNet)
        X = np.random.randn(N, *(model.input_dim if conv else (D,)))
        return model.loss(X, np.array([1, 2]))[0]

    assert initial_loss() == initial_loss()


def test_fc_dropout_masks_follow_the_weights_in_the_global_stream():
    X, y = notebook_problem()
    model = FullyConnectedNet(
        [H1], input_dim=D, num_classes=C, dropout_keep_ratio=0.6, dtype=np.float64
    )
    state = np.random.get_state()
    loss, _ = model.loss(X, y)
    np.random.set_state(state)
    p = model.params
    h = np.maximum(X @ p["W1"] + p["b1"], 0)
    h = h * ((np.random.rand(*h.shape) < 0.6) / 0.6)
    scores = h @ p["W2"] + p["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert math.isclose(loss, -log_probs[np.arange(N), y].mean(), rel_tol=1e-12)


def test_an_explicit_seed_keeps_glassnets_generator_and_the_global_state():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    model = FullyConnectedNet([H1], input_dim=D, num_classes=C, seed=7)
    conv = ThreeLayerConvNet((3, 8, 8), num_filters=2, filter_size=3, seed=7)
    assert np.array_equal(np.random.get_state()[1], before)
    gen = np.random.default_rng(7)
    W1 = (1e-2 * gen.standard_normal((D, H1))).astype(np.float32)
    assert np.array_equal(model.params["W1"], W1)
    W1 = (1e-3 * np.random.default_rng(7).standard_normal((2, 3, 3, 3))).astype(
        np.float32
    )
    assert np.array_equal(conv.params["W1"], W1)


class Spy:
    """A model that records which samples each call of ``loss`` receives."""

    def __init__(self):
        self.params = {"W": np.zeros((1, 3))}
        self.calls = []

    def loss(self, X, y=None):
        self.calls.append((y is not None, X[:, 0].astype(int).tolist()))
        if y is None:
            return np.zeros((X.shape[0], 3))
        return 1.0, {"W": np.zeros((1, 3))}


def indexed_data(n_train=30, n_val=8):
    """Each sample's only feature is its index (validation ones from 1000)."""
    return {
        "X_train": np.arange(n_train, dtype=float)[:, None],
        "y_train": np.arange(n_train) % 3,
        "X_val": 1000 + np.arange(n_val, dtype=float)[:, None],
        "y_val": np.arange(n_val) % 3,
    }


def test_solver_draws_the_courses_batches_and_subsamples_in_its_order():
    model = Spy()
    solver = Solver(
        model,
        indexed_data(),
        batch_size=5,
        num_epochs=2,
        num_train_samples=10,
        num_val_samples=4,
        verbose=False,
    )
    np.random.seed(231)
    solver.train()

    # The course's Solver.train: one np.random.choice(num_train, batch_size) per
    # step, then at the first, last and each epoch-end iteration the train then
    # val subsamples np.random.choice(N, num_samples).
    np.random.seed(231)
    expected = []
    for t in range(12):
        expected.append((True, np.random.choice(30, 5).tolist()))
        if t == 0 or t == 11 or (t + 1) % 6 == 0:
            expected.append((False, np.random.choice(30, 10).tolist()))
            expected.append((False, (1000 + np.random.choice(8, 4)).tolist()))
    label_checks = [(False, [1000])]  # glassnet's label checks: no draws
    assert model.calls == label_checks + expected[:1] + label_checks + expected[1:]


def course_run(data, tmp_path=None, name="run", seed=None, num_epochs=4):
    """A seedless dropout net and Solver, as the course builds them."""
    model = FullyConnectedNet(
        [9], input_dim=5, num_classes=3, dropout_keep_ratio=0.6, dtype=np.float64
    )
    kwargs = {} if tmp_path is None else {"checkpoint_name": str(tmp_path / name)}
    return Solver(
        model,
        data,
        seed=seed,
        update_rule="adam",
        batch_size=5,
        num_epochs=num_epochs,
        num_train_samples=10,
        verbose=False,
        **kwargs,
    )


@pytest.fixture
def data(rng):
    return {
        "X_train": rng.standard_normal((30, 5)),
        "y_train": rng.integers(0, 3, 30),
        "X_val": rng.standard_normal((8, 5)),
        "y_val": rng.integers(0, 3, 8),
    }


def test_the_same_global_seed_gives_the_same_solver_run_twice(data):
    def run():
        np.random.seed(231)
        solver = course_run(data)
        solver.train()
        return solver

    a, b = run(), run()
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert all(
        np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params
    )


def assert_same_run(a, b):
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    assert all(
        np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params
    )


@pytest.mark.parametrize("solver_seed", [None, 2])
def test_a_run_drawing_from_np_random_resumes_bitwise(data, tmp_path, solver_seed):
    # Without a solver seed everything comes from np.random; with one, the
    # model's seedless dropout masks still do.
    np.random.seed(231)
    whole = course_run(data, tmp_path, seed=solver_seed)
    whole.train()
    after = np.random.get_state()[1].copy()

    np.random.seed(999)  # another start: the checkpoint must set the state
    resumed = course_run(data, tmp_path, name="resumed", seed=solver_seed)
    resumed.resume(tmp_path / "run_epoch_2.ckpt")
    assert_same_run(whole, resumed)
    assert np.array_equal(np.random.get_state()[1], after)
    assert (tmp_path / "resumed_epoch_4.ckpt").exists()


def test_a_seeded_solvers_checkpoint_leaves_np_random_alone(data, tmp_path):
    model = FullyConnectedNet([9], input_dim=5, num_classes=3, seed=0)
    Solver(
        model,
        data,
        seed=1,
        num_epochs=1,
        verbose=False,
        checkpoint_name=str(tmp_path / "s"),
    ).train()
    assert _read_meta(tmp_path / "s_epoch_1.ckpt")["numpy_random_state"] is None
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    model = FullyConnectedNet([9], input_dim=5, num_classes=3, seed=0)
    Solver(model, data, seed=1, verbose=False).load_checkpoint(
        tmp_path / "s_epoch_1.ckpt"
    )
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(("written", "loaded"), [(None, 0), (0, None)])
def test_a_checkpoint_of_the_other_generator_is_refused_untouched(
    data, tmp_path, written, loaded
):
    np.random.seed(1)
    course_run(data, tmp_path, seed=written, num_epochs=1).train()
    other = course_run(data, seed=loaded)
    W1 = other.model.params["W1"].copy()
    with pytest.raises(InvalidFileError, match="rng_source.*Solver"):
        other.load_checkpoint(tmp_path / "run_epoch_1.ckpt")
    assert np.array_equal(other.model.params["W1"], W1) and other.epoch == 0


@pytest.mark.parametrize(
    "forge",
    [
        {"rng_source": "os.system"},
        {"rng_source": ["seed"]},
        {"numpy_random_state": [1, 2]},
        {"rng_state": {"bit_generator": "MT19937", "state": {"key": [1], "pos": 0}}},
        {"rng_state": {"bit_generator": "PCG64", "state": {}}},
    ],
)
def test_forged_generator_fields_are_refused(data, tmp_path, forge):
    np.random.seed(1)
    course_run(data, tmp_path, num_epochs=1).train()
    good = tmp_path / "run_epoch_1.ckpt"
    bad = tmp_path / "bad.ckpt"
    _rewrite(good, bad, meta=_meta(json.dumps({**_read_meta(good), **forge})))
    solver = course_run(data)
    before = np.random.get_state()[1].copy()
    with pytest.raises(InvalidFileError):
        solver.load_checkpoint(bad)
    assert np.array_equal(np.random.get_state()[1], before) and solver.epoch == 0
