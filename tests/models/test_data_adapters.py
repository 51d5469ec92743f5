"""fit/evaluate/predict on a PyDataset or a Python generator, against the same
arrays through the array loop (the oracle: the same batches in the same order
must give the same weights and history, bit for bit)."""

import threading
import warnings

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback
from glassnet.models.data_adapters import is_batch_source
from glassnet.utils import PyDataset, Sequence

BS = 5


class Batches(PyDataset):
    """Batches of ``size`` rows of the arrays, in index order; records calls."""

    def __init__(self, x, y, size=BS, sw=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sw, self.size = x, y, sw, size
        self.fetched, self.threads, self.epochs_ended, self.epochs_begun = (
            [],
            set(),
            0,
            0,
        )

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        self.fetched.append(i)
        self.threads.add(threading.get_ident())
        rows = slice(i * self.size, (i + 1) * self.size)
        if self.sw is not None:
            return self.x[rows], self.y[rows], self.sw[rows]
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.epochs_begun += 1

    def on_epoch_end(self):
        self.epochs_ended += 1


def batches_of(x, y, size=BS, repeat=False):
    while True:
        for i in range(0, len(x), size):
            yield x[i : i + size], y[i : i + size]
        if not repeat:
            return


def build(classes=0):
    out = layers.Dense(classes or 1, activation="softmax" if classes else None)
    model = models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(4, activation="relu"), out], seed=0
    )
    loss = "sparse_categorical_crossentropy" if classes else "mse"
    model.compile(optimizer="adam", loss=loss, metrics=["mae"] if not classes else [])
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(23, 3)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]


