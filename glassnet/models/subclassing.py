"""Keras' model subclassing: ``class MyModel(Model)`` with ``call``, models called
under a :class:`~glassnet.ops.GradientTape`, and overridden ``train_step``.

A subclass of ``Model`` creates its layers as attributes in ``__init__`` and
computes its output in ``call(inputs, training=None)``. Its layers are tracked
from those attributes (in assignment order, as ``model.layers``) and built on the
first call. Its forward pass runs ``call`` on a private tape, exactly as a
``Layer`` written with ``call`` does (:meth:`Layer._run_call`), each layer being
one op there; its backward pass replays that tape (:meth:`Layer._replay`) and
hands each layer the gradients of its weights. So ``compile``/``fit``/
``evaluate``/``predict`` are the same code as for ``Sequential`` and graph models.

Called while a tape records (keras.io's "Writing a training loop from scratch"),
a model of any kind records each of its layers as one op on that tape (see
:func:`call_on_tape`), and a loss object records itself as one op whose gradient
is its kernel's (:func:`glassnet.losses.Loss.__call__`), so that
``tape.gradient(loss, model.trainable_weights)`` is the gradient ``fit`` uses.

Keras gives a user's subclass its behaviour by injecting an engine class
(``inject_functional_model_class``); :func:`subclass_for` does it without
touching the user's class (``Model.__new__`` calls it): an instance is made of
a subclass of the user's class and the engine, cached per pair. A subclass with
``call`` gets :class:`SubclassedModel`; one built as ``MyModel(inputs,
outputs)`` gets the graph engine (``Functional``); every one gets
:class:`TrainStepAPI` (``compute_loss``, ``metrics``, ``trainable_variables``)
for its ``train_step``. The user's own methods come first in the method order;
``isinstance(model, MyModel)`` holds and ``type(model).__name__`` is the
user's class's name.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from glassnet import metrics as metrics_mod
from glassnet import ops
from glassnet._internal.checks import as_numeric_array, fail
from glassnet.backend import Array, floatx
from glassnet.layers.base import Layer, Shape
from glassnet.models.functional import Functional
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential
from glassnet.models.training import _input_for
from glassnet.ops import tape as tape_mod


class TrainStepAPI:
    """What Keras' custom steps use (keras.io "Customizing what happens in
    fit()" and "... in evaluate()"): ``compute_loss``, ``compute_metrics``,
    ``metrics``, ``trainable_variables``, ``add_loss``, and Keras' default
    ``train_step``, ``test_step`` and ``predict_step``, which an override may
    call through ``super()``. ``fit``, ``evaluate``, ``predict`` and the
    ``*_on_batch`` methods call a step the user's class overrides."""

    @property
    def trainable_variables(self) -> list[Array]:
        """Keras 3's name for ``trainable_weights``."""
        return self.trainable_weights  # type: ignore[attr-defined]

    @property
    def metrics(self) -> list[metrics_mod.Metric]:
        """The loss tracker (a ``Mean`` named ``"loss"``) and the compiled metrics;
        ``fit`` resets them when an epoch begins, ``evaluate`` when it begins."""
        return [self._loss_tracker, *self._all_metrics()]  # type: ignore[attr-defined]

    @property
    def _loss_tracker(self) -> metrics_mod.Mean:
        tracker = self.__dict__.get("_loss_tracker_metric")
        if tracker is None:
            tracker = metrics_mod.Mean(name="loss")
            self.__dict__["_loss_tracker_metric"] = tracker
        return tracker

    def add_loss(self, loss: Any) -> None:
        """Add ``loss`` (computed with ``glassnet.ops`` in ``call``) to the
        model's loss, as Keras' ``add_loss``: ``compute_loss`` (and so ``fit``)
        adds it, its gradient included, and ``model.losses`` lists it. The
        losses of one call are kept until the next call."""
        self.__dict__.setdefault("_added_losses", []).append(loss)

    @property
    def losses(self) -> list[float]:
        """The ``add_loss`` losses of the last call, then the activity and
        weight penalties (see ``Model.losses``)."""
        added = [
            float(tape_mod.plain(v)) for v in self.__dict__.get("_added_losses", [])
        ]
        return [*added, *super().losses]  # type: ignore[misc]

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """The compiled loss of ``y_pred`` against ``y``, plus the model's
        penalties (``add_loss`` losses, activity and weight penalties), recorded
        as ops when a tape records (Keras 3's signature)."""
        self._check_compiled()  # type: ignore[attr-defined]
        loss = self.loss(y, y_pred, sample_weight)  # type: ignore[attr-defined]
        for penalty in _call_penalties(self):
            loss = loss + penalty
        for layer in self.layers:  # type: ignore[attr-defined]
            for key, reg in layer.regularizers.items():
                if key in layer.params:
                    loss = loss + _penalty(reg, layer.params[key])
        return loss

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Update the compiled metrics with this batch; return every metric's
        result (``get_metrics_result``), as Keras 3 does."""
        self._update_metrics(  # type: ignore[attr-defined]
            np.asarray(tape_mod.plain(y)), tape_mod.plain(y_pred), sample_weight
        )
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """``{name: result}`` of every metric in ``self.metrics``."""
        return {m.name: _scalar(m.result()) for m in self.metrics}

    def reset_metrics(self) -> None:
        """Reset every metric in ``self.metrics``."""
        for m in self.metrics:
            m.reset_state()

    # -- Keras' default steps --

    def train_step(self, data: Any) -> dict[str, Any]:
        """Keras' default: the loss under a tape, one optimizer step, the metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with tape_mod.GradientTape() as tape:
            y_pred = self(x, training=True)  # type: ignore[operator]
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        self._loss_tracker.update_state(loss, sample_weight=len(x))
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables, unconnected_gradients="zero")
        self.optimizer.apply(grads, variables)  # type: ignore[attr-defined]
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Keras' default: the loss and metrics of one batch, in inference mode."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)  # type: ignore[operator]
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """Keras' default: the outputs for the batch's ``x``."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)  # type: ignore[operator]

    def _predict_batch(self, x: Array) -> Any:
        if overrides(self, "predict_step"):
            return tape_mod.plain(self.predict_step((x,)))
        return super()._predict_batch(x)  # type: ignore[misc]

    def __call__(self, x: Any, training: bool = False) -> Any:
        with collecting_penalties(self):
            return super().__call__(x, training)  # type: ignore[misc]


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a step's ``data``: ``(x,)``, ``(x, y)``,
    ``(x, y, sample_weight)`` or ``x`` alone (Keras'
    ``keras.utils.unpack_x_y_sample_weight``); the missing ones are None.

    Raises:
        ValueError: for a tuple of another length.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) not in (1, 2, 3):
        raise fail(
            "data", "(x,), (x, y) or (x, y, sample_weight)", f"{len(data)} items"
        )
    return (*data, *(None,) * (3 - len(data)))  # type: ignore[return-value]


def pack_x_y_sample_weight(
    x: Any, y: Any = None, sample_weight: Any = None
) -> tuple[Any, ...]:
    """A step's ``data``: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``
    (Keras' ``keras.utils.pack_x_y_sample_weight``)."""
    if y is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def _penalty(reg: Any, w: Array) -> Any:
    """A weight penalty, as one op on the tape when one records."""
    p, g = reg.penalty(w)
    dtype = w.dtype  # the gradient in the weight's dtype, for the optimizer
    return tape_mod.record(
        np.asarray(p, dtype=dtype), (w,), lambda d: ((d * g).astype(dtype),)
    )


# -- the penalties of one call of a model --


@contextmanager
def collecting_penalties(model: Any) -> Iterator[None]:
    """Within the block, the model's layers keep the activity penalty of every
    call (a shared layer's two), recorded on the tape if one records; the
    previous call's and the ``add_loss`` losses are forgotten when it begins.
    A call nested in another (``call`` calling ``self``) keeps the outer's."""
    if model.__dict__.get("_collecting"):
        yield
        return
    model.__dict__["_added_losses"] = []
    layers = list(model.layers)
    for layer in layers:
        layer.__dict__.update(
            _activity_losses=[], _taped_losses=[], _collecting_losses=True
        )
    model.__dict__["_collecting"] = True
    try:
        yield
    finally:
        model.__dict__["_collecting"] = False
        for layer in layers:
            layer.__dict__["_collecting_losses"] = False


def _call_penalties(model: Any) -> list[Any]:
    """The last call's ``add_loss`` losses and activity penalties: as ops of
    the tape they were recorded on, or values (a pass that computed them apart,
    as ``Sequential``'s does, keeps only ``_activity_losses``)."""
    found = list(model.__dict__.get("_added_losses", []))
    for layer in model.layers:
        taped = layer.__dict__.get("_taped_losses") or []
        found += taped or layer.__dict__.get("_activity_losses", [])
    return found


class SubclassedModel(TrainStepAPI, Model):
    """The engine of ``class MyModel(Model)`` with ``call`` (see the module doc).

    Not used directly: ``Model.__new__`` adds it to a subclass's bases.
    """

    @property
    def _call_takes_training(self) -> bool:
        """Whether ``call`` takes ``training`` (Keras passes it only then)."""
        return "training" in inspect.signature(self.call).parameters

    def _call(self, x: Array, training: bool) -> Any:
        kwargs = {"training": training} if self._call_takes_training else {}
        return self.call(x, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        # A Layer (or list of them) assigned as an attribute is one of the model's
        # layers, as Keras tracks them.
        if not name.startswith("_") and name != "layers":
            items = value if isinstance(value, list | tuple) else [value]
            layers = self.__dict__.setdefault("layers", [])
            for item in items:
                if isinstance(item, Layer) and all(item is not la for la in layers):
                    layers.append(item)
        object.__setattr__(self, name, value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        tracked = self.__dict__.get("layers", [])
        super().__init__(*args, **kwargs)
        self.layers = tracked  # Model.__init__ resets it
        self.built = False
        self._output_shape: Shape | None = None

    # -- building --

    def _ensure_built(self, x: Array) -> None:
        if self.__dict__.get("built"):
            return
        taken: set[str] = set()
        for layer in self.layers:
            if layer.name is None or layer.name in taken:
                base, i = layer.default_name(), 0
                layer.name = base
                while layer.name in taken:
                    i += 1
                    layer.name = f"{base}_{i}"
            taken.add(layer.name)
            if layer._build_rng is None:
                layer._build_rng = self.rng
        out = self._call(self._cast(x[:1]), False)  # builds the layers
        self._build_input_shape = tuple(x.shape[1:])  # a file builds it so again
        self._output_shape = (None, *np.shape(out)[1:])
        self.built = True

    @property
    def output_shape(self) -> Shape | None:
        return self._output_shape

    @property
    def output_layer(self) -> None:
        """None: the loss never fuses with a layer inside ``call``."""
        return None

    def _cast(self, x: Array) -> Array:
        dtype = self.layers[0].dtype if self.layers else floatx()
        return x.astype(dtype, copy=False)

    # -- the passes: Layer's tape mechanism, over every layer's weights --

    @property
    def params(self) -> dict[str, Array]:
        """Every trainable layer's weights, as ``"layer/key"``."""
        return {
            f"{layer.name}/{key}": w
            for layer in self.layers
            if layer.trainable
            for key, w in layer.params.items()
        }

    def forward_pass(self, x: Array, training: bool) -> tuple[Array, float, dict]:
        """``call`` on a private tape; returns the output and the penalties of
        the call (``add_loss`` losses and activity penalties), kept on that
        tape for the backward pass."""
        with collecting_penalties(self):
            out, cache = Layer._run_call(self, x, training)  # type: ignore[arg-type]
        penalties = _call_penalties(self)
        self._cache = (cache, penalties)
        total = sum(float(tape_mod.plain(p)) for p in penalties)
        return tape_mod.plain(out), total, {}

    def backward_pass(
        self, dout: Array, from_logits: bool, activity_grads: dict
    ) -> None:
        """Replay the forward pass's tape from ``dout`` and from each penalty
        (of gradient 1); each layer gets its weights' gradients."""
        (cache, penalties), self._cache = self._cache, None
        if penalties:
            tape, x, out, keys, weights = cache
            # One target whose gradient is dout at the output and 1 at each
            # penalty: sum(out * dout) + the penalties, on the forward's tape.
            tape._push()
            try:
                target = ops.sum(ops.multiply(out, dout))
                for p in penalties:
                    target = target + p
            finally:
                tape._pop()
            cache = (tape, x, target, keys, weights)
            dout = np.ones((), dtype=np.asarray(tape_mod.plain(target)).dtype)
        _, grads = Layer._replay(cache, dout)
        by_name = {layer.name: layer for layer in self.layers}
        for layer in self.layers:
            layer.grads = {}
        for name, g in grads.items():
            layer_name, _, key = name.partition("/")
            by_name[layer_name].grads[key] = g

    def __call__(self, x: Any, training: bool = False) -> Any:
        """``call`` on ``x``: under a tape each layer records itself as an op."""
        x = as_numeric_array("x", x) if not hasattr(x, "dtype") else x
        self._ensure_built(x)
        with collecting_penalties(self):
            out = self._call(self._cast(x), training)
        return out if tape_mod.is_recording() else tape_mod.plain(out)


# -- any model called under a tape --


def call_on_tape(model: Any, x: Array, training: bool) -> Any:
    """The model's output with each layer recorded as one op on the active tape
    (through ``Layer.__call__``), so ``tape.gradient`` reaches every weight."""
    model._ensure_built(x)
    x = model._cast(x)
    model.apply_need_dx(everywhere=True)  # the tape may want the input's gradient
    with collecting_penalties(model):
        return _record_layers(model, x, training)


def _record_layers(model: Any, x: Array, training: bool) -> Any:
    if isinstance(model, Functional):
        xs = x if isinstance(x, list) else [x]  # several inputs: a list
        values: dict[int, Any] = {
            id(t): a for t, a in zip(model.inputs, xs, strict=True)
        }
        for node in model._nodes:
            args = [values[id(t)] for t in node.inputs]
            multi = bool(getattr(node.layer, "multi_input", False))
            call = _record_multi if multi else _record_one
            values[id(node.output)] = call(node.layer, args, training)
        outs = [values[id(t)] for t in model.outputs]
        return model._pack_outputs(outs[0] if len(outs) == 1 else outs)
    for layer in model.layers:
        x = layer(x, training=training)
    return x


def _record_one(layer: Layer, args: list[Any], training: bool) -> Any:
    return layer(args[0], training=training)


def _record_multi(layer: Any, xs: list[Any], training: bool) -> Any:
    """A merge layer as one op: its inputs are the arrays it merges."""
    # As the model's own pass: only a layer with weights casts its inputs.
    cast = [_input_for(layer, tape_mod.plain(x)) for x in xs]
    out = layer.forward(cast, training)
    saved = layer._cache

    def backward(dout: Array) -> list[Array]:
        layer._cache = saved
        return layer.backward(tape_mod.plain(dout))

    return tape_mod.record(tape_mod.plain(out), xs, backward)


# -- the steps a user's class overrides --


def overrides(model: Any, step: str) -> bool:
    """Whether the model's class has its own ``step`` (``"train_step"``,
    ``"test_step"`` or ``"predict_step"``), not Keras' default."""
    method = getattr(type(model), step, None)
    return callable(method) and method is not getattr(TrainStepAPI, step, None)


def overrides_train_step(model: Any) -> bool:
    """Whether the model's class defines its own ``train_step``."""
    return overrides(model, "train_step")


def run_train_step(
    model: Any, batch: int, x: Array, y: Array, sample_weight: Array | None
) -> dict[str, float]:
    """The user's ``train_step`` on one batch (Keras 3's contract: ``data`` is
    ``(x, y)`` or ``(x, y, sample_weight)``; it returns the logs). The metrics
    are reset before an epoch's first batch."""
    if batch == 0:
        for m in getattr(model, "metrics", []):
            m.reset_state()
    logs = model.train_step(pack_x_y_sample_weight(x, y, sample_weight))
    return _plain_logs(logs)


def run_test_steps(
    model: Any,
    x: Array,
    y: Array,
    sw: Array | None,
    batch_size: int,
    callbacks: Any,
    steps: int | None = None,
) -> dict[str, Any]:
    """``evaluate`` (and ``fit``'s validation) through the user's ``test_step``:
    the metrics are reset, each batch's ``data`` is ``(x, y)`` or ``(x, y,
    sample_weight)``, and the result is every metric's when the step's logs
    name exactly ``model.metrics``, else the last step's logs (Keras 3's rule)."""
    from glassnet.models.fit_loop import _batches  # fit_loop imports this module

    for m in model.metrics:
        m.reset_state()
    callbacks.on_test_begin()
    logs: dict[str, Any] = {}
    for i, idx in _batches(len(x), batch_size, None, steps):
        callbacks.on_test_batch_begin(i)
        swb = None if sw is None else sw[idx]
        data = pack_x_y_sample_weight(model._cast(x[idx]), y[idx], swb)
        logs = _plain_logs(model.test_step(data))
        callbacks.on_test_batch_end(i, logs)
    results = model.get_metrics_result()
    if set(logs) == set(results):
        logs = results
    callbacks.on_test_end(logs)
    return logs


def _plain_logs(logs: Any) -> dict[str, Any]:
    if not isinstance(logs, dict):
        raise fail(
            "the logs a step returns", "a dict {name: value}", type(logs).__name__
        )
    return {k: _scalar(v) for k, v in logs.items()}


def _scalar(value: Any) -> Any:
    value = tape_mod.plain(value)
    return float(value) if np.ndim(value) == 0 else value


# -- Keras' extra bases for a user's subclass --


class FunctionalSubclass(TrainStepAPI, Functional):
    """The base a subclass built as ``MyModel(inputs, outputs)`` gets."""


class SequentialSubclass(TrainStepAPI, Sequential):
    """The base a subclass of ``Sequential`` gets."""


_ENGINES: dict[tuple[type, type], type] = {}


def subclass_for(cls: type, functional: bool) -> type:
    """The class an instance of the user's ``cls`` is made of: ``cls`` itself for
    glassnet's own classes, else a subclass of ``cls`` and the engine it needs
    (see the module doc), made once per (class, engine) and cached. The user's
    class is never changed: a class may be built as a graph model and as a
    subclassed one, and two subclasses of one user base stay independent."""
    if cls.__module__.startswith("glassnet.models.") or issubclass(cls, TrainStepAPI):
        return cls
    if functional or issubclass(cls, Functional):
        engine: type = FunctionalSubclass
    elif issubclass(cls, Sequential):
        engine = SequentialSubclass
    else:
        engine = SubclassedModel
    key = (cls, engine)
    if key not in _ENGINES:
        names: dict[str, Any] = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        }
        if engine is SubclassedModel:  # what saving names the file's class by
            names["_user_class"] = cls
        _ENGINES[key] = type(cls.__name__, (cls, engine), names)
    return _ENGINES[key]


__all__ = [
    "FunctionalSubclass",
    "SequentialSubclass",
    "SubclassedModel",
    "TrainStepAPI",
    "call_on_tape",
    "collecting_penalties",
    "overrides",
    "overrides_train_step",
    "pack_x_y_sample_weight",
    "run_test_steps",
    "run_train_step",
    "subclass_for",
    "unpack_x_y_sample_weight",
]
