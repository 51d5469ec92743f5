"""``glassnet train PRESET``: train, evaluate on the test set, write everything.

Keras presets train with ``fit`` and back up after every epoch through
``callbacks.BackupAndRestore``; Solver presets train with the classic ``Solver``,
which writes its own checkpoints, and are saved as an equivalent ``Sequential``.
Either way ``--resume`` continues from the last checkpoint in ``--out``.

``--seed`` goes through :func:`glassnet.utils.set_random_seed` as well as every
explicit seed. Ctrl-C lets the current batch finish, writes a checkpoint and
exits with code 130, printing the ``--resume`` command that goes on. A NaN or
infinite loss stops training (``TerminateOnNaN``) with an error naming the
epoch and batch; a batch size larger than the training set is refused.

``--reg``, ``--dropout``, ``--units`` and (Solver presets) ``--weight-scale`` and
``--lr-decay`` change the preset's model and schedule where it has them, and
``--split-seed`` the validation split of the Keras presets (``--seed`` by
default), so that ``glassnet sweep``'s best trial can be trained again exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import callbacks, layers, models, optim, optimizers, utils
from glassnet._internal.io import atomic_write_bytes
from glassnet._internal.memory import check_memory, format_bytes
from glassnet.cli import outputs, rundir
from glassnet.cli._common import (
    CliError,
    fraction,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    set_threads,
)
from glassnet.datasets import digits, train_val_test_split
from glassnet.errors import InsufficientMemoryError
from glassnet.layers._estimate import estimate_size
from glassnet.presets import (
    PRESETS,
    SOLVER_LR_DECAY,
    build_model,
    build_solver_model,
    class_names,
    keras_data,
    keras_optimizer,
    l2_regularizer,
    model_params,
    preset_layers,
    solver_data,
    solver_options,
)

BACKUP_DIR = "backup"  # Keras presets: BackupAndRestore's directory in --out
SOLVER_DIR = "checkpoints"  # Solver presets: solver_epoch_<N>.ckpt files
# The options that change the preset's model: its builder's argument -> the flag.
MODEL_OPTIONS = {
    "reg": "--reg",
    "dropout": "--dropout",
    "units": "--units",
    "weight_scale": "--weight-scale",
}
_LACKS = {
    "dropout": "no dropout layer",
    "units": "no hidden Dense layer to resize",
    "weight_scale": "Keras initializers, not the course's weight scale",
}


def cmd_train(args: argparse.Namespace) -> int:
    """Train ``args.preset``; print the test accuracy and where the files went.

    Everything is checked (options, the data, the batch size, the memory the
    model needs, the state of ``--out``) before anything in ``--out`` changes:
    a refused command leaves earlier results and backups as they were.
    """
    if args.threads is not None:
        set_threads(args.threads)
    out = _out_dir(args)
    if args.resume and args.overwrite:
        raise CliError("--resume and --overwrite: give one (go on, or start afresh)")
    rundir.refuse_if_held(out)  # before advice that the lock would then refuse
    record = _record_of(out, args)
    if args.resume:
        _take_recorded_options(args, record, out)
    args.preset = args.preset or DEFAULT_PRESET
    args.seed = 0 if args.seed is None else args.seed
    preset = PRESETS[args.preset]
    _check_preset_options(args)
    if not preset.solver:
        args.monitor = args.monitor or "val_loss"
    settings = {
        "epochs": args.epochs or preset.epochs,
        "batch_size": args.batch_size or preset.batch_size,
        "optimizer": args.optimizer or preset.optimizer,
        "lr": args.lr or preset.lr,
    }
    _check_memory(args, settings)
    if not args.resume:
        _check_fresh_start(args, out, record)  # fail fast; again under the lock
    utils.set_random_seed(args.seed)
    train = _train_solver if preset.solver else _train_keras
    with contextlib.ExitStack() as held:
        started: list[bool] = []

        def start() -> None:
            """Called once every check has passed, just before training."""
            rundir.make_dir(out)
            held.enter_context(rundir.locked(out))
            _begin_run(args, settings, out)
            started.append(True)

        try:
            model, logs, seconds, (x_test, y_test), curves, notes = train(
                args, settings, out, start
            )
            test, files = _write_outputs(
                args, out, model, logs, seconds, (x_test, y_test), curves, notes
            )
        except DivergedError:
            if started:  # nothing worth resuming: a new run may replace it
                _record(args, settings, out, "failed")
            raise
        except KeyboardInterrupt as e:
            if not started:
                print(
                    f"\ninterrupted before training started; nothing in {out} changed",
                    flush=True,
                )
                return 130
            _record(args, settings, out, "interrupted")
            if _has_backup(out):
                print(f"\nto go on: {resume_command(args, settings, out)}")
                print(f"({str(e) or 'training interrupted'})", flush=True)
            else:
                print(
                    "\nno backup was written before the interruption, so there is "
                    "nothing to resume; to start again: "
                    f"{resume_command(args, settings, out, resume=False)}",
                    flush=True,
                )
            return 130
        _record(args, settings, out, "finished", files)
    print(f"test accuracy: {test['accuracy']:.4f} (test loss {test['loss']:.4f})")
    print(f"wrote {', '.join(files)} to {out}")
    return 0


def _write_outputs(args, out, model, logs, seconds, test_set, curves, notes):
    """The model, history, report and plots; returns the test logs and the files.

    report.md gets what the callbacks did (``notes``) and the test accuracy of
    best.weights.h5 beside the final model's.
    """
    x_test, y_test = test_set
    model.save(out / "model.h5")
    _write_text(out / "history.json", json.dumps(logs, indent=2) + "\n")
    test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    best = models.load_model(out / "model.h5")
    best.load_weights(out / "best.weights.h5")
    best_test = best.evaluate(x_test, y_test, verbose=0, return_dict=True)
    notes = [
        *notes,
        f"- Test accuracy: {test['accuracy']:.4f} with the final model (model.h5), "
        f"{best_test['accuracy']:.4f} with best.weights.h5 "
        "(`glassnet evaluate model.h5 --weights best.weights.h5`).",
    ]
    pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    names = class_names(args.preset)
    plots: list[str] = []
    if not outputs.has_matplotlib():
        print("plots skipped: matplotlib is not installed (pip install glassnet[plot])")
    else:
        plots = outputs.save_plots(
            out, model, logs, x_test, y_test, pred, names, curves
        )
    report = (args.preset, test, y_test, pred, seconds, plots, names)
    outputs.write_report(out / "report.md", *report, notes=notes)
    files = [*OUTPUT_FILES, SOLVER_DIR if PRESETS[args.preset].solver else BACKUP_DIR]
    files += ["logs"] if args.tensorboard else []
    return test, files + plots


# -- the output directory: checked first, locked, recorded --

# --optimizer: Keras' optimizers; the Solver presets also take the course's rules.
OPTIMIZER_CHOICES = sorted({*optimizers.OPTIMIZERS, *optim.RULES})

DEFAULT_PRESET = "digits-cnn"
# The options that shape a run's result, as run.json records them. On --resume
# each is taken from the record; one given again must equal it (--epochs may
# grow: a larger --epochs trains on). --threads and --tensorboard change only
# speed and logging and are honoured as given.
RECORDED = (
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "seed",
    "split_seed",
    *MODEL_OPTIONS,
    "lr_decay",
    "early_stopping",
    "reduce_lr",
    "monitor",
    "data",
)
# What a finished run wrote, besides its plots, that a new run replaces.
OUTPUT_FILES = (
    "model.h5",
    "best.weights.h5",
    "history.csv",
    "history.json",
    "report.md",
)
_OUTPUTS = {*OUTPUT_FILES, "logs", BACKUP_DIR, SOLVER_DIR}


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out is not None and not args.out.strip():
        raise CliError("--out: expected a directory path; received ''")
    out = Path(args.out or Path("runs") / (args.preset or DEFAULT_PRESET))
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: expected a directory; that path is a file")
    return out


def _data_path(data: str | None) -> str | None:
    return None if data is None else str(Path(data).resolve())


def _options(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    """What the run uses: the options, with the defaults that stand for them where
    the command line can name them (so that giving one again is no change)."""
    options = {name: getattr(args, name) for name in RECORDED}
    options.update(settings, data=_data_path(args.data))
    if args.split_seed is None and not PRESETS[args.preset].solver:
        options["split_seed"] = args.seed
    options["reduce_lr"] = args.reduce_lr or PRESETS[args.preset].reduce_lr
    return options


# How each recorded option is checked: by the type its flag has on the command
# line (None stands for "not given").
_CHECKS = {
    "epochs": positive_int,
    "batch_size": positive_int,
    "lr": positive_float,
    "seed": non_negative_int,
    "split_seed": non_negative_int,
    "reg": non_negative_float,
    "dropout": fraction,
    "units": positive_int,
    "weight_scale": positive_float,
    "lr_decay": positive_float,
    "early_stopping": positive_int,
    "reduce_lr": positive_int,
}


def _record_of(out: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """``out``'s run record, checked; with --overwrite a bad one is ignored (it
    is replaced), otherwise it is refused naming what is wrong."""
    try:
        record = rundir.read_record(out) if out.is_dir() else None
        if record is not None:
            _check_record(out, record)
        return record
    except CliError:
        if args.overwrite:
            return None
        raise


def _check_record(out: Path, record: dict[str, Any]) -> None:
    """Every recorded option as its flag would take it, before anything is used."""
    where = out / rundir.RECORD
    options = record["options"]
    problem = None
    if record["preset"] not in PRESETS:
        problem = f"a preset in {sorted(PRESETS)}; received {record['preset']!r}"
    for name, check in _CHECKS.items():
        value = options.get(name)
        if problem is None and value is not None:
            integer = check in (positive_int, non_negative_int)
            kind_ok = isinstance(value, int if integer else int | float)
            try:
                ok = kind_ok and not isinstance(value, bool) and check(str(value))
            except argparse.ArgumentTypeError:
                ok = False
            if ok is False:
                problem = f"options[{name!r}] as --{name.replace('_', '-')} takes it"
                problem += f"; received {value!r}"
    monitor = options.get("monitor")
    if problem is None and monitor not in (None, "val_loss", "val_accuracy"):
        problem = f"options['monitor'], val_loss or val_accuracy; received {monitor!r}"
    optimizer, data = options.get("optimizer"), options.get("data")
    if problem is None and optimizer not in (None, *OPTIMIZER_CHOICES):
        problem = f"options['optimizer'] in {OPTIMIZER_CHOICES}; received {optimizer!r}"
    if problem is None and not (data is None or isinstance(data, str)):
        problem = f"options['data'], a directory path; received {data!r}"
    if problem is not None:
        raise CliError(
            f"{where}: expected {problem} (move the file away, or start afresh "
            "with --overwrite)"
        )


def _take_recorded_options(
    args: argparse.Namespace, record: dict[str, Any] | None, out: Path
) -> None:
    """--resume: the recorded run's settings, with any option given again checked."""
    if record is None:
        if _has_backup(out):
            raise CliError(
                f"--resume: {out} has a backup but no {rundir.RECORD} of its "
                "settings (it was written by an older glassnet, or removed), so "
                "options given now could not be checked against the run's: start "
                "afresh with --overwrite"
            )
        return  # the train functions say there is nothing to resume
    if record["status"] == "failed":
        raise CliError(
            f"--resume: the run in {out} failed (its loss became NaN or "
            "infinite), so there is nothing to go on from; start afresh without "
            "--resume, with a lower --lr (or --reg)"
        )
    recorded = record["options"]
    given = args.preset or record["preset"]
    if given != record["preset"]:
        raise CliError(
            f"--resume: {out} holds a run of {record['preset']}; received the "
            f"preset {given} (leave it out, or give another --out)"
        )
    args.preset = record["preset"]
    for name in RECORDED:
        value, before = getattr(args, name), recorded.get(name)
        if name == "data" and value is not None:
            value = _data_path(value)
        flag = "--" + name.replace("_", "-")
        if value is None:
            setattr(args, name, before)
        elif value == before:
            continue
        elif name == "epochs" and isinstance(before, int) and value >= before:
            continue  # trains on
        elif name == "epochs":
            raise CliError(
                f"--epochs: expected at least {before}, the epochs of the run in "
                f"{out}; received {value}"
            )
        else:
            was = f"without {flag}" if before is None else f"with {flag} {before!r}"
            raise CliError(
                f"{flag}: the run in {out} was trained {was} and --resume goes on "
                f"as it was; received {value!r}. Leave {flag} out, or start afresh "
                "with --overwrite (or another --out)"
            )
    if args.tensorboard and not recorded.get("tensorboard"):
        raise CliError(
            f"--tensorboard: the run in {out} was trained without it, and a "
            "resumed run keeps its callbacks (TensorBoard has a state to go on "
            "from); leave --tensorboard out, or start afresh with --overwrite"
        )
    args.tensorboard = bool(recorded.get("tensorboard"))


