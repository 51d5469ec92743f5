"""The CIFAR-10 presets: classic models trained by the Solver, saved as Sequential."""

import json

import numpy as np
import pytest

from glassnet import presets
from glassnet.cli import main, train
from glassnet.datasets import cifar10
from glassnet.models import load_model
from tests.datasets.builders import write_cifar

N = 30  # images per batch file: 150 training (15 of them validation), 30 test


@pytest.fixture(scope="module")
def fake_cifar(tmp_path_factory):
    where = tmp_path_factory.mktemp("cifar")
    write_cifar(where, np.random.default_rng(0), N)
    return where


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", N)


def _train(preset, data, out, *extra):
    argv = ["train", preset, "--data", str(data), "--out", str(out)]
    return main([*argv, "--batch-size", "50", *extra])


def test_solver_data_holds_the_course_split_and_the_mean_image(fake_cifar):
    data = presets.solver_data(str(fake_cifar))
    assert data["X_train"].shape == (135, 3, 32, 32)
    assert data["X_val"].shape == (15, 3, 32, 32)
    assert data["X_test"].shape == (30, 3, 32, 32)
    # The training part is centred: its mean image is zero.
    assert np.abs(data["X_train"].mean(axis=0)).max() < 1e-3
    (x_train, _), _ = cifar10.load_data(fake_cifar)
    mean = x_train[:135].mean(axis=0)
    np.testing.assert_allclose(data["mean"], mean, rtol=1e-5)


@pytest.mark.parametrize("preset", ["cifar10-fc", "cifar10-convnet"])
def test_the_saved_sequential_predicts_what_the_classic_model_scores(
    preset, fake_cifar
):
    data = presets.solver_data(str(fake_cifar))
    model = presets.build_solver_model(preset, 0)
    seq = train._as_sequential(model, data, preset)
    scores = np.asarray(model.loss(data["X_test"]), dtype=np.float64)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    images = train._images01(data["X_test"], data["mean"])
    assert images.shape == (30, 32, 32, 3) and images.min() >= -1e-6
    got = seq.predict(images, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)


def test_the_fc_preset_draws_new_dropout_masks_from_its_seed():
    model = presets.build_solver_model("cifar10-fc", 0)
    assert "seed" not in model.dropout_param
    x = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(np.float32)
    y = np.arange(4)
    first, _ = model.loss(x, y)
    second, _ = model.loss(x, y)
    assert first != second  # another mask each step
    again = presets.build_solver_model("cifar10-fc", 0)
    assert again.loss(x, y)[0] == first  # but the same masks for the same seed


@pytest.mark.parametrize("preset", ["cifar10-fc", "cifar10-convnet"])
def test_solver_presets_write_every_output_and_resume(preset, fake_cifar, tmp_path):
    assert _train(preset, fake_cifar, tmp_path, "--epochs", "1") == 0
    for name in ["model.h5", "best.weights.h5", "history.csv", "report.md"]:
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "checkpoints" / "solver_epoch_1.ckpt").is_file()
    model = load_model(tmp_path / "model.h5")
    probs = model.predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # --resume with more epochs goes on from epoch 1 instead of starting over.
    assert _train(preset, fake_cifar, tmp_path, "--epochs", "2", "--resume") == 0
    assert (tmp_path / "checkpoints" / "solver_epoch_2.ckpt").is_file()
    history = json.loads((tmp_path / "history.json").read_text())
    # One accuracy check before training and one per epoch: nothing lost.
    assert len(history["val_accuracy"]) == 3
    assert len(history["loss"]) == 2 * (135 // 50)


def test_resumed_solver_training_equals_an_uninterrupted_run(fake_cifar, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _train("cifar10-convnet", fake_cifar, whole, "--epochs", "2") == 0
    assert _train("cifar10-convnet", fake_cifar, parts, "--epochs", "1") == 0
    assert (
        _train("cifar10-convnet", fake_cifar, parts, "--epochs", "2", "--resume") == 0
    )
    a = load_model(whole / "model.h5").get_weights()
    b = load_model(parts / "model.h5").get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_resume_without_a_checkpoint_says_so(fake_cifar, tmp_path, capsys):
    assert _train("cifar10-fc", fake_cifar, tmp_path, "--resume") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "checkpoints" in err


@pytest.mark.parametrize("flag", [["--tensorboard"], ["--early-stopping", "2"]])
def test_solver_presets_refuse_keras_callbacks(flag, fake_cifar, tmp_path, capsys):
    assert _train("cifar10-fc", fake_cifar, tmp_path, *flag) == 2
    err = capsys.readouterr().err
    assert flag[0] in err and "Solver" in err


def test_resuming_a_finished_solver_run_writes_the_same_model(fake_cifar, tmp_path):
    assert _train("cifar10-fc", fake_cifar, tmp_path, "--epochs", "2") == 0
    first = load_model(tmp_path / "model.h5")
    assert _train("cifar10-fc", fake_cifar, tmp_path, "--epochs", "2", "--resume") == 0
    again = load_model(tmp_path / "model.h5")
    for u, v in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    # predict scales 0..255 pixels for it, as for the Keras presets' models.
    assert again.trained_input == {"dtype": "float32", "min": 0.0, "max": 1.0}


def test_a_solver_preset_trains_with_a_course_update_rule(fake_cifar, tmp_path):
    # glassnet sweep tries the course's rules on these presets and prints the
    # train command of the best: it must run.
    argv = ("--epochs", "1", "--optimizer", "sgd_momentum")
    assert _train("cifar10-fc", fake_cifar, tmp_path, *argv) == 0
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["options"]["optimizer"] == "sgd_momentum"


def test_a_keras_preset_refuses_a_course_update_rule(tmp_path, capsys):
    argv = ["train", "digits-mlp", "--optimizer", "nesterov", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "--optimizer nesterov: a course update rule" in capsys.readouterr().err
