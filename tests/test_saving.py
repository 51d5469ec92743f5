import json
import os

import numpy as np
import pytest
from safetensors import safe_open

from glassnet import layers, models, optimizers
from glassnet.models.sequential import Sequential
from glassnet.saving import (
    deserialize_layer,
    layer_registry,
    load_model,
    load_weights,
    save_model,
    save_weights,
)


def mlp(seed=0, dtype=None):
    kw = {} if dtype is None else {"dtype": dtype}
    return models.Sequential(
        [
            layers.Input(shape=(2, 3)),
            layers.Flatten(**kw),
            layers.Dense(8, activation="relu", **kw),
            layers.Dropout(0.25, **kw),
            layers.Dense(5, **kw),
            layers.Activation("tanh", **kw),
            layers.Dense(3, activation="softmax", **kw),
        ],
        seed=seed,
    )


def data(rng, n=40):
    return rng.normal(size=(n, 2, 3)).astype(np.float32), rng.integers(3, size=n)


def compiled(seed=0, optimizer="adam"):
    model = mlp(seed)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def header(path):
    with safe_open(path, framework="numpy") as f:
        return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


@pytest.mark.parametrize("name", ["my_model", "my_model.h5", "model.03-0.41.h5"])
def test_a_round_trip_gives_identical_predictions_whatever_the_file_name(
    rng, tmp_path, name
):
    x, y = data(rng)
    model = compiled()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / name)
    clone = models.load_model(tmp_path / name)
    assert type(clone) is Sequential and clone.name == model.name
    assert np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [w.dtype for w in clone.get_weights()] == [np.float32] * 6


def test_float64_models_keep_their_dtype(rng, tmp_path):
    model = mlp(dtype="float64")
    x = rng.normal(size=(4, 2, 3))
    save_model(model, tmp_path / "m")
    clone = load_model(tmp_path / "m")
    assert clone.predict(x, verbose=0).dtype == np.float64
    assert np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_file_is_plain_safetensors_with_the_documented_names(rng, tmp_path):
    x, y = data(rng)
    model = compiled()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.h5")
    meta, tensors = header(tmp_path / "m.h5")
    assert meta["format"] == "glassnet" and meta["format_version"] == "1"
    assert meta["content"] == "model" and meta["checksum"].startswith("sha256:")
    spec = json.loads(meta["model"])
    assert spec["class_name"] == "Sequential" and spec["config"]["input_shape"] == [
        2,
        3,
    ]
    assert [s["class_name"] for s in spec["config"]["layers"]] == [
        "Flatten", "Dense", "Dropout", "Dense", "Activation", "Dense"
    ]  # fmt: skip
    compile_spec = json.loads(meta["compile"])
    assert compile_spec["optimizer"]["class_name"] == "Adam"
    assert compile_spec["metrics"] == ["accuracy"]
    # 40 samples in batches of 32 (the default): two steps.
    assert json.loads(meta["optimizer_state"])["iterations"] == 2
    np.testing.assert_array_equal(
        tensors["layers/dense/kernel"], model.layers[1].params["kernel"]
    )
    assert tensors["optimizer/dense/kernel/m"].shape == (6, 8)
    weights = {
        f"{n}/{w}" for n in ("dense", "dense_1", "dense_2") for w in ("kernel", "bias")
    }
    assert set(tensors) == {f"layers/{n}" for n in weights} | {
        f"optimizer/{n}/{slot}" for n in weights for slot in ("m", "v")
    }


def test_fit_resumed_from_a_saved_model_matches_uninterrupted_fit(rng, tmp_path):
    x, y = data(rng, 50)
    straight = compiled(seed=3)
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)

    first = compiled(seed=3)
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "half.h5")
    resumed = models.load_model(tmp_path / "half.h5")
    resumed.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 28
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(a, b)

    # Without the optimizer state the resumed run differs: the test can fail.
    first.save(tmp_path / "fresh.h5", include_optimizer=False)
    fresh = models.load_model(tmp_path / "fresh.h5")
    fresh.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not np.array_equal(fresh.get_weights()[0], straight.get_weights()[0])


def test_compile_settings_and_a_schedule_come_back(tmp_path):
    schedule = optimizers.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = mlp()
    model.compile(optimizers.SGD(schedule, momentum=0.9), loss="mse", metrics=["mae"])
    model.optimizer.iterations = 7
    model.save(tmp_path / "m")
    clone = load_model(tmp_path / "m")
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.optimizer.learning_rate == model.optimizer.learning_rate
    assert type(clone.loss).__name__ == "MeanSquaredError"
    assert [m.name for m in clone.compiled_metrics] == ["mae"]
    assert load_model(tmp_path / "m", compile=False).optimizer is None


def test_the_generator_state_comes_back(tmp_path):
    model = mlp(seed=5)
    model.rng.random(3)
    model.save(tmp_path / "m")
    clone = load_model(tmp_path / "m")
    assert clone.rng.bit_generator.state == model.rng.bit_generator.state


def test_an_unbuilt_model_round_trips(tmp_path):
    model = models.Sequential([layers.Dense(4), layers.Dense(2)], name="lazy")
    model.save(tmp_path / "m")
    clone = load_model(tmp_path / "m")
    assert not clone.built and clone.name == "lazy"
    assert clone.predict(np.ones((2, 7)), verbose=0).shape == (2, 2)


def test_weights_only_files_load_into_a_model_of_the_same_architecture(rng, tmp_path):
    x, _ = data(rng)
    model, other = mlp(seed=1), mlp(seed=2)
    model.save_weights(tmp_path / "w.weights.h5")
    assert header(tmp_path / "w.weights.h5")[0]["content"] == "weights"
    other.load_weights(tmp_path / "w.weights.h5")
    assert np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="weights-only file"):
        load_model(tmp_path / "w.weights.h5")