def _has_backup(out: Path) -> bool:
    """Whether ``out`` holds something ``--resume`` can go on from."""
    backup, solver = out / BACKUP_DIR, out / SOLVER_DIR
    return any(backup.glob("checkpoint*.h5")) or any(solver.glob("solver_*.ckpt"))


def _check_fresh_start(
    args: argparse.Namespace, out: Path, record: dict[str, Any] | None
) -> None:
    """Without --resume: refuse to drop an unfinished run's backup unasked."""
    ended = record is not None and record["status"] in ("finished", "failed")
    if ended or args.overwrite or not _has_backup(out):
        return
    what = f"a run of {record['preset']}" if record else "a run"
    raise CliError(
        f"--out {out} holds {what} that did not finish, with a backup to go on "
        "from: add --resume to go on, or --overwrite to start afresh and replace "
        "it (or give another --out)"
    )


def _begin_run(args: argparse.Namespace, settings: dict[str, Any], out: Path) -> None:
    """Under the lock: check ``out`` again, clear a replaced run, record this one."""
    record = _record_of(out, args)
    if not args.resume:
        _check_fresh_start(args, out, record)
        # An earlier glassnet run (recorded) leaves nothing of its own beside
        # this one's; without a record only its backups are known to be ours.
        ours = {*_OUTPUTS, *outputs.PLOTS} if record else {BACKUP_DIR, SOLVER_DIR}
        replaced = [name for name in sorted(ours) if os.path.lexists(out / name)]
        for name in replaced:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()  # a file, or a link (never what it points to)
        if replaced:
            print(f"starting afresh in {out}: replaced {', '.join(replaced)}")
        _record(args, settings, out, "running")
    elif PRESETS[args.preset].solver:
        _record(args, settings, out, "running")
    # A resumed Keras run is recorded once fit has restored its backup and
    # begins an epoch (_RecordWhenTraining): a backup fit refuses changes nothing.


