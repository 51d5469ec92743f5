import numpy as np
import pytest

from glassnet import layers, models, optimizers
from glassnet.callbacks.base import Callback
from glassnet.callbacks.terminate_on_nan import TerminateOnNaN
from tests.callbacks.stubs import StubModel


@pytest.mark.parametrize(
    "loss", [float("nan"), float("inf"), -np.inf, np.float32("nan")]
)
def test_a_nan_or_infinite_loss_stops_training_with_keras_message(loss, capsys):
    cb = TerminateOnNaN()
    cb.set_model(StubModel())
    cb.on_train_batch_end(3, {"loss": loss})
    assert cb.model.stop_training
    assert capsys.readouterr().out == "Batch 3: Invalid loss, terminating training\n"


@pytest.mark.parametrize("logs", [{"loss": 1e30}, {"loss": 0.0}, {}, None])
def test_a_finite_or_missing_loss_lets_training_go_on(logs, capsys):
    cb = TerminateOnNaN()
    cb.set_model(StubModel())
    cb.on_train_batch_end(0, logs)
    assert not cb.model.stop_training
    assert capsys.readouterr().out == ""


def test_fit_stops_in_the_batch_where_the_loss_overflows(capsys):
    batches = []

    class Count(Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

    # The float32 loss of Keras' diverging example overflows to inf within a few
    # epochs (at the first batch of the third one).
    model = models.Sequential([layers.Dense(10)])
    model.compile(optimizer=optimizers.SGD(), loss="mse")
    with np.errstate(all="ignore"):
        history = model.fit(
            np.arange(100).reshape(5, 20),
            np.zeros((5, 10)),
            epochs=10,
            batch_size=1,
            callbacks=[TerminateOnNaN(), Count()],
            verbose=0,
        )
    epochs_run = len(history.history["loss"])
    assert epochs_run < 10 and not np.isfinite(history.history["loss"][-1])
    assert len(batches) < 5 * epochs_run  # the last epoch was cut short
    out = capsys.readouterr().out
    assert out == f"Batch {batches[-1]}: Invalid loss, terminating training\n"
