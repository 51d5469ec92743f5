"""``glassnet evaluate`` and ``glassnet summary``: a saved model on its test set."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from glassnet.cli._common import CliError, load_model_file
from glassnet.datasets import cifar10, digits, fashion_mnist, mnist, scale_images
from glassnet.errors import DatasetNotFoundError
from glassnet.presets import PRESETS

DATASETS: dict[str, ModuleType] = {
    "digits": digits,
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
    "cifar10": cifar10,
}
# A model of unknown origin is matched to a dataset by its input shape.
_BY_SHAPE = {(8, 8, 1): digits, (28, 28, 1): mnist, (32, 32, 3): cifar10}


def input_shape(model: Any) -> tuple[int, ...]:
    """The shape of one input sample of ``model``, or a CliError."""
    spec = getattr(model, "input_spec", None)
    if spec is None:
        raise CliError("the model has no input shape; save it after building it")
    return tuple(int(d) for d in spec[1:])


def dataset_of(model: Any) -> ModuleType | None:
    """The dataset ``model`` was trained on: by preset name, else by input shape."""
    preset = PRESETS.get(getattr(model, "name", ""))
    if preset is not None:
        return preset.dataset
    return _BY_SHAPE.get(input_shape(model))


def test_set(model: Any, data: str | None) -> tuple[np.ndarray, np.ndarray, ModuleType]:
    """The test images (scaled to [0, 1], shaped for ``model``) and labels.

    ``data`` is a dataset name, a directory holding the model's dataset, or
    None for the dataset the model was trained on.
    """
    module, path = dataset_of(model), None
    if data in DATASETS:
        module = DATASETS[data]
    elif data is not None:
        if not Path(data).is_dir():
            raise CliError(
                f"--data: expected a dataset name in {sorted(DATASETS)} or a "
                f"directory; received {data!r}"
            )
        path = data
    if module is None:
        raise CliError(
            f"--data: the model's input {input_shape(model)} matches no dataset; "
            f"name one of {sorted(DATASETS)}"
        )
    try:
        if module is digits:
            if path is not None:
                raise CliError("--data: digits are bundled with scikit-learn")
            _, (x, y) = digits.load_data()
            x = scale_images(x, max_value=16)
        else:
            _, (x, y) = module.load_data(path=path)
            x = scale_images(x, max_value=255)
    except DatasetNotFoundError as e:
        raise CliError(str(e).strip().splitlines()[0]) from e
    shape = input_shape(model)
    if x[0].size != int(np.prod(shape)):
        raise CliError(
            f"--data: the model takes inputs of shape {shape}; the "
            f"{module.__name__.rsplit('.', 1)[-1]} images are {x.shape[1:]}"
        )
    return x.reshape(-1, *shape), y, module


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the test loss and accuracy of a saved model."""
    model = load_model_file(args.model, compile=True)
    if args.weights is not None:
        if not Path(args.weights).is_file():
            raise CliError(
                f"--weights: expected a weights file, e.g. best.weights.h5 beside "
                f"{args.model}; {args.weights!r} not found"
            )
        model.load_weights(args.weights)
    if model.loss is None:
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y, module = test_set(model, args.data)
    print(f"{module.__name__.rsplit('.', 1)[-1]} test set: {len(x)} images")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    for key, value in logs.items():
        print(f"test {key}: {value:.4f}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print a saved model's layers, shapes and parameter counts."""
    load_model_file(args.model, compile=False).summary()
    return 0
