"""``Model``: compile, fit, evaluate and predict over a list of layers.

The loop follows Keras' documented semantics: ``validation_split`` takes the last
fraction of the samples before shuffling; each epoch visits every sample once in a
fresh random order; ``logs`` hold ``loss``, each metric, their ``val_`` versions
and ``learning_rate``; ``model.stop_training`` set by a callback ends training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import losses as losses_mod
from glassnet import metrics as metrics_mod
from glassnet import optimizers as optimizers_mod
from glassnet._internal.checks import (
    as_numeric_array,
    check_array,
    check_finite,
    check_int,
    fail,
)
from glassnet.backend import Array, to_snake_case, uniquify
from glassnet.backend import rng as make_rng
from glassnet.callbacks.base import Callback, CallbackList, History, callback_list
from glassnet.callbacks.progbar import StepProgbar
from glassnet.layers.symbolic import call_symbolic, is_symbolic
from glassnet.models import data_adapters, source_loop, structure, training
from glassnet.models import training as _passes  # methods take a `training` flag
from glassnet.models.fit_loop import FitArgs, resolve_verbose, run_evaluate, run_fit
from glassnet.models.nested import LayerAPI
from glassnet.ops import tape as tape_mod
from glassnet.saving import trained_input as _trained_input
from glassnet.saving.api import load_weights, save_model, save_weights


def _as_array(name: str, value: Any) -> np.ndarray:
    return as_numeric_array(name, value)


class Model(LayerAPI):
    """Base of ``Sequential``: the Keras training API over ``self.layers``.

    A model is a layer too (:mod:`glassnet.models.nested`), as in Keras.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # As Keras: Model(inputs, outputs) builds a graph model (Functional).
        functional = (
            len(args) == 2
            or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs)
        )
        if cls is Model and functional:
            from glassnet.models.functional import Functional

            return super().__new__(Functional)
        if cls is not Model:  # a user's subclass gets Keras' engine
            from glassnet.models.subclassing import subclass_for

            return super().__new__(subclass_for(cls, functional))
        return super().__new__(cls)

    def __init__(self, name: str | None = None, *, seed: int | None = None) -> None:
        # As Keras 3: the class name, unique per process (sequential_1...).
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.layers: list[Any] = []
        self.optimizer: optimizers_mod.Optimizer | None = None
        self.loss: losses_mod.Loss | None = None
        self.compiled_metrics: list[metrics_mod.Metric] = []
        self.stop_training = False
        self.history: History | None = None
        self.rng = make_rng(seed)

    # -- compile --

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: Any = None,
        steps_per_execution: Any = None,
        jit_compile: Any = "auto",
    ) -> None:
        """Configure training: optimizer, loss and metrics by name or object.

        For a model of several outputs, ``loss``, ``loss_weights`` and
        ``metrics`` are per output as Keras 3 takes them: one loss for every
        output, a list in output order or a dict by output name (see
        :mod:`glassnet.models.structure`). ``loss_weights`` scales each
        output's loss (a float scales the one loss of one output).
        ``run_eagerly``, ``steps_per_execution`` and ``jit_compile`` are
        accepted and checked as Keras 3 takes them, and change nothing:
        glassnet always runs eagerly in NumPy (or CuPy), one batch at a time.
        """
        if loss is None:
            raise fail("loss", "a loss name or Loss object", "None")
        if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
            raise fail("jit_compile", "True, False or 'auto'", repr(jit_compile))
        if run_eagerly is not None and not isinstance(run_eagerly, bool):
            raise fail("run_eagerly", "True, False or None", repr(run_eagerly))
        if steps_per_execution is not None:
            check_int("steps_per_execution", steps_per_execution, min_value=1)
        self.jit_compile, self.run_eagerly = jit_compile, bool(run_eagerly)
        self.steps_per_execution = steps_per_execution or 1
        self.optimizer = optimizers_mod.get(optimizer)
        self._output_losses = self._output_metrics = None
        if len(getattr(self, "output_names", ())) > 1:
            structure.compile_outputs(
                self, loss, loss_weights, metrics, weighted_metrics
            )
            self.compile_config["optimizer"] = optimizers_mod.serialize(self.optimizer)
            return
        self.loss = losses_mod.get(loss)
        self._loss_weight = _single_loss_weight(loss_weights)
        names = (
            []
            if metrics is None
            else list(metrics)
            if isinstance(metrics, list | tuple)
            else [metrics]
        )
        self.compiled_metrics = [metrics_mod.get(m, self.loss.kind) for m in names]
        weighted = [] if weighted_metrics is None else list(weighted_metrics)
        self.weighted_metrics = [metrics_mod.get(m, self.loss.kind) for m in weighted]
        taken = {m.name for m in self.compiled_metrics}
        for m in self.weighted_metrics:
            if m.name in taken:
                # Keras logs a weighted twin of a plain metric as weighted_<name>.
                m.name = f"weighted_{m.name}"
        self.compile_config = {
            "optimizer": optimizers_mod.serialize(self.optimizer),
            "loss": losses_mod.serialize(self.loss),
            "metrics": [m if isinstance(m, str) else m.name for m in names],
        }

    def _check_compiled(self) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(
                "the model must be compiled first: call model.compile(...)"
            )

    # -- the passes: a stack of layers here, a graph in Functional --

    def forward_pass(self, x: Array, training: bool) -> tuple[Array, float, dict]:
        """The output, the activity penalty and its gradients, for ``x``."""
        self.apply_need_dx()
        return _passes.forward(self.layers, x, training)

    def apply_need_dx(self, everywhere: bool = False) -> None:
        """Set each layer's ``need_dx`` as this model needs it (``everywhere``:
        True for all, when a tape wants the gradient of the input too).

        The flags live on the layers, which other models may share (an
        autoencoder's decoder), so every pass sets them again for its model.
        """
        need = getattr(self, "_need_dx", None)
        for layer in self.layers:
            layer.need_dx = True if everywhere or need is None else need[id(layer)]

    def backward_pass(
        self, dout: Array, from_logits: bool, activity_grads: dict
    ) -> None:
        """Backpropagate ``dout`` (w.r.t. the output layer's logits when
        ``from_logits``), filling every layer's ``grads``."""
        return _passes.backward(self.layers, dout, from_logits, activity_grads)

    @property
    def output_layer(self) -> Any:
        """The layer whose output is the model's (the loss may fuse with it)."""
        return self.layers[-1]

    @property
    def output_layers(self) -> list[Any]:
        """Per output, the layer its loss may fuse with (None: it may not)."""
        return [self.output_layer]

    @property
    def output_losses(self) -> list[tuple[Any, float]]:
        """Per output, the compiled loss (None: no loss) and its weight."""
        multi = self.__dict__.get("_output_losses")
        if multi is not None:
            return multi
        return [(self.loss, self.__dict__.get("_loss_weight", 1.0))]

    # -- calling --

    def _ensure_built(self, x: Array) -> None:
        raise NotImplementedError

    def __call__(self, x: Any, training: bool = False) -> Array:
        """Outputs for ``x`` in one pass, without ``predict``'s batching; on
        symbolic tensors, the model is one node of another graph model."""
        if is_symbolic(x):
            return call_symbolic(self, x)
        x = self._data_x(x)
        if tape_mod.is_recording():  # each layer is one op on that tape
            from glassnet.models.subclassing import call_on_tape

            return call_on_tape(self, x, training)
        out, _, _ = training_forward(self, x, training)
        return self._pack_outputs(out)

    def _data_x(self, x: Any) -> Any:
        """``x`` checked against the inputs (a graph model of several inputs
        takes a list or dict, :mod:`glassnet.models.structure`)."""
        x = _as_array("x", x)
        self._ensure_built(x)
        return x

    def _pack_outputs(self, out: Any) -> Any:
        """The outputs in the model's structure (one array here)."""
        return out

    # -- data --

    def _check_xy(self, x: Any, y: Any, sample_weight: Any = None):
        x = _as_array("x", x)
        self._ensure_built(x)
        y = _as_array("y", y)
        if len(x) != len(y):
            raise ValueError(
                f"x and y: expected the same number of samples; "
                f"received {len(x)} and {len(y)}"
            )
        if len(x) == 0:
            raise fail("x", "at least one sample", "an empty array")
        check_finite("x", x)
        if sample_weight is not None:
            sample_weight = _as_array("sample_weight", sample_weight).astype(np.float64)
            check_array("sample_weight", sample_weight, shape=(len(x),))
        return x, y, sample_weight

    # -- training --

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """One gradient step on one batch; returns the loss (and metrics)."""
        self._check_compiled()
        x, y, sw = self._check_xy(x, y, sample_weight)
        from glassnet.models import subclassing  # it imports the model classes

        if subclassing.overrides_train_step(self):  # the user's step, its logs
            logs = subclassing.run_train_step(self, 0, self._cast(x), y, sw)
            return logs if return_dict else _flatten_logs(logs)
        for m in self.compiled_metrics:
            m.reset_state()
        loss, out = training.train_step(self, self._cast(x), y, sw)
        logs = {"loss": loss, **self._update_metrics(y, out, sw)}
        return logs if return_dict else _flatten_logs(logs)

    def _cast(self, x: Array) -> Array:
        return x.astype(self.layers[0].dtype, copy=False)

    def _update_metrics(
        self, y: Array, out: Array, sw: Array | None
    ) -> dict[str, float]:
        if self.__dict__.get("_output_metrics") is not None:  # several outputs
            return structure.update_metrics(self, y, out, sw)
        for m in self.compiled_metrics:
            m.update_state(y, out)
        for m in self.weighted_metrics if hasattr(self, "weighted_metrics") else []:
            m.update_state(y, out, sw)
        return {m.name: m.result() for m in self._all_metrics()}

    def _all_metrics(self) -> list[metrics_mod.Metric]:
        return [*self.compiled_metrics, *getattr(self, "weighted_metrics", [])]

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs`` epochs; returns the :class:`History`.

        Also records ``self.trained_input``, the dtype and value range of ``x``
        (widened by each ``fit``), which model files keep so that ``glassnet
        predict`` scales new inputs as the training data was. ``x`` (and
        ``validation_data``) may also be a ``glassnet.utils.PyDataset`` or a
        Python generator (see :mod:`glassnet.models.source_loop`): the record
        then covers the training batches seen.
        """
        args = FitArgs(
            x=x,
            y=y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
            validation_freq=validation_freq,
        )
        before = getattr(self, "trained_input", None)
        steps = getattr(self.optimizer, "iterations", None)
        source = data_adapters.is_batch_source(x)
        if not source:  # a source's batches are recorded as they come
            # Recorded before training so that checkpoints written during fit hold it.
            record = _trained_input.describe(x)
            self.trained_input = _trained_input.merged(before, record)
        try:
            if source or data_adapters.is_batch_source(validation_data):
                return source_loop.run_fit(self, args)
            return run_fit(self, args)
        except BaseException:
            if getattr(self.optimizer, "iterations", None) == steps:
                self.trained_input = before  # a refused fit trained on nothing
            raise

    # -- inference --

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        return_dict: bool = False,
        callbacks: list[Callback] | None = None,
        steps: int | None = None,
    ) -> Any:
        """Loss and metrics over ``(x, y)``, batch by batch (weighted by batch size);
        the first ``steps`` batches when given. ``x`` may be a ``PyDataset`` or
        a generator (then no ``y``, ``sample_weight`` or ``batch_size``)."""
        if data_adapters.is_batch_source(x):
            logs = source_loop.evaluate(
                self, x, y, batch_size, verbose, sample_weight, callbacks, steps
            )
            return logs if return_dict else _flatten_logs(logs)
        self._check_compiled()
        verbose = resolve_verbose(verbose)
        x, y, sw = self._check_xy(x, y, sample_weight)
        batch_size, steps = source_loop.array_steps(len(x), batch_size, steps)
        cbs = [*callback_list(callbacks), StepProgbar(steps, verbose, "test")]
        cbs = CallbackList(cbs, self, {})
        logs = run_evaluate(self, x, y, sw, batch_size, cbs, steps)
        return logs if return_dict else _flatten_logs(logs)

    def test_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss and metrics of one batch, without updating the weights."""
        return self.evaluate(
            x,
            y,
            batch_size=max(len(self._check_xy(x, y, sample_weight)[0]), 1),
            verbose=0,
            sample_weight=sample_weight,
            return_dict=return_dict,
        )

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        callbacks: list[Callback] | None = None,
        steps: int | None = None,
    ) -> np.ndarray:
        """Outputs for ``x``, computed in batches of ``batch_size`` (32): one
        array, or a list or dict of them for a model of several outputs; the
        first ``steps`` batches when given. ``x`` may be a ``PyDataset`` or a
        generator (its batches' ``x``; no ``batch_size``)."""
        if data_adapters.is_batch_source(x):
            return source_loop.predict(self, x, batch_size, verbose, callbacks, steps)
        x = self._data_x(x)
        verbose = resolve_verbose(verbose)
        batch_size, steps = source_loop.array_steps(len(x), batch_size, steps)
        progbar = StepProgbar(steps, verbose, "predict")
        cbs = CallbackList([*callback_list(callbacks), progbar], self, {})
        cbs.on_predict_begin()
        outs = []
        for i, start in enumerate(range(0, len(x), batch_size)[:steps]):
            cbs.on_predict_batch_begin(i)
            out = self._predict_batch(x[start : start + batch_size])
            outs.append(structure.to_numpy_outputs(out))
            cbs.on_predict_batch_end(i, {})
        cbs.on_predict_end()
        return structure.concat(outs)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """Outputs for one batch."""
        return structure.to_numpy_outputs(self._predict_batch(self._data_x(x)))

    def _predict_batch(self, x: Array) -> Array:
        """One batch of ``predict`` (a subclass's ``predict_step`` overrides it)."""
        return self(x)

    # -- saving --

    def save(
        self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
    ) -> None:
        """Save the whole model to one file (see :mod:`glassnet.saving`).

        Args:
            filepath: the file to write; any name or suffix.
            overwrite: replace an existing file; when False an existing file
                raises ``FileExistsError``. Defaults to `True`.
            include_optimizer: keep the optimizer state so that ``fit`` resumes
                exactly after ``load_model``. Defaults to `True`.
        """

        save_model(
            self, filepath, include_optimizer=include_optimizer, overwrite=overwrite
        )

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the layers' weights to one file (see :mod:`glassnet.saving`).

        Args:
            filepath: the file to write; any name or suffix.
            overwrite: replace an existing file; when False an existing file
                raises ``FileExistsError``. Defaults to `True`.
        """

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Load weights saved by ``save_weights`` or ``save`` into this model.

        Raises:
            ValueError: naming the layer and weight that do not match the file, or
                for a file that is not a valid glassnet file.
        """

        load_weights(self, filepath)

    # -- weights --

    def get_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: list[Any]) -> None:
        expected = sum(len(layer.weight_names) for layer in self.layers)
        if isinstance(weights, str | bytes | dict | np.ndarray) or not hasattr(
            weights, "__iter__"
        ):  # list() would split a string into characters
            raise fail(
                "weights", f"a list of {expected} arrays", type(weights).__name__
            )
        weights = list(weights)
        if len(weights) != expected:
            raise fail(
                "weights", f"a list of {expected} arrays", f"{len(weights)} arrays"
            )
        i = 0
        for layer in self.layers:
            n = len(layer.weight_names)
            layer.set_weights(weights[i : i + n])
            i += n

    @property
    def trainable(self) -> bool:
        """Whether ``fit`` updates the model's weights (Keras' transfer-learning
        switch): setting it sets every layer's ``trainable``, and a layer's
        sublayers'. Unlike Keras, no recompiling is needed: each step reads it."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise fail("trainable", "True or False", repr(value))
        self._trainable = value
        for layer in self.layers:
            layer.trainable = value

    @property
    def trainable_weights(self) -> list[Array]:
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Array]:
        if not self.trainable:
            return self.weights
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    @property
    def weights(self) -> list[Array]:
        return [w for layer in self.layers for w in layer.weights]

    # -- attributes --

    def get_layer(self, name: str | None = None, index: int | None = None) -> Any:
        """The layer called ``name``, or at position ``index`` of ``layers``.

        Raises:
            ValueError: for both or neither argument, an unknown name or an
                index past the last layer (Keras' messages).
        """
        if index is not None and name is not None:
            raise ValueError(
                "Provide only a layer name or a layer index. Received: "
                f"index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model "
                    f"only has {len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: "
                f"{[layer.name for layer in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The input's shape, batch axis None: ``(None, 28, 28, 1)``."""
        shape = getattr(self, "input_spec", None)
        if shape is None:
            raise fail(
                "model", "a built model (give an Input or call it once)", "unbuilt"
            )
        return tuple(shape)

    @property
    def metrics_names(self) -> list[str]:
        """The names of ``evaluate``'s values, in its order: ``"loss"`` and each
        compiled metric (none before ``compile``)."""
        if self.loss is None:
            return []
        return ["loss", *(m.name for m in self._all_metrics())]

    @property
    def losses(self) -> list[float]:
        """The penalties, as Keras' ``model.losses`` lists them: the activity
        penalties of the last forward pass (one per layer call, per sample),
        then each weight's penalty for the current weights."""
        activity = [
            p
            for layer in self.layers
            for p in layer.__dict__.get("_activity_losses", [])
        ]
        weight = [
            float(reg.penalty(layer.params[key])[0])
            for layer in self.layers
            for key, reg in layer.regularizers.items()
            if key in layer.params
        ]
        return [*activity, *weight]

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)


def training_forward(model: Model, x: Array, training_mode: bool):
    return model.forward_pass(model._cast(x), training_mode)


def _single_loss_weight(value: Any) -> float:
    """The ``loss_weights`` of one output: a float (Keras scales the loss by
    it), or a list of one; None is 1."""
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if value is None:
        return 1.0
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("loss_weights", "a float (the model has one output)", repr(value))
    return float(value)


def _flatten_logs(logs: dict[str, float]) -> Any:
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


__all__ = ["Model"]
