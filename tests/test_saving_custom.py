"""A user's own layer trains, saves and loads: with ``custom_objects``, with
``register_serializable`` (Keras' ``register_keras_serializable``) or inside a
``custom_object_scope``; and a file naming a class the caller did not give is
refused, with nothing it names ever imported."""

import json
import sys

import numpy as np
import pytest

from glassnet import initializers, layers, models, saving
from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback
from glassnet.errors import InvalidFileError
from glassnet.models import Sequential
from glassnet.saving import registration
from tests.test_safetensors_file import contents, forge


class ScaledReLU(layers.Layer):
    """out = scale * relu(x), with one trainable ``scale`` per feature."""

    def __init__(self, init_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(init_scale, int | float) or isinstance(init_scale, bool):
            raise ValueError(f"init_scale: expected a number; received {init_scale!r}")
        self.init_scale = float(init_scale)

    def build(self, input_shape, rng=None):
        shape = (int(input_shape[-1]),)
        self.add_weight("scale", shape, initializers.Constant(self.init_scale), rng)
        super().build(input_shape)

    def forward(self, x, training=False):
        relu = np.maximum(x, 0)
        self._cache = relu
        return self.params["scale"] * relu

    def backward(self, dout):
        relu, self._cache = self._cache, None
        self.grads = {"scale": (dout * relu).reshape(-1, relu.shape[-1]).sum(axis=0)}
        return dout * self.params["scale"] * (relu > 0)

    def get_config(self):
        return {**super().get_config(), "init_scale": self.init_scale}


@pytest.fixture(autouse=True)
def clean_registry():
    """Each test starts and ends with the registry it found."""
    saved = dict(registration._REGISTERED), dict(registration._NAMES)
    yield
    for live, before in zip(
        (registration._REGISTERED, registration._NAMES), saved, strict=True
    ):
        live.clear()
        live.update(before)


@pytest.fixture
def data(rng):
    x = rng.normal(size=(32, 5)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    return x, y


def build(cls=ScaledReLU):
    model = models.Sequential(
        [
            layers.Input(shape=(5,)),
            layers.Dense(8),
            cls(init_scale=0.5),
            layers.Dropout(0.2, seed=3),
            layers.Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def trained(data, cls=ScaledReLU):
    model = build(cls)
    model.fit(*data, batch_size=8, epochs=2, verbose=0)
    return model


def _unnamed(config):
    """A model config without the names a twin built in this process changes."""
    layers = [
        {**spec, "config": {k: v for k, v in spec["config"].items() if k != "name"}}
        for spec in config["layers"]
    ]
    return {**{k: v for k, v in config.items() if k != "name"}, "layers": layers}


def assert_same_model(a, b, x):
    assert _unnamed(a.get_config()) == _unnamed(b.get_config())
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert wa.dtype == wb.dtype and np.array_equal(wa, wb)
    assert np.array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def assert_resumes_identically(a, b, data):
    for model in (a, b):
        model.fit(*data, batch_size=8, epochs=2, verbose=0)
    assert_same_model(a, b, data[0])


def saved_layer_names(path):
    meta, _ = contents(path)
    return [
        spec["class_name"] for spec in json.loads(meta["model"])["config"]["layers"]
    ]


# -- custom_objects --


def test_a_custom_layer_loads_with_custom_objects_and_resumes_training(data, tmp_path):
    model = trained(data)
    assert model.layers[1].params["scale"].tolist() != [0.5] * 8  # it learned
    model.save(tmp_path / "m.h5")
    assert saved_layer_names(tmp_path / "m.h5")[1] == "ScaledReLU"
    clone = models.load_model(
        tmp_path / "m.h5", custom_objects={"ScaledReLU": ScaledReLU}
    )
    assert type(clone.layers[1]) is ScaledReLU and clone.layers[1].init_scale == 0.5
    assert_same_model(model, clone, data[0])
    assert_resumes_identically(model, clone, data)


def test_models_load_model_is_saving_load_model():
    assert models.load_model is saving.load_model


def test_custom_objects_may_also_be_passed_positionally_as_in_keras(data, tmp_path):
    model = trained(data)
    model.save(tmp_path / "m.h5")
    clone = saving.load_model(tmp_path / "m.h5", {"ScaledReLU": ScaledReLU}, False)
    assert clone.optimizer is None
    assert_same_model(model, clone, data[0])


def test_a_custom_object_scope_serves_loaders_and_from_config(data, tmp_path):
    model = trained(data)
    model.save(tmp_path / "m.h5")
    with saving.custom_object_scope({"ScaledReLU": ScaledReLU}):
        clone = models.load_model(tmp_path / "m.h5")
        rebuilt = Sequential.from_config(model.get_config())
    assert_same_model(model, clone, data[0])
    assert type(rebuilt.layers[1]) is ScaledReLU
    with pytest.raises(ValueError, match="'ScaledReLU'"):
        Sequential.from_config(model.get_config())  # the scope is over


def test_deserialize_layer_takes_custom_objects():
    spec = {"class_name": "ScaledReLU", "config": {"init_scale": 2.0}}
    layer = saving.deserialize_layer(spec, {"ScaledReLU": ScaledReLU})
    assert type(layer) is ScaledReLU and layer.init_scale == 2.0


# -- register_serializable --


def test_a_registered_layer_is_saved_under_its_key_and_loads_by_itself(data, tmp_path):
    assert saving.register_serializable()(ScaledReLU) is ScaledReLU
    assert saving.get_registered_name(ScaledReLU) == "Custom>ScaledReLU"
    model = trained(data)
    model.save(tmp_path / "m.h5")
    assert saved_layer_names(tmp_path / "m.h5") == [
        "Dense",
        "Custom>ScaledReLU",
        "Dropout",
        "Dense",
    ]
    clone = models.load_model(tmp_path / "m.h5")
    assert_same_model(model, clone, data[0])
    assert_resumes_identically(model, clone, data)


def test_the_decorator_takes_a_package_and_name_and_has_keras_alias(data, tmp_path):
    assert saving.register_keras_serializable is saving.register_serializable

    @saving.register_keras_serializable(package="Course", name="Scaled")
    class Scaled(ScaledReLU):
        pass

    assert saving.get_registered_name(Scaled) == "Course>Scaled"
    assert saving.get_registered_object("Course>Scaled") is Scaled
    model = trained(data, Scaled)
    model.save(tmp_path / "m.h5")
    assert saved_layer_names(tmp_path / "m.h5")[1] == "Course>Scaled"
    assert_same_model(model, models.load_model(tmp_path / "m.h5"), data[0])


def test_a_file_saved_before_registering_loads_once_registered(data, tmp_path):
    model = trained(data)
    model.save(tmp_path / "m.h5")  # names the class "ScaledReLU"
    saving.register_serializable()(ScaledReLU)
    assert_same_model(model, models.load_model(tmp_path / "m.h5"), data[0])


def test_a_registered_key_matches_custom_objects_by_class_name(data, tmp_path):
    saving.register_serializable()(ScaledReLU)
    model = trained(data)
    model.save(tmp_path / "m.h5")
    registration.unregister(ScaledReLU)  # as in another process
    clone = models.load_model(
        tmp_path / "m.h5", custom_objects={"ScaledReLU": ScaledReLU}
    )
    assert_same_model(model, clone, data[0])


def test_registering_a_non_layer_is_refused():
    with pytest.raises(ValueError, match="register_serializable: expected a glassnet"):
        saving.register_serializable()(dict)
    with pytest.raises(
        ValueError, match="a glassnet Layer subclass; received function"
    ):
        saving.register_serializable()(lambda: None)
    with pytest.raises(ValueError, match="Layer subclass"):
        saving.register_serializable()(layers.Layer)
    with pytest.raises(ValueError, match="package: expected a non-empty string"):
        saving.register_serializable(package="a>b")
    assert (
        registration._REGISTERED == {} or "Custom>dict" not in registration._REGISTERED
    )


def test_a_key_taken_by_another_class_is_refused_naming_both():
    saving.register_serializable(name="Scaled")(ScaledReLU)

    class Other(ScaledReLU):
        pass

    with pytest.raises(ValueError) as info:
        saving.register_serializable(name="Scaled")(Other)
    message = str(info.value)
    assert "'Custom>Scaled'" in message
    assert f"{__name__}.ScaledReLU" in message and "Other" in message
    assert saving.get_registered_object("Custom>Scaled") is ScaledReLU
    # Registering the same class again is harmless; under a second key it is not.
    saving.register_serializable(name="Scaled")(ScaledReLU)
    with pytest.raises(ValueError, match="one key per class"):
        saving.register_serializable(name="Another")(ScaledReLU)


def test_redefining_a_registered_class_replaces_it_as_a_rerun_cell_does():
    def define():
        @saving.register_serializable()
        class Cell(ScaledReLU):
            pass

        return Cell

    first, second = define(), define()
    assert first is not second
    assert saving.get_registered_object("Custom>Cell") is second
    assert saving.get_registered_name(first) == "Cell"  # no longer registered


# -- refusals --


def test_a_file_naming_an_unknown_class_says_how_to_pass_it(data, tmp_path):
    trained(data).save(tmp_path / "m.h5")
    with pytest.raises(InvalidFileError) as info:
        models.load_model(tmp_path / "m.h5")
    message = str(info.value)
    assert str(tmp_path / "m.h5") in message
    assert "received 'ScaledReLU'" in message
    assert "custom_objects={'ScaledReLU': ScaledReLU}" in message
    assert "register_serializable" in message


def test_a_registered_key_not_registered_here_names_the_key(data, tmp_path):
    saving.register_serializable(package="Course")(ScaledReLU)
    trained(data).save(tmp_path / "m.h5")
    registration.unregister(ScaledReLU)
    with pytest.raises(InvalidFileError, match="'Course>ScaledReLU'.*custom_objects"):
        models.load_model(tmp_path / "m.h5")


@pytest.mark.parametrize(
    "custom_objects, match",
    [
        ({"ScaledReLU": "ScaledReLU"}, r"custom_objects\['ScaledReLU'\]: expected"),
        ({"relu": np.maximum}, r"custom_objects\['relu'\]: expected a glassnet Layer"),
        ({"Dict": dict}, r"custom_objects\['Dict'\].*received builtins.dict"),
        ({"Layer": layers.Layer}, r"custom_objects\['Layer'\]"),
        ({1: ScaledReLU}, "custom_objects: expected non-empty string keys"),
        ([ScaledReLU], "custom_objects: expected a dict"),
    ],
    ids=["string", "function", "other class", "Layer", "int key", "list"],
)
def test_bad_custom_objects_are_refused_before_the_file_is_read(
    custom_objects, match, tmp_path
):
    with pytest.raises(ValueError, match=match) as info:
        models.load_model(tmp_path / "missing.h5", custom_objects=custom_objects)
    assert not isinstance(info.value, InvalidFileError)
    with pytest.raises(ValueError, match=match):
        saving.custom_object_scope(custom_objects).__enter__()


@pytest.mark.parametrize(
    "name", ["this>Zen", "this.Zen", "this", "__import__('this')", "builtins>eval"]
)
def test_a_class_name_is_never_imported_or_evaluated(data, tmp_path, name):
    if "this" in sys.modules:
        pytest.skip("the module was imported before the test")
    trained(data).save(tmp_path / "m.h5")

    def rename(meta, tensors):
        spec = json.loads(meta["model"])
        spec["config"]["layers"][1]["class_name"] = name
        meta["model"] = json.dumps(spec)

    forge(tmp_path / "m.h5", rename)
    with pytest.raises(InvalidFileError, match="layer class_name"):
        models.load_model(tmp_path / "m.h5", custom_objects={"Other": ScaledReLU})
    assert "this" not in sys.modules


def test_a_custom_layer_config_is_checked_like_a_built_in_one(data, tmp_path):
    trained(data).save(tmp_path / "m.h5")

    def edit(meta, tensors):
        spec = json.loads(meta["model"])
        spec["config"]["layers"][1]["config"]["evil"] = 1
        meta["model"] = json.dumps(spec)

    forge(tmp_path / "m.h5", edit)
    with pytest.raises(InvalidFileError, match=r"keys among .*'init_scale'"):
        models.load_model(tmp_path / "m.h5", custom_objects={"ScaledReLU": ScaledReLU})


def test_a_custom_weight_of_the_wrong_shape_is_refused_before_allocation(
    data, tmp_path
):
    trained(data).save(tmp_path / "m.h5")
    forge(
        tmp_path / "m.h5",
        lambda meta, tensors: tensors.update(
            {"layers/scaled_re_lu/scale": np.ones(3, np.float32)}
        ),
    )
    with pytest.raises(
        InvalidFileError, match="weight 'scale' of layer 'scaled_re_lu'"
    ):
        models.load_model(tmp_path / "m.h5", custom_objects={"ScaledReLU": ScaledReLU})


# -- BackupAndRestore --


class Crash(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("crash")


class Epochs(Callback):
    def __init__(self):
        super().__init__()
        self.begun = []

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append(epoch)


@pytest.mark.parametrize("registered", [False, True])
def test_backup_and_restore_resumes_a_model_with_a_custom_layer(
    data, tmp_path, registered
):
    if registered:
        saving.register_serializable()(ScaledReLU)

    def fit(model, folder, extra=()):
        cbs = [BackupAndRestore(folder), *extra]
        return model.fit(*data, batch_size=8, epochs=4, callbacks=cbs, verbose=0)

    reference = build()
    fit(reference, tmp_path / "reference")
    with pytest.raises(RuntimeError, match="crash"):
        fit(build(), tmp_path / "run", [Crash()])
    resumed, epochs = build(), Epochs()
    fit(resumed, tmp_path / "run", [epochs])
    assert epochs.begun == [2, 3]  # it resumed after the two saved epochs
    assert_same_model(reference, resumed, data[0])
    assert resumed.history.history == reference.history.history


def test_sequential_from_config_takes_custom_objects():
    model = models.Sequential([layers.Input((3,)), ScaledReLU(init_scale=2.0)])
    rebuilt = models.Sequential.from_config(
        model.get_config(), custom_objects={"ScaledReLU": ScaledReLU}
    )
    assert isinstance(rebuilt.layers[-1], ScaledReLU)
    assert rebuilt.layers[-1].get_config() == model.layers[-1].get_config()
