import numpy as np
import pytest

from glassnet import layers, models
from glassnet.callbacks.base import CallbackList
from glassnet.callbacks.lambda_callback import LambdaCallback


def recording_callback(calls, **extra):
    def record(name):
        return lambda *args: calls.append((name, *args))

    names = [
        "on_epoch_begin",
        "on_epoch_end",
        "on_train_begin",
        "on_train_end",
        "on_train_batch_begin",
        "on_train_batch_end",
    ]
    return LambdaCallback(**{n: record(n) for n in names}, **extra)


def test_each_function_is_called_with_keras_arguments():
    calls = []
    cb = recording_callback(calls)
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_train_batch_begin(0)
    cb.on_train_batch_end(0, {"loss": 1.0})
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_train_end({"loss": 1.0})
    assert calls == [
        ("on_train_begin", {}),
        ("on_epoch_begin", 0, {}),
        ("on_train_batch_begin", 0, {}),
        ("on_train_batch_end", 0, {"loss": 1.0}),
        ("on_epoch_end", 0, {"loss": 1.0}),
        ("on_train_end", {"loss": 1.0}),
    ]


def test_fit_calls_the_hooks_in_order():
    calls = []
    model = models.Sequential([layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(
        np.ones((4, 2)),
        np.ones((4, 1)),
        epochs=2,
        batch_size=2,
        verbose=0,
        callbacks=[recording_callback(calls)],
    )
    names = [(c[0], c[1]) if len(c) == 3 else (c[0],) for c in calls]
    epoch = [
        ("on_train_batch_begin", 0),
        ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1),
        ("on_train_batch_end", 1),
    ]
    assert names == [
        ("on_train_begin",),
        ("on_epoch_begin", 0),
        *epoch,
        ("on_epoch_end", 0),
        ("on_epoch_begin", 1),
        *epoch,
        ("on_epoch_end", 1),
        ("on_train_end",),
    ]
    assert set(calls[-2][2]) == {"loss"}  # Keras 3: no learning_rate of its own


def test_hooks_left_out_do_nothing():
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    cb.on_train_begin()
    cb.on_train_batch_end(0, {})
    cb.on_test_end({})


def test_other_hooks_and_the_old_batch_names_come_as_keywords():
    calls = []
    cb = LambdaCallback(
        on_test_begin=lambda logs: calls.append("test_begin"),
        on_predict_batch_end=lambda batch, logs: calls.append(("predict", batch)),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
    )
    CallbackList([cb], model=None, params={}).on_test_begin()
    cb.on_predict_batch_end(2, {})
    cb.on_train_batch_end(1, {"loss": 0.5})
    assert calls == ["test_begin", ("predict", 2), ("batch_end", 1)]


def test_an_explicit_hook_wins_over_its_old_name():
    calls = []
    cb = LambdaCallback(
        on_train_batch_end=lambda batch, logs: calls.append("new"),
        on_batch_end=lambda batch, logs: calls.append("old"),
    )
    cb.on_train_batch_end(0, {})
    assert calls == ["new"]


def test_a_non_callable_hook_raises_naming_it():
    with pytest.raises(ValueError, match="on_epoch_end"):
        LambdaCallback(on_epoch_end="print")
    with pytest.raises(ValueError, match="on_test_end"):
        LambdaCallback(on_test_end=3)


def test_an_unknown_keyword_raises_naming_it():
    with pytest.raises(ValueError, match="on_epoch_finish"):
        LambdaCallback(on_epoch_finish=lambda epoch, logs: None)
