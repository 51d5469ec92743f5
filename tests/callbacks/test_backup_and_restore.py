import os
import warnings

import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.model_checkpoint import ModelCheckpoint
from glassnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from glassnet.errors import InvalidFileError
from glassnet.saving.container import read_file

EPOCHS = 20


class Crash(Callback):
    """Raises in the middle of epoch ``epoch`` (after one batch), or at train end."""

    def __init__(self, epoch=None, at_train_end=False):
        super().__init__()
        self.epoch, self.at_train_end, self.current = epoch, at_train_end, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            raise RuntimeError("crash")

    def on_train_end(self, logs=None):
        if self.at_train_end:
            raise RuntimeError("crash")


def build(units=16):
    model = models.Sequential(
        [
            layers.Input(shape=(6,)),
            layers.Dense(units, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3, seed=1),
            layers.Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(48, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=48) > 0).astype(int) + (x[:, 1] > 1)
    x_val = rng.normal(size=(16, 6)).astype(np.float32)
    return x, y, (x_val, (x_val[:, 0] > 0).astype(int))


def callbacks_config(folder, extra=()):
    """The same callbacks, freshly made, for every run: only the folder differs."""
    return [
        EarlyStopping(patience=4, restore_best_weights=True),
        ReduceLROnPlateau(factor=0.5, patience=1),
        ModelCheckpoint(os.path.join(folder, "best.h5"), save_best_only=True),
        BackupAndRestore(os.path.join(folder, "backup")),
        *extra,
    ]


def fit(model, data, cbs, epochs=EPOCHS):
    x, y, val = data
    return model.fit(
        x,
        y,
        batch_size=8,
        epochs=epochs,
        validation_data=val,
        shuffle=True,
        callbacks=cbs,
        verbose=0,
    )


def crash_then_resume(data, folder, epoch):
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, callbacks_config(folder, [Crash(epoch)]))
    return folder


def optimizer_state_by_position(model):
    """The optimizer state with each "layer/weight" key's layer given by its
    position: twins built in one process have other automatic names (Keras 3)."""
    arrays, scalars = model.optimizer.get_state()
    where = {layer.name: i for i, layer in enumerate(model.layers)}

    def key(name):
        layer, _, rest = name.partition("/")
        return f"{where[layer]}/{rest}"

    slots = {key(k): v for k, v in scalars.get("slots", {}).items()}
    return {key(k): v for k, v in arrays.items()}, {**scalars, "slots": slots}


def assert_same_training(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert np.array_equal(wa, wb)
    arrays_a, scalars_a = optimizer_state_by_position(a)
    arrays_b, scalars_b = optimizer_state_by_position(b)
    assert scalars_a == scalars_b and arrays_a.keys() == arrays_b.keys()
    assert all(np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a)
    assert a.optimizer.learning_rate == b.optimizer.learning_rate
    assert a.history.epoch == b.history.epoch
    assert a.history.history.keys() == b.history.history.keys()
    for key, values in a.history.history.items():
        assert np.array_equal(values, b.history.history[key]), key


@pytest.fixture
def reference(data, tmp_path):
    model = build()
    fit(model, data, callbacks_config(tmp_path / "reference"))
    # The run this data gives (checked so that the test exercises what it says):
    # the rate is halved before epoch 5, and early stopping ends at epoch 6 and
    # puts back the weights of epoch 2.
    assert model.history.epoch == list(range(7))
    assert model.history.history["learning_rate"][5] < 0.05
    return model


def test_a_resumed_fit_is_bitwise_identical_to_an_uninterrupted_one(
    data, tmp_path, reference
):
    folder = crash_then_resume(data, tmp_path / "run", epoch=5)
    resumed = build()
    fit(resumed, data, callbacks_config(folder))
    assert_same_training(resumed, reference)
    best = models.load_model(folder / "best.h5")
    expected = models.load_model(tmp_path / "reference" / "best.h5")
    assert all(
        np.array_equal(u, v)
        for u, v in zip(best.get_weights(), expected.get_weights(), strict=True)
    )
    assert not os.path.exists(folder / "backup")


def test_a_crash_in_the_first_epoch_resumes_from_scratch(data, tmp_path, reference):
    folder = crash_then_resume(data, tmp_path / "run", epoch=0)
    assert not os.path.exists(folder / "backup" / "checkpoint.h5")
    resumed = build()
    fit(resumed, data, callbacks_config(folder))
    assert_same_training(resumed, reference)


def test_a_crash_after_early_stopping_trains_no_more_epochs(data, tmp_path, reference):
    folder = tmp_path / "run"
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [*callbacks_config(folder), Crash(at_train_end=True)])
    resumed = build()
    fit(resumed, data, callbacks_config(folder))
    assert_same_training(resumed, reference)


