"""``fit``, ``evaluate`` and ``predict`` when ``x`` (or ``validation_data``) is a
``PyDataset`` or a Python generator: the loops of :mod:`glassnet.models.fit_loop`
over the batches of a :mod:`glassnet.models.data_adapters` source.

Arrays alone never come here: ``Model.fit`` sends them to the array loop, which
slices them directly. Keras 3's rules are kept: ``y``, ``sample_weight`` and
``batch_size`` are refused with a source (its batches hold them), as is
``validation_split`` (only arrays can be split); ``class_weight`` weighs a
``PyDataset``'s batches and is refused with a generator; ``shuffle`` reorders a
``PyDataset``'s batches and is ignored, with a warning, for a generator.

``model.trained_input`` (what ``glassnet predict`` scales by) is widened by each
training batch's dtype and range as it comes, so it covers every batch seen.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np

from glassnet._internal.checks import check_int, check_number, fail
from glassnet.callbacks.base import CallbackList, History, callback_list
from glassnet.callbacks.progbar import ProgbarLogger, StepProgbar
from glassnet.models import fit_loop, training
from glassnet.models.data_adapters import (
    RAN_OUT,
    ArraySource,
    GeneratorSource,
    PyDatasetSource,
    data_fingerprint,
    is_batch_source,
    kind,
    source_for,
)
from glassnet.saving import trained_input as _trained_input
from glassnet.utils import defer_sigint

_SHUFFLE_IGNORED = (
    "`shuffle=True` was passed, but will be ignored since the data `x` was "
    "provided as a generator. The generator is expected to yield "
    "already-shuffled data."
)


def _refuse_with_source(x: Any, **given: Any) -> None:
    """``y``, ``sample_weight``, ``batch_size``... must be None with a source."""
    what = {"batch_size": "it makes its own batches"}
    for name, value in given.items():
        if value is not None:
            why = what.get(name, "its batches hold them")
            raise fail(name, f"None when x is {kind(x)} ({why})", repr(value)[:80])


def _steps(name: str, value: Any) -> int | None:
    return None if value is None else check_int(name, value, min_value=1)


def _non_empty(source: Any, name: str) -> Any:
    if isinstance(source, GeneratorSource) and not source.has_more():
        raise fail(name, "a generator that yields at least one batch", "none")
    return source


def _train_source(model: Any, args: Any) -> tuple[Any, dict | None]:
    """The source of the training batches, and the class weights to apply."""
    steps = _steps("steps_per_epoch", args.steps_per_epoch)
    split = check_number(
        "validation_split", args.validation_split, low=0, high=1, high_open=True
    )
    if not is_batch_source(args.x):
        x, y, sw = model._check_xy(args.x, args.y, args.sample_weight)
        batch_size = 32 if args.batch_size is None else args.batch_size
        batch_size = check_int("batch_size", batch_size, min_value=1)
        fit_loop._check_targets(model, y)
        fit_loop._check_sample_weight(sw)
        sw = fit_loop._class_weights(y, args.class_weight, sw)
        return ArraySource(x, y, sw, batch_size, steps), None
    _refuse_with_source(
        args.x, y=args.y, sample_weight=args.sample_weight, batch_size=args.batch_size
    )
    if split > 0:
        raise fail(
            "validation_split",
            f"0 when x is {kind(args.x)}: only arrays can be split (give "
            "validation_data)",
            split,
        )
    source = _non_empty(source_for(args.x, steps, "x"), "x")
    if isinstance(source, GeneratorSource):
        if args.class_weight is not None:
            raise fail(
                "class_weight",
                "None when x is a generator, as in Keras (yield (x, y, "
                "sample_weight) batches instead)",
                repr(args.class_weight)[:80],
            )
        if args.shuffle:
            warnings.warn(_SHUFFLE_IGNORED, UserWarning, stacklevel=4)
    return source, args.class_weight


def _validation_source(model: Any, args: Any, source: Any) -> Any:
    """None, a source, or the checked arrays ``(x, y, sw, batch_size, steps)``."""
    data = args.validation_data
    if data is None:
        return None
    steps = _steps("validation_steps", args.validation_steps)
    if is_batch_source(data):
        _refuse_with_source(data, validation_batch_size=args.validation_batch_size)
        return _non_empty(source_for(data, steps, "validation_data"), "validation_data")
    if not isinstance(data, tuple | list) or len(data) not in (2, 3):
        raise fail(
            "validation_data",
            "a tuple (x_val, y_val[, val_sample_weight]), a PyDataset or a generator",
            type(data).__name__,
        )
    size = args.validation_batch_size or getattr(source, "batch_size", None) or 32
    size = check_int("validation_batch_size", size, min_value=1)
    return (*model._check_xy(*data), size, steps)


def _refuse_generators(args: Any) -> None:
    """BackupAndRestore resumes by reading the data again from where it was,
    which a generator cannot do: refused before anything is read."""
    for name in ("x", "validation_data"):
        data = getattr(args, name)
        if is_batch_source(data) and kind(data) == "a generator":
            raise fail(
                name,
                "arrays or a PyDataset with BackupAndRestore (a Python generator "
                "cannot be rewound to resume from a backup)",
                f"a {type(data).__name__}",
            )


def _check_resumable(source: Any) -> None:
    if not source.resumable:
        raise fail(
            "steps_per_epoch",
            f"None or at least len(x) = {source.units} with BackupAndRestore "
            "(to resume, every epoch must start a pass over the PyDataset)",
            source.steps,
        )


def run_fit(model: Any, args: fit_loop.FitArgs) -> History:
    """Keras' ``fit`` over a source: see :meth:`glassnet.models.model.Model.fit`."""
    model._check_compiled()
    epochs = check_int("epochs", args.epochs, min_value=0)
    initial_epoch = check_int("initial_epoch", args.initial_epoch, min_value=0)
    freq = check_int("validation_freq", args.validation_freq, min_value=1)
    verbose = fit_loop.resolve_verbose(args.verbose)
    given = callback_list(args.callbacks)
    backups = [cb for cb in given if callable(getattr(cb, "backup_now", None))]
    if backups:
        _refuse_generators(args)
    source, class_weight = _train_source(model, args)
    val = _validation_source(model, args, source)
    if backups:
        _check_resumable(source)
    history = History()
    last = [cb for cb in given if getattr(cb, "runs_last", False)]
    cbs = [cb for cb in given if cb not in last]
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose=verbose))
    cbs += [history, *last]
    params = {
        "epochs": epochs,
        "steps": source.steps,  # None: a generator's, until it stops
        "verbose": verbose,
        "batch_size": getattr(source, "batch_size", None),
        "do_validation": val is not None,
        "data": data_fingerprint(source, val, class_weight) if backups else None,
    }
    callbacks = CallbackList(cbs, model, params)
    model.stop_training = False
    model.history = history
    model._fit_progress = fit_loop.new_progress(initial_epoch)
    callbacks.on_train_begin()
    for cb in given:  # as the array loop: a restored backup moves the start
        resume = getattr(cb, "resume_training", None)
        resumed = None if resume is None else resume(given)
        initial_epoch = initial_epoch if resumed is None else resumed
    loop = (source, bool(args.shuffle), class_weight)
    logs: dict[str, float] = {}
    with defer_sigint(enabled=bool(backups)) as sigint:
        for epoch in range(initial_epoch, epochs):
            if not source.has_more():  # a generator read to its end
                warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
                break
            callbacks.on_epoch_begin(epoch)
            logs = _train_epoch(model, epoch, loop, callbacks, sigint, backups)
            if val is not None and (epoch + 1) % freq == 0:
                val_logs = _validate(model, val, callbacks)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            model._fit_progress = fit_loop.new_progress(epoch + 1)
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training or getattr(source, "ran_out", False):
                break
            if sigint.requested:
                raise fit_loop._interrupted(backups)
    if epochs > 0:
        training.finalize_weights(model)
    if not logs and history.history:
        logs = {k: v[-1] for k, v in history.history.items()}
    callbacks.on_train_end(logs)
    return history


