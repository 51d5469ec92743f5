"""Preset-specific training settings: the cosine schedule of fashion-cnn."""

import json
import math

import numpy as np

from glassnet.cli import main


def test_fashion_cnn_decays_its_learning_rate_along_a_cosine(fake_fashion, tmp_path):
    argv = ["train", "fashion-cnn", "--data", str(fake_fashion), "--epochs", "2"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    rates = json.loads((tmp_path / "history.json").read_text())["learning_rate"]
    # 180 training images (20 validate) in batches of 128: 2 steps an epoch, 4 in
    # all; the rate logged after epoch e is 2e-3 * (1 + cos(pi * 2e / 4)) / 2.
    expected = [2e-3 * (1 + math.cos(math.pi * 2 * e / 4)) / 2 for e in (1, 2)]
    np.testing.assert_allclose(rates, expected, atol=1e-12)


def test_fashion_cnn_refuses_reduce_lr_on_top_of_its_schedule(
    fake_fashion, tmp_path, capsys
):
    argv = ["train", "fashion-cnn", "--data", str(fake_fashion), "--reduce-lr", "2"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "--reduce-lr" in capsys.readouterr().err