def assert_same(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        assert np.array_equal(u, v)
    assert a.history.history == b.history.history


def test_fit_on_a_py_dataset_equals_fit_on_the_same_arrays_unshuffled(data):
    x, y = data
    arrays, source = build(), build()
    arrays.fit(x, y, batch_size=BS, epochs=3, shuffle=False, verbose=0)
    ds = Batches(x, y)
    source.fit(ds, epochs=3, shuffle=False, verbose=0)
    assert_same(arrays, source)
    assert ds.fetched == list(range(5)) * 3


def test_on_epoch_begin_and_end_are_called_once_per_epoch(data):
    ds = Batches(*data)
    build().fit(ds, epochs=4, verbose=0)
    assert (ds.epochs_begun, ds.epochs_ended) == (4, 4)


def test_shuffle_visits_each_batch_once_per_epoch_in_a_new_order(data):
    ds = Batches(*data)
    build().fit(ds, epochs=3, verbose=0)  # shuffle=True: Keras shuffles batches
    epochs = [ds.fetched[i : i + 5] for i in range(0, 15, 5)]
    assert all(sorted(e) == list(range(5)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_steps_per_epoch_walks_on_through_a_py_dataset_as_keras(data):
    # 5 batches, 2 an epoch: the third epoch gets the last one only (warning
    # that the input ran out) and the fourth starts a new pass.
    ds = Batches(*data)
    with pytest.warns(UserWarning, match="ran out of data") as caught:
        history = build().fit(ds, steps_per_epoch=2, epochs=4, shuffle=False, verbose=0)
    assert ds.fetched == [0, 1, 2, 3, 4, 0, 1]
    assert len(caught) == 1 and history.epoch == [0, 1, 2, 3]


def test_workers_give_the_same_result_as_one_thread(data):
    one, many = build(), build()
    one.fit(Batches(*data), epochs=3, verbose=0)
    ds = Batches(*data, workers=3, max_queue_size=2)
    many.fit(ds, epochs=3, verbose=0)
    assert_same(one, many)
    assert threading.get_ident() not in ds.threads  # fetched on the pool
    # use_multiprocessing is accepted and runs on threads: nothing is pickled.
    threads = build()
    threads.fit(
        Batches(*data, workers=2, use_multiprocessing=True), epochs=3, verbose=0
    )
    assert_same(one, threads)


def test_class_weight_weighs_a_py_dataset_batches_as_arrays(data):
    x, _ = data
    y = (x[:, 0] > 0).astype(int)
    weights = {0: 0.5, 1: 3.0}
    arrays, source = build(2), build(2)
    arrays.fit(x, y, batch_size=BS, class_weight=weights, shuffle=False, verbose=0)
    source.fit(Batches(x, y), class_weight=weights, shuffle=False, verbose=0)
    assert_same(arrays, source)


def test_a_generator_with_steps_per_epoch_goes_on_where_the_last_epoch_stopped(data):
    x, y = data
    by_hand, source = build(), build()
    # 2 batches an epoch from an endless generator: 6 batches in 3 epochs, the
    # 5 batches of the data and then its first again.
    for xb, yb in [*batches_of(x, y), next(batches_of(x, y))]:
        by_hand.train_on_batch(xb, yb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = batches_of(x, y, repeat=True)
        history = source.fit(gen, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    for u, v in zip(by_hand.get_weights(), source.get_weights(), strict=True):
        assert np.array_equal(u, v)
    assert history.epoch == [0, 1, 2]
    # read 6 batches far, and no further: its next batch is the data's second
    assert np.array_equal(next(gen)[0], x[BS : 2 * BS])


def test_a_generator_that_runs_out_before_steps_warns_and_stops_training(data):
    x, y = data
    arrays, source = build(), build()
    arrays.fit(x, y, batch_size=BS, shuffle=False, verbose=0)
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        history = source.fit(
            batches_of(x, y), steps_per_epoch=2, epochs=9, shuffle=False, verbose=0
        )
    assert history.epoch == [0, 1, 2]  # 2 + 2 + 1 batches, then it stopped
    for u, v in zip(arrays.get_weights(), source.get_weights(), strict=True):
        assert np.array_equal(u, v)


def test_a_generator_without_steps_is_one_epoch_until_it_stops(data):
    class Steps(Callback):
        def on_train_begin(self, logs=None):
            self.steps = self.params["steps"]

    spy, model = Steps(), build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(batches_of(*data), shuffle=False, callbacks=[spy], verbose=0)
    assert spy.steps is None  # unknown to the progress bar
    with pytest.warns(UserWarning, match="ran out of data"):
        history = build().fit(batches_of(*data), epochs=3, shuffle=False, verbose=0)
    assert history.epoch == [0]


def test_a_progress_bar_of_unknown_length_is_drawn(data, capsys):
    build().fit(batches_of(*data), shuffle=False, verbose=1)
    assert "5step" in capsys.readouterr().out.replace(" ", "")


def test_shuffle_with_a_generator_is_ignored_with_keras_warning(data):
    with pytest.warns(UserWarning, match="will be ignored since the data `x`"):
        build().fit(batches_of(*data), verbose=0)


def test_evaluate_and_predict_take_the_first_steps_batches(data):
    x, y = data
    model = build()
    model.fit(x, y, verbose=0)
    head = model.evaluate(x[:10], y[:10], batch_size=BS, verbose=0)
    assert model.evaluate(batches_of(x, y), steps=2, verbose=0) == head
    assert model.evaluate(Batches(x, y), steps=2, verbose=0) == head
    assert model.evaluate(x, y, batch_size=BS, steps=2, verbose=0) == head
    whole = model.evaluate(x, y, batch_size=BS, verbose=0)
    assert model.evaluate(Batches(x, y, workers=2), verbose=0) == whole
    assert model.evaluate(batches_of(x, y), verbose=0) == whole
    expected = model.predict(x[:10], verbose=0)
    assert np.array_equal(model.predict(batches_of(x, y), steps=2, verbose=0), expected)
    # predict takes a batch's x, from (x, y) or from x alone
    only_x = (xb for xb, _ in batches_of(x, y))
    assert np.array_equal(model.predict(only_x, verbose=0), model.predict(x, verbose=0))
    with pytest.warns(UserWarning, match="ran out of data"):
        model.evaluate(Batches(x, y), steps=9, verbose=0)


def test_evaluate_arrays_with_steps_and_no_batch_size_cuts_them_in_steps(data):
    x, y = data  # as Keras' array adapter: 23 samples in 2 steps of 12
    model = build()
    expected = model.evaluate(x, y, batch_size=12, verbose=0)
    assert model.evaluate(x, y, steps=2, verbose=0) == expected


def test_a_validation_generator_with_validation_steps_goes_on_each_epoch(data, rng):
    x, y = data
    x_val = rng.normal(size=(10, 3)).astype(np.float32)
    y_val = x_val[:, :1]
    model = build()
    val = batches_of(x_val, y_val, repeat=True)
    history = model.fit(
        Batches(x, y),
        epochs=2,
        validation_data=val,
        validation_steps=1,
        verbose=0,
    )
    # epoch 2 validated on the second batch, with the final weights
    last = model.evaluate(x_val[BS:], y_val[BS:], verbose=0, return_dict=True)
    assert history.history["val_loss"][1] == last["loss"]


def test_validation_on_a_py_dataset_equals_validation_on_arrays(data, rng):
    x, y = data
    x_val = rng.normal(size=(12, 3)).astype(np.float32)
    y_val = x_val[:, :1]
    arrays, source = build(), build()
    arrays.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        validation_data=(x_val, y_val),
        validation_batch_size=BS,
        verbose=0,
    )
    source.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        validation_data=Batches(x_val, y_val),
        verbose=0,
    )
    assert_same(arrays, source)
    assert "val_loss" in source.history.history


def test_trained_input_covers_every_batch_seen(data):
    x, y = data
    model = build()
    model.fit(batches_of(x * 3, y), shuffle=False, verbose=0)
    seen = x * 3
    assert model.trained_input == {
        "dtype": "float32",
        "min": float(seen.min()),
        "max": float(seen.max()),
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch_size": 5}, "batch_size: expected None when x is a PyDataset"),
        ({"y": np.zeros(3)}, "y: expected None when x is a PyDataset"),
        ({"sample_weight": np.ones(3)}, "sample_weight: expected None"),
        ({"validation_split": 0.2}, "validation_split: expected 0 when x is"),
        ({"steps_per_epoch": 0}, "steps_per_epoch: expected an integer >= 1"),
    ],
)
def test_arguments_a_py_dataset_holds_are_refused(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build().fit(Batches(*data), verbose=0, **kwargs)


def test_generators_refuse_what_keras_refuses(data, tmp_path):
    model = build()
    with pytest.raises(ValueError, match="validation_split: expected 0 when x is a"):
        model.fit(batches_of(*data), validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match="class_weight: expected None when x is a"):
        model.fit(batches_of(*data), class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="x: expected a generator that yields at"):
        model.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match=r"batch 0 of x: expected \(x, y\)"):
        model.fit((xb for xb, _ in batches_of(*data)), shuffle=False, verbose=0)
    gen = batches_of(*data)
    with pytest.raises(
        ValueError, match="x: expected arrays or a PyDataset with Backup"
    ):
        model.fit(gen, callbacks=[BackupAndRestore(tmp_path / "b")], verbose=0)
    assert next(gen)[0].shape == (BS, 3)  # refused before reading anything
    with pytest.raises(ValueError, match="validation_data: expected arrays or a Py"):
        model.fit(
            *data,
            validation_data=batches_of(*data),
            callbacks=[BackupAndRestore(tmp_path / "b")],
            verbose=0,
        )


def test_what_counts_as_a_batch_source():
    assert is_batch_source(batches_of(np.zeros((2, 1)), np.zeros(2)))
    assert is_batch_source(iter([(np.zeros((2, 1)), np.zeros(2))]))
    for arrays in (np.zeros((2, 1)), [[1.0], [2.0]], (np.zeros(1),), {"a": 1}, None):
        assert not is_batch_source(arrays)


def test_py_dataset_checks_its_arguments_and_is_sequence_too():
    assert Sequence is PyDataset
    with pytest.raises(ValueError, match="workers: expected an integer >= 0"):
        PyDataset(workers=-1)
    with pytest.raises(ValueError, match="use_multiprocessing: expected True or"):
        PyDataset(use_multiprocessing="yes")

    class NoSuper(PyDataset):
        def __init__(self):
            pass

    with pytest.warns(UserWarning, match=r"super\(\).__init__"):
        assert NoSuper().workers == 1


class CountingSteps(models.Model):
    """A subclass whose train_step and test_step count their calls (and do
    Keras' default work through the base class)."""

    calls = {"train": 0, "test": 0}

    def train_step(self, data):
        CountingSteps.calls["train"] += 1
        return super().train_step(data)

    def test_step(self, data):
        CountingSteps.calls["test"] += 1
        return super().test_step(data)


def test_overridden_steps_run_on_a_py_dataset_as_on_arrays(data):
    x, y = data

    def make():
        inputs = layers.Input(shape=(3,))
        model = CountingSteps(inputs, layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        return model

    arrays, source = make(), make()
    source.set_weights(arrays.get_weights())
    arrays.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    expected = arrays.evaluate(x, y, batch_size=BS, verbose=0)
    CountingSteps.calls.update(train=0, test=0)
    source.fit(Batches(x, y), epochs=2, shuffle=False, verbose=0)
    assert source.evaluate(Batches(x, y), verbose=0) == expected
    assert CountingSteps.calls == {"train": 10, "test": 5}
    assert arrays.history.history == source.history.history


def test_an_error_in_a_worker_thread_reaches_fit(data):
    class Broken(Batches):
        def __getitem__(self, i):
            if i == 3:
                raise KeyError("batch 3 is missing")
            return super().__getitem__(i)

    with pytest.raises(KeyError, match="batch 3 is missing"):
        build().fit(Broken(*data, workers=2), shuffle=False, verbose=0)


def test_an_empty_py_dataset_and_a_nan_batch_are_refused(data):
    x, y = data
    with pytest.raises(ValueError, match="x: expected a PyDataset of at least one"):
        build().fit(Batches(x[:0], y[:0]), verbose=0)
    bad = x.copy()
    bad[12, 0] = np.nan  # in batch 2
    model = build()
    with pytest.raises(ValueError, match="batch 2 of x: x: expected finite"):
        model.fit(Batches(bad, y), shuffle=False, verbose=0)
    # batches 0 and 1 trained and are recorded; the refused one is not
    seen = x[: 2 * BS]
    expected = {"dtype": "float32", "min": float(seen.min()), "max": float(seen.max())}
    assert model.trained_input == expected