def _validate(model: Any, val: Any, callbacks: CallbackList) -> dict[str, float]:
    if isinstance(val, tuple):
        return fit_loop.run_evaluate(model, *val[:4], callbacks, val[4])
    if not val.has_more():
        warnings.warn(
            "validation_data: " + RAN_OUT + " No validation from here on.",
            UserWarning,
            stacklevel=3,
        )
        return {}
    return evaluate_batches(model, val, callbacks, val.steps)


def _start_epoch(model: Any, epoch: int, source: Any, shuffle: bool) -> int:
    """Set up ``model._fit_progress`` and the source's order; the batches done."""
    progress = model._fit_progress
    done = progress["batch"] if progress["epoch"] == epoch else 0
    shuffle = shuffle and not isinstance(source, GeneratorSource)
    if done:
        fit_loop._check_same_order(epoch, progress, shuffle)
        for m, state in zip(model._all_metrics(), progress["metrics"], strict=True):
            m.set_state(state)
        state = progress["epoch_rng"]
        order = fit_loop._order(model.rng, source.units, shuffle, state)
    else:
        for m in model._all_metrics():
            m.reset_state()
        state = order = None
        if shuffle and source.wants_order():
            state = fit_loop._generator_state(model.rng)
            order = model.rng.permutation(source.units)
        progress.update(fit_loop.new_progress(epoch), epoch_rng=state)
    source.begin_epoch(order)
    return done