def test_one_checkpoint_is_kept_with_the_previous_one_when_training_raises(
    data, tmp_path
):
    folder = crash_then_resume(data, tmp_path, epoch=3)
    assert sorted(os.listdir(folder / "backup")) == [
        "checkpoint.h5",
        "checkpoint.prev.h5",
    ]
    meta, tensors = read_file(str(folder / "backup" / "checkpoint.h5"))
    assert '"epochs_done": 3' in meta["training"]
    # EarlyStopping's best weights are stored as tensors under callbacks/<index>/.
    assert any(k.startswith("callbacks/0/best_weights/") for k in tensors)
    # A checkpoint is a whole-model file: load_model opens it, ignoring the rest.
    model = models.load_model(folder / "backup" / "checkpoint.h5")
    assert model.optimizer.iterations == 3 * 6


def test_a_corrupted_checkpoint_falls_back_to_the_previous_one_with_a_warning(
    data, tmp_path, reference
):
    folder = crash_then_resume(data, tmp_path / "run", epoch=5)
    flip_last_byte(folder / "backup" / "checkpoint.h5")
    resumed = build()
    with pytest.warns(RuntimeWarning, match="checksum"):
        fit(resumed, data, callbacks_config(folder))
    assert_same_training(resumed, reference)


def test_a_checkpoint_lost_between_the_two_writes_falls_back_too(
    data, tmp_path, reference
):
    folder = crash_then_resume(data, tmp_path / "run", epoch=5)
    os.remove(folder / "backup" / "checkpoint.h5")
    resumed = build()
    with pytest.warns(RuntimeWarning, match="missing"):
        fit(resumed, data, callbacks_config(folder))
    assert_same_training(resumed, reference)


def flip_last_byte(path):
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_a_corrupted_checkpoint_without_a_previous_one_raises(data, tmp_path):
    folder = crash_then_resume(data, tmp_path, epoch=1)
    assert not os.path.exists(folder / "backup" / "checkpoint.prev.h5")
    flip_last_byte(folder / "backup" / "checkpoint.h5")
    with pytest.raises(InvalidFileError, match="checksum"):
        fit(build(), data, callbacks_config(folder))


def test_a_foreign_file_in_place_of_the_checkpoint_raises(data, tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "checkpoint.h5").write_bytes(b"\x80\x04 a pickle, say")
    with pytest.raises(InvalidFileError, match="glassnet"):
        fit(build(), data, callbacks_config(tmp_path))
    build().save(backup / "checkpoint.h5")
    with pytest.raises(InvalidFileError, match="BackupAndRestore checkpoint"):
        fit(build(), data, callbacks_config(tmp_path))


def test_another_callback_in_the_resumed_fit_raises_naming_it(data, tmp_path):
    folder = crash_then_resume(data, tmp_path, epoch=2)
    swapped = callbacks_config(folder)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(InvalidFileError, match=r"callback 0 \(ReduceLROnPlateau\)"):
        fit(build(), data, swapped)
    with pytest.raises(InvalidFileError, match="EarlyStopping"):
        fit(build(), data, callbacks_config(folder)[1:])


def test_stateless_callbacks_may_be_added_or_dropped(data, tmp_path, reference):
    folder = crash_then_resume(data, tmp_path / "run", epoch=4)
    resumed = build()
    fit(resumed, data, [Callback(), *callbacks_config(folder)])
    assert_same_training(resumed, reference)


