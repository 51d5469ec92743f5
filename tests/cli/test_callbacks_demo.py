"""Exercise (3): early stopping, best-weights checkpoints, LR reduction, TensorBoard."""

import json

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.models import load_model


def test_train_with_every_callback_stops_early_and_keeps_the_best(tmp_path):
    pytest.importorskip("tensorboardX")
    argv = ["train", "digits-mlp", "--epochs", "40", "--out", str(tmp_path)]
    argv += ["--early-stopping", "2", "--reduce-lr", "1", "--tensorboard"]
    assert main([*argv, "--lr", "0.02"]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    val_acc, val_loss = history["val_accuracy"], history["val_loss"]
    assert len(val_acc) == _early_stop_epoch(val_acc, patience=2) < 40
    expected = _reduced_rates(val_loss, 0.02, patience=1, factor=0.1)
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-6)
    assert min(expected) < 0.02  # the run did reduce the rate
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


def _early_stop_epoch(val_acc, patience):
    """Keras' rule: stop once the metric has not improved for ``patience`` epochs."""
    best, wait = -1.0, 0
    for epoch, value in enumerate(val_acc, start=1):
        best, wait = (value, 0) if value > best else (best, wait + 1)
        if wait >= patience:
            return epoch
    return len(val_acc)


def _reduced_rates(val_loss, lr, patience, factor, min_delta=1e-4):
    """The rate used in each epoch under Keras' ReduceLROnPlateau on val_loss."""
    rates, best, wait = [], float("inf"), 0
    for value in val_loss:
        rates.append(lr)
        if value < best - min_delta:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = lr * factor, 0
    return rates
