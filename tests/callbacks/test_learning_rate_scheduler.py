import math

import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.learning_rate_scheduler import LearningRateScheduler
from tests.callbacks.stubs import StubModel


def rates(callback, epochs, learning_rate=0.1):
    """The optimizer's rate after each ``on_epoch_begin``."""
    model = StubModel(learning_rate)
    callback.set_model(model)
    callback.on_train_begin()
    out = []
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch)
        out.append(model.optimizer.learning_rate)
    return out


def test_two_argument_schedule_receives_the_epoch_and_current_rate():
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5

    assert rates(LearningRateScheduler(schedule), 3) == [0.05, 0.025, 0.0125]
    assert calls == [(0, 0.1), (1, 0.05), (2, 0.025)]


def test_one_argument_schedule_of_the_epoch_alone_is_accepted():
    cb = LearningRateScheduler(lambda epoch: 1.0 / (epoch + 1))
    assert rates(cb, 3) == [1.0, 0.5, 1.0 / 3]


def test_keras_documented_exponential_schedule():
    # Keras' docstring: keep lr for 10 epochs, then multiply by exp(-0.1).
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)

    out = rates(LearningRateScheduler(scheduler), 12, learning_rate=0.01)
    assert out[:10] == [0.01] * 10
    assert out[10:] == pytest.approx([0.01 * math.exp(-0.1), 0.01 * math.exp(-0.2)])


def test_numpy_scalars_and_ints_are_accepted_as_rates():
    assert rates(LearningRateScheduler(lambda e, lr: np.float32(0.5)), 1) == [0.5]
    assert rates(LearningRateScheduler(lambda e, lr: 1), 1) == [1.0]


@pytest.mark.parametrize("bad", [None, "0.1", 0.0, -1.0, float("nan"), True])
def test_a_schedule_returning_no_positive_rate_raises_naming_schedule(bad):
    cb = LearningRateScheduler(lambda epoch, lr: bad)
    with pytest.raises(ValueError, match="schedule"):
        rates(cb, 1)


def test_epoch_end_logs_the_rate():
    cb = LearningRateScheduler(lambda epoch, lr: 0.25)
    rates(cb, 1)
    logs = {"loss": 1.0}
    cb.on_epoch_end(0, logs)
    assert logs == {"loss": 1.0, "learning_rate": 0.25}


def test_verbose_prints_the_new_rate(capsys):
    rates(LearningRateScheduler(lambda epoch: 0.5, verbose=1), 1)
    assert capsys.readouterr().out == (
        "Epoch 1: LearningRateScheduler setting learning rate to 0.5.\n"
    )


def test_fit_trains_each_epoch_with_the_scheduled_rate():
    model = models.Sequential([layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
    cb = LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch)
    history = model.fit(
        np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0, callbacks=[cb]
    )
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]


def test_a_model_without_an_optimizer_raises():
    cb = LearningRateScheduler(lambda epoch: 0.1)
    cb.set_model(models.Sequential([layers.Dense(1)]))
    with pytest.raises(ValueError, match="optimizer"):
        cb.on_epoch_begin(0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"schedule": 0.1}, "schedule"),
        ({"schedule": lambda: 0.1}, "schedule"),
        ({"schedule": lambda a, b, c: 0.1}, "schedule"),
        ({"schedule": lambda epoch: 0.1, "verbose": -1}, "verbose"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LearningRateScheduler(**kwargs)
