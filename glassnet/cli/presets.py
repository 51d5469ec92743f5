"""The presets of ``glassnet train``: each one's model, data and settings.

A Keras preset is a ``Sequential`` trained with ``fit``; a Solver preset is a
classic course model (``FullyConnectedNet``, ``ThreeLayerConvNet``) trained with
the cs231n ``Solver`` on :func:`glassnet.datasets.get_cifar10_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from glassnet import backend, layers, models, optimizers, regularizers
from glassnet._internal.checks import check_int, check_number, fail
from glassnet.cli._common import CliError
from glassnet.datasets import (
    cifar10,
    digits,
    fashion_mnist,
    get_cifar10_data,
    mnist,
    scale_images,
)
from glassnet.datasets._sources import ENV_VAR
from glassnet.errors import DatasetNotFoundError

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Preset:
    """One exercise: its dataset, the trainer and the default settings."""

    dataset: ModuleType
    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    solver: bool = False  # trained by the classic Solver instead of fit
    reduce_lr: int | None = None  # ReduceLROnPlateau's patience, unless --reduce-lr
    reduce_lr_factor: float = 0.1  # and its factor (Keras' default)
    cosine: bool = False  # cosine decay of the learning rate to 0 over the run
    ema: float | None = None  # the optimizer's use_ema momentum: fit ends on averages
    help: str = ""


PRESETS: dict[str, Preset] = {
    "digits-mlp": Preset(digits, 30, 32, 1e-3, help="MLP on the 8x8 digits"),
    "digits-cnn": Preset(
        digits,
        100,
        32,
        1e-3,
        reduce_lr=20,
        reduce_lr_factor=0.5,
        ema=0.995,
        help="convnet, 8x8 digits",
    ),
    "mnist-cnn": Preset(mnist, 15, 128, 1e-3, help="Keras' MNIST convnet"),
    "fashion-mlp": Preset(
        fashion_mnist, 30, 128, 1e-3, cosine=True, help="MLP, Fashion-MNIST"
    ),
    "fashion-cnn": Preset(
        fashion_mnist, 20, 128, 2e-3, cosine=True, help="BN convnet, Fashion-MNIST"
    ),
    "cifar10-fc": Preset(
        cifar10, 10, 256, 1e-3, solver=True, help="FullyConnectedNet, Solver"
    ),
    "cifar10-convnet": Preset(
        cifar10, 10, 50, 1e-3, solver=True, help="ThreeLayerConvNet, Solver"
    ),
}
DIGITS_PRESETS = ["digits-cnn", "digits-mlp"]
SOLVER_LR_DECAY = 0.95  # the Solver presets' rate is multiplied by it every epoch


def class_names(preset: str) -> list[str]:
    """The class names of ``preset``'s dataset."""
    return list(PRESETS[preset].dataset.CLASS_NAMES)


# -- Keras presets --