def _concat(outs: list[Any]) -> Any:
    """The batches' outputs joined: an array, or a list or dict of them."""
    if isinstance(outs[0], dict):
        return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    if isinstance(outs[0], list | tuple):
        return [np.concatenate(parts) for parts in zip(*outs, strict=True)]
    return np.concatenate(outs)


def _checked(model: Any, i: int, batch: tuple, name: str, class_weight: Any):
    """A training batch as the array loop checks its arrays, before training."""
    x, y, sw = batch
    where = f"batch {i} of {name}"
    if y is None:
        raise fail(where, "(x, y) or (x, y, sample_weight) with targets", "x alone")
    try:
        x, y, sw = model._check_xy(x, y, sw)
        fit_loop._check_targets(model, y)
        fit_loop._check_sample_weight(sw)
        sw = fit_loop._class_weights(y, class_weight, sw)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    return model._cast(x), y, sw


def _train_epoch(model, epoch, loop, callbacks, sigint, backups) -> dict[str, float]:
    """One epoch's batches, from the restored position when a backup left one."""
    source, shuffle, class_weight = loop
    done = _start_epoch(model, epoch, source, shuffle)
    progress = model._fit_progress
    total, count = progress["loss_sum"], progress["count"]
    logs: dict[str, float] = {}
    if count:
        logs = {"loss": total / count, **fit_loop._metric_results(model)}
    from glassnet.models import subclassing  # it imports the model classes

    custom = subclassing.overrides_train_step(model)
    with contextlib.closing(source.batches(done)) as batches:
        for i, batch in batches:
            callbacks.on_train_batch_begin(i)
            xb, yb, swb = _checked(model, i, batch, source.name, class_weight)
            if not isinstance(source, ArraySource):  # arrays: recorded by fit
                record = _trained_input.describe(batch[0])  # the dtype as given
                seen = getattr(model, "trained_input", None)
                model.trained_input = _trained_input.merged(seen, record)
            if custom:
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
                raise fit_loop._interrupted(backups)
    source.end_epoch()
    return logs


