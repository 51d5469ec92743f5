"""Solver: bitwise resume with dropout, Ctrl-C checkpoints, and training health."""

import os
import signal

import numpy as np
import pytest

from glassnet import backend
from glassnet.classifiers.fc_net import FullyConnectedNet
from glassnet.solver import Solver


@pytest.fixture
def data(rng):
    return {
        "X_train": rng.standard_normal((30, 5)),
        "y_train": rng.integers(0, 3, 30),
        "X_val": rng.standard_normal((8, 5)),
        "y_val": rng.integers(0, 3, 8),
    }


def solver(data, tmp_path, **kwargs):
    net = FullyConnectedNet(
        [9],
        input_dim=5,
        num_classes=3,
        dropout_keep_ratio=0.6,
        dtype=np.float64,
        seed=0,
    )
    net.dropout_rng = backend.rng(1)  # fresh masks every step, from a seeded rng
    options = {
        "update_rule": "adam",
        "batch_size": 5,
        "num_epochs": 4,
        "verbose": False,
        "checkpoint_name": str(tmp_path / "s"),
    }
    return Solver(net, data, seed=2, **{**options, **kwargs})


def assert_same(a, b):
    assert a.loss_history == b.loss_history
    assert all(
        np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params
    )
    assert a.model.dropout_rng.bit_generator.state == (
        b.model.dropout_rng.bit_generator.state
    )


def test_an_epoch_checkpoint_resumes_bitwise_including_the_dropout_masks(
    data, tmp_path
):
    whole = solver(data, tmp_path)
    whole.train()
    resumed = solver(data, tmp_path)
    resumed.model.dropout_rng = backend.rng(99)  # overwritten by the checkpoint
    resumed.resume(tmp_path / "s_epoch_2.ckpt")
    assert_same(whole, resumed)


def test_ctrl_c_finishes_the_iteration_checkpoints_and_resumes_bitwise(data, tmp_path):
    whole = solver(data, tmp_path / "whole")
    whole.train()
    interrupted = solver(data, tmp_path)
    step = interrupted._step
    count = [0]

    def step_then_ctrl_c():
        count[0] += 1
        if count[0] == 9:
            os.kill(os.getpid(), signal.SIGINT)
        step()

    interrupted._step = step_then_ctrl_c
    with pytest.raises(KeyboardInterrupt, match="after iteration 9 of 24"):
        interrupted.train()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    resumed = solver(data, tmp_path)
    resumed.resume(tmp_path / "s_iteration_9.ckpt")
    assert_same(whole, resumed)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_loss_stops_training_naming_epoch_iteration_and_learning_rate(
    data, tmp_path
):
    s = solver(data, tmp_path, optim_config={"learning_rate": 1e300}, update_rule="sgd")
    with pytest.raises(RuntimeError, match=r"at epoch \d+, iteration \d+.*lower"):
        s.train()


def test_labels_outside_the_class_range_are_refused_before_training(data, tmp_path):
    data["y_train"][3] = 3
    s = solver(data, tmp_path)
    before = {k: v.copy() for k, v in s.model.params.items()}
    with pytest.raises(ValueError, match=r"y_train.*\[0, 3\)"):
        s.train()
    assert all(np.array_equal(before[k], s.model.params[k]) for k in before)