def test_load_weights_reads_whole_model_files_too(tmp_path):
    model, other = compiled(seed=1), mlp(seed=2)
    model.save(tmp_path / "m")
    load_weights(other, tmp_path / "m")
    for a, b in zip(other.get_weights(), model.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_load_weights_names_the_layer_and_weight_that_do_not_match(tmp_path):
    save_weights(mlp(), tmp_path / "w")
    # Another layout than the file's (one Dense, not two): matched by name.
    wider = models.Sequential(
        [layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(9, name="dense")]
    )
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"weight 'kernel' of layer 'dense'.*\(6, 9\)"):
        wider.load_weights(tmp_path / "w")
    assert all(
        np.array_equal(a, b) for a, b in zip(before, wider.get_weights(), strict=True)
    )
    renamed = models.Sequential([layers.Input(shape=(2, 3)), layers.Dense(3, name="x")])
    with pytest.raises(ValueError, match="weight 'kernel' of layer 'x'.*no such"):
        renamed.load_weights(tmp_path / "w")
    short = models.Sequential(
        [layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(8, name="dense")]
    )
    with pytest.raises(ValueError, match="only weights of this model.*dense_1"):
        short.load_weights(tmp_path / "w")


def test_load_weights_into_an_unbuilt_model_is_refused(tmp_path):
    save_weights(mlp(), tmp_path / "w")
    with pytest.raises(ValueError, match="model: expected a built model"):
        models.Sequential([layers.Dense(3)]).load_weights(tmp_path / "w")


def test_overwrite_false_refuses_to_replace_a_file(tmp_path):
    path = tmp_path / "m"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        mlp().save(path, overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite"):
        mlp().save_weights(path, overwrite=False)
    assert path.read_bytes() == b"keep me"


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="filepath"):
        save_model(mlp(), 42)
    with pytest.raises(ValueError, match="filepath"):
        load_model(None)
    with pytest.raises(ValueError, match="model: expected one of"):
        save_model(object(), tmp_path / "m")


def test_a_crash_mid_save_leaves_the_old_file_intact(monkeypatch, tmp_path):
    import glassnet.saving.container as container

    path = tmp_path / "m.h5"
    model = mlp(seed=1)
    model.save(path)
    good = path.read_bytes()
    real = container.atomic_write

    def crash_half_way(target, write):
        def half(f):
            class Sink:
                def write(self, data):
                    f.write(bytes(data)[: len(data) // 2])
                    raise OSError("disk full")

            write(Sink())

        real(target, half)

    monkeypatch.setattr(container, "atomic_write", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        mlp(seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.h5"]
    assert np.array_equal(load_model(path).get_weights()[0], model.get_weights()[0])


def test_sequential_config_round_trips_through_from_config():
    model = mlp()
    clone = Sequential.from_config(json.loads(json.dumps(model.get_config())))
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()


def test_the_layer_registry_holds_exported_layer_classes_only():
    registry = layer_registry()
    assert {"Dense", "Dropout", "Flatten", "Activation"} <= set(registry)
    assert not {"Layer", "Input", "InputLayer"} & set(registry)
    with pytest.raises(
        ValueError, match=r"layer class_name: expected one of \[.*'Dense'"
    ):
        deserialize_layer({"class_name": "Lambda", "config": {}})
    with pytest.raises(ValueError, match="config of Dense"):
        deserialize_layer({"class_name": "Dense", "config": {"units": 2, "code": 1}})


def test_resume_is_exact_with_a_seeded_dropout_layer(rng, tmp_path):
    def build():
        model = models.Sequential(
            [
                layers.Input(shape=(6,)),
                layers.Dense(8, activation="relu"),
                layers.Dropout(0.5, seed=7),
                layers.Dense(3, activation="softmax"),
            ],
            seed=1,
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    x, y = rng.normal(size=(32, 6)).astype(np.float32), rng.integers(3, size=32)
    straight = build()
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)
    first = build()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "half")
    resumed = models.load_model(tmp_path / "half")
    resumed.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_load_weights_matches_layers_by_order_when_their_names_differ(rng, tmp_path):
    x, _ = data(rng)
    named = models.Sequential(
        [
            layers.Input(shape=(2, 3)),
            layers.Flatten(name="flat"),
            layers.Dense(4, name="hidden"),
            layers.Dense(3, name="out"),
        ],
        seed=1,
    )
    named.save_weights(tmp_path / "w")
    plain = models.Sequential(
        [
            layers.Input(shape=(2, 3)),
            layers.Flatten(),
            layers.Dense(4),
            layers.Dense(3),
        ],
        seed=2,
    )
    plain.load_weights(tmp_path / "w")
    np.testing.assert_array_equal(plain(x), named(x))
    other = models.Sequential(
        [layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(5), layers.Dense(3)]
    )
    with pytest.raises(ValueError, match="kernel"):
        other.load_weights(tmp_path / "w")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_saving_through_a_symlink_updates_the_file_it_points_to(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model-v1.h5"
    mlp(seed=1).save(target)
    link = tmp_path / "current.h5"
    link.symlink_to(target)
    model = mlp(seed=2)
    model.save(link)
    assert link.is_symlink() and link.resolve() == target
    for path in (link, target):
        assert np.array_equal(load_model(path).get_weights()[0], model.get_weights()[0])
    assert os.listdir(tmp_path / "runs") == ["model-v1.h5"]