def evaluate_batches(
    model: Any, source: Any, callbacks: CallbackList, steps: int | None
) -> dict[str, float]:
    """Loss and metrics over a source's batches (the first ``steps``), per sample,
    as :func:`glassnet.models.fit_loop.run_evaluate` computes them for arrays
    (through the model's own ``test_step`` when its class overrides it)."""
    from glassnet.models import subclassing  # it imports the model classes

    custom = subclassing.overrides(model, "test_step")
    for m in model.metrics if custom else model._all_metrics():
        m.reset_state()
    callbacks.on_test_begin()
    total, count, logs = 0.0, 0, {}
    with contextlib.closing(source.pass_batches(steps)) as batches:
        for i, (xb, yb, swb) in batches:
            callbacks.on_test_batch_begin(i)
            xb, yb, swb = _checked(model, i, (xb, yb, swb), source.name, None)
            if custom:  # Keras 3's rule, as subclassing.run_test_steps
                data = subclassing.pack_x_y_sample_weight(xb, yb, swb)
                logs = subclassing._plain_logs(model.test_step(data))
                callbacks.on_test_batch_end(i, logs)
                continue
            out, activity_penalty, _ = model.forward_pass(xb, training=False)
            loss, _, _ = training.loss_and_output_grad(model, yb, out, swb)
            loss += activity_penalty + training.weight_penalties(
                model.layers, add_grads=False
            )
            total, count = total + float(loss) * len(yb), count + len(yb)
            metrics = model._update_metrics(yb, out, swb)
            callbacks.on_test_batch_end(i, {"loss": total / count, **metrics})
    if custom:
        results = model.get_metrics_result()
        logs = results if set(logs) == set(results) else logs
    else:
        logs = {"loss": total / count, **fit_loop._metric_results(model)}
    callbacks.on_test_end(logs)
    return logs


def array_steps(n: int, batch_size: Any, steps: Any) -> tuple[int, int]:
    """``evaluate``/``predict`` of ``n`` samples: the batch size and the number of
    batches. As Keras' array adapter: with ``steps`` and no ``batch_size`` the
    ``n`` samples are cut into ``steps`` batches; ``steps`` past the last batch
    warns that the input ran out."""
    steps = _steps("steps", steps)
    if batch_size is None:
        batch_size = 32 if steps is None else -(-n // steps)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    batches = -(-n // batch_size)
    if steps is not None and steps > batches:
        warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
    return batch_size, batches if steps is None else min(steps, batches)


def _known_steps(source: Any, steps: int | None) -> int | None:
    if isinstance(source, PyDatasetSource):
        return source.units if steps is None else min(steps, source.units)
    return steps


def evaluate(
    model: Any,
    x: Any,
    y: Any,
    batch_size: Any,
    verbose: Any,
    sample_weight: Any,
    callbacks: Any,
    steps: Any,
) -> dict[str, float]:
    """``Model.evaluate`` over a source; returns the logs."""
    model._check_compiled()
    verbose = fit_loop.resolve_verbose(verbose)
    _refuse_with_source(x, y=y, sample_weight=sample_weight, batch_size=batch_size)
    steps = _steps("steps", steps)
    source = _non_empty(source_for(x, steps, "x"), "x")
    progbar = StepProgbar(_known_steps(source, steps), verbose, "test")
    cbs = CallbackList([*callback_list(callbacks), progbar], model, {})
    return evaluate_batches(model, source, cbs, steps)


def predict(
    model: Any, x: Any, batch_size: Any, verbose: Any, callbacks: Any, steps: Any
) -> np.ndarray:
    """``Model.predict`` over a source: the outputs of its batches' ``x``."""
    verbose = fit_loop.resolve_verbose(verbose)
    _refuse_with_source(x, batch_size=batch_size)
    steps = _steps("steps", steps)
    source = _non_empty(source_for(x, steps, "x"), "x")
    progbar = StepProgbar(_known_steps(source, steps), verbose, "predict")
    cbs = CallbackList([*callback_list(callbacks), progbar], model, {})
    cbs.on_predict_begin()
    outs = []
    with contextlib.closing(source.pass_batches(steps)) as batches:
        for i, (xb, _, _) in batches:
            cbs.on_predict_batch_begin(i)
            outs.append(model.predict_on_batch(xb))
            cbs.on_predict_batch_end(i, {})
    cbs.on_predict_end()
    return _concat(outs)


__all__ = ["array_steps", "evaluate", "evaluate_batches", "predict", "run_fit"]
