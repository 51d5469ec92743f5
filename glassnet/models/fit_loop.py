"""The epoch and batch loops of ``fit`` and ``evaluate``."""

from __future__ import annotations

import hashlib
import sys
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from glassnet._internal.checks import (
    check_choice,
    check_finite,
    check_int,
    check_labels,
    check_number,
    fail,
)
from glassnet.backend import Array, to_numpy
from glassnet.callbacks.base import CallbackList, History, callback_list
from glassnet.callbacks.progbar import ProgbarLogger
from glassnet.models import structure, training
from glassnet.models.structure import leaves
from glassnet.utils import defer_sigint


def resolve_verbose(verbose: Any) -> int:
    """Keras' ``verbose``: "auto" is 1 (a progress bar) on a terminal, else 2."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return check_choice("verbose", verbose, (0, 1, 2))


def _batches(n: int, batch_size: int, order: np.ndarray | None, steps: int | None):
    starts = range(0, n, batch_size)
    for i, start in enumerate(starts):
        if steps is not None and i >= steps:
            return
        idx = (
            slice(start, start + batch_size)
            if order is None
            else order[start : start + batch_size]
        )
        yield i, idx


def _validation(model, split, data, x, y, sw):
    """Split off ``validation_split`` (the LAST fraction, before shuffling) or take
    ``validation_data``; returns the training arrays and the validation triple."""
    split = check_number("validation_split", split, low=0, high=1, high_open=True)
    if data is not None:
        if not isinstance(data, tuple | list) or len(data) not in (2, 3):
            raise fail(
                "validation_data",
                "a tuple (x_val, y_val[, val_sample_weight])",
                type(data).__name__,
            )
        return x, y, sw, model._check_xy(*data)
    if split > 0:
        cut = int(len(x) * (1 - split))
        if cut == 0 or cut == len(x):
            raise fail(
                "validation_split",
                "a fraction leaving samples on both sides",
                f"{split} of {len(x)} samples",
            )
        val_sw = None if sw is None else sw[cut:]
        return (
            x[:cut],
            y[:cut],
            None if sw is None else sw[:cut],
            (x[cut:], y[cut:], val_sw),
        )
    return x, y, sw, None


def _class_weights(
    y: Array, class_weight: dict | None, sw: Array | None
) -> Array | None:
    if class_weight is None:
        return sw
    if isinstance(y, structure.Rows):
        raise fail(
            "class_weight",
            "None for a model of several outputs (Keras 3 supports it only for "
            "a single output; give sample_weight per output instead)",
            type(class_weight).__name__,
        )
    labels = y.reshape(len(y), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    if not isinstance(class_weight, dict):
        raise fail(
            "class_weight", "a dict {class: weight}", type(class_weight).__name__
        )
    for c, weight in class_weight.items():
        check_number(f"class_weight[{c!r}]", weight, low=0)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise fail(
            "class_weight",
            f"a weight for every class, including {sorted(missing)}",
            sorted(class_weight),
        )
    w = np.array([class_weight[int(c)] for c in labels], dtype=np.float64)
    return w if sw is None else w * sw


def _check_sample_weight(sw: Array | None) -> None:
    """Refuse what would turn the loss and every weight into NaN, before training."""
    for w in structure.leaves(sw):
        check_finite("sample_weight", w)
        if w.size and float(w.min()) < 0:
            raise fail("sample_weight", "non-negative weights", f"minimum {w.min()}")


@dataclass(frozen=True)
class FitArgs:
    """The arguments of :meth:`glassnet.models.model.Model.fit`, as given."""

    x: Any
    y: Any
    batch_size: Any
    epochs: Any
    verbose: Any
    callbacks: Any
    validation_split: Any
    validation_data: Any
    shuffle: Any
    class_weight: Any
    sample_weight: Any
    initial_epoch: Any
    steps_per_epoch: Any
    validation_steps: Any
    validation_batch_size: Any
    validation_freq: Any


def run_fit(model: Any, args: FitArgs) -> History:
    """Keras' ``fit``: see :meth:`glassnet.models.model.Model.fit`."""
    model._check_compiled()
    x, y, sw = model._check_xy(args.x, args.y, args.sample_weight)
    batch_size = (
        32
        if args.batch_size is None
        else check_int("batch_size", args.batch_size, min_value=1)
    )
    epochs = check_int("epochs", args.epochs, min_value=0)
    initial_epoch = check_int("initial_epoch", args.initial_epoch, min_value=0)
    steps = args.steps_per_epoch
    steps = None if steps is None else check_int("steps_per_epoch", steps, min_value=1)
    freq = check_int("validation_freq", args.validation_freq, min_value=1)
    verbose = resolve_verbose(args.verbose)
    _check_targets(model, y)
    _check_sample_weight(sw)
    given = callback_list(args.callbacks)
    x, y, sw, val = _validation(
        model, args.validation_split, args.validation_data, x, y, sw
    )
    sw = _class_weights(y, args.class_weight, sw)
    val_batch = args.validation_batch_size or batch_size
    val_batch = check_int("validation_batch_size", val_batch, min_value=1)
    val_steps = args.validation_steps
    if val_steps is not None:
        val_steps = check_int("validation_steps", val_steps, min_value=1)

    history = History()
    last = [cb for cb in given if getattr(cb, "runs_last", False)]
    cbs = [cb for cb in given if cb not in last]
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose=verbose))
    cbs += [history, *last]
    n_steps = steps or -(-len(x) // batch_size)
    callbacks = CallbackList(
        cbs,
        model,
        {
            "epochs": epochs,
            "steps": n_steps,
            "verbose": verbose,
            "batch_size": batch_size,
            "do_validation": val is not None,
            "data": fingerprint(x, y, sw, val),
        },
    )
    _warn_one_batch(len(x), batch_size, args.batch_size)
    model.stop_training = False
    model.history = history
    model._fit_progress = new_progress(initial_epoch)
    callbacks.on_train_begin()
    # After every on_train_begin (which resets state), a restored backup may move
    # the start: the epochs it holds are done (and the batches of the next one).
    for cb in given:
        resume = getattr(cb, "resume_training", None)
        resumed = None if resume is None else resume(given)
        initial_epoch = initial_epoch if resumed is None else resumed
    backups = [cb for cb in given if callable(getattr(cb, "backup_now", None))]
    logs: dict[str, float] = {}
    with defer_sigint(enabled=bool(backups)) as sigint:
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            loop = (x, y, sw, batch_size, steps, args.shuffle)
            logs = _train_epoch(model, epoch, loop, callbacks, sigint, backups)
            if val is not None and (epoch + 1) % freq == 0:
                val_logs = run_evaluate(model, *val, val_batch, callbacks, val_steps)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            model._fit_progress = new_progress(epoch + 1)
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
            if sigint.requested:
                raise _interrupted(backups)
    if epochs > 0:
        # As Keras, whatever the start: a run resumed after its last epoch ends
        # with the same weights (use_ema's averages) as the uninterrupted one.
        training.finalize_weights(model)
    if not logs and history.history:
        logs = {k: v[-1] for k, v in history.history.items()}  # the restored ones
    callbacks.on_train_end(logs)
    return history


def fingerprint(
    x: Array, y: Array, sw: Array | None, val: tuple | None = None
) -> dict[str, Any]:
    """What identifies the data of a fit cheaply: the arrays' shapes and a hash
    of up to 64 evenly spaced samples of each (values as float64, so that a
    float32 copy of the same data matches), the validation data's included.
    Weights of 1 everywhere are no weights. ``BackupAndRestore`` refuses to
    resume on other data.
    """
    digest = hashlib.sha256()
    for arrays in [(x, y, sw), *([val] if val is not None else [])]:
        a_x, a_y, a_sw = arrays
        if a_sw is not None and all(bool((w == 1).all()) for w in leaves(a_sw)):
            a_sw = None
        n = len(a_x)
        rows = np.unique(np.linspace(0, n - 1, min(n, 64)).astype(np.intp))
        for a in leaves(a_x) + leaves(a_y) + leaves(a_sw):
            digest.update(str(tuple(a.shape)).encode())
            sample = np.ascontiguousarray(to_numpy(a[rows]), dtype=np.float64)
            digest.update(sample.tobytes())
        digest.update(b"|")
    shapes = [list(a.shape) for a in leaves(x) + leaves(y)]
    return {"shapes": shapes, "sha256": digest.hexdigest()}


def new_progress(epoch: int) -> dict[str, Any]:
    """Where training stands: ``epoch``, the ``batch``es done in it, the generator
    state its shuffle order was drawn from (``epoch_rng``), the running loss sum
    and sample count, and each metric's ``(total, count)``. ``BackupAndRestore``
    saves and restores it, so a resumed epoch goes on in the same order."""
    return {
        "epoch": epoch,
        "batch": 0,
        "epoch_rng": None,
        "loss_sum": 0.0,
        "count": 0,
        "metrics": [],
    }


def _train_epoch(model, epoch, loop, callbacks, sigint, backups) -> dict[str, float]:
    """One epoch's batches, from the restored position when a backup left one."""
    x, y, sw, batch_size, steps, shuffle = loop
    progress = model._fit_progress
    done = progress["batch"] if progress["epoch"] == epoch else 0
    if done:
        _check_same_order(epoch, progress, shuffle)
        for m, state in zip(model._all_metrics(), progress["metrics"], strict=True):
            m.set_state(state)
        order = _order(model.rng, len(x), shuffle, progress["epoch_rng"])
    else:
        for m in model._all_metrics():
            m.reset_state()
        state = _generator_state(model.rng) if shuffle else None
        progress.update(new_progress(epoch), epoch_rng=state)
        order = model.rng.permutation(len(x)) if shuffle else None
    total, count = progress["loss_sum"], progress["count"]
    logs: dict[str, float] = {}
    if count:
        logs = {"loss": total / count, **_metric_results(model)}
    from glassnet.models import subclassing  # it imports the model classes

    custom = subclassing.overrides_train_step(model)
    for i, idx in _batches(len(x), batch_size, order, steps):
        if i < done:
            continue
        callbacks.on_train_batch_begin(i)
        xb, yb = model._cast(x[idx]), y[idx]
        swb = None if sw is None else sw[idx]
        if custom:  # the model's own train_step returns the logs
            logs = subclassing.run_train_step(model, i, xb, yb, swb)
        else:
            loss, out = training.train_step(model, xb, yb, swb)
            total, count = total + loss * len(yb), count + len(yb)
            logs = {"loss": total / count, **model._update_metrics(yb, out, swb)}
        progress.update(batch=i + 1, loss_sum=total, count=count)
        callbacks.on_train_batch_end(i, logs)
        if model.stop_training:
            break
        if sigint.requested:
            raise _interrupted(backups)
    return logs


def _check_same_order(epoch: int, progress: dict[str, Any], shuffle: Any) -> None:
    """A backup taken inside a shuffled epoch goes on in that epoch's order, and
    one taken inside an unshuffled epoch in the plain order: ``shuffle`` must be
    as it was, or samples would be skipped and others seen twice."""
    shuffled = progress["epoch_rng"] is not None
    if shuffled != bool(shuffle):
        raise fail(
            "shuffle",
            f"{shuffled}, as in the run the backup was taken in (inside epoch "
            f"{epoch + 1}, after {progress['batch']} batches)",
            repr(shuffle),
        )


def _metric_results(model) -> dict[str, float]:
    return {m.name: m.result() for m in model._all_metrics()}


def _generator_state(gen: Any) -> dict[str, Any] | None:
    bit_generator = getattr(gen, "bit_generator", None)
    return None if bit_generator is None else bit_generator.state


def _order(gen: Any, n: int, shuffle: bool, state: Any) -> np.ndarray | None:
    """The shuffle order drawn from ``state``, without touching ``gen``."""
    if not shuffle:
        return None
    twin = np.random.Generator(type(gen.bit_generator)())
    twin.bit_generator.state = state
    return twin.permutation(n)


def _interrupted(backups: list[Any]) -> KeyboardInterrupt:
    """Back up now (Ctrl-C was deferred to the end of a batch) and say how to go on."""
    paths = [cb.backup_now() for cb in backups]
    progress = backups[0].model._fit_progress
    where = f"epoch {progress['epoch'] + 1}, after batch {progress['batch']}"
    if progress["batch"] == 0:
        where = f"the end of epoch {progress['epoch']}"
    return KeyboardInterrupt(
        f"training interrupted at {where}; the backup {', '.join(paths)} holds "
        "it: training again with the same model, data and BackupAndRestore "
        "goes on from there"
    )


def _check_targets(model: Any, y: Array) -> None:
    """Refuse NaN targets, and sparse labels outside [0, C), C the output width."""
    if isinstance(y, structure.Rows):  # each output against its own loss
        shapes = model.output_shape
        for (loss, _), y_i, shape in zip(
            model.output_losses, y.parts, shapes, strict=True
        ):
            if loss is not None and y_i is not None:
                _check_targets(SimpleNamespace(loss=loss, output_shape=shape), y_i)
        return
    if y.dtype.kind == "f":
        check_finite("y", y)
    if model.loss.kind == "sparse_categorical_crossentropy":
        labels = y.reshape(len(y)) if y.shape[1:] == (1,) else y
        if labels.ndim > 1 and labels.ndim == len(model.output_shape) - 1:
            labels = labels.reshape(-1)  # one label per position (per pixel)
        ignore = getattr(model.loss, "ignore_class", None)
        if ignore is not None:  # left out of the loss, as in Keras
            labels = labels[labels != ignore]
        check_labels("y", labels, int(model.output_shape[-1]))


def _warn_one_batch(n: int, batch_size: int, given: Any) -> None:
    if given is not None and batch_size > n:
        warnings.warn(
            f"batch_size: expected at most the {n} training samples; received "
            f"{batch_size}, so each epoch is one batch of {n} (as Keras does)",
            UserWarning,
            stacklevel=4,
        )


def run_evaluate(
    model: Any,
    x: Array,
    y: Array,
    sw: Array | None,
    batch_size: int,
    callbacks: CallbackList,
    steps: int | None = None,
) -> dict[str, float]:
    """Loss and metrics over all batches (or the first ``steps``), per sample;
    through the model's own ``test_step`` when its class overrides it."""
    from glassnet.models import subclassing  # it imports the model classes

    if subclassing.overrides(model, "test_step"):
        return subclassing.run_test_steps(model, x, y, sw, batch_size, callbacks, steps)
    for m in model._all_metrics():
        m.reset_state()
    callbacks.on_test_begin()
    total, count = 0.0, 0
    for i, idx in _batches(len(x), batch_size, None, steps):
        callbacks.on_test_batch_begin(i)
        xb, yb = model._cast(x[idx]), y[idx]
        swb = None if sw is None else sw[idx]
        out, activity_penalty, _ = model.forward_pass(xb, training=False)
        loss, _, _ = training.loss_and_output_grad(model, yb, out, swb)
        loss += activity_penalty + training.weight_penalties(
            model.layers, add_grads=False
        )
        total, count = total + float(loss) * len(yb), count + len(yb)
        metrics = model._update_metrics(yb, out, swb)
        callbacks.on_test_batch_end(i, {"loss": total / count, **metrics})
    logs = {"loss": total / count, **{m.name: m.result() for m in model._all_metrics()}}
    callbacks.on_test_end(logs)
    return logs