def _body(
    preset: str,
    seed: int,
    reg: dict[str, Any],
    dropout: float | None = None,
    units: int | None = None,
    augmentation: bool = True,
) -> list[Any]:
    """The layers of ``preset`` between its input and its softmax classifier.

    ``dropout`` replaces every Dropout layer's rate and ``units`` every hidden
    Dense layer's width; None keeps the preset's own. ``augmentation=False``
    leaves out the random-augmentation layers (identities outside training).
    """
    L = layers

    def drop(rate: float, seed: int) -> Any:
        return L.Dropout(rate if dropout is None else dropout, seed=seed)

    def dense(width: int) -> Any:
        return L.Dense(width if units is None else units, activation="relu", **reg)

    if preset == "digits-mlp":
        return [L.Flatten(), dense(64), drop(0.2, seed)]
    if preset == "fashion-mlp":
        return [
            L.Flatten(),
            dense(512),
            drop(0.3, seed),
            dense(256),
            drop(0.3, seed + 1),
        ]
    if preset == "mnist-cnn":  # Keras' classic MNIST convnet, unpadded
        return [
            L.Conv2D(32, 3, activation="relu", **reg),
            L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu", **reg),
            L.MaxPooling2D(2),
            L.Flatten(),
            drop(0.5, seed),
        ]
    if preset == "digits-cnn":  # padded, so that the 8x8 inputs do not vanish
        # Every image moved by up to a pixel each way, by a random fraction
        # (bilinear), a new draw each epoch.
        shift = L.RandomTranslation(
            0.125, 0.125, fill_mode="constant", interpolation="bilinear", seed=seed + 1
        )
        return [
            *([shift] if augmentation else []),
            *_conv_bn_relu(32, reg),
            *_conv_bn_relu(32, reg),
            L.MaxPooling2D(2),
            *_conv_bn_relu(64, reg),
            *_conv_bn_relu(64, reg),
            L.MaxPooling2D(2),
            L.Flatten(),
            dense(128),
            drop(0.4, seed),
        ]
    # fashion-cnn: half the training images mirrored and most shifted by a pixel,
    # two conv-batchnorm-relu-pool blocks and a wide dense layer.
    augment = [
        L.RandomFlip("horizontal", seed=seed),
        L.RandomTranslation(
            0.04, 0.04, fill_mode="constant", interpolation="nearest", seed=seed + 1
        ),
    ]
    return [
        *(augment if augmentation else []),
        *_conv_bn_relu(32, reg),
        L.MaxPooling2D(2),
        *_conv_bn_relu(64, reg),
        L.MaxPooling2D(2),
        L.Flatten(),
        dense(256),
        drop(0.3, seed),
    ]


def _conv_bn_relu(filters: int, reg: dict[str, Any]) -> list[Any]:
    """3x3 'same' convolution without bias (batchnorm's beta is one), BN, ReLU."""
    return [
        layers.Conv2D(filters, 3, padding="same", use_bias=False, **reg),
        layers.BatchNormalization(),
        layers.ReLU(),
    ]


def model_params(preset: str) -> tuple[str, ...]:
    """The hyperparameters of ``preset``'s model that its builder takes.

    ``reg`` always; ``dropout`` and ``units`` where the model has Dropout or
    hidden Dense layers (hidden layers, for the Solver models); and
    ``weight_scale`` for the Solver presets, whose course models draw their
    weights from N(0, weight_scale^2).
    """
    if preset == "cifar10-fc":
        return ("reg", "dropout", "units", "weight_scale")
    if preset == "cifar10-convnet":
        return ("reg", "units", "weight_scale")
    body = _body(preset, 0, {})
    names = ["reg"]
    names += ["dropout"] if any(isinstance(b, layers.Dropout) for b in body) else []
    names += ["units"] if any(isinstance(b, layers.Dense) for b in body) else []
    return tuple(names)


def _check_model_params(preset: str, given: dict[str, Any]) -> None:
    """``given`` (name -> value or None) holds only what ``preset``'s model has."""
    known = model_params(preset)
    for name, value in given.items():
        if value is not None and name not in known:
            raise fail(name, f"a hyperparameter of {preset}, one of {known}", value)
    if given.get("dropout") is not None:
        check_number("dropout", given["dropout"], low=0, high=1, high_open=True)
    if given.get("units") is not None:
        check_int("units", given["units"], min_value=1)
    if given.get("weight_scale") is not None:
        check_number("weight_scale", given["weight_scale"], low=0, low_open=True)
    if given.get("reg") is not None:
        check_number("reg", given["reg"], low=0)


def l2_regularizer(reg: float | None) -> Any:
    """The kernel regularizer of a Keras preset for ``reg``: None for None or 0."""
    return regularizers.L2(float(reg)) if reg else None


