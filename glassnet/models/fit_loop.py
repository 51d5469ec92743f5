"""The epoch and batch loops of ``fit`` and ``evaluate``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._checks import check_int, check_number, fail
from glassnet.backend import Array
from glassnet.callbacks.base import CallbackList, History
from glassnet.callbacks.progbar import ProgbarLogger
from glassnet.models import training


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


def _validation(model, args, x, y, sw):
    """Split off ``validation_split`` (the LAST fraction, before shuffling) or take
    ``validation_data``; returns the training arrays and the validation triple."""
    split = check_number(
        "validation_split", args["validation_split"], low=0, high=1, high_open=True
    )
    data = args["validation_data"]
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
    labels = y.reshape(len(y), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise fail(
            "class_weight",
            f"a weight for every class, including {sorted(missing)}",
            sorted(class_weight),
        )
    w = np.array([class_weight[int(c)] for c in labels], dtype=np.float64)
    return w if sw is None else w * sw


def run_fit(model: Any, args: dict[str, Any]) -> History:
    """Keras' ``fit``: see :meth:`glassnet.models.model.Model.fit`."""
    from glassnet.models.model import _resolve_verbose

    model._check_compiled()
    x, y, sw = model._check_xy(args["x"], args["y"], args["sample_weight"])
    batch_size = (
        32
        if args["batch_size"] is None
        else check_int("batch_size", args["batch_size"], min_value=1)
    )
    epochs = check_int("epochs", args["epochs"], min_value=0)
    initial_epoch = check_int("initial_epoch", args["initial_epoch"], min_value=0)
    steps = args["steps_per_epoch"]
    steps = None if steps is None else check_int("steps_per_epoch", steps, min_value=1)
    freq = check_int("validation_freq", args["validation_freq"], min_value=1)
    verbose = _resolve_verbose(args["verbose"])
    x, y, sw, val = _validation(model, args, x, y, sw)
    sw = _class_weights(y, args["class_weight"], sw)
    val_batch = args["validation_batch_size"] or batch_size
    val_batch = check_int("validation_batch_size", val_batch, min_value=1)
    val_steps = args["validation_steps"]
    if val_steps is not None:
        val_steps = check_int("validation_steps", val_steps, min_value=1)

    history = History()
    given = list(args["callbacks"] or [])
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
        },
    )
    model.stop_training = False
    model.history = history
    callbacks.on_train_begin()
    # After every on_train_begin (which resets state), a restored backup may move
    # the start: the epochs it holds are done.
    for cb in given:
        resume = getattr(cb, "resume_training", None)
        resumed = None if resume is None else resume(given)
        initial_epoch = initial_epoch if resumed is None else resumed
    for epoch in range(initial_epoch, epochs):
        callbacks.on_epoch_begin(epoch)
        for m in model._all_metrics():
            m.reset_state()
        order = model.rng.permutation(len(x)) if args["shuffle"] else None
        total, count = 0.0, 0
        logs: dict[str, float] = {}
        for i, idx in _batches(len(x), batch_size, order, steps):
            callbacks.on_train_batch_begin(i)
            xb, yb = model._cast(x[idx]), y[idx]
            swb = None if sw is None else sw[idx]
            loss, out = training.train_step(model, xb, yb, swb)
            total, count = total + loss * len(xb), count + len(xb)
            logs = {"loss": total / count, **model._update_metrics(yb, out, swb)}
            callbacks.on_train_batch_end(i, logs)
            if model.stop_training:
                break
        if val is not None and (epoch + 1) % freq == 0:
            val_logs = run_evaluate(model, *val, val_batch, callbacks, val_steps)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        logs["learning_rate"] = model.optimizer.learning_rate
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end(logs if epochs > initial_epoch else {})
    return history


def run_evaluate(
    model: Any,
    x: Array,
    y: Array,
    sw: Array | None,
    batch_size: int,
    callbacks: CallbackList,
    steps: int | None = None,
) -> dict[str, float]:
    """Loss and metrics over all batches (or the first ``steps``), per sample."""
    for m in model._all_metrics():
        m.reset_state()
    callbacks.on_test_begin()
    total, count = 0.0, 0
    for i, idx in _batches(len(x), batch_size, None, steps):
        callbacks.on_test_batch_begin(i)
        xb, yb = model._cast(x[idx]), y[idx]
        swb = None if sw is None else sw[idx]
        out, activity_penalty, _ = training.forward(model.layers, xb, training=False)
        loss, _, _ = training.loss_and_output_grad(model, yb, out, swb)
        loss += activity_penalty + training.weight_penalties(
            model.layers, add_grads=False
        )
        total, count = total + float(loss) * len(xb), count + len(xb)
        metrics = model._update_metrics(yb, out, swb)
        callbacks.on_test_batch_end(i, {"loss": total / count, **metrics})
    logs = {"loss": total / count, **{m.name: m.result() for m in model._all_metrics()}}
    callbacks.on_test_end(logs)
    return logs
