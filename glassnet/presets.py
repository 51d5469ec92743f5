"""The exercises: each preset's model, data and default settings, in one place.

A Keras preset is a ``Sequential`` trained with ``fit``; a Solver preset is a
classic course model (``FullyConnectedNet``, ``ThreeLayerConvNet``) trained with
the cs231n ``Solver`` on :func:`glassnet.datasets.get_cifar10_data`. The
``glassnet`` command (``train``, ``sanity``, ``sweep``) and :mod:`glassnet.tune`
use them; nothing here knows the command line.

Adding a preset is one entry of :data:`PRESETS`: its dataset, its defaults, the
hyperparameters its builder takes and the builder itself, a function of a
:class:`ModelOptions` that returns the layers between the input and the
softmax classifier (or, for a Solver preset, the course model).

Example:
    >>> from glassnet import presets
    >>> model = presets.build_model("digits-mlp", seed=0)
    >>> model.count_params(), presets.PRESETS["digits-mlp"].epochs
    (4810, 30)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from glassnet import backend, layers, models, optimizers, regularizers
from glassnet._internal.checks import check_int, check_number, fail
from glassnet.classifiers import FullyConnectedNet, ThreeLayerConvNet
from glassnet.datasets import (
    cifar10,
    digits,
    fashion_mnist,
    get_cifar10_data,
    mnist,
    scale_images,
)

Split = tuple[np.ndarray, np.ndarray]
SOLVER_LR_DECAY = 0.95  # the Solver presets' rate is multiplied by it every epoch


@dataclass(frozen=True)
class ModelOptions:
    """What a preset's builder is given: the seed and the hyperparameters, each
    None for the preset's own value, and the helpers that apply them."""

    seed: int
    kernel_regularizer: Any = None
    reg: float | None = None  # Solver presets: the course model's L2 strength
    dropout: float | None = None
    units: int | None = None
    weight_scale: float | None = None
    augmentation: bool = True

    @property
    def reg_args(self) -> dict[str, Any]:
        return {"kernel_regularizer": self.kernel_regularizer}

    def dense(self, width: int) -> Any:
        """A hidden ReLU Dense layer: ``width`` units unless ``units`` is given."""
        units = width if self.units is None else self.units
        return layers.Dense(units, activation="relu", **self.reg_args)

    def drop(self, rate: float, seed_offset: int = 0) -> Any:
        """Dropout at ``rate`` unless ``dropout`` is given."""
        rate = rate if self.dropout is None else self.dropout
        return layers.Dropout(rate, seed=self.seed + seed_offset)

    def conv_bn_relu(self, filters: int) -> list[Any]:
        """3x3 'same' convolution without bias (batchnorm's beta is one), BN, ReLU."""
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False, **self.reg_args),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]

    def augment(self, *augmentation: Any) -> list[Any]:
        """The random-augmentation layers, unless ``augmentation`` is off."""
        return list(augmentation) if self.augmentation else []


@dataclass(frozen=True)
class Preset:
    """One exercise: its dataset, trainer, defaults and builder."""

    dataset: ModuleType
    input_shape: tuple[int, ...]  # one image, channels last
    epochs: int
    batch_size: int
    lr: float
    build: Callable[[ModelOptions], Any]  # layers (Keras) or a course model
    params: tuple[str, ...]  # the hyperparameters ``build`` takes
    optimizer: str = "adam"
    solver: bool = False  # trained by the classic Solver instead of fit
    reduce_lr: int | None = None  # ReduceLROnPlateau's patience, unless --reduce-lr
    reduce_lr_factor: float = 0.1  # and its factor (Keras' default)
    cosine: bool = False  # cosine decay of the learning rate to 0 over the run
    ema: float | None = None  # the optimizer's use_ema momentum: fit ends on averages
    help: str = ""


# -- the builders, one per preset --


def _digits_mlp(o: ModelOptions) -> list[Any]:
    return [layers.Flatten(), o.dense(64), o.drop(0.2)]


def _digits_cnn(o: ModelOptions) -> list[Any]:
    # Padded, so that the 8x8 inputs do not vanish. Every image moved by up to a
    # pixel each way, by a random fraction (bilinear), a new draw each epoch.
    shift = layers.RandomTranslation(
        0.125, 0.125, fill_mode="constant", interpolation="bilinear", seed=o.seed + 1
    )
    return [
        *o.augment(shift),
        *o.conv_bn_relu(32),
        *o.conv_bn_relu(32),
        layers.MaxPooling2D(2),
        *o.conv_bn_relu(64),
        *o.conv_bn_relu(64),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        o.dense(128),
        o.drop(0.4),
    ]


