"""Ready-made trials: train a preset of ``glassnet train`` with a config.

:class:`PresetTrial` trains a Keras preset with ``fit`` (the preset's
augmentation, cosine decay and ReduceLROnPlateau included, as ``glassnet
train`` does) or a Solver preset with the classic ``Solver``, on a held-out
validation split or by stratified k-fold cross-validation, and returns the
validation metrics. Hyperparameters a config may set:

* Keras presets: ``lr``, ``batch_size``, ``optimizer``, ``epochs``, ``seed``,
  ``reg`` (L2 on every kernel), ``dropout`` (every Dropout layer's rate) and
  ``units`` (every hidden Dense layer's width), where the model has such layers;
* Solver presets: ``lr``, ``batch_size``, ``optimizer`` (an update rule),
  ``epochs``, ``seed``, ``reg``, ``weight_scale``, ``lr_decay``, ``units``
  (every hidden layer's width) and, for ``cifar10-fc``, ``dropout`` (the drop
  rate, ``1 - dropout_keep_ratio``).

The model comes from the builders of ``glassnet train``
(:func:`~glassnet.presets.build_model`,
:func:`~glassnet.presets.build_solver_model`) with the same arguments as
``glassnet train --reg --dropout --units --weight-scale --lr-decay``, so a
trial with ``seed`` S and ``split_seed`` T is ``glassnet train --seed S
--split-seed T`` with its config's options, at the trial's epochs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet import callbacks, optim, optimizers
from glassnet._internal.checks import check_choice, check_int, check_number, fail
from glassnet.datasets import kfold, train_val_test_split
from glassnet.presets import (
    PRESETS,
    build_model,
    build_solver_model,
    keras_data,
    keras_optimizer,
    l2_regularizer,
    model_params,
    solver_data,
    solver_options,
)
from glassnet.solver import Solver
from glassnet.tune.space import Choice, Distribution, LogUniform, RandInt, Uniform

_TRAINING = ("lr", "batch_size", "optimizer", "epochs", "seed")
# Every hyperparameter a trial may know; each preset's own: check_params.
KERAS_PARAMS = (*_TRAINING, "reg", "dropout", "units")
SOLVER_PARAMS = (*_TRAINING, "reg", "weight_scale", "lr_decay", "dropout", "units")
Split = tuple[np.ndarray, np.ndarray]


def _number(low: float, **bounds: Any) -> Callable[[str, Any], Any]:
    return lambda name, v: check_number(name, v, low=low, **bounds)


def _integer(low: int) -> Callable[[str, Any], Any]:
    return lambda name, v: check_int(name, v, min_value=low)


# Each hyperparameter -> the check of one of its values (the arguments that
# `glassnet train` and the model builders accept); "optimizer" depends on the preset.
_VALUE_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "lr": _number(0.0, low_open=True),
    "batch_size": _integer(1),
    "epochs": _integer(1),
    "seed": _integer(0),
    "reg": _number(0.0),
    "dropout": _number(0.0, high=1.0, high_open=True),
    "units": _integer(1),
    "weight_scale": _number(0.0, low_open=True),
    "lr_decay": _number(0.0, low_open=True),
}
INTEGER_PARAMS = ("batch_size", "epochs", "seed", "units")
"""The hyperparameters that take integers only."""


def check_params(preset: str, names: Any) -> None:
    """Check that a preset's trial knows every hyperparameter in ``names``.

    When ``names`` is a dict (a search space or a trial's config), its values
    are checked too, so that a bad space is refused before any trial runs:
    each fixed value, each value of a :class:`~glassnet.tune.space.Choice` and
    the bounds of the other distributions must be valid values of their
    hyperparameter (``lr`` > 0, ``dropout`` in [0, 1), an optimizer name ...),
    and an integer hyperparameter (``batch_size``, ``epochs``, ``seed``,
    ``units``) takes integers only: a ``randint``, a choice of integers or an
    integer, never a float that would be truncated.

    Raises:
        ValueError: naming the unknown ones and listing the known ones, or
            naming the hyperparameter and the bad value.
    """
    if preset not in PRESETS:
        raise fail("preset", f"one of {sorted(PRESETS)}", repr(preset))
    known = _TRAINING + model_params(preset)
    known += ("lr_decay",) if PRESETS[preset].solver else ()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise fail("params", f"hyperparameters of {preset} in {known}", unknown)
    if isinstance(names, dict):
        for name, value in names.items():
            _check_values(preset, name, value)


def _check_value(preset: str, name: str, label: str, value: Any) -> None:
    if name == "optimizer":
        solver = PRESETS[preset].solver
        check_choice(
            label, value, sorted(optim.RULES if solver else optimizers.OPTIMIZERS)
        )
    else:
        _VALUE_CHECKS[name](label, value)


def _check_values(preset: str, name: str, value: Any) -> None:
    """Check every value ``value`` (a fixed value or a distribution) can give."""
    if isinstance(value, Choice):
        for v in value.values:
            _check_value(preset, name, name, v)
    elif isinstance(value, RandInt):
        _check_value(preset, name, f"{name} (low bound)", value.low)
        _check_value(preset, name, f"{name} (largest value, high - 1)", value.high - 1)
    elif isinstance(value, Distribution):  # uniform, loguniform: float draws
        if name in INTEGER_PARAMS or name == "optimizer":
            want = (
                "integers (a randint, a choice of integers or an integer)"
                if name in INTEGER_PARAMS
                else "a choice of names or a name"
            )
            raise fail(name, want, f"{value!r}, which draws floats")
        for bound in ("low", "high"):
            _check_value(preset, name, f"{name} ({bound} bound)", getattr(value, bound))
    else:
        _check_value(preset, name, name, value)


def preset_data(preset: str, path: str | None = None) -> dict[str, np.ndarray]:
    """The data a :class:`PresetTrial` of ``preset`` takes (never the test set).

    Keras presets: ``{"x", "y"}``, the training images (N, H, W, 1) in [0, 1].
    Solver presets: the course's CIFAR-10 split ``X_train``, ``y_train``,
    ``X_val``, ``y_val`` (centred, channels first).

    Raises:
        glassnet.errors.DatasetNotFoundError: when the dataset's files are not
            found.
    """
    if PRESETS[preset].solver:
        data = solver_data(path)
        return {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")}
    (x, y), _ = keras_data(preset, path)
    return {"x": x, "y": y}


@dataclass(frozen=True)
class PresetTrial:
    """Train ``preset`` with a config and return its validation metrics.

    Called as ``trial(config, data)`` with ``data`` from :func:`preset_data`.
    The metrics are ``val_accuracy`` (the last epoch's for ``fit``, the best
    epoch's for the Solver, which keeps the best parameters), ``val_loss``
    (``fit`` only), ``accuracy``, ``best_val_accuracy`` and ``history`` (per
    epoch, for learning curves). With ``folds``, each is the mean over the
    folds, plus ``val_accuracy_std`` (population standard deviation) and
    ``fold_val_accuracy``.

    Args:
        preset: a preset of ``glassnet train``.
        epochs: epochs when the config has none. Defaults to `None` (the
            preset's).
        folds: k of stratified k-fold cross-validation. Defaults to `None` (a
            stratified 10% validation split for Keras presets, the course's
            split for Solver presets).
        split_seed: seeds the validation split or the folds, the same for
            every trial. Defaults to `0`.

    Raises:
        ValueError: for an unknown preset or hyperparameter, or folds < 2.
    """

    preset: str
    epochs: int | None = None
    folds: int | None = None
    split_seed: int = 0

    def __post_init__(self) -> None:
        check_params(self.preset, ())
        if self.epochs is not None:
            check_int("epochs", self.epochs, min_value=1)
        if self.folds is not None:
            check_int("folds", self.folds, min_value=2)

    def check_data(self, data: dict[str, Any], space: Any = None) -> None:
        """Check that ``data`` (from :func:`preset_data`) has enough samples for
        ``folds`` and for every ``batch_size`` of ``space``, before any trial runs
        (``glassnet train`` refuses a batch larger than its training set, so the
        best trial's command must not hold one).

        Raises:
            ValueError: naming ``folds`` or ``batch_size`` and the number of
                samples.
        """
        solver = PRESETS[self.preset].solver
        keys = ("y_train", "y_val") if solver else ("y",)
        y = np.concatenate([data[k] for k in keys])
        if self.folds is not None:
            check_int("folds", self.folds, max_value=len(y))
        if space is None or "batch_size" not in space:
            return
        if solver and self.folds is None:
            n = len(data["y_train"])  # the course's own split
        elif self.folds is None:
            index = np.arange(len(y))
            (train, _), _, _ = train_val_test_split(
                index, index, val_size=0.1, test_size=0, seed=self.split_seed
            )
            n = len(train)
        else:
            n = min(len(tr) for tr, _ in kfold(y, self.folds, seed=self.split_seed))
        largest = _largest(space["batch_size"])
        if largest > n:
            raise fail(
                "batch_size",
                f"batch sizes of at most the {n} training samples of a trial",
                f"up to {largest}",
            )

    def __call__(self, config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        check_params(self.preset, config)
        solver = PRESETS[self.preset].solver
        fit = _fit_solver if solver else _fit_keras
        if solver and self.folds is None:  # the course's own split
            train = (data["X_train"], data["y_train"])
            return fit(self, config, train, (data["X_val"], data["y_val"]))
        if solver:
            x = np.concatenate([data["X_train"], data["X_val"]])
            y = np.concatenate([data["y_train"], data["y_val"]])
        else:
            x, y = data["x"], data["y"]
        if self.folds is None:
            train, val, _ = train_val_test_split(
                x, y, val_size=0.1, test_size=0, seed=self.split_seed
            )
            return fit(self, config, train, val)
        runs = [
            fit(self, config, (x[tr], y[tr]), (x[va], y[va]))
            for tr, va in kfold(y, self.folds, seed=self.split_seed)
        ]
        return _mean_over_folds(runs)


def _largest(spec: Any) -> int:
    """The largest integer a space entry can give (a value or a distribution)."""
    if isinstance(spec, Choice):
        return max(int(v) for v in spec.values)
    if isinstance(spec, RandInt):
        return spec.high - 1  # high excluded
    if isinstance(spec, Uniform | LogUniform):
        return math.floor(spec.high)
    return int(spec)


def _mean_over_folds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, int | float):
            out[key] = float(np.mean([r[key] for r in runs]))
    scores = [r["val_accuracy"] for r in runs]
    out["val_accuracy_std"] = float(np.std(scores))
    out["fold_val_accuracy"] = [float(s) for s in scores]
    out["history"] = {
        k: np.mean([r["history"][k] for r in runs], axis=0).tolist()
        for k in runs[0]["history"]
    }
    return out


def _settings(trial: PresetTrial, config: dict[str, Any]) -> dict[str, Any]:
    p = PRESETS[trial.preset]
    return {
        "epochs": int(config.get("epochs", trial.epochs or p.epochs)),
        "batch_size": int(config.get("batch_size", p.batch_size)),
        "lr": float(config.get("lr", p.lr)),
        "optimizer": str(config.get("optimizer", p.optimizer)),
        "seed": int(config.get("seed", 0)),
    }


def _keras_model(preset: str, seed: int, config: dict[str, Any]) -> Any:
    """The preset's Sequential with the config's ``reg``, ``dropout``, ``units``."""
    units = config.get("units")
    return build_model(
        preset,
        seed,
        l2_regularizer(config.get("reg")),
        dropout=None if "dropout" not in config else float(config["dropout"]),
        units=None if units is None else int(units),
    )


def _fit_keras(
    trial: PresetTrial, config: dict[str, Any], train: Split, val: Split
) -> dict[str, Any]:
    p, s = PRESETS[trial.preset], _settings(trial, config)
    x_tr, y_tr = train
    model = _keras_model(trial.preset, s["seed"], config)
    opt = keras_optimizer(
        trial.preset, s["optimizer"], s["lr"], len(x_tr), s["batch_size"], s["epochs"]
    )
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    cbs = []
    if p.reduce_lr is not None:
        cbs.append(
            callbacks.ReduceLROnPlateau(patience=p.reduce_lr, factor=p.reduce_lr_factor)
        )
    h = model.fit(
        x_tr,
        y_tr,
        batch_size=s["batch_size"],
        epochs=s["epochs"],
        validation_data=val,
        callbacks=cbs,
        verbose=0,
    ).history
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    history = {k: [float(v) for v in h[k]] for k in keys}
    out = {k: history[k][-1] for k in keys}
    out["best_val_accuracy"] = max(history["val_accuracy"])
    return {**out, "history": history}


def _solver_model(preset: str, seed: int, config: dict[str, Any]) -> Any:
    """The preset's course model with the config's model hyperparameters."""
    given = {k: config[k] for k in ("reg", "weight_scale", "dropout") if k in config}
    units = config.get("units")
    return build_solver_model(
        preset,
        seed,
        **{k: float(v) for k, v in given.items()},
        units=None if units is None else int(units),
    )


def _fit_solver(
    trial: PresetTrial, config: dict[str, Any], train: Split, val: Split
) -> dict[str, Any]:
    s = _settings(trial, config)
    model = _solver_model(trial.preset, s["seed"], config)
    data = {"X_train": train[0], "y_train": train[1]}
    data.update({"X_val": val[0], "y_val": val[1]})
    lr_decay = config.get("lr_decay")
    solver = Solver(
        model,
        data,
        verbose=False,
        **solver_options(
            s["optimizer"],
            s["lr"],
            s["batch_size"],
            s["epochs"],
            s["seed"],
            None if lr_decay is None else float(lr_decay),
        ),
    )
    solver.train()
    history = {
        "accuracy": [float(v) for v in solver.train_acc_history],
        "val_accuracy": [float(v) for v in solver.val_acc_history],
    }
    return {
        "val_accuracy": float(solver.best_val_acc),
        "best_val_accuracy": float(solver.best_val_acc),
        "accuracy": history["accuracy"][-1],
        "loss": float(solver.loss_history[-1]),
        "history": history,
    }


__all__ = [
    "INTEGER_PARAMS",
    "KERAS_PARAMS",
    "SOLVER_PARAMS",
    "PresetTrial",
    "check_params",
    "preset_data",
]