def test_another_architecture_in_the_resumed_fit_raises(data, tmp_path):
    folder = crash_then_resume(data, tmp_path, epoch=2)
    with pytest.raises(InvalidFileError, match="architecture") as raised:
        fit(build(units=8), data, callbacks_config(folder))
    assert "['units'] = 16 in the file, 8 here" in str(raised.value)


def test_delete_checkpoint_false_keeps_it_and_the_next_fit_has_nothing_left(
    data, tmp_path
):
    backup = BackupAndRestore(tmp_path / "backup", delete_checkpoint=False)
    model = build()
    fit(model, data, [backup], epochs=3)
    assert os.path.exists(tmp_path / "backup" / "checkpoint.h5")
    again = build()
    history = fit(again, data, [backup], epochs=3)
    assert history.epoch == [0, 1, 2]  # restored, none trained
    assert again.optimizer.iterations == model.optimizer.iterations


def test_save_freq_false_restores_but_never_writes(data, tmp_path):
    (tmp_path / "other").write_text("kept")
    fit(build(), data, [BackupAndRestore(tmp_path, save_freq=False)], epochs=2)
    assert os.listdir(tmp_path) == ["other"]


class Custom(Callback):
    state_attributes = ("count", "matrix", "stack", "log")

    def on_train_begin(self, logs=None):
        self.count, self.matrix, self.stack, self.log = 0, np.zeros(2), [], []

    def on_epoch_end(self, epoch, logs=None):
        self.count += 1
        self.matrix = self.matrix + logs["loss"]
        self.stack = [*self.stack, np.full((2, 2), epoch, np.float32)]
        self.log = [*self.log, {"epoch": epoch}]


def test_a_custom_state_of_arrays_lists_and_json_survives_a_crash(data, tmp_path):
    reference = Custom()
    fit(build(), data, [reference, BackupAndRestore(tmp_path / "a")], epochs=4)
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), data, [Custom(), BackupAndRestore(tmp_path), Crash(2)], epochs=4)
    resumed = Custom()
    fit(build(), data, [resumed, BackupAndRestore(tmp_path)], epochs=4)
    assert resumed.count == reference.count == 4 and resumed.log == reference.log
    assert np.array_equal(resumed.matrix, reference.matrix)
    assert all(
        np.array_equal(u, v) and u.dtype == v.dtype
        for u, v in zip(resumed.stack, reference.stack, strict=True)
    )


def test_integer_arrays_in_a_state_are_refused_naming_the_key(data, tmp_path):
    class Ints(Callback):
        state_attributes = ("seen",)
        seen = np.arange(3)

    with pytest.raises(ValueError, match="state of callback 0 \\(Ints\\) 'seen'"):
        fit(build(), data, [Ints(), BackupAndRestore(tmp_path)], epochs=1)


def test_callback_states_round_trip_and_a_missing_key_is_refused():
    early = EarlyStopping()
    early.wait, early.best, early.best_weights = 2, 0.5, [np.ones(2)]
    state = early.get_state()
    assert sorted(state) == sorted(
        ["wait", "stopped_epoch", "best", "best_weights", "best_epoch"]
    )
    fresh = EarlyStopping()
    fresh.set_state(state)
    assert (fresh.wait, fresh.best, fresh.best_weights) == (
        2,
        0.5,
        state["best_weights"],
    )
    assert sorted(ReduceLROnPlateau().get_state()) == [
        "best",
        "cooldown_counter",
        "wait",
    ]
    assert "best" in ModelCheckpoint("m.h5").get_state()
    assert Callback().get_state() == {}
    Callback().set_state({"anything": 1})  # the base keeps no state
    with pytest.raises(ValueError, match="state"):
        fresh.set_state({"wait": 1})


