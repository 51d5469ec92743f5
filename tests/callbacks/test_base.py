from glassnet.callbacks import Callback, CallbackList, History, ProgbarLogger


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((epoch, dict(logs)))


def test_callback_list_dispatches_each_hook_in_order_and_sets_the_model():
    a, b = Recorder(), Recorder()
    cbs = CallbackList([a, b], model="m", params={"epochs": 1})
    cbs.on_epoch_end(0, {"loss": 1.0})
    cbs.on_train_begin()
    assert a.calls == b.calls == [(0, {"loss": 1.0})]
    assert a.model == "m" and b.params == {"epochs": 1}


def test_history_collects_every_key_per_epoch():
    h = History()
    h.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
    h.on_epoch_end(1, {"loss": 0.5, "accuracy": 0.75})
    assert h.history == {"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}
    assert h.epoch == [0, 1]


def test_progbar_verbose_2_prints_one_keras_style_line_per_epoch(capsys):
    p = ProgbarLogger(verbose=2)
    p.set_params({"epochs": 3})
    p.on_epoch_begin(0)
    p.on_epoch_end(0, {"loss": 0.25, "accuracy": 0.5})
    assert capsys.readouterr().out == "Epoch 1/3 - loss: 0.2500 - accuracy: 0.5000\n"


def test_progbar_verbose_1_draws_a_tqdm_bar_with_the_running_logs(capsys):
    import pytest

    pytest.importorskip("tqdm")
    p = ProgbarLogger(verbose=1)
    p.set_params({"epochs": 1, "steps": 2})
    p.on_epoch_begin(0)
    p.on_train_batch_end(0, {"loss": 0.5})
    p.on_train_batch_end(1, {"loss": 0.25})
    p.on_epoch_end(0, {"loss": 0.25})
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "2/2" in out and "loss: 0.2500" in out


def test_evaluate_prints_its_logs_with_verbose_2_and_nothing_with_0(capsys):
    import numpy as np

    from glassnet import layers, models

    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(
        optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.evaluate(x, y, verbose=2)
    assert capsys.readouterr().out.startswith("loss: ")
    model.evaluate(x, y, verbose=1)
    assert "1/1" in capsys.readouterr().out
