"""BackupAndRestore(save_freq=N): backups between batches resume bitwise."""

import json
import os

import numpy as np
import pytest

from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.errors import InvalidFileError
from glassnet.saving.container import read_file, write_file
from tests.callbacks.test_backup_and_restore import (
    Crash,
    assert_same_training,
    build,
    callbacks_config,
    fit,
)
from tests.callbacks.test_backup_and_restore import data as data_fixture

data = data_fixture  # the same seeded data as the epoch-level tests


def batch_callbacks(folder, save_freq, extra=()):
    cbs = callbacks_config(folder, extra)
    cbs[3] = BackupAndRestore(os.path.join(folder, "backup"), save_freq=save_freq)
    return cbs


@pytest.fixture
def reference(data, tmp_path):
    model = build()
    fit(model, data, batch_callbacks(tmp_path / "reference", 1))
    return model


@pytest.mark.parametrize("epoch", [0, 3, 5])
def test_a_crash_inside_an_epoch_resumes_at_the_next_batch_bitwise(
    data, tmp_path, reference, epoch
):
    # Crash raises after batch 1 of `epoch`, before the backup of that batch:
    # the backup holds the epoch's first batch, and the resumed fit goes on at
    # batch 1 of the same shuffle order.
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, batch_callbacks(tmp_path, 1, [Crash(epoch)]))
    meta, _ = read_file(tmp_path / "backup" / "checkpoint.h5")
    training = json.loads(meta["training"])
    assert (training["epochs_done"], training["batch"]) == (epoch, 1)
    resumed = build()
    fit(resumed, data, batch_callbacks(tmp_path, 1))
    assert_same_training(reference, resumed)


def test_a_backup_after_an_epoch_last_batch_resumes_with_that_epoch_end(
    data, tmp_path, reference
):
    # 48 samples in batches of 8: 6 batches, so save_freq=6 backs up after each
    # epoch's last batch, before its validation and epoch-end callbacks.
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, batch_callbacks(tmp_path, 6, [Crash(2)]))
    training = json.loads(
        read_file(tmp_path / "backup" / "checkpoint.h5")[0]["training"]
    )
    assert (training["epochs_done"], training["batch"]) == (1, 6)
    resumed = build()
    fit(resumed, data, batch_callbacks(tmp_path, 6))
    assert_same_training(reference, resumed)


def test_backups_every_n_batches_count_across_epochs(data, tmp_path):
    saved = []

    class Spy(BackupAndRestore):
        def _save(self, epoch=None):
            super()._save(epoch)
            saved.append(dict(self.model._fit_progress))

    fit(build(), data, [Spy(tmp_path / "b", save_freq=4)], epochs=2)
    # 12 batches over two epochs of 6: backups after batches 4, 8 and 12.
    assert [(p["epoch"], p["batch"]) for p in saved] == [(0, 4), (1, 2), (1, 6)]


def test_a_forged_position_in_a_backup_is_refused_naming_it(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, batch_callbacks(tmp_path, 1, [Crash(1)]))
    path = tmp_path / "backup" / "checkpoint.h5"
    meta, tensors = read_file(path)
    training = json.loads(meta["training"])
    os.remove(tmp_path / "backup" / "checkpoint.prev.h5")
    for forged, match in (
        ([[1.0]], "a state of metric 'accuracy'"),  # [total, count] expected
        ([["x", 1]], "position inside an epoch"),
        ("none", "position inside an epoch"),
    ):
        training["metrics"] = forged
        meta["training"] = json.dumps(training)
        kept = {k: v for k, v in meta.items() if k != "checksum"}
        write_file(str(path), tensors, kept)
        with pytest.raises(InvalidFileError, match=match):
            fit(build(), data, batch_callbacks(tmp_path, 1))


def test_a_resumed_unshuffled_fit_is_bitwise_identical_too(data, tmp_path):
    x, y, val = data

    def run(cbs):
        model = build()
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, callbacks=cbs, verbose=0)
        return model

    whole = run([BackupAndRestore(tmp_path / "w", save_freq=5)])
    with pytest.raises(RuntimeError, match="crash"):
        run([BackupAndRestore(tmp_path / "p", save_freq=5), Crash(1)])
    parts = run([BackupAndRestore(tmp_path / "p", save_freq=5)])
    for a, b in zip(whole.get_weights(), parts.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert whole.history.history == parts.history.history
