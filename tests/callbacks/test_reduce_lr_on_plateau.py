import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from tests.callbacks.stubs import StubModel


def drive(callback, values, key="val_loss", learning_rate=0.1):
    """Returns (rate logged each epoch, optimizer rate after each epoch)."""
    model = StubModel(learning_rate)
    callback.set_model(model)
    callback.on_train_begin()
    logged, after = [], []
    for epoch, value in enumerate(values):
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
        after.append(model.optimizer.learning_rate)
    return logged, after


def test_rate_is_multiplied_by_factor_after_patience_epochs_without_improvement():
    cb = ReduceLROnPlateau(factor=0.5, patience=2)
    # Reductions at the 2nd epoch without improvement (epochs 2 and 4); the
    # improvement at epoch 5 restarts the count, so the next is at epoch 7.
    logged, after = drive(cb, [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5])
    assert after == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
    # logs hold the rate each epoch was trained with, before any reduction.
    assert logged == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025]


def test_cooldown_skips_counting_right_after_a_reduction():
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    _, after = drive(cb, [1.0] * 8)
    # Keras' order: the cooldown counter is decremented before the epoch is
    # judged, so cooldown=2 leaves one epoch uncounted after each reduction
    # (reductions at epochs 1, 3, 5, 7).
    assert after == [0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625]
    _, no_cooldown = drive(ReduceLROnPlateau(factor=0.5, patience=1), [1.0] * 4)
    assert no_cooldown == [0.1, 0.05, 0.025, 0.0125]


def test_rate_never_goes_below_min_lr():
    cb = ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.005)
    _, after = drive(cb, [1.0] * 5)
    # 0.1 -> 0.01 -> max(0.001, 0.005) -> stays at min_lr.
    assert after == pytest.approx([0.1, 0.01, 0.005, 0.005, 0.005], rel=1e-12)


def test_improvements_smaller_than_min_delta_do_not_count():
    cb = ReduceLROnPlateau(factor=0.5, patience=1)  # min_delta 1e-4
    _, after = drive(cb, [1.0, 0.99995, 0.9])
    assert after == [0.1, 0.05, 0.05]


def test_accuracy_is_maximised():
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    _, after = drive(cb, [0.5, 0.6, 0.55], key="val_accuracy")
    assert after == [0.1, 0.1, 0.05]


def test_missing_monitor_warns_and_keeps_the_rate():
    cb = ReduceLROnPlateau(patience=0)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        logged, after = drive(cb, [1.0, 2.0], key="loss")
    assert after == [0.1, 0.1] and logged == [0.1, 0.1]


def test_state_is_reset_so_the_callback_can_be_reused():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=5)
    drive(cb, [0.1, 0.2, 0.3])
    _, after = drive(cb, [0.5, 0.4, 0.3])  # a stale best of 0.1 would reduce
    assert after == [0.1, 0.1, 0.1]


def test_verbose_prints_each_reduction(capsys):
    drive(ReduceLROnPlateau(factor=0.5, patience=0, verbose=1), [1.0, 2.0])
    assert capsys.readouterr().out == (
        "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n"
    )


def test_fit_trains_with_the_reduced_rate():
    x = np.linspace(-1, 1, 16).reshape(8, 2)
    y = x @ np.array([[1.0], [-2.0]])
    model = models.Sequential([layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01), loss="mse")
    # The loss falls every epoch, so under mode="max" no epoch after the first
    # improves and patience 0 halves the rate at the end of epochs 1, 2 and 3.
    cb = ReduceLROnPlateau(monitor="loss", mode="max", factor=0.5, patience=0)
    history = model.fit(x, y, epochs=4, batch_size=4, callbacks=[cb], verbose=0)
    assert np.all(np.diff(history.history["loss"]) < 0)
    assert history.history["learning_rate"] == [0.01, 0.01, 0.005, 0.0025]
    assert model.optimizer.learning_rate == 0.00125


def test_an_optimizer_following_a_schedule_cannot_be_reduced():
    schedule = optimizers.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = StubModel()
    model.optimizer = optimizers.SGD(learning_rate=schedule)
    cb = ReduceLROnPlateau(patience=0)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_loss": 1.0})
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        cb.on_epoch_end(1, {"val_loss": 2.0})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"factor": 1.0}, "factor"),
        ({"factor": 2}, "factor"),
        ({"factor": 0.0}, "factor"),
        ({"patience": -1}, "patience"),
        ({"cooldown": -1}, "cooldown"),
        ({"cooldown": 0.5}, "cooldown"),
        ({"min_lr": -0.1}, "min_lr"),
        ({"verbose": "yes"}, "verbose"),
        ({"mode": "up"}, "mode"),
        ({"min_delta": "small"}, "min_delta"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ReduceLROnPlateau(**kwargs)
