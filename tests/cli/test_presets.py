"""Preset-specific training settings: the cosine schedule of fashion-cnn, and
the hyperparameter options of ``glassnet train`` (--reg, --dropout, --units,
--weight-scale, --lr-decay, --split-seed)."""

import json
import math
from pathlib import Path

import numpy as np

from glassnet import presets
from glassnet.cli import build_parser, main, outputs, train
from glassnet.models import load_model


def test_fashion_cnn_decays_its_learning_rate_along_a_cosine(fake_fashion, tmp_path):
    argv = ["train", "fashion-cnn", "--data", str(fake_fashion), "--epochs", "2"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    # Keras 3: no learning-rate callback, so no learning_rate in the history;
    # the report reads the schedule from the optimizer.
    assert "learning_rate" not in json.loads((tmp_path / "history.json").read_text())
    assert not (tmp_path / "learning_rate.png").exists()
    # 180 training images (20 validate) in batches of 128: 2 steps an epoch, 4 in
    # all; the rate after epoch e is 2e-3 * (1 + cos(pi * 2e / 4)) / 2: 0 after 2.
    last = 2e-3 * (1 + math.cos(math.pi * 2 * 2 / 4)) / 2
    note = f"- Learning rate: cosine decay from 0.002 to {last:g} after epoch 2."
    assert note in (tmp_path / "report.md").read_text()


def test_fashion_cnn_refuses_reduce_lr_on_top_of_its_schedule(
    fake_fashion, tmp_path, capsys
):
    argv = ["train", "fashion-cnn", "--data", str(fake_fashion), "--reduce-lr", "2"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "--reduce-lr" in capsys.readouterr().err


def test_train_options_reach_the_model_and_split_seed_defaults_to_seed(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(outputs, "has_matplotlib", lambda: False)  # no plots: fast
    argv = ["train", "digits-mlp", "--epochs", "1", "--seed", "1", "--reg", "1e-3"]
    argv += ["--dropout", "0.1", "--units", "24"]
    runs = {"seed": [], "same": ["--split-seed", "1"], "other": ["--split-seed", "2"]}
    for name, extra in runs.items():
        assert main([*argv, *extra, "--out", str(tmp_path / name)]) == 0
    model = load_model(tmp_path / "same" / "model.h5")
    dense, dropout = model.layers[1], model.layers[2]
    assert (dense.units, dropout.rate, dense.kernel_regularizer.l2) == (24, 0.1, 1e-3)

    def val_loss(name):
        return json.loads((tmp_path / name / "history.json").read_text())["val_loss"]

    # Without --split-seed, --seed 1 draws the split: that of --split-seed 1.
    assert val_loss("seed") == val_loss("same") != val_loss("other")


def test_the_resume_command_keeps_the_model_options():
    argv = ["train", "cifar10-fc", "--reg", "0", "--weight-scale", "0.1", "--units"]
    argv += ["16", "--dropout", "0.25", "--lr-decay", "0.9", "--seed", "4"]
    args = build_parser().parse_args(argv)
    settings = {"epochs": 3, "batch_size": 50, "optimizer": "adam", "lr": 1e-3}
    words = train.resume_command(args, settings, Path("out")).split()
    again = build_parser().parse_args(words[1:])
    for name in ("reg", "weight_scale", "units", "dropout", "lr_decay", "seed"):
        assert getattr(again, name) == getattr(args, name), name
    assert again.resume and again.out == "out" and again.split_seed is None


def test_train_help_lists_the_hyperparameter_options(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--reg", "--dropout", "--units", "--weight-scale", "--lr-decay"):
        assert flag in text
    assert "--split-seed" in text and "Defaults to --seed" in text


def test_digits_cnn_shifts_its_images_and_averages_its_weights(tmp_path):
    model = presets.build_model("digits-cnn", 0)
    shift = model.layers[0]
    assert type(shift).__name__ == "RandomTranslation"
    config = shift.get_config()
    assert config["height_factor"] == config["width_factor"] == [-0.125, 0.125]
    assert (config["fill_mode"], config["interpolation"]) == ("constant", "bilinear")
    plain = presets.build_model("digits-cnn", 0, augmentation=False)
    assert [type(x).__name__ for x in plain.layers] == [
        type(x).__name__ for x in model.layers[1:]
    ]
    opt = presets.keras_optimizer("digits-cnn", "adam", 1e-3, 100, 32, 1)
    assert opt.use_ema and opt.ema_momentum == 0.995
    assert not presets.keras_optimizer("digits-mlp", "adam", 1e-3, 100, 32, 1).use_ema
    # The saved model holds the averages, not the last step's weights.
    argv = ["train", "digits-cnn", "--epochs", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    saved = load_model(tmp_path / "model.h5")
    checked = 0
    for layer in saved.layers:
        for key, value in layer.params.items():
            average = saved.optimizer.slots[f"{layer.name}/{key}"]["average"]
            np.testing.assert_array_equal(value, average)
            checked += 1
    assert checked == 4 + 4 * 2 + 2 * 2  # 4 kernels, 4 gamma/beta pairs, 2 Dense
