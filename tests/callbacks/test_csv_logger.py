import csv

import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.csv_logger import CSVLogger
from glassnet.callbacks.learning_rate_scheduler import LearningRateScheduler


def read_rows(path, delimiter=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def log_epochs(logger, epochs):
    logger.on_train_begin()
    for epoch, logs in enumerate(epochs):
        logger.on_epoch_end(epoch, logs)
    logger.on_train_end()


def test_header_is_epoch_then_the_sorted_keys_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(
        CSVLogger(path),
        [
            {"val_loss": 0.75, "loss": 1.0, "accuracy": 0.25},
            {"val_loss": 0.5, "loss": 0.5, "accuracy": 0.5},
        ],
    )
    assert read_rows(path) == [
        ["epoch", "accuracy", "loss", "val_loss"],
        ["0", "0.25", "1.0", "0.75"],
        ["1", "0.5", "0.5", "0.5"],
    ]


def test_values_read_back_as_the_floats_that_were_logged(tmp_path, rng):
    path = tmp_path / "log.csv"
    values = rng.random(3).tolist()
    log_epochs(CSVLogger(path), [{"loss": v} for v in values])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["loss"]) for r in rows] == values
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]


def test_separator_is_used_between_fields(tmp_path):
    path = tmp_path / "log.tsv"
    log_epochs(CSVLogger(str(path), separator="\t"), [{"loss": 1.0, "mae": 2.0}])
    assert path.read_text().splitlines() == ["epoch\tloss\tmae", "0\t1.0\t2.0"]


def test_a_key_missing_from_a_later_epoch_is_written_as_na(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(CSVLogger(path), [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5}])
    assert read_rows(path)[2] == ["1", "0.5", "NA"]


def test_append_adds_rows_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(CSVLogger(path), [{"loss": 1.0}])
    log_epochs(CSVLogger(path, append=True), [{"loss": 0.5}, {"loss": 0.25}])
    assert read_rows(path) == [
        ["epoch", "loss"],
        ["0", "1.0"],
        ["0", "0.5"],
        ["1", "0.25"],
    ]


def test_append_to_a_new_file_writes_the_header(tmp_path):
    path = tmp_path / "new.csv"
    log_epochs(CSVLogger(path, append=True), [{"loss": 1.0}])
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]


def test_without_append_a_second_fit_overwrites_the_file(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    log_epochs(logger, [{"loss": 1.0}, {"loss": 0.5}])
    log_epochs(logger, [{"acc": 0.5}])
    assert read_rows(path) == [["epoch", "acc"], ["0", "0.5"]]


def test_sequence_values_are_written_in_brackets(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(CSVLogger(path), [{"per_class": np.array([1, 2]), "loss": 1.0}])
    assert read_rows(path)[1] == ["0", "1.0", "[1, 2]"]


def test_rows_are_flushed_after_every_epoch(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]
    logger.on_train_end()
    assert logger.csv_file is None


def test_fit_writes_every_logged_key(tmp_path):
    path = tmp_path / "log.csv"
    model = models.Sequential([layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 2)), np.ones((8, 1))
    model.fit(
        x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[CSVLogger(path)]
    )
    rows = read_rows(path)
    # Keras 3: fit logs no learning_rate of its own.
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]


def test_learning_rate_column_comes_from_the_learning_rate_callbacks(tmp_path):
    # Keras 3: ReduceLROnPlateau and LearningRateScheduler write
    # logs["learning_rate"] in on_epoch_end; a CSVLogger after them records it.
    path = tmp_path / "log.csv"
    model = models.Sequential([layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    x, y = np.ones((8, 2)), np.ones((8, 1))
    schedule = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    history = model.fit(
        x, y, epochs=2, verbose=0, callbacks=[schedule, CSVLogger(path)]
    )
    rows = read_rows(path)
    assert rows[0] == ["epoch", "learning_rate", "loss"]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx([0.1, 0.05])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"filename": ""}, "filename"),
        ({"filename": 3}, "filename"),
        ({"filename": "a.csv", "separator": ";;"}, "separator"),
        ({"filename": "a.csv", "separator": ""}, "separator"),
        ({"filename": "a.csv", "append": "yes"}, "append"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CSVLogger(**kwargs)


def test_restored_state_drops_rows_written_after_the_backup(tmp_path):
    path = tmp_path / "log.csv"
    first = CSVLogger(path, append=True)
    first.on_train_begin()
    for epoch in range(3):
        first.on_epoch_end(epoch, {"loss": float(epoch)})
    state = first.get_state()
    assert state == {"rows": 3}
    first.on_epoch_end(3, {"loss": 3.0})  # written, then the process died
    first.on_train_end()
    second = CSVLogger(path, append=True)
    second.on_train_begin()
    second.set_state(state)
    second.on_epoch_end(3, {"loss": 30.0})
    second.on_train_end()
    rows = path.read_text().splitlines()
    assert rows == ["epoch,loss", "0,0.0", "1,1.0", "2,2.0", "3,30.0"]


def test_validation_columns_absent_from_the_first_epoch_are_written_as_na(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.set_params({"do_validation": True})
    log_epochs(
        logger,
        [
            {"loss": 1.0, "accuracy": 0.5, "learning_rate": 0.1},
            {"loss": 0.5, "accuracy": 0.75, "learning_rate": 0.1, "val_loss": 0.6,
             "val_accuracy": 0.7},
        ],
    )  # fmt: skip
    assert read_rows(path) == [
        ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"],
        ["0", "0.5", "0.1", "1.0", "NA", "NA"],
        ["1", "0.75", "0.1", "0.5", "0.7", "0.6"],
    ]


def test_without_validation_no_validation_columns_are_added(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(CSVLogger(path), [{"loss": 1.0}])
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]


def test_fit_with_validation_freq_writes_na_on_epochs_without_validation(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 1))
    model = models.Sequential([layers.Dense(1)])
    model.compile("sgd", "mse")
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    model.fit(
        x, y, epochs=2, verbose=0, validation_split=0.25, validation_freq=2,
        callbacks=[logger],
    )  # fmt: skip
    rows = read_rows(path)
    column = rows[0].index("val_loss")
    assert rows[1][column] == "NA" and rows[2][column] != "NA"