def _record(
    args: argparse.Namespace,
    settings: dict[str, Any],
    out: Path,
    status: str,
    files: list[str] | None = None,
) -> None:
    options = _options(args, settings) | {"tensorboard": bool(args.tensorboard)}
    rundir.write_record(out, args.preset, options, status, files)


class _RecordWhenTraining(callbacks.Callback):
    """Records a resumed run as running when its first epoch begins."""

    def __init__(self, record: Any) -> None:
        super().__init__()
        self.record = record

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if self.record is not None:
            self.record()
            self.record = None


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def resume_command(
    args: argparse.Namespace,
    settings: dict[str, Any],
    out: Path,
    resume: bool = True,
) -> str:
    """The ``glassnet train ... --resume`` command that continues this run (with
    ``resume=False``, the one that starts it again)."""
    # A relative path that starts with "-" would be read as an option.
    path = f".{os.sep}{out}" if str(out).startswith("-") else str(out)
    words = ["glassnet", "train", args.preset, "--out", path]
    words += ["--epochs", str(settings["epochs"])]
    words += ["--batch-size", str(settings["batch_size"])]
    words += ["--optimizer", settings["optimizer"], "--lr", repr(settings["lr"])]
    words += ["--seed", str(args.seed)]
    for flag, value in (
        *((flag, getattr(args, name)) for name, flag in MODEL_OPTIONS.items()),
        ("--lr-decay", args.lr_decay),
        ("--split-seed", args.split_seed),
        ("--early-stopping", args.early_stopping),
        ("--reduce-lr", args.reduce_lr),
        ("--monitor", args.monitor),
        ("--data", args.data),
        ("--threads", args.threads),
    ):
        if value is not None:
            words += [flag, repr(value) if isinstance(value, float) else str(value)]
    words += ["--tensorboard"] if args.tensorboard else []
    words += ["--resume"] if resume else []
    return " ".join(shlex.quote(w) for w in words)


