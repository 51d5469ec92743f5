import os

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.callbacks.model_checkpoint import ModelCheckpoint


class Recorder:
    """Stands in for a model: records ``(method, filepath)`` instead of saving."""

    def __init__(self):
        self.calls = []
        self.stop_training = False

    def save(self, filepath, overwrite=True):
        self.calls.append(("save", filepath))

    def save_weights(self, filepath, overwrite=True):
        self.calls.append(("save_weights", filepath))


def drive(callback, logs_per_epoch, batches=0):
    """Call the hooks as ``fit`` does; returns the recorded saves."""
    model = Recorder()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, logs in enumerate(logs_per_epoch):
        callback.on_epoch_begin(epoch)
        for batch in range(batches):
            callback.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1)})
        callback.on_epoch_end(epoch, logs)
    callback.on_train_end()
    return model.calls


def model_and_data(rng):
    model = models.Sequential(
        [layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(1)],
        seed=0,
    )
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(24, 4)).astype(np.float32)
    return model, x, x.sum(axis=1, keepdims=True)


def test_file_names_format_the_epoch_from_1_and_the_logs(rng, tmp_path):
    model, x, y = model_and_data(rng)
    pattern = str(tmp_path / "model.{epoch:02d}-{val_loss:.2f}.h5")
    history = model.fit(
        x, y, epochs=3, validation_split=0.25, verbose=0,
        callbacks=[ModelCheckpoint(pattern)],
    )  # fmt: skip
    expected = {
        f"model.{i + 1:02d}-{v:.2f}.h5"
        for i, v in enumerate(history.history["val_loss"])
    }
    assert set(os.listdir(tmp_path)) == expected


def test_save_best_only_saves_only_on_improvement():
    checkpoint = ModelCheckpoint("best.h5", save_best_only=True)
    calls = drive(checkpoint, [{"val_loss": v} for v in (1.0, 0.8, 0.9, 0.7, 0.7)])
    # Epochs 0, 1 and 3 improve; an equal value (epoch 4) is no improvement.
    assert calls == [("save", "best.h5")] * 3
    assert checkpoint.best == 0.7


def test_mode_auto_maximises_accuracies_and_mode_max_any_key():
    values = [{"val_accuracy": v, "val_loss": v} for v in (0.5, 0.4, 0.6)]
    by_epoch = ModelCheckpoint("{epoch}", monitor="val_accuracy", save_best_only=True)
    assert [p for _, p in drive(by_epoch, values)] == ["1", "3"]
    maxed = ModelCheckpoint("{epoch}", save_best_only=True, mode="max")
    assert [p for _, p in drive(maxed, values)] == ["1", "3"]
    mined = ModelCheckpoint("{epoch}", monitor="val_accuracy", mode="min",
                            save_best_only=True)  # fmt: skip
    assert [p for _, p in drive(mined, values)] == ["1", "2"]


def test_initial_value_threshold_must_be_beaten_first():
    checkpoint = ModelCheckpoint(
        "{epoch}", save_best_only=True, initial_value_threshold=0.75
    )
    calls = drive(checkpoint, [{"val_loss": v} for v in (0.8, 0.76, 0.7)])
    assert calls == [("save", "3")]


def test_the_best_value_is_kept_across_fit_calls_as_in_keras():
    checkpoint = ModelCheckpoint("best", save_best_only=True)
    assert len(drive(checkpoint, [{"val_loss": 0.5}])) == 1
    assert drive(checkpoint, [{"val_loss": 0.6}]) == []


def test_a_missing_monitor_warns_and_skips_the_save():
    checkpoint = ModelCheckpoint("best", monitor="val_auc", save_best_only=True)
    with pytest.warns(RuntimeWarning, match="val_auc.*val_loss"):
        assert drive(checkpoint, [{"val_loss": 0.5}]) == []


def test_without_save_best_only_every_epoch_saves_weights_or_model():
    logs = [{"val_loss": v} for v in (1.0, 2.0)]
    assert drive(ModelCheckpoint("w{epoch}", save_weights_only=True), logs) == [
        ("save_weights", "w1"),
        ("save_weights", "w2"),
    ]
    assert drive(ModelCheckpoint("m"), logs) == [("save", "m"), ("save", "m")]


def test_an_integer_save_freq_saves_every_n_batches_across_epochs():
    checkpoint = ModelCheckpoint("ck-{epoch}-{batch}", save_freq=2)
    calls = drive(checkpoint, [{"val_loss": 1.0}] * 2, batches=3)
    # Batches 1..6 overall; every second one saves, and epochs end without one.
    assert [p for _, p in calls] == ["ck-1-2", "ck-2-1", "ck-2-3"]


def test_a_filepath_field_missing_from_logs_lists_the_available_keys():
    checkpoint = ModelCheckpoint("m-{val_auc:.2f}")
    with pytest.raises(ValueError, match=r"filepath: .*'epoch'.*'loss'.*val_auc"):
        drive(checkpoint, [{"loss": 0.1}])
    with pytest.raises(ValueError, match="filepath: expected named"):
        drive(ModelCheckpoint("m-{}"), [{"loss": 0.1}])


def test_weights_only_and_whole_model_checkpoints_load_back(rng, tmp_path):
    model, x, y = model_and_data(rng)
    weights = ModelCheckpoint(str(tmp_path / "w" / "weights.h5"), monitor="loss",
                              save_best_only=True, save_weights_only=True)  # fmt: skip
    whole = ModelCheckpoint(str(tmp_path / "model"), monitor="loss")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[weights, whole])

    clone, _, _ = model_and_data(rng)
    clone.load_weights(tmp_path / "w" / "weights.h5")
    assert np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded = models.load_model(tmp_path / "model")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    with pytest.raises(ValueError, match="weights-only"):
        models.load_model(tmp_path / "w" / "weights.h5")


def test_verbose_reports_each_decision(capsys):
    checkpoint = ModelCheckpoint("best", save_best_only=True, verbose=1)
    drive(checkpoint, [{"val_loss": v} for v in (1.0, 2.0)])
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to 1.00000, saving model to best" in out
    assert "Epoch 2: val_loss did not improve from 1.00000" in out


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"filepath": 3}, "filepath"),
        ({"save_freq": "batch"}, "save_freq"),
        ({"save_freq": 0}, "save_freq"),
        ({"mode": "lowest"}, "mode"),
        ({"save_best_only": 1}, "save_best_only"),
        ({"initial_value_threshold": "low"}, "initial_value_threshold"),
        ({"monitor": ""}, "monitor"),
    ],
)
def test_invalid_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ModelCheckpoint(**{"filepath": "m", **kwargs})