def build_model(
    preset: str, seed: int, kernel_regularizer: Any = None, **options: Any
) -> models.Sequential:
    """The uncompiled ``Sequential`` of a Keras preset: :func:`preset_layers`'
    layers (same arguments), built with weights seeded by ``seed``."""
    model_layers = preset_layers(preset, seed, kernel_regularizer, **options)
    return models.Sequential(model_layers, name=preset, seed=seed)


def preset_layers(
    preset: str,
    seed: int,
    kernel_regularizer: Any = None,
    *,
    dropout: float | None = None,
    units: int | None = None,
    augmentation: bool = True,
) -> list[Any]:
    """The layers of a Keras preset, ``Input`` first, not yet built: no weight
    exists, so :func:`glassnet.layers._estimate.estimate_size` can size them
    before :func:`build_model` allocates anything.

    Args:
        preset: a Keras preset.
        seed: seeds the weights, the shuffling and the dropout masks.
        kernel_regularizer: on every kernel. Defaults to `None`.
        dropout: every Dropout layer's rate, in [0, 1). Defaults to `None`
            (the preset's rates).
        units: every hidden Dense layer's width. Defaults to `None` (the
            preset's widths).
        augmentation: keep the preset's random-augmentation layers. Defaults
            to `True`.

    Raises:
        ValueError: for a Solver preset, a bad value, or ``dropout`` or
            ``units`` on a preset without such layers.
    """
    if PRESETS[preset].solver:
        raise ValueError(f"preset {preset!r} is a Solver model, not a Sequential")
    _check_model_params(preset, {"dropout": dropout, "units": units})
    reg = {"kernel_regularizer": kernel_regularizer}
    side = 8 if preset in DIGITS_PRESETS else 28
    return [
        layers.Input((side, side, 1)),
        *_body(preset, seed, reg, dropout, units, augmentation),
        layers.Dense(10, activation="softmax", **reg),
    ]


