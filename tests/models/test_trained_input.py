"""``Model.fit`` records the dtype and range of its x; model files keep it."""

import json

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.errors import InvalidFileError
from glassnet.saving import load_model
from glassnet.saving import trained_input as _trained_input
from tests.test_safetensors_file import contents, forge


def _model():
    model = models.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")], seed=0
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def _fit(model, x):
    model.fit(x, np.zeros(len(x), int), epochs=1, verbose=0)


def test_fit_records_the_dtype_and_value_range_of_x():
    model = _model()
    assert getattr(model, "trained_input", None) is None
    _fit(model, np.array([[0, 3, 200], [7, 255, 1]], dtype=np.uint8))
    assert model.trained_input == {"dtype": "uint8", "min": 0.0, "max": 255.0}


def test_a_second_fit_widens_the_range_and_takes_the_new_dtype():
    model = _model()
    _fit(model, np.full((4, 3), 0.25, np.float32))
    _fit(model, np.linspace(-1, 0.5, 12).reshape(4, 3))
    assert model.trained_input == {"dtype": "float64", "min": -1.0, "max": 0.5}


def test_a_refused_fit_records_nothing():
    model = _model()
    with pytest.raises(ValueError, match="finite"):
        _fit(model, np.array([[0.0, np.nan, 1.0]] * 2))
    assert model.trained_input is None
    _fit(model, np.ones((2, 3)))
    with pytest.raises(ValueError, match="the same number of samples"):
        model.fit(np.full((2, 3), 9.0), np.zeros(3, int), verbose=0)
    assert model.trained_input == {"dtype": "float64", "min": 1.0, "max": 1.0}


def test_the_record_round_trips_through_a_model_file(tmp_path):
    model = _model()
    _fit(model, np.array([[0.0, 0.5, 1.0]] * 4, np.float32))
    model.save(tmp_path / "m.h5")
    assert load_model(tmp_path / "m.h5").trained_input == model.trained_input


def test_a_file_without_the_record_loads_with_none(tmp_path):
    _model().save(tmp_path / "old.h5")  # never fitted: as files saved before it
    meta, _ = contents(tmp_path / "old.h5")
    assert "trained_input" not in meta
    assert load_model(tmp_path / "old.h5").trained_input is None


@pytest.mark.parametrize(
    "record, problem",
    [
        ({"dtype": "object", "min": 0, "max": 1}, "trained_input\\['dtype'\\]"),
        ({"dtype": "float32", "min": 2, "max": 1}, "min <= max"),
        ({"dtype": "float32", "min": 0, "max": "1"}, "finite numbers"),
        ({"dtype": "float32", "min": 0}, "keys"),
        ([0, 1], "a JSON object"),
    ],
)
def test_a_forged_record_is_refused_naming_the_file(tmp_path, record, problem):
    path = tmp_path / "m.h5"
    model = _model()
    _fit(model, np.ones((2, 3)))
    model.save(path)

    def edit(meta, tensors):
        meta["trained_input"] = json.dumps(record)

    forge(path, edit)
    with pytest.raises(InvalidFileError, match=problem) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_describe_skips_what_fit_refuses():
    assert _trained_input.describe(np.zeros((0, 3))) is None
    assert _trained_input.describe(np.array([np.inf, 1.0])) is None
    assert _trained_input.describe(np.array(["a"])) is None
    assert _trained_input.describe([[1, 2], [3, 4]])["dtype"] == "int64"
