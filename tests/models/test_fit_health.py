"""fit refuses broken data before training and handles Ctrl-C as documented."""

import os
import signal

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback
from glassnet.saving.container import read_file


def build():
    model = models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(4, activation="softmax")], seed=0
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def xy(rng):
    return rng.normal(size=(12, 3)).astype(np.float32), rng.integers(0, 4, 12)


@pytest.mark.parametrize("label", [4, -1])
def test_labels_outside_the_output_width_are_refused_before_training(xy, label):
    x, y = xy
    y[5] = label
    model = build()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 4\)"):
        model.fit(x, y, verbose=0)
    assert all(
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )


def test_column_labels_are_checked_too(xy):
    x, y = xy
    with pytest.raises(ValueError, match="y: expected labels"):
        build().fit(x, (y + 3)[:, None], verbose=0)


@pytest.mark.parametrize("where", ["x", "y"])
def test_nan_in_the_data_is_refused_naming_the_argument(xy, where):
    x, y = xy
    model = build()
    model.compile("adam", "mse")
    y = np.eye(4, dtype=np.float32)[y]
    (x if where == "x" else y)[2, 1] = np.nan
    with pytest.raises(ValueError, match=where):
        model.fit(x, y, verbose=0)


def test_an_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="x: expected at least one sample"):
        build().fit(np.zeros((0, 3)), np.zeros((0,), int), verbose=0)


def test_a_batch_larger_than_the_data_warns_and_trains_one_batch(xy):
    x, y = xy
    with pytest.warns(UserWarning, match="batch_size: expected at most the 12"):
        history = build().fit(x, y, batch_size=100, epochs=1, verbose=0)
    assert len(history.epoch) == 1


class CtrlC(Callback):
    """Sends this process SIGINT during batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch, self.batches = (epoch, batch), None, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((self.epoch, batch))


def test_ctrl_c_without_a_backup_interrupts_at_once_as_in_keras(xy):
    x, y = xy
    spy = CtrlC(1, 1)
    with pytest.raises(KeyboardInterrupt):
        build().fit(x, y, batch_size=4, epochs=3, callbacks=[spy], verbose=0)
    assert spy.batches[-1] == (1, 0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_with_a_backup_finishes_the_batch_backs_up_and_resumes(xy, tmp_path):
    x, y = xy
    whole = build()
    whole.fit(x, y, batch_size=4, epochs=3, verbose=0)
    spy = CtrlC(1, 1)
    backup = BackupAndRestore(tmp_path)
    with pytest.raises(KeyboardInterrupt, match="after batch 2.*training again"):
        build().fit(x, y, batch_size=4, epochs=3, callbacks=[spy, backup], verbose=0)
    assert spy.batches[-1] == (1, 1)  # the batch in progress was finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert '"batch": 2' in read_file(tmp_path / "checkpoint.h5")[0]["training"]
    parts = build()
    parts.fit(x, y, batch_size=4, epochs=3, callbacks=[backup], verbose=0)
    for a, b in zip(whole.get_weights(), parts.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert whole.history.history == parts.history.history
