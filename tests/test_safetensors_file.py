"""The container checks, driven through the public loaders: foreign, truncated,
corrupted and forged files are all refused with an InvalidFileError."""

import json
import pickle
import zipfile

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

from glassnet import layers, models
from glassnet.errors import GlassnetError, InvalidFileError
from glassnet.saving import load_model, load_weights
from glassnet.saving.container import write_file


def small_model():
    model = models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)], seed=0
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    return model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.h5"
    small_model().save(path)
    return path


def contents(path):
    with safe_open(path, framework="numpy") as f:
        return dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}


def forge(path, edit):
    """Rewrite ``path`` after ``edit(meta, tensors)``, with a valid checksum."""
    meta, tensors = contents(path)
    edit(meta, tensors)
    for key in ("format", "format_version", "checksum"):
        meta.pop(key)
    write_file(str(path), tensors, meta)


def refused(path, match, loader=load_model):
    with pytest.raises(InvalidFileError, match=match) as info:
        loader(path) if loader is load_model else loader(models_like(), path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, GlassnetError)


def models_like():
    return models.Sequential([layers.Input(shape=(3,)), layers.Dense(4)])


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        # Unpickling this would create the marker file.
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    refused(path, "header length")
    refused(path, "header length", loader=load_weights)
    assert not marker.exists()


def test_foreign_formats_are_refused(tmp_path, rng):
    npz = tmp_path / "w.npz"
    np.savez(npz, kernel=np.ones(3))
    hdf5 = tmp_path / "w.h5"
    hdf5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    js = tmp_path / "m.json"
    js.write_text(json.dumps({"class_name": "Sequential", "config": {}}))
    noise = tmp_path / "noise"
    noise.write_bytes(rng.integers(0, 256, size=512).astype(np.uint8).tobytes())
    zipped = tmp_path / "m.keras"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("config.json", "{}")
    for path in (npz, hdf5, js, noise, zipped):
        refused(path, "glassnet")


def test_short_and_empty_files_are_refused(tmp_path):
    for content in (b"", b"\x01\x02"):
        path = tmp_path / "short"
        path.write_bytes(content)
        refused(path, "at least 8 bytes")


def test_a_safetensors_file_without_the_glassnet_marker_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"layers/dense/kernel": np.ones((3, 4))}, str(path))
    refused(path, "format marker")


def test_a_forged_huge_header_length_is_refused_before_reading(tmp_path):
    path = tmp_path / "forged"
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    refused(path, f"header length of {2**62}")


def test_a_malformed_header_is_refused(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes((5).to_bytes(8, "little") + b"{nope")
    refused(path, "malformed")
    path.write_bytes((2).to_bytes(8, "little") + b"[]")
    refused(path, "JSON object")


def test_truncated_files_are_refused(saved):
    data = saved.read_bytes()
    n = int.from_bytes(data[:8], "little")
    for cut in (4, 8 + n // 2, 8 + n + 1, len(data) - 1):
        saved.write_bytes(data[:cut])
        with pytest.raises(InvalidFileError):
            load_model(saved)
    saved.write_bytes(data + b"\0" * 4)
    refused(saved, "bytes of tensor data")


def test_a_flipped_bit_in_a_weight_fails_the_checksum(saved):
    data = bytearray(saved.read_bytes())
    data[-3] ^= 0x10
    saved.write_bytes(bytes(data))
    refused(saved, "checksum")


def test_an_edited_metadata_value_fails_the_checksum(saved):
    data = saved.read_bytes()
    assert data.count(b"sequential") == 1  # the model's name
    saved.write_bytes(data.replace(b"sequential", b"sequentia1"))
    refused(saved, "checksum")


def test_an_unknown_layer_class_is_refused_listing_the_known_ones(saved):
    def edit(meta, tensors):
        spec = json.loads(meta["model"])
        spec["config"]["layers"][0]["class_name"] = "Lambda"
        meta["model"] = json.dumps(spec)

    forge(saved, edit)
    refused(saved, r"one of \[.*'Dense'.*received 'Lambda'")


def test_an_unknown_model_class_is_refused(saved):
    def edit(meta, tensors):
        meta["model"] = json.dumps({"class_name": "LambdaModel", "config": {}})

    forge(saved, edit)
    # Not glassnet's, not passed, not registered: nothing is imported by name.
    refused(saved, "a model class among glassnet's, custom_objects or the registered")


def test_tensor_shapes_are_checked_against_the_rebuilt_model(saved):
    def edit(meta, tensors):
        tensors["layers/dense_1/kernel"] = np.ones((5, 2), np.float32)

    forge(saved, edit)
    refused(saved, r"weight 'kernel' of layer 'dense_1' of shape \(4, 2\)")


def test_optimizer_slots_are_checked_against_the_weights(saved):
    def edit(meta, tensors):
        tensors["optimizer/dense/kernel/m"] = np.ones((2, 2), np.float32)

    forge(saved, edit)
    refused(saved, "slot 'dense/kernel/m' of shape \\(3, 4\\)")


def test_foreign_tensor_names_and_dtypes_are_refused(saved, tmp_path):
    def rename(meta, tensors):
        tensors["code/x"] = np.ones(1, np.float32)

    forge(saved, rename)
    refused(saved, "tensor names starting with")
    other = tmp_path / "ints"
    small_model().save(other)

    def ints(meta, tensors):
        tensors["layers/dense/bias"] = np.ones(4, np.int64)

    forge(other, ints)
    refused(other, "dtype in")


def test_a_newer_format_version_is_refused(saved):
    data = saved.read_bytes().replace(b'"format_version":"1"', b'"format_version":"9"')
    saved.write_bytes(data)
    refused(saved, "format_version")


def test_malformed_config_json_is_refused(saved):
    def edit(meta, tensors):
        meta["compile"] = "{not json"

    forge(saved, edit)
    refused(saved, "malformed JSON")
