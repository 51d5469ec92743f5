import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.base import Callback
from glassnet.callbacks.early_stopping import EarlyStopping
from tests.callbacks.stubs import StubModel, run_epochs


def diverging_fit(callbacks):
    """Keras' documented EarlyStopping example: with lr 0.01 on inputs up to 99 the
    loss explodes, so it never improves after epoch 0."""
    model = models.Sequential([layers.Dense(10)])
    model.compile(optimizer=optimizers.SGD(), loss="mse")
    x = np.arange(100).reshape(5, 20)
    with np.errstate(all="ignore"):
        # The targets (5,) broadcast against the (5, 10) outputs, as in Keras.
        history = model.fit(
            x,
            np.zeros(5),
            epochs=10,
            batch_size=1,
            callbacks=callbacks,
            verbose=0,
        )
    return model, history


def test_keras_documented_example_runs_exactly_four_epochs():
    callback = EarlyStopping(monitor="loss", patience=3)
    _, history = diverging_fit([callback])
    assert len(history.history["loss"]) == 4
    assert callback.stopped_epoch == 3


def test_restore_best_weights_on_a_real_model_puts_back_the_first_epoch():
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    callback = EarlyStopping(monitor="loss", patience=3, restore_best_weights=True)
    model, _ = diverging_fit([callback, Snapshot()])
    assert len(snapshots) == 4
    for restored, best in zip(model.get_weights(), snapshots[0], strict=True):
        np.testing.assert_array_equal(restored, best)


def test_stops_after_patience_epochs_and_restores_the_best_epoch():
    # Keras early_stopping_test: the best loss 0.1 is at epoch 2.
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model = StubModel()
    assert run_epochs(stopper, model, [0.2, 0.15, 0.1, 0.11, 0.12]) == 5
    assert stopper.stopped_epoch == 4
    assert stopper.best == 0.1 and stopper.best_epoch == 2
    assert model.weights == 2


def test_without_restore_the_last_weights_stay():
    stopper = EarlyStopping(patience=2)
    model = StubModel()
    assert run_epochs(stopper, model, [0.2, 0.15, 0.1, 0.11, 0.12]) == 5
    assert model.weights == 4 and stopper.best_weights is None


def test_best_weights_are_restored_when_the_epochs_run_out():
    # Keras 3 restores at the end of training, not only after an early stop.
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    model = StubModel()
    assert run_epochs(stopper, model, [0.3, 0.1, 0.2]) == 3
    assert stopper.stopped_epoch == 0 and not model.stop_training
    assert model.weights == 1


def test_best_weights_are_restored_when_another_callback_stops_training():
    stopper = EarlyStopping(patience=5, baseline=0.5, restore_best_weights=True)
    model = StubModel()
    values = [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]
    assert run_epochs(stopper, model, values, stop_at=3) == 4
    assert stopper.stopped_epoch == 0
    assert model.weights == 2


def test_never_beating_the_baseline_stops_after_patience_and_restores_the_best():
    # Keras early_stopping_test: nothing beats 0.5, so the counter never restarts
    # and training stops after 5 epochs; the best seen (epoch 2) is restored.
    stopper = EarlyStopping(patience=5, baseline=0.5, restore_best_weights=True)
    model = StubModel()
    assert run_epochs(stopper, model, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]) == 5
    assert stopper.stopped_epoch == 4
    assert model.weights == 2


def test_beating_the_baseline_restarts_the_patience_counter():
    stopper = EarlyStopping(patience=2, baseline=0.5)
    # epoch 0 improves but not on the baseline (wait 1); epoch 1 beats it (wait 0);
    # epochs 2 and 3 do not improve, so patience 2 runs out at epoch 3.
    assert run_epochs(stopper, StubModel(), [0.9, 0.4, 0.45, 0.46, 0.3]) == 4
    assert stopper.stopped_epoch == 3


def test_improvements_under_the_baseline_do_not_stop_training_early():
    stopper = EarlyStopping(patience=2, baseline=0.5)
    # The counter grows through 3 improving epochs, but only a non-improving
    # epoch can stop training: epoch 3.
    assert run_epochs(stopper, StubModel(), [0.9, 0.8, 0.7, 0.71, 0.6]) == 4
    assert stopper.stopped_epoch == 3


def test_warm_up_epochs_are_not_monitored():
    stopper = EarlyStopping(patience=2, start_from_epoch=2, restore_best_weights=True)
    model = StubModel()
    # The low values of epochs 0 and 1 are ignored: the best is 0.4 at epoch 3.
    values = [0.1, 0.1, 0.5, 0.4, 0.45, 0.46, 0.1]
    assert run_epochs(stopper, model, values) == 6
    assert stopper.stopped_epoch == 5 and stopper.best_epoch == 3
    assert model.weights == 3


def test_nothing_is_restored_when_no_epoch_was_monitored():
    stopper = EarlyStopping(patience=0, start_from_epoch=10, restore_best_weights=True)
    model = StubModel()
    assert run_epochs(stopper, model, [0.3, 0.2, 0.1]) == 3
    assert stopper.best_weights is None and model.weights == 2


def test_missing_monitor_warns_and_never_stops():
    stopper = EarlyStopping(monitor="val_loss", restore_best_weights=True)
    model = StubModel()
    with pytest.warns(RuntimeWarning, match="loss"):
        assert run_epochs(stopper, model, [1.0, 2.0, 3.0], key="loss") == 3
    assert model.weights == 2


def test_patience_0_stops_at_the_first_epoch_without_improvement():
    stopper = EarlyStopping(patience=0)
    assert run_epochs(stopper, StubModel(), [1.0, 0.5, 0.6, 0.4]) == 3
    assert stopper.stopped_epoch == 2


def test_changes_smaller_than_min_delta_are_not_improvements():
    stopper = EarlyStopping(patience=1, min_delta=0.1)
    assert run_epochs(stopper, StubModel(), [1.0, 0.95, 0.5]) == 2


def test_accuracy_is_maximised_and_read_under_its_old_name():
    stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    values = [0.5, 0.6, 0.55, 0.9]
    assert run_epochs(stopper, StubModel(), values, key="val_acc") == 3


def test_state_is_reset_so_the_callback_can_be_reused():
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    run_epochs(stopper, StubModel(), [0.1, 0.2, 0.3])
    model = StubModel()
    # A stale best of 0.1 would stop this second run at epoch 1.
    assert run_epochs(stopper, model, [0.5, 0.4, 0.3]) == 3
    assert stopper.stopped_epoch == 0 and model.weights == 2


def test_verbose_prints_the_stop_and_the_restore(capsys):
    stopper = EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    run_epochs(stopper, StubModel(), [0.1, 0.2, 0.3])
    assert capsys.readouterr().out == (
        "Epoch 2: early stopping\n"
        "Restoring model weights from the end of the best epoch: 1.\n"
    )


def test_silent_by_default(capsys):
    run_epochs(EarlyStopping(patience=1), StubModel(), [0.1, 0.2, 0.3])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"patience": -1}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"verbose": -1}, "verbose"),
        ({"mode": "maximum"}, "mode"),
        ({"baseline": "low"}, "baseline"),
        ({"restore_best_weights": 1}, "restore_best_weights"),
        ({"start_from_epoch": -2}, "start_from_epoch"),
        ({"min_delta": None}, "min_delta"),
        ({"monitor": None}, "monitor"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EarlyStopping(**kwargs)