def keras_optimizer(
    preset: str, name: str, lr: float, n_train: int, batch_size: int, epochs: int
) -> Any:
    """Optimizer ``name`` at ``lr``, on the cosine schedule of a preset with one,
    averaging the weights (Keras' ``use_ema``) for a preset with ``ema``.

    The schedule decays to 0 over ``epochs`` epochs of ``n_train`` samples in
    batches of ``batch_size`` (the last batch of an epoch may be smaller).

    Raises:
        ValueError: naming ``optimizer`` for an unknown name.
    """
    if name not in optimizers.OPTIMIZERS:
        raise fail("optimizer", f"one of {sorted(optimizers.OPTIMIZERS)}", name)
    rate: Any = lr
    p = PRESETS[preset]
    if p.cosine:
        steps = -(-n_train // batch_size) * epochs
        rate = optimizers.CosineDecay(lr, decay_steps=steps)
    ema = {} if p.ema is None else {"use_ema": True, "ema_momentum": p.ema}
    return optimizers.OPTIMIZERS[name](learning_rate=rate, **ema)


def digits_data(seed: int = 0) -> tuple[Split, Split]:
    """The digits train and test sets as (N, 8, 8, 1) images in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = digits.load_data(seed=seed)

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=16).reshape(-1, 8, 8, 1)

    return (prep(x_train), y_train), (prep(x_test), y_test)


def _not_found(e: DatasetNotFoundError) -> CliError:
    first = str(e).strip().splitlines()[0]
    return CliError(f"{first} Set ${ENV_VAR}, pass --data DIR, or see `glassnet info`")


def keras_data(preset: str, path: str | None) -> tuple[Split, Split]:
    """The train and test sets of a Keras preset: (N, H, W, 1) images in [0, 1]."""
    module = PRESETS[preset].dataset
    if module is digits:
        if path is not None:
            raise CliError(f"--data: {preset} uses scikit-learn's bundled digits")
        return digits_data()
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data(path=path)
    except DatasetNotFoundError as e:
        raise _not_found(e) from e

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=255).reshape(-1, 28, 28, 1)

    return (prep(x_train), y_train), (prep(x_test), y_test)


# -- Solver presets --


def solver_data(path: str | None) -> dict[str, np.ndarray]:
    """cs231n's CIFAR-10 split: 49,000 train, 1,000 val, the mean image subtracted.

    The test set is all 10,000 test images. (Smaller files, as in the tests,
    keep a tenth of the training images for validation.)

    Besides the six arrays of :func:`glassnet.datasets.get_cifar10_data`, the
    dict holds ``mean``, the training mean image (H, W, 3) in [0, 255], which
    the saved model needs to centre new images the same way.
    """
    try:
        (x_train, _), _ = cifar10.load_data(path=path)
        data = get_cifar10_data(
            num_training=None,
            num_validation=min(1000, len(x_train) // 10),
            num_test=None,
            subtract_mean=False,
            path=path,
        )
    except DatasetNotFoundError as e:
        raise _not_found(e) from e
    mean = data["X_train"].mean(axis=0, dtype=np.float64).astype(np.float32)
    for part in ("train", "val", "test"):
        data[f"X_{part}"] -= mean
    data["mean"] = mean.transpose(1, 2, 0)
    return data


def build_solver_model(
    preset: str,
    seed: int,
    *,
    reg: float | None = None,
    weight_scale: float | None = None,
    dropout: float | None = None,
    units: int | None = None,
) -> Any:
    """The classic course model of a Solver preset, float32.

    Args:
        preset: a Solver preset.
        seed: seeds the weights and the dropout masks.
        reg: the L2 strength (>= 0). Defaults to `None` (the preset's).
        weight_scale: the initial weights' standard deviation. Defaults to
            `None` (the preset's).
        dropout: the drop rate in [0, 1) (``cifar10-fc`` only). Defaults to
            `None` (the preset's 0.5).
        units: every hidden layer's width. Defaults to `None` (the preset's).

    Raises:
        ValueError: for a Keras preset or a bad value.
    """
    from glassnet.classifiers import FullyConnectedNet, ThreeLayerConvNet

    if preset not in ("cifar10-fc", "cifar10-convnet"):
        raise ValueError(f"preset {preset!r} is not a Solver preset")
    given = {"reg": reg, "weight_scale": weight_scale, "dropout": dropout}
    _check_model_params(preset, {**given, "units": units})
    if preset == "cifar10-fc":
        # The course's best fully-connected model: batchnorm, dropout 0.5.
        model = FullyConnectedNet(
            [512, 256, 256] if units is None else [units] * 3,
            normalization="batchnorm",
            dropout_keep_ratio=0.5 if dropout is None else 1.0 - dropout,
            weight_scale=2e-2 if weight_scale is None else weight_scale,
            reg=1e-4 if reg is None else reg,
            seed=seed,
            dtype=np.float32,
        )
        if model.use_dropout:
            # A seed fixes the course model's dropout mask; training wants a
            # new mask every step, from a seeded generator.
            model.dropout_param.pop("seed")
            model.dropout_rng = backend.rng(seed + 1)
        return model
    return ThreeLayerConvNet(
        num_filters=32,
        filter_size=7,
        hidden_dim=100 if units is None else units,
        weight_scale=1e-3 if weight_scale is None else weight_scale,
        reg=1e-3 if reg is None else reg,
        seed=seed,
        dtype=np.float32,
    )


def solver_options(
    optimizer: str,
    lr: float,
    batch_size: int,
    epochs: int,
    seed: int,
    lr_decay: float | None = None,
) -> dict[str, Any]:
    """The ``Solver`` keyword arguments of a Solver preset's training run.

    ``lr_decay`` defaults to `None` (the presets' :data:`SOLVER_LR_DECAY`).
    """
    return {
        "update_rule": optimizer,
        "optim_config": {"learning_rate": lr},
        "lr_decay": SOLVER_LR_DECAY if lr_decay is None else lr_decay,
        "batch_size": batch_size,
        "num_epochs": epochs,
        "seed": seed,
    }
