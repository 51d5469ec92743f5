"""Automatic names as Keras 3 gives them (keras/src/utils/naming.py): per
process, at construction, ``dense``, ``dense_1``...; ``clear_session()`` starts
again. Files and backups are matched by position, so a twin model built in the
same process (other names) loads another's weights, model file and backup."""

import numpy as np
import pytest

from glassnet import backend, callbacks, layers, models, utils
from glassnet.layers import Layer


def _mlp(seed=0):
    model = models.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(6, activation="relu"),
            layers.Dropout(0.2, seed=1),
            layers.Dense(2),
        ],
        seed=seed,
    )
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture
def data(rng):
    return rng.normal(size=(24, 4)).astype("f"), rng.normal(size=(24, 2)).astype("f")


def test_layers_are_named_when_created_per_process_as_in_keras():
    utils.clear_session()
    first, second = layers.Dense(2), layers.Dense(3)
    assert (first.name, second.name) == ("dense", "dense_1")  # before any model
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.Dense(1, name="mine").name == "mine"
    assert layers.Dense(1).name == "dense_2"  # a given name takes no number
    assert backend.get_uid("dense") == 4  # Keras' get_uid shares the counters
    utils.clear_session()
    assert layers.Dense(2).name == "dense"


def test_models_are_named_sequential_functional_and_by_their_class():
    utils.clear_session()
    assert [models.Sequential().name for _ in range(2)] == [
        "sequential",
        "sequential_1",
    ]
    names = []
    for _ in range(2):
        x = layers.Input((3,))
        names.append(models.Model(x, layers.Dense(1)(x)).name)
    assert names == ["functional", "functional_1"]

    class MyModel(models.Model):
        def call(self, x):
            return x

    assert MyModel().name == "my_model"
    assert models.Sequential(name="net").name == "net"


def test_twin_models_in_one_process_have_other_names(data):
    a, b = _mlp(), _mlp()
    assert [la.name for la in a.layers] == ["dense", "dropout", "dense_1"]
    assert [la.name for la in b.layers] == ["dense_2", "dropout_1", "dense_3"]


def test_a_twin_loads_the_others_weights_file_and_model_file(data, tmp_path):
    a = _mlp()
    a.fit(*data, epochs=2, verbose=0)
    a.save_weights(tmp_path / "w")
    a.save(tmp_path / "m")
    for path in ("w", "m"):
        twin = _mlp(seed=5)
        twin.load_weights(tmp_path / path)
        np.testing.assert_array_equal(
            twin.predict(data[0], verbose=0), a.predict(data[0], verbose=0)
        )
    clone = models.load_model(tmp_path / "m")
    assert [la.name for la in clone.layers] == [la.name for la in a.layers]


def test_a_twin_with_nested_sublayers_loads_by_position(rng, tmp_path):
    class Block(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = [layers.Dense(3), layers.Dense(2)]

        def call(self, x):
            return self.inner[1](self.inner[0](x))

    x = rng.normal(size=(5, 4)).astype("f")
    a = models.Sequential([layers.Input((4,)), Block()])
    b = models.Sequential([layers.Input((4,)), Block()])
    assert a.layers[0].weight_names != b.layers[0].weight_names  # dense vs dense_2
    a.save_weights(tmp_path / "w")
    b.load_weights(tmp_path / "w")
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_a_twin_resumes_the_others_backup_as_the_uninterrupted_run(data, tmp_path):
    class Crash(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("crash")

    folder = str(tmp_path / "backup")
    kw = dict(batch_size=8, epochs=4, verbose=0)
    with pytest.raises(RuntimeError, match="crash"):
        _mlp().fit(*data, callbacks=[callbacks.BackupAndRestore(folder), Crash()], **kw)
    resumed = _mlp()
    resumed.fit(*data, callbacks=[callbacks.BackupAndRestore(folder)], **kw)
    reference = _mlp()
    reference.fit(*data, **kw)
    for u, v in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert resumed.history.history["loss"] == reference.history.history["loss"]
    assert resumed.optimizer.iterations == reference.optimizer.iterations


def test_a_twin_loads_a_model_checkpoint(data, tmp_path):
    path = str(tmp_path / "best.weights.h5")
    a = _mlp()
    a.fit(
        *data,
        epochs=1,
        verbose=0,
        callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True)],
    )
    twin = _mlp(seed=3)
    twin.load_weights(path)
    np.testing.assert_array_equal(
        twin.predict(data[0], verbose=0), a.predict(data[0], verbose=0)
    )