def test_tensorboard_keeps_its_step_counter():
    pytest.importorskip("tensorboardX")
    from glassnet.callbacks.tensorboard import TensorBoard

    board = TensorBoard(log_dir="unused")
    board._global_train_batch = 12
    other = TensorBoard(log_dir="unused")
    other.set_state(board.get_state())
    assert other._global_train_batch == 12


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"backup_dir": ""}, "backup_dir"),
        ({"backup_dir": None}, "backup_dir"),
        ({"backup_dir": "b", "save_freq": 0}, "save_freq"),
        ({"backup_dir": "b", "save_freq": True}, "save_freq"),
        ({"backup_dir": "b", "save_freq": "batch"}, "save_freq"),
        ({"backup_dir": "b", "delete_checkpoint": "yes"}, "delete_checkpoint"),
        ({"backup_dir": "b", "save_before_preemption": True}, "save_before_preemption"),
    ],
)
def test_invalid_arguments_are_refused_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BackupAndRestore(**kwargs)


def test_nothing_is_restored_or_warned_about_without_a_checkpoint(data, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(build(), data, [BackupAndRestore(tmp_path / "b")], epochs=2)
    assert history.epoch == [0, 1]


def test_another_optimizer_in_the_resumed_fit_raises_naming_both(data, tmp_path):
    folder = crash_then_resume(data, tmp_path, epoch=2)
    model = build()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(InvalidFileError, match="SGD optimizer; received 'Adam'"):
        fit(model, data, callbacks_config(folder))


def test_a_learning_rate_schedule_resumes_from_the_restored_iterations(data, tmp_path):
    def scheduled():
        model = build()
        decay = optimizers.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
        model.compile(
            optimizer=optimizers.SGD(learning_rate=decay, momentum=0.9),
            loss="sparse_categorical_crossentropy",
        )
        return model

    reference = scheduled()
    fit(reference, data, [BackupAndRestore(tmp_path / "a")], epochs=4)
    with pytest.raises(RuntimeError, match="crash"):
        fit(scheduled(), data, [BackupAndRestore(tmp_path), Crash(2)], epochs=4)
    resumed = scheduled()
    fit(resumed, data, [BackupAndRestore(tmp_path)], epochs=4)
    assert_same_training(resumed, reference)


class CrashAtEpochEnd(Callback):
    """Raises at the end of epoch ``epoch``: after the CSV row, before the backup."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("crash")


def test_a_crash_between_the_csv_row_and_the_backup_leaves_no_duplicate_row(
    data, tmp_path
):
    from glassnet.callbacks.csv_logger import CSVLogger

    def run(folder, crash=None):
        folder.mkdir(exist_ok=True)
        csv = CSVLogger(folder / "history.csv", append=True)
        cbs = [csv, *([] if crash is None else [CrashAtEpochEnd(crash)])]
        return fit(build(), data, [*cbs, BackupAndRestore(folder / "backup")], 5)

    run(tmp_path / "reference")
    with pytest.raises(RuntimeError, match="crash"):
        run(tmp_path / "run", crash=2)
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2"]
    run(tmp_path / "run")
    got = (tmp_path / "run" / "history.csv").read_text()
    assert got == (tmp_path / "reference" / "history.csv").read_text()


def test_a_resumed_fit_keeps_the_optimizers_weight_averages(data, tmp_path):
    # use_ema: the averages are optimizer slots, saved with the backup, so the
    # resumed run ends on the same averaged weights as an uninterrupted one.
    def build_ema():
        model = build()
        model.compile(
            optimizer=optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9),
            loss="sparse_categorical_crossentropy",
        )
        return model

    def run(folder, extra=()):
        model = build_ema()
        fit(model, data, [BackupAndRestore(folder), *extra], epochs=6)
        return model

    class CountBatches(Callback):
        count = 0

        def on_train_batch_end(self, batch, logs=None):
            CountBatches.count += 1

    whole = run(tmp_path / "whole")
    with pytest.raises(RuntimeError, match="crash"):
        run(tmp_path / "run", [Crash(3)])
    resumed = run(tmp_path / "run", [CountBatches()])
    assert CountBatches.count == 3 * 6  # epochs 3-5 only: it went on from the backup
    assert_same_training(resumed, whole)
    last = {
        f"{layer.name}/{key}": value
        for layer in whole.layers
        for key, value in layer.params.items()
    }
    for key, value in last.items():  # fit ended on the averages
        np.testing.assert_array_equal(value, whole.optimizer.slots[key]["average"])
