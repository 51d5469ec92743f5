"""BackupAndRestore with a PyDataset: resumed at an epoch boundary or inside an
epoch (skipping to the batch, without fetching the batches done), the run ends
bitwise identical to an uninterrupted one; another dataset, and a generator
(which cannot be rewound), are refused."""

import json
import os

import pytest

from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.saving.container import read_file
from glassnet.utils import PyDataset
from tests.callbacks.test_backup_and_restore import (
    Crash,
    assert_same_training,
    build,
    callbacks_config,
)
from tests.callbacks.test_backup_and_restore import data as data_fixture

data = data_fixture  # 48 training samples, 16 for validation
SIZE = 8  # 6 batches an epoch


class Rows(PyDataset):
    """Batches of SIZE rows, in index order; records the indices fetched."""

    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.fetched = x, y, []

    def __len__(self):
        return -(-len(self.x) // SIZE)

    def __getitem__(self, i):
        self.fetched.append(i)
        return self.x[i * SIZE : (i + 1) * SIZE], self.y[i * SIZE : (i + 1) * SIZE]


def fit(model, data, cbs, epochs=20, dataset=None):
    x, y, (x_val, y_val) = data
    model.fit(
        dataset or Rows(x, y),
        epochs=epochs,
        validation_data=Rows(x_val, y_val),
        callbacks=cbs,
        verbose=0,
    )
    return model


@pytest.fixture
def reference(data, tmp_path):
    model = fit(build(), data, callbacks_config(tmp_path / "reference"))
    # The run is long enough to exercise what the tests say: early stopping
    # (whose best weights the backup holds) ends it after several epochs.
    assert len(model.history.epoch) > 4
    return model


def test_a_py_dataset_run_resumed_after_an_epoch_is_bitwise_identical(
    data, tmp_path, reference
):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, callbacks_config(tmp_path, [Crash(3)]))
    training = json.loads(
        read_file(tmp_path / "backup" / "checkpoint.h5")[0]["training"]
    )
    assert training["epochs_done"] == 3 and "batch" not in training
    resumed = fit(build(), data, callbacks_config(tmp_path))
    assert_same_training(reference, resumed)


def test_a_py_dataset_run_resumed_inside_an_epoch_skips_to_the_batch(data, tmp_path):
    def run(folder, extra=(), dataset=None):
        cbs = [BackupAndRestore(folder, save_freq=1), *extra]
        return fit(build(), data, cbs, epochs=4, dataset=dataset)

    x, y, _ = data
    seen = Rows(x, y)
    whole = run(tmp_path / "whole", dataset=seen)
    with pytest.raises(RuntimeError, match="crash"):
        run(tmp_path / "parts", [Crash(2)])  # after batch 1 of epoch 3
    training = json.loads(
        read_file(tmp_path / "parts" / "checkpoint.h5")[0]["training"]
    )
    assert (training["epochs_done"], training["batch"]) == (2, 1)
    dataset = Rows(x, y)
    parts = run(tmp_path / "parts", dataset=dataset)
    assert_same_training(whole, parts)
    # the fingerprint reads the first and last batches; then epoch 3's 5 batches
    # left and epoch 4's 6: the batch done before the crash is not fetched again
    assert len(dataset.fetched) == 2 + 5 + 6
    third_epoch = seen.fetched[2 + 12 : 2 + 18]  # shuffled: not in index order
    assert sorted(third_epoch) == list(range(6)) and third_epoch != list(range(6))
    assert dataset.fetched[2:7] == third_epoch[1:]


def test_another_py_dataset_is_refused_naming_the_data(data, tmp_path):
    x, y, _ = data
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, callbacks_config(tmp_path, [Crash(1)]))
    changed = x.copy()
    changed[-1] += 1  # only the last batch differs
    for other in (Rows(changed, y), Rows(x[:-SIZE], y[:-SIZE])):
        with pytest.raises(ValueError, match="expected the data the backup"):
            fit(build(), data, callbacks_config(tmp_path), dataset=other)
    assert os.path.exists(tmp_path / "backup" / "checkpoint.h5")


def test_steps_per_epoch_that_splits_a_pass_is_refused_with_a_backup(data, tmp_path):
    x, y, _ = data
    with pytest.raises(ValueError, match="steps_per_epoch: expected None or at least"):
        build().fit(
            Rows(x, y),
            steps_per_epoch=4,
            callbacks=[BackupAndRestore(tmp_path / "b")],
            verbose=0,
        )


def test_arrays_with_a_py_dataset_for_validation_resume_too(data, tmp_path):
    x, y, (x_val, y_val) = data

    def run(folder, extra=()):
        model = build()
        cbs = [BackupAndRestore(folder, save_freq=1), *extra]
        model.fit(
            x,
            y,
            batch_size=SIZE,
            epochs=3,
            validation_data=Rows(x_val, y_val),
            callbacks=cbs,
            verbose=0,
        )
        return model

    whole = run(tmp_path / "whole")
    with pytest.raises(RuntimeError, match="crash"):
        run(tmp_path / "parts", [Crash(1)])
    assert_same_training(whole, run(tmp_path / "parts"))
