"""glassnet evaluate/predict find the test set and the class names of a model."""

import numpy as np
import pytest

from glassnet import layers, models, presets
from glassnet.cli import evaluate, main
from glassnet.datasets import cifar10, digits, fashion_mnist, mnist


def _saved(tmp_path, preset):
    model = presets.build_model(preset, 0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path / f"{preset}.h5"
    model.save(path)
    return path


def test_the_dataset_of_a_preset_model_comes_from_its_name():
    assert evaluate.dataset_of(presets.build_model("fashion-cnn", 0)) is fashion_mnist
    assert evaluate.dataset_of(presets.build_model("mnist-cnn", 0)) is mnist
    assert evaluate.dataset_of(presets.build_model("digits-mlp", 0)) is digits


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((8, 8, 1), digits), ((28, 28, 1), mnist), ((32, 32, 3), cifar10), ((5,), None)],
)
def test_other_models_are_matched_to_a_dataset_by_input_shape(shape, expected):
    model = models.Sequential([layers.Input(shape), layers.Flatten(), layers.Dense(3)])
    assert evaluate.dataset_of(model) is expected


def test_evaluate_reads_the_test_set_from_a_data_directory(
    tmp_path, fake_fashion, capsys
):
    path = _saved(tmp_path, "fashion-mlp")
    assert main(["evaluate", str(path), "--data", str(fake_fashion)]) == 0
    out = capsys.readouterr().out
    assert "fashion_mnist test set: 12 images" in out
    assert "test accuracy:" in out and "test loss:" in out


def test_evaluate_takes_a_dataset_name(tmp_path, capsys):
    path = _saved(tmp_path, "digits-mlp")
    assert main(["evaluate", str(path), "--data", "digits"]) == 0
    assert "digits test set: 360 images" in capsys.readouterr().out


def test_evaluate_refuses_data_the_model_cannot_take(tmp_path, fake_fashion, capsys):
    path = _saved(tmp_path, "digits-mlp")
    assert main(["evaluate", str(path), "--data", "nowhere-at-all"]) == 2
    assert "--data" in capsys.readouterr().err
    # A directory for a digits model: the digits come with scikit-learn.
    assert main(["evaluate", str(path), "--data", str(fake_fashion)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error: --data") and "scikit-learn" in err
    assert len(err.strip().splitlines()) == 1


def test_predict_names_the_classes_of_the_models_dataset(tmp_path, capsys):
    path = _saved(tmp_path, "fashion-mlp")
    images = tmp_path / "x.npy"
    np.save(images, np.zeros((28, 28), np.uint8))
    assert main(["predict", str(path), str(images), "--top-k", "10"]) == 0
    out = capsys.readouterr().out
    assert "Ankle boot (" in out and "T-shirt/top (" in out


def test_evaluate_says_when_the_images_do_not_fit_the_model(tmp_path, capsys):
    path = _saved(tmp_path, "fashion-mlp")
    assert main(["evaluate", str(path), "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert "(28, 28, 1)" in err and "digits images are (8, 8)" in err
