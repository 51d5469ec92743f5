"""Forged model and weights files: every field is checked before it is used,
and each refusal is an InvalidFileError naming the file, never another
exception, a blocked read or an allocation the file's bytes cannot back."""

import json
import os
import tracemalloc

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.errors import GlassnetError, InvalidFileError
from glassnet.saving import load_model, load_weights
from glassnet.saving.container import load_json
from tests.test_safetensors_file import contents, forge, small_model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.h5"
    small_model().save(path)
    return path


def refused(path, match, load=load_model):
    with pytest.raises(InvalidFileError, match=match) as info:
        load(path)
    assert str(path) in str(info.value) and isinstance(info.value, GlassnetError)


def edit_json(key, change):
    def edit(meta, tensors):
        value = json.loads(meta[key])
        change(value)
        meta[key] = json.dumps(value)

    return edit


def layer_config(i):
    return lambda spec: spec["config"]["layers"][i]["config"]


def test_a_forged_huge_layer_is_refused_before_its_weights_are_allocated(saved):
    # Dense(units=2**36) after 3 inputs would ask for 3 * 2**36 floats (768 GiB).
    forge(saved, edit_json("model", lambda s: layer_config(0)(s).update(units=2**36)))
    tracemalloc.start()
    try:
        refused(saved, r"weight 'kernel' of layer 'dense' of shape \(3, 68719476736\)")
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()


def test_a_config_key_the_layer_does_not_accept_is_refused(saved):
    forge(saved, edit_json("model", lambda s: layer_config(0)(s).update(evil=1)))
    refused(saved, r"keys among .*'units'.*received \['evil'\]")


def test_non_finite_numbers_in_the_config_are_refused(saved):
    forge(saved, edit_json("model", lambda s: layer_config(0)(s).update(units=1e400)))
    refused(saved, "finite numbers in the model config")


def test_a_schedule_with_an_infinite_boundary_is_refused(saved):
    # int(inf) would raise OverflowError inside PiecewiseConstantDecay.
    schedule = {
        "class_name": "PiecewiseConstantDecay",
        "config": {"boundaries": [float("inf")], "values": [0.1, 0.01]},
    }
    forge(
        saved,
        edit_json(
            "compile", lambda s: s["optimizer"]["config"].update(learning_rate=schedule)
        ),
    )
    refused(saved, "finite numbers in the compile settings")


def test_an_absurd_iteration_count_is_refused(saved):
    forge(saved, edit_json("optimizer_state", lambda s: s.update(iterations=2**63)))
    refused(saved, "iteration count")


def test_a_generator_state_too_large_for_the_generator_is_refused(saved):
    # 2**130 has 40 digits, so it parses; PCG64 then raises OverflowError.
    def edit(state):
        state["model"]["state"]["state"] = 2**130

    forge(saved, edit_json("rng_state", edit))
    refused(saved, "a valid generator state")


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[" * 100 + "]" * 100, "nesting deeper than 64"),
        ("[" * 100_000 + "]" * 100_000, "nesting deeper than 64"),
        ("1" * 41, "an integer of 41 digits"),
        ('"\\ud800"', "surrogate"),
    ],
    ids=["duplicate", "deep", "very deep", "huge int", "lone surrogate"],
)
def test_untrusted_json_is_bounded(text, problem):
    with pytest.raises(ValueError, match=problem):
        load_json(text)


def test_a_metadata_entry_with_duplicate_keys_is_refused(saved):
    def edit(meta, tensors):
        meta["compile"] = meta["compile"][:-1] + ', "loss": "mse"}'

    forge(saved, edit)
    refused(saved, "duplicate key 'loss'")


def raw_file(path, header, data=b""):
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)


def marked(**tensors):
    meta = {"format": "glassnet", "format_version": "1", "content": "weights"}
    return {"__metadata__": meta, **tensors}


@pytest.mark.parametrize(
    "entry, data, problem",
    [
        ({"dtype": "F32", "shape": [1], "data_offsets": [0, 2**62]}, b"", "offsets"),
        ({"dtype": "F32", "shape": [2**40], "data_offsets": [0, 4]}, bytes(4), "shape"),
        ({"dtype": "F32", "shape": [0, 2**40], "data_offsets": [0, 0]}, b"", "shape"),
        (
            {"dtype": "F32", "shape": [0] + [2**31 - 1] * 3, "data_offsets": [0, 0]},
            b"",
            "at most 281474976710656 items",
        ),
        ({"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}, bytes(4), "axes"),
        ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, bytes(4), "8 bytes"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, bytes(8), "tile"),
        ({"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}, bytes(8), "dtype"),
        (
            {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1},
            bytes(4),
            "2 offsets",
        ),
    ],
    ids=[
        "past the end",
        "huge",
        "huge empty",
        "empty of 2**93",
        "9 axes",
        "short",
        "gap",
        "int",
        "key",
    ],
)
def test_forged_tensor_entries_are_refused_before_reading(
    tmp_path, entry, data, problem
):
    path = tmp_path / "forged"
    raw_file(path, marked(**{"layers/dense/kernel": entry}), data)
    refused(path, problem)


def test_a_header_length_of_2_to_the_60_is_refused(tmp_path):
    path = tmp_path / "forged"
    path.write_bytes((2**60).to_bytes(8, "little") + b"{}" + bytes(100))
    refused(path, f"header length of {2**60}")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.h5"
    os.mkfifo(fifo)
    refused(fifo, "a regular file; received a FIFO")


def test_a_directory_or_a_device_is_refused(tmp_path):
    refused(tmp_path, "a regular file; received a directory")
    if os.path.exists("/dev/zero"):
        refused("/dev/zero", "received a character device")


def test_a_model_file_whose_tensors_have_another_dtype_than_its_config_is_refused(
    saved,
):
    def edit(spec):
        for layer in spec["config"]["layers"]:
            layer["config"]["dtype"] = "float64"

    forge(saved, edit_json("model", edit))
    refused(saved, "dtype float64; received shape .* dtype float32")


def test_load_weights_converts_another_float_dtype_to_the_models(tmp_path, rng):
    wide = models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(2, dtype="float64")]
    )
    path = tmp_path / "w64"
    wide.save_weights(path)
    narrow = models.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    narrow.load_weights(path)
    for got, want in zip(narrow.get_weights(), wide.get_weights(), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want.astype(np.float32))


def test_a_layer_order_naming_a_layer_twice_is_refused(tmp_path):
    path = tmp_path / "w"
    small_model().save_weights(path)

    def edit(meta, tensors):
        meta["layer_order"] = json.dumps({"layers": ["dense", "dense"]})

    forge(path, edit)
    refused(path, "naming each layer once", lambda p: load_weights(renamed(), p))


def test_tensors_of_layers_missing_from_the_order_are_refused(tmp_path):
    path = tmp_path / "w"
    small_model().save_weights(path)

    def edit(meta, tensors):
        tensors["layers/ghost/kernel"] = np.ones((4, 2), np.float32)
        tensors["layers/bad"] = np.ones(1, np.float32)

    forge(path, edit)
    refused(
        path, "layers/<a layer in layer_order>", lambda p: load_weights(renamed(), p)
    )


def renamed():
    return models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(4, name="a"), layers.Dense(2, name="b")]
    )


def test_a_failed_load_weights_changes_nothing(saved):
    model = renamed()
    before = model.get_weights()
    meta, tensors = contents(saved)
    forge(saved, lambda m, t: t.update({"layers/dense_1/bias": np.ones(3, "f4")}))
    with pytest.raises(InvalidFileError):
        model.load_weights(saved)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