def _check_preset_options(args: argparse.Namespace) -> None:
    """Refuse an option that ``args.preset`` has nothing for, before any work."""
    preset = PRESETS[args.preset]
    known = model_params(args.preset)
    for name, flag in MODEL_OPTIONS.items():
        if getattr(args, name) is not None and name not in known:
            options = ", ".join(MODEL_OPTIONS[k] for k in known)
            raise CliError(
                f"{flag}: {args.preset} has {_LACKS[name]}; its model takes {options}"
            )
    if preset.solver and args.split_seed is not None:
        raise CliError(
            f"--split-seed: {args.preset} validates on the course's fixed split "
            "of the CIFAR-10 training images; leave --split-seed out"
        )
    if args.data is not None and preset.dataset is digits:
        raise CliError(
            f"--data: {args.preset} uses scikit-learn's bundled digits; leave "
            "--data out"
        )
    if not preset.solver and args.optimizer not in (None, *optimizers.OPTIMIZERS):
        raise CliError(
            f"--optimizer {args.optimizer}: a course update rule, for the Solver "
            f"presets; {args.preset} takes one of {sorted(optimizers.OPTIMIZERS)}"
        )
    if args.reduce_lr is not None and preset.cosine:
        raise CliError(
            f"--reduce-lr: {args.preset} follows a cosine learning-rate schedule "
            "over its epochs; leave --reduce-lr out"
        )
    if preset.ema is not None and args.early_stopping is not None:
        raise CliError(
            f"--early-stopping: {args.preset} averages its weights over the run "
            "(use_ema) and ends on the averages, while early stopping would watch "
            "and restore the raw weights of one epoch; leave --early-stopping out "
            "(its schedule is ReduceLROnPlateau's, --reduce-lr)"
        )
    if preset.solver:
        for flag, value in (
            ("--early-stopping", args.early_stopping),
            ("--reduce-lr", args.reduce_lr),
            ("--tensorboard", args.tensorboard),
            ("--monitor", args.monitor),
        ):
            if value:
                raise CliError(
                    f"{flag}: {args.preset} trains with the classic Solver, which "
                    "takes no callbacks (it keeps the best epoch and decays the "
                    f"rate by --lr-decay, {args.lr_decay or SOLVER_LR_DECAY})"
                )
    if not preset.solver and args.lr_decay is not None:
        raise CliError(
            f"--lr-decay: {args.preset} trains with fit; its schedule is the "
            "preset's (see --reduce-lr); --lr-decay is for the Solver presets"
        )


