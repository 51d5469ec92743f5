"""Exercise (3): early stopping, best-weights checkpoints, LR reduction, TensorBoard."""

import json

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.models import load_model


@pytest.mark.parametrize("monitor", [None, "val_accuracy"])
def test_train_with_every_callback_stops_early_and_keeps_the_best(
    tmp_path, capsys, monitor
):
    pytest.importorskip("tensorboardX")
    argv = ["train", "digits-mlp", "--epochs", "40", "--out", str(tmp_path)]
    argv += ["--early-stopping", "2", "--reduce-lr", "1", "--tensorboard"]
    argv += [] if monitor is None else ["--monitor", monitor]
    assert main([*argv, "--lr", "0.02"]) == 0
    printed = capsys.readouterr().out
    history = json.loads((tmp_path / "history.json").read_text())
    # One monitored quantity for all three callbacks: val_loss by default.
    watched = history[monitor or "val_loss"]
    lower = monitor is None
    stop = _early_stop_epoch(watched, patience=2, lower=lower)
    assert len(watched) == stop < 40
    expected = _reduced_rates(watched, 0.02, patience=1, factor=0.1, lower=lower)
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-6)
    assert min(expected) < 0.02  # the run did reduce the rate
    # The callbacks say what they do, in Keras' words.
    assert f"Epoch {stop}: early stopping" in printed
    assert "ReduceLROnPlateau reducing learning rate to" in printed
    assert "Restoring model weights from the end of the best epoch" in printed
    assert len(history["epoch_time"]) == stop  # per-epoch wall time is logged
    report = (tmp_path / "report.md").read_text()
    assert "## What the callbacks did" in report
    assert f"EarlyStopping stopped after epoch {stop} of 40" in report
    assert "ReduceLROnPlateau lowered the learning rate at epoch" in report
    assert "tensorboard --logdir" in report and "with best.weights.h5" in report
    if (tmp_path / "history.png").exists():
        assert (tmp_path / "learning_rate.png").is_file()
    # restore_best_weights: the saved model holds the best epoch's weights,
    # the same ones ModelCheckpoint wrote to best.weights.h5.
    model = load_model(tmp_path / "model.h5")
    best = load_model(tmp_path / "model.h5")
    best.load_weights(tmp_path / "best.weights.h5")
    for a, b in zip(model.get_weights(), best.get_weights(), strict=True):
        assert np.array_equal(a, b)
    events = list((tmp_path / "logs").rglob("events.out.tfevents.*"))
    assert len(events) >= 2  # train and validation


def test_a_preset_that_averages_its_weights_refuses_early_stopping(tmp_path, capsys):
    argv = ["train", "digits-cnn", "--early-stopping", "3", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "averages its weights" in capsys.readouterr().err


def test_evaluate_takes_the_best_weights(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "digits-mlp", "--epochs", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    model = str(out / "model.h5")
    assert main(["evaluate", model, "--weights", str(out / "best.weights.h5")]) == 0
    best = capsys.readouterr().out
    report = (out / "report.md").read_text()
    accuracy = best.split("test accuracy: ")[1].split()[0]
    assert f"{accuracy} with best.weights.h5" in report
    assert main(["evaluate", model, "--weights", str(out / "none.h5")]) == 2
    assert "--weights: expected a weights file" in capsys.readouterr().err


def _early_stop_epoch(values, patience, lower):
    """Keras' rule: stop once the metric has not improved for ``patience`` epochs."""
    best, wait = (float("inf") if lower else -float("inf")), 0
    for epoch, value in enumerate(values, start=1):
        better = value < best if lower else value > best
        best, wait = (value, 0) if better else (best, wait + 1)
        if wait >= patience:
            return epoch
    return len(values)


def _reduced_rates(values, lr, patience, factor, lower, min_delta=1e-4):
    """The rate used in each epoch under Keras' ReduceLROnPlateau."""
    rates, best, wait = [], (float("inf") if lower else -float("inf")), 0
    for value in values:
        rates.append(lr)
        better = value < best - min_delta if lower else value > best + min_delta
        if better:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = lr * factor, 0
    return rates
