"""glassnet train --resume for the Keras presets (BackupAndRestore in --out)."""

import csv
import json

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.models import load_model


def _train(out, epochs, *extra):
    argv = ["train", "digits-mlp", "--epochs", str(epochs), "--out", str(out)]
    return main([*argv, "--reduce-lr", "1", *extra])


def test_resuming_with_more_epochs_equals_one_uninterrupted_run(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _train(whole, 4) == 0
    assert _train(parts, 2) == 0
    assert (parts / "backup" / "checkpoint.h5").is_file()
    assert _train(parts, 4, "--resume") == 0
    a = load_model(whole / "model.h5")
    b = load_model(parts / "model.h5")
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        assert np.array_equal(u, v)
    # Each run built its model afresh: other automatic names, same positions.
    assert np.array_equal(
        a.optimizer.get_state()[0][f"{a.layers[-1].name}/kernel/m"],
        b.optimizer.get_state()[0][f"{b.layers[-1].name}/kernel/m"],
    )
    # Nothing of the first two epochs is lost from the history files.
    history = json.loads((parts / "history.json").read_text())
    reference = json.loads((whole / "history.json").read_text())
    # epoch_time is this machine's wall time: the only entry that may differ.
    assert history.pop("epoch_time") != [] and reference.pop("epoch_time") != []
    assert history == reference
    with open(parts / "history.csv", newline="") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2", "3"]


def test_a_new_run_without_resume_starts_over(tmp_path, capsys):
    assert _train(tmp_path, 2) == 0
    assert _train(tmp_path, 1) == 0
    assert len(json.loads((tmp_path / "history.json").read_text())["loss"]) == 1


def test_resume_without_a_backup_says_what_to_do(tmp_path, capsys):
    assert _train(tmp_path, 1, "--resume") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "BackupAndRestore" in err and "without --resume" in err


def test_a_batch_size_larger_than_the_training_set_is_refused(tmp_path, capsys):
    assert _train(tmp_path, 1, "--batch-size", "100000") == 2
    assert "--batch-size: expected at most the" in capsys.readouterr().err


# The loss is made to diverge on purpose: NumPy's overflow warnings are expected.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_loss_stops_naming_epoch_batch_and_learning_rate(tmp_path, capsys):
    # SGD at 1e30 overflows the float32 loss within the first batches.
    code = _train(tmp_path, 2, "--optimizer", "sgd", "--lr", "1e30")
    err = capsys.readouterr().err
    assert code == 2
    assert "NaN or infinite at epoch 1, batch" in err and "lower learning rate" in err