def _check_memory(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    """Refuse a Keras preset's model that cannot fit, before building it.

    Training holds each weight with its gradient and the optimizer's two
    slots, and every backup and save copies the weights and slots once into
    the file's tensors and once more into its bytes: ten copies of the weights
    at the peak (measured on digits-mlp). A batch needs every layer's output,
    its cache and its gradient: three copies. The course models of the
    Solver presets refuse a weight that cannot fit as they draw it.
    """
    if PRESETS[args.preset].solver:
        return
    size = estimate_size(preset_layers(**_model_args(args)))
    batch = settings["batch_size"]
    weights = 10 * size.param_bytes
    activations = 3 * (size.activation_bytes(batch) or 0)
    flags = "--units or --batch-size" if args.units else "--batch-size"
    try:
        check_memory(
            f"{args.preset}'s model",
            weights + activations,
            f"{size.params:,} parameters ({format_bytes(weights)} with their "
            f"gradients, optimizer state and saved copies) and a batch of {batch} "
            f"({format_bytes(activations)} of activations)",
        )
    except InsufficientMemoryError as e:
        raise CliError(f"{e}; give a smaller {flags}") from None


def _model_args(args: argparse.Namespace) -> dict[str, Any]:
    """``build_model``'s and ``preset_layers``' arguments for ``args``."""
    return {
        "preset": args.preset,
        "seed": args.seed,
        "kernel_regularizer": l2_regularizer(args.reg),
        "dropout": args.dropout,
        "units": args.units,
    }


def _check_batch_size(batch_size: int, n: int) -> None:
    if batch_size > n:
        raise CliError(
            f"--batch-size: expected at most the {n} training samples; "
            f"received {batch_size}"
        )


class DivergedError(CliError):
    """The loss became NaN or infinite: the run stopped and cannot go on."""


def _check_finite_loss(terminate: Any, lr: Any, reg: float | None) -> None:
    if terminate.stopped_at is not None:
        epoch, batch = terminate.stopped_at
        # Batches counted from 0, as TerminateOnNaN's "Batch N: Invalid loss" line.
        advice = f"a lower learning rate than --lr {lr!r}"
        if reg:
            advice += f", or a smaller --reg than {reg!r} (the L2 penalty)"
        raise DivergedError(
            f"the loss became NaN or infinite at epoch {epoch + 1}, batch {batch} "
            f"(counted from 0, as logged); training stopped. Try {advice}"
        )


def _check_resumable(args: argparse.Namespace, directory: Path, what: str) -> None:
    """With --resume, there must be something to resume."""
    if args.resume and (not directory.is_dir() or not any(directory.iterdir())):
        raise CliError(
            f"--resume: expected {what} in {directory}; found none "
            "(run without --resume to start, with the same --out)"
        )


# -- Keras presets --


class _EpochTimer(callbacks.Callback):
    """Adds ``epoch_time`` (seconds) to each epoch's logs, for the log line,
    history.csv and history.json; first in the list, so that they all see it."""

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is not None:
            logs["epoch_time"] = round(time.perf_counter() - self._start, 3)


def _keras_callbacks(args: argparse.Namespace, out: Path) -> list[Any]:
    """The run's callbacks; EarlyStopping, ReduceLROnPlateau and the best
    checkpoint all watch ``--monitor``, and the first two say what they do."""
    monitor = args.monitor
    cbs: list[Any] = [
        _EpochTimer(),
        callbacks.TerminateOnNaN(),
        callbacks.BackupAndRestore(out / BACKUP_DIR, delete_checkpoint=False),
        callbacks.ModelCheckpoint(
            out / "best.weights.h5",
            monitor=monitor,
            save_best_only=True,
            save_weights_only=True,
        ),
        callbacks.CSVLogger(out / "history.csv", append=args.resume),
    ]
    if args.early_stopping is not None:
        cbs.append(
            callbacks.EarlyStopping(
                monitor=monitor,
                patience=args.early_stopping,
                restore_best_weights=True,
                verbose=1,
            )
        )
    preset = PRESETS[args.preset]
    patience = args.reduce_lr or preset.reduce_lr
    if patience is not None:
        cbs.append(
            callbacks.ReduceLROnPlateau(
                monitor=monitor,
                patience=patience,
                factor=preset.reduce_lr_factor,
                verbose=1,
            )
        )
    if args.tensorboard:
        cbs.append(callbacks.TensorBoard(log_dir=out / "logs"))
    return cbs


def _callback_notes(
    args: argparse.Namespace,
    cbs: list[Any],
    logs: dict[str, list[float]],
    out: Path,
    optimizer: Any,
) -> list[str]:
    """What the callbacks did, for report.md: in the words of the run's logs.

    As in Keras 3, the logs hold ``learning_rate`` only when ReduceLROnPlateau
    (or LearningRateScheduler) ran; otherwise the rate is read from ``optimizer``.
    """
    monitor, epochs = args.monitor, len(logs.get("loss", []))
    values = logs.get(monitor, [])
    pick = min if "loss" in monitor else max
    best = values.index(pick(values)) if values else None
    notes = []
    lrs = logs.get("learning_rate", [])
    changes = [
        f"epoch {i + 1}: {lrs[i - 1]:g} -> {lrs[i]:g}"
        for i in range(1, len(lrs))
        if lrs[i] != lrs[i - 1]
    ]
    schedule = getattr(optimizer, "_learning_rate", None)
    if PRESETS[args.preset].cosine and isinstance(schedule, optimizers.CosineDecay):
        notes.append(
            f"- Learning rate: cosine decay from {schedule.initial_learning_rate:g} "
            f"to {optimizer.learning_rate:g} after epoch {epochs}."
        )
    elif changes:
        notes.append(
            "- ReduceLROnPlateau lowered the learning rate at "
            + "; ".join(changes)
            + "."
        )
    elif lrs:
        notes.append(f"- The learning rate stayed at {lrs[0]:g}.")
    else:  # no learning-rate callback: the optimizer's rate all along
        notes.append(f"- The learning rate stayed at {optimizer.learning_rate:g}.")
    stopper = next((cb for cb in cbs if isinstance(cb, callbacks.EarlyStopping)), None)
    if stopper is not None and stopper.stopped_epoch > 0:
        notes.append(
            f"- EarlyStopping stopped after epoch {stopper.stopped_epoch + 1} of "
            f"{args.epochs}: {monitor} had not improved for {args.early_stopping} "
            f"epochs (best {stopper.best:.4f} at epoch {stopper.best_epoch + 1})."
        )
    elif stopper is not None:
        notes.append(f"- EarlyStopping did not stop: all {epochs} epochs ran.")
    if stopper is not None and stopper.best_weights is not None:
        notes.append(
            f"- The final model holds the weights of epoch {stopper.best_epoch + 1}, "
            f"the best {monitor} (EarlyStopping's restore_best_weights)."
        )
    elif PRESETS[args.preset].ema is not None:
        notes.append(
            "- The final model holds the moving averages of the weights over the "
            f"run (Adam's use_ema, momentum {PRESETS[args.preset].ema})."
        )
    else:
        notes.append(
            f"- The final model holds the weights of the last epoch ({epochs})."
        )
    if best is not None:
        notes.append(
            f"- best.weights.h5 holds the weights of epoch {best + 1}, the best "
            f"{monitor} ({values[best]:.4f})."
        )
    if args.tensorboard:
        notes.append(
            f"- TensorBoard logs are in {out / 'logs'}: `tensorboard --logdir "
            f"{out / 'logs'}`."
        )
    return [n for n in notes if n]


def _train_keras(
    args: argparse.Namespace, settings: dict[str, Any], out: Path, begin: Any
):
    _check_resumable(args, out / BACKUP_DIR, "a BackupAndRestore checkpoint")
    (x_train, y_train), test = keras_data(args.preset, args.data)
    split_seed = args.seed if args.split_seed is None else args.split_seed
    (x_tr, y_tr), (x_val, y_val), _ = train_val_test_split(
        x_train, y_train, val_size=0.1, test_size=0, seed=split_seed
    )
    _check_batch_size(settings["batch_size"], len(x_tr))
    model = build_model(**_model_args(args))
    opt = keras_optimizer(
        args.preset,
        settings["optimizer"],
        settings["lr"],
        len(x_tr),
        settings["batch_size"],
        settings["epochs"],
    )
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    begin()
    start = time.perf_counter()
    cbs = _keras_callbacks(args, out)
    if args.resume:
        cbs.append(_RecordWhenTraining(lambda: _record(args, settings, out, "running")))
    history = model.fit(
        x_tr,
        y_tr,
        batch_size=settings["batch_size"],
        epochs=settings["epochs"],
        validation_data=(x_val, y_val),
        callbacks=cbs,
        verbose="auto",  # a live bar on a terminal, a line per epoch elsewhere
    )
    seconds = time.perf_counter() - start
    terminate = next(cb for cb in cbs if isinstance(cb, callbacks.TerminateOnNaN))
    _check_finite_loss(terminate, settings["lr"], args.reg)
    logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    notes = _callback_notes(args, cbs, logs, out, model.optimizer)
    return model, logs, seconds, test, None, notes


# -- Solver presets --


def _latest_checkpoint(directory: Path, per_epoch: int) -> Path | None:
    """The checkpoint furthest on: an epoch's end, or where Ctrl-C stopped."""
    found = []
    for path in directory.glob("solver_*.ckpt"):
        match = re.fullmatch(r"solver_(epoch|iteration)_(\d+)\.ckpt", path.name)
        if match:
            n = int(match.group(2))
            found.append((n * per_epoch if match.group(1) == "epoch" else n, path))
    return max(found)[1] if found else None


def _train_solver(
    args: argparse.Namespace, settings: dict[str, Any], out: Path, begin: Any
):
    from glassnet.solver import Solver

    checkpoints = out / SOLVER_DIR
    _check_resumable(args, checkpoints, "Solver checkpoints")
    data = solver_data(args.data)
    model = build_solver_model(
        args.preset,
        args.seed,
        **{name: getattr(args, name) for name in MODEL_OPTIONS},
    )
    n = len(data["X_train"])
    _check_batch_size(settings["batch_size"], n)
    begin()
    checkpoints.mkdir(parents=True, exist_ok=True)
    solver = Solver(
        model,
        {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")},
        checkpoint_name=str(checkpoints / "solver"),
        print_every=max(n // settings["batch_size"] // 4, 1),
        **solver_options(
            settings["optimizer"],
            settings["lr"],
            settings["batch_size"],
            settings["epochs"],
            args.seed,
            args.lr_decay,
        ),
    )
    start = time.perf_counter()
    per_epoch = max(n // settings["batch_size"], 1)
    latest = _latest_checkpoint(checkpoints, per_epoch) if args.resume else None
    if latest is not None:
        print(f"resuming from {latest}")
        solver.resume(latest)
    else:
        solver.train()
    seconds = time.perf_counter() - start
    seq = _as_sequential(model, data, args.preset)
    seq.save_weights(out / "best.weights.h5")  # the Solver keeps the best epoch's
    logs = {
        "loss": [float(v) for v in solver.loss_history],
        "accuracy": [float(v) for v in solver.train_acc_history],
        "val_accuracy": [float(v) for v in solver.val_acc_history],
    }
    _write_text(out / "history.csv", _csv(logs))
    x_test = _images01(data["X_test"], data["mean"])
    notes = [
        f"- The Solver multiplied the learning rate by {solver.lr_decay:g} after "
        "every epoch.",
        "- The final model (and best.weights.h5) holds the parameters of the epoch "
        f"with the best validation accuracy ({solver.best_val_acc:.4f}).",
    ]
    test = (x_test, data["y_test"])
    return seq, logs, seconds, test, _solver_curves(solver), notes


def _solver_curves(solver: Any):
    from glassnet import report

    return lambda p: report.plot_training_curves(
        solver.loss_history, solver.train_acc_history, solver.val_acc_history, p
    )


def _csv(logs: dict[str, list[float]]) -> str:
    """One row per accuracy check (epoch 0 is the check before training)."""
    rows = ["epoch,accuracy,val_accuracy"]
    for i, (a, v) in enumerate(
        zip(logs["accuracy"], logs["val_accuracy"], strict=True)
    ):
        rows.append(f"{i},{a},{v}")
    return "\n".join(rows) + "\n"


def _images01(x_chw: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Undo the course's centring: (N, 3, H, W) centred -> (N, H, W, 3) in [0, 1]."""
    return ((x_chw.transpose(0, 2, 3, 1) + mean) / 255.0).astype(np.float32)


def _as_sequential(model: Any, data: dict[str, np.ndarray], preset: str) -> Any:
    """The trained classic model as a Sequential on (H, W, 3) images in [0, 1].

    The course feeds its models centred (N, 3, H, W) pixels in [0, 255]; the
    saved model starts with the layers that do that and ends with a softmax,
    so that ``evaluate`` and ``predict`` take plain images and give
    probabilities like every other preset.
    """
    mean = data["mean"]  # (H, W, 3), the training images' mean in [0, 255]
    body = model.to_sequential(input_shape=(3, *mean.shape[:2]))
    centre = layers.Normalization(axis=(1, 2, 3))
    seq = models.Sequential(
        [
            layers.Input(mean.shape),
            # (x - mean / 255) / (1 / 255) = 255 x - mean: the course's centring.
            centre,
            layers.Permute((3, 1, 2)),
            *body.layers,
            layers.Softmax(),  # the classic models output scores
        ],
        name=preset,
    )
    centre.set_weights([mean / 255.0, np.full(mean.shape, 255.0**-2)])
    # What fit would have recorded had this model been trained with it: the
    # course's 0..255 pixels, seen as images in [0, 1] (predict scales by it).
    seq.trained_input = {"dtype": "float32", "min": 0.0, "max": 1.0}
    seq.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return seq
