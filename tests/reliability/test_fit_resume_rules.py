"""fit and BackupAndRestore: a resumed run ends as the uninterrupted one, or is
refused with a clear error; weights that would make the loss NaN are refused."""

import os

import numpy as np
import pytest

from glassnet import layers, metrics, models, optimizers
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback


class CrashAtTrainEnd(Callback):
    """Raises after the last epoch, once the last backup is written."""

    def on_train_end(self, logs=None):
        raise RuntimeError("crash")


class CrashInEpoch(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("crash")


def build():
    model = models.Sequential(
        [
            layers.Input(shape=(5,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    # use_ema: fit ends by replacing the weights with their averages.
    opt = optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9)
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 1)


def fit(model, data, cbs, epochs=3, batch_size=8, **kwargs):
    x, y = data
    return model.fit(
        x, y, batch_size=batch_size, epochs=epochs, callbacks=cbs, verbose=0, **kwargs
    )


def assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def assert_same_weights_as(before, model):
    for u, v in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def test_resuming_a_finished_run_keeps_its_final_weights(data, tmp_path):
    whole = build()
    fit(whole, data, [BackupAndRestore(tmp_path, delete_checkpoint=False)])
    again = build()
    history = fit(again, data, [BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert history.epoch == [0, 1, 2]  # restored, nothing trained
    assert_same_weights(again, whole)


def test_a_crash_after_the_last_backup_resumes_to_the_same_weights(data, tmp_path):
    whole = build()
    fit(whole, data, [BackupAndRestore(tmp_path / "whole")])
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashAtTrainEnd(), BackupAndRestore(tmp_path / "run")])
    assert os.path.exists(tmp_path / "run" / "checkpoint.h5")
    resumed = build()
    fit(resumed, data, [BackupAndRestore(tmp_path / "run")])
    assert_same_weights(resumed, whole)


def test_resuming_inside_an_epoch_with_another_batch_size_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path, 1)])
    model = build()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"batch_size: expected 8.*received 16"):
        fit(model, data, [BackupAndRestore(tmp_path, 1)], batch_size=16)
    # The backup is kept; resuming with the batch size it was taken at works.
    assert os.path.exists(tmp_path / "checkpoint.h5")
    assert_same_weights_as(before, model)
    fit(build(), data, [BackupAndRestore(tmp_path, 1)])


def test_resuming_inside_an_epoch_without_its_shuffle_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path, 1)])
    with pytest.raises(ValueError, match=r"shuffle: expected True.*received False"):
        fit(build(), data, [BackupAndRestore(tmp_path, 1)], shuffle=False)
    fit(build(), data, [BackupAndRestore(tmp_path, 1)])  # as it was: goes on


def test_resuming_on_other_data_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path)])
    x, y = data
    other = (x[::-1].copy(), y[::-1].copy())
    with pytest.raises(ValueError, match="the data the backup .* was taken on"):
        fit(build(), other, [BackupAndRestore(tmp_path)])
    with pytest.raises(ValueError, match=r"shapes \(40, 5\) and \(40,\)"):
        fit(build(), (x[:30], y[:30]), [BackupAndRestore(tmp_path)])
    # The same values in another dtype are the same data.
    fit(build(), (x.astype(np.float64), y), [BackupAndRestore(tmp_path)])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nan_or_infinite_sample_weight_is_refused(data, bad):
    x, y = data
    sw = np.ones(len(x))
    sw[7] = bad
    with pytest.raises(ValueError, match="sample_weight: expected finite values"):
        build().fit(x, y, sample_weight=sw, epochs=1, verbose=0)


@pytest.mark.parametrize("bad", [np.nan, float("inf"), -1.0, "2"])
def test_a_bad_class_weight_is_refused_naming_class_weight(data, bad):
    x, y = data
    model = build()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"class_weight\[1\]: expected"):
        model.fit(x, y, class_weight={0: 1.0, 1: bad, 2: 1.0}, epochs=1, verbose=0)
    assert_same_weights_as(before, model)


def test_the_loss_kernels_refuse_a_nan_sample_weight():
    from glassnet.functional import softmax_loss

    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="sample_weight: expected finite values"):
        softmax_loss(scores, np.array([0, 1]), sample_weight=np.array([1.0, np.nan]))


@pytest.mark.parametrize(
    ("given", "received"),
    [(BackupAndRestore("unused"), "a BackupAndRestore"), ("backup", "a str")],
)
def test_callbacks_must_be_a_list_of_callbacks(data, given, received):
    x, y = data
    with pytest.raises(ValueError, match=f"callbacks: expected a list.*{received}"):
        build().fit(x, y, callbacks=given, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"callbacks\[1\]: expected a Callback"):
        build().fit(x, y, callbacks=[Callback(), "x"], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=f"callbacks: expected a list.*{received}"):
        build().evaluate(x, y, callbacks=given, verbose=0)
    with pytest.raises(ValueError, match=f"callbacks: expected a list.*{received}"):
        build().predict(x, callbacks=given, verbose=0)
    with pytest.raises(ValueError, match=r"e\.g\. Callback\(\); received the class"):
        build().fit(x, y, callbacks=[Callback], epochs=1, verbose=0)


def test_resuming_with_or_without_weight_averaging_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path)])
    plain = build()
    plain.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"use_ema=False.*use_ema=True"):
        fit(plain, data, [BackupAndRestore(tmp_path)])


def test_resuming_inside_an_epoch_with_other_steps_per_epoch_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path, 1)])
    with pytest.raises(ValueError, match=r"steps_per_epoch: expected 5.*received 3"):
        fit(build(), data, [BackupAndRestore(tmp_path, 1)], steps_per_epoch=3)


def test_resuming_with_other_validation_data_is_refused(data, tmp_path):
    x, y = data
    val = (x[:8], y[:8])
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [CrashInEpoch(1, 2), BackupAndRestore(tmp_path)],
            validation_data=val)  # fmt: skip
    with pytest.raises(ValueError, match="validation data: expected the data"):
        fit(
            build(),
            data,
            [BackupAndRestore(tmp_path)],
            validation_data=(x[8:16], y[8:16]),
        )
    # Class weights of 1 everywhere are the same training as none.
    fit(build(), data, [BackupAndRestore(tmp_path)], validation_data=val,
        class_weight={0: 1.0, 1: 1.0, 2: 1.0})  # fmt: skip


def test_a_backup_inside_an_epoch_keeps_every_metric_state(data, tmp_path):
    # Precision, Recall and AUC keep confusion counts, not (total, count).
    x, y = data
    binary = (y > 0).astype(int)

    def model():
        m = models.Sequential(
            [layers.Input((5,)), layers.Dense(1, activation="sigmoid")], seed=0
        )
        m.compile(
            "adam",
            "binary_crossentropy",
            metrics=["accuracy", metrics.Precision(), metrics.AUC()],
        )
        return m

    whole = model()
    fit(whole, (x, binary), [BackupAndRestore(tmp_path / "whole", 1)])
    with pytest.raises(RuntimeError, match="crash"):
        fit(model(), (x, binary), [CrashInEpoch(1, 2), BackupAndRestore(tmp_path, 1)])
    resumed = model()
    fit(resumed, (x, binary), [BackupAndRestore(tmp_path, 1)])
    assert resumed.history.history == whole.history.history
    assert_same_weights(resumed, whole)