def _mnist_cnn(o: ModelOptions) -> list[Any]:
    # Keras' classic MNIST convnet, unpadded.
    return [
        layers.Conv2D(32, 3, activation="relu", **o.reg_args),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu", **o.reg_args),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        o.drop(0.5),
    ]


def _fashion_mlp(o: ModelOptions) -> list[Any]:
    return [layers.Flatten(), o.dense(512), o.drop(0.3), o.dense(256), o.drop(0.3, 1)]


def _fashion_cnn(o: ModelOptions) -> list[Any]:
    # Half the training images mirrored and most shifted by a pixel, two
    # conv-batchnorm-relu-pool blocks and a wide dense layer.
    shift = layers.RandomTranslation(
        0.04, 0.04, fill_mode="constant", interpolation="nearest", seed=o.seed + 1
    )
    return [
        *o.augment(layers.RandomFlip("horizontal", seed=o.seed), shift),
        *o.conv_bn_relu(32),
        layers.MaxPooling2D(2),
        *o.conv_bn_relu(64),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        o.dense(256),
        o.drop(0.3),
    ]


def _cifar10_fc(o: ModelOptions) -> Any:
    # The course's best fully-connected model: batchnorm, dropout 0.5.
    model = FullyConnectedNet(
        [512, 256, 256] if o.units is None else [o.units] * 3,
        normalization="batchnorm",
        dropout_keep_ratio=0.5 if o.dropout is None else 1.0 - o.dropout,
        weight_scale=2e-2 if o.weight_scale is None else o.weight_scale,
        reg=1e-4 if o.reg is None else o.reg,
        seed=o.seed,
        dtype=np.float32,
    )
    if model.use_dropout:
        # A seed fixes the course model's dropout mask; training wants a new
        # mask every step, from a seeded generator.
        model.dropout_param.pop("seed")
        model.dropout_rng = backend.rng(o.seed + 1)
    return model


def _cifar10_convnet(o: ModelOptions) -> Any:
    return ThreeLayerConvNet(
        num_filters=32,
        filter_size=7,
        hidden_dim=100 if o.units is None else o.units,
        weight_scale=1e-3 if o.weight_scale is None else o.weight_scale,
        reg=1e-3 if o.reg is None else o.reg,
        seed=o.seed,
        dtype=np.float32,
    )


_MLP = ("reg", "dropout", "units")
PRESETS: dict[str, Preset] = {
    "digits-mlp": Preset(
        digits, (8, 8, 1), 30, 32, 1e-3, _digits_mlp, _MLP, help="MLP on the 8x8 digits"
    ),
    "digits-cnn": Preset(
        digits,
        (8, 8, 1),
        100,
        32,
        1e-3,
        _digits_cnn,
        _MLP,
        reduce_lr=20,
        reduce_lr_factor=0.5,
        ema=0.995,
        help="convnet, 8x8 digits",
    ),
    "mnist-cnn": Preset(
        mnist,
        (28, 28, 1),
        15,
        128,
        1e-3,
        _mnist_cnn,
        ("reg", "dropout"),
        help="Keras' MNIST convnet",
    ),
    "fashion-mlp": Preset(
        fashion_mnist,
        (28, 28, 1),
        30,
        128,
        1e-3,
        _fashion_mlp,
        _MLP,
        cosine=True,
        help="MLP, Fashion-MNIST",
    ),
    "fashion-cnn": Preset(
        fashion_mnist,
        (28, 28, 1),
        20,
        128,
        2e-3,
        _fashion_cnn,
        _MLP,
        cosine=True,
        help="BN convnet, Fashion-MNIST",
    ),
    "cifar10-fc": Preset(
        cifar10,
        (32, 32, 3),
        10,
        256,
        1e-3,
        _cifar10_fc,
        ("reg", "dropout", "units", "weight_scale"),
        solver=True,
        help="FullyConnectedNet, Solver",
    ),
    "cifar10-convnet": Preset(
        cifar10,
        (32, 32, 3),
        10,
        50,
        1e-3,
        _cifar10_convnet,
        ("reg", "units", "weight_scale"),
        solver=True,
        help="ThreeLayerConvNet, Solver",
    ),
}


def _preset(name: str, solver: bool | None = None) -> Preset:
    if name not in PRESETS:
        raise fail("preset", f"one of {sorted(PRESETS)}", repr(name))
    preset = PRESETS[name]
    if solver is not None and preset.solver != solver:
        kind = "a Solver preset" if solver else "a Keras preset"
        raise fail("preset", kind, f"{name!r}, which is not")
    return preset


def class_names(preset: str) -> list[str]:
    """The class names of ``preset``'s dataset."""
    return list(_preset(preset).dataset.CLASS_NAMES)


def model_params(preset: str) -> tuple[str, ...]:
    """The hyperparameters of ``preset``'s model that its builder takes: ``reg``
    always; ``dropout`` and ``units`` where the model has Dropout or hidden
    Dense layers (hidden layers, for the Solver models); ``weight_scale`` for
    the Solver presets, whose course models draw their weights from
    N(0, weight_scale^2)."""
    return _preset(preset).params


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


# -- Keras presets --


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
    p = _preset(preset, solver=False)
    _check_model_params(preset, {"dropout": dropout, "units": units})
    options = ModelOptions(
        seed,
        kernel_regularizer,
        dropout=dropout,
        units=units,
        augmentation=augmentation,
    )
    classifier = layers.Dense(10, activation="softmax", **options.reg_args)
    return [layers.Input(p.input_shape), *p.build(options), classifier]


def build_model(
    preset: str, seed: int, kernel_regularizer: Any = None, **options: Any
) -> models.Sequential:
    """The uncompiled ``Sequential`` of a Keras preset: :func:`preset_layers`'
    layers (same arguments), built with weights seeded by ``seed``."""
    model_layers = preset_layers(preset, seed, kernel_regularizer, **options)
    return models.Sequential(model_layers, name=preset, seed=seed)


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
    p = _preset(preset)
    if p.cosine:
        steps = -(-n_train // batch_size) * epochs
        rate = optimizers.CosineDecay(lr, decay_steps=steps)
    ema = {} if p.ema is None else {"use_ema": True, "ema_momentum": p.ema}
    return optimizers.OPTIMIZERS[name](learning_rate=rate, **ema)


def digits_data(seed: int = 0) -> tuple[Split, Split]:
    """The digits train and test sets as (N, 8, 8, 1) images in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = digits.load_data(seed=seed)

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=digits.PIXEL_MAX).reshape(-1, 8, 8, 1)

    return (prep(x_train), y_train), (prep(x_test), y_test)


def keras_data(preset: str, path: str | None) -> tuple[Split, Split]:
    """The train and test sets of a Keras preset: (N, H, W, 1) images in [0, 1].

    Raises:
        ValueError: for a ``path`` given to a preset of the bundled digits.
        glassnet.errors.DatasetNotFoundError: when the files are not found.
    """
    p = _preset(preset, solver=False)
    if p.dataset is digits:
        if path is not None:
            raise fail(
                "data", f"no path: {preset} uses scikit-learn's bundled digits", path
            )
        return digits_data()
    (x_train, y_train), (x_test, y_test) = p.dataset.load_data(path=path)

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=255).reshape(-1, *p.input_shape)

    return (prep(x_train), y_train), (prep(x_test), y_test)


# -- Solver presets --


def solver_data(path: str | None) -> dict[str, np.ndarray]:
    """cs231n's CIFAR-10 split: 49,000 train, 1,000 val, the mean image subtracted.

    The test set is all 10,000 test images. (Smaller files, as in the tests,
    keep a tenth of the training images for validation.)

    Besides the six arrays of :func:`glassnet.datasets.get_cifar10_data`, the
    dict holds ``mean``, the training mean image (H, W, 3) in [0, 255], which
    the saved model needs to centre new images the same way.

    Raises:
        glassnet.errors.DatasetNotFoundError: when the files are not found.
    """
    (x_train, _), _ = cifar10.load_data(path=path)
    data = get_cifar10_data(
        num_training=None,
        num_validation=min(1000, len(x_train) // 10),
        num_test=None,
        subtract_mean=False,
        path=path,
    )
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
    p = _preset(preset, solver=True)
    given = {"reg": reg, "weight_scale": weight_scale, "dropout": dropout}
    _check_model_params(preset, {**given, "units": units})
    return p.build(ModelOptions(seed, units=units, **given))


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


__all__ = [
    "PRESETS",
    "SOLVER_LR_DECAY",
    "ModelOptions",
    "Preset",
    "build_model",
    "build_solver_model",
    "class_names",
    "digits_data",
    "keras_data",
    "keras_optimizer",
    "l2_regularizer",
    "model_params",
    "preset_layers",
    "solver_data",
    "solver_options",
]
