"""The Keras API's optimizers: thin objects around the rules of :mod:`glassnet.optim`.

An optimizer holds the hyperparameters, one ``config`` dict of slots per weight and
the iteration count; every step calls the same ``rule(w, dw, config)`` the course's
``Solver`` calls. Keras' names and defaults are kept (``RMSprop(rho=0.9)`` is the
rule's ``decay_rate``; ``epsilon=1e-7``). ``learning_rate`` is a readable, writable
attribute (callbacks change it) or a schedule from
:mod:`glassnet.optimizers` (``ExponentialDecay`` ...), evaluated at ``iterations``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet import optim
from glassnet import variables as variables_mod
from glassnet._internal import registry as _registry
from glassnet._internal.checks import check_int, check_number, fail
from glassnet.backend import Array, to_numpy

# -- learning-rate schedules --


class LearningRateSchedule:
    """A learning rate as a function of the step: ``schedule(step) -> float``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase`` the exponent is floored, so the rate drops in steps.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        self.initial_learning_rate = check_number(
            "initial_learning_rate", initial_learning_rate, low=0, low_open=True
        )
        self.decay_steps = check_int("decay_steps", decay_steps, min_value=1)
        self.decay_rate = check_number("decay_rate", decay_rate, low=0, low_open=True)
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (
            math.floor(p) if self.staircase else p
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]`` (Keras' rule)."""

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise fail(
                "values",
                f"{len(boundaries) + 1} values (one more than boundaries)",
                f"{len(values)} values",
            )
        if list(boundaries) != sorted(boundaries):
            raise fail("boundaries", "increasing steps", list(boundaries))
        self.boundaries = [int(b) for b in boundaries]
        self.values = [
            check_number(f"values[{i}]", v, low=0) for i, v in enumerate(values)
        ]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values}


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha * initial_learning_rate`` over ``decay_steps``."""

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0
    ) -> None:
        self.initial_learning_rate = check_number(
            "initial_learning_rate", initial_learning_rate, low=0, low_open=True
        )
        self.decay_steps = check_int("decay_steps", decay_steps, min_value=1)
        self.alpha = check_number("alpha", alpha, low=0, high=1)

    def __call__(self, step: int) -> float:
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
        }


SCHEDULES = {
    cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)
}

# -- optimizers --


class Optimizer:
    """Base optimizer: applies ``rule`` to each weight with its own slot dict.

    Args:
        learning_rate: a positive float or a :class:`LearningRateSchedule`.
        clipnorm: clip each gradient to this L2 norm. Defaults to `None`.
        clipvalue: clip each gradient entry to [-clipvalue, clipvalue].
            Defaults to `None`.
        gradient_centralization: centre gradients of rank >= 2 kernels over their
            fan-in axes (Keras layouts: output axis last). Defaults to `False`.
        use_ema: keep an exponential moving average of every weight, updated
            after each step; ``fit`` ends by replacing the weights with their
            averages (:meth:`finalize_variable_values`), as in Keras.
            Defaults to `False`.
        ema_momentum: the average's momentum in [0, 1]:
            ``average = ema_momentum * average + (1 - ema_momentum) * weight``;
            the first step sets ``average = weight``. Defaults to `0.99`.
        ema_overwrite_frequency: with ``use_ema``, also replace the weights by
            their averages every this many steps. Defaults to `None` (only at
            the end of ``fit``).
        name: a name for the optimizer. Defaults to the class name.
    """

    rule_name: str = "sgd"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        gradient_centralization: bool = False,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        name: str | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.clipnorm = (
            None
            if clipnorm is None
            else check_number("clipnorm", clipnorm, low=0, low_open=True)
        )
        self.clipvalue = (
            None
            if clipvalue is None
            else check_number("clipvalue", clipvalue, low=0, low_open=True)
        )
        self.gradient_centralization = bool(gradient_centralization)
        self.use_ema = bool(use_ema)
        self.ema_momentum = check_number("ema_momentum", ema_momentum, low=0, high=1)
        self.ema_overwrite_frequency = (
            None
            if ema_overwrite_frequency is None
            else check_int(
                "ema_overwrite_frequency", ema_overwrite_frequency, min_value=1
            )
        )
        self.name = name or type(self).__name__
        self.iterations = 0
        self.slots: dict[str, dict[str, Any]] = {}
        self._owner: weakref.ref | None = None  # the model whose state this holds
        self._owner_name = ""

    @property
    def learning_rate(self) -> float:
        """The current learning rate (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return (
            float(lr(self.iterations)) if isinstance(lr, LearningRateSchedule) else lr
        )

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        if not isinstance(value, LearningRateSchedule):
            value = check_number("learning_rate", value, low=0, low_open=True)
        self._learning_rate = value

    @property
    def schedule(self) -> LearningRateSchedule | None:
        lr = self._learning_rate
        return lr if isinstance(lr, LearningRateSchedule) else None

    def hyperparameters(self) -> dict[str, Any]:
        """The rule's config keys for this optimizer (besides the learning rate)."""
        return {}

    def _rule(self):
        return optim.get_rule(self.rule_name)

    def bind(self, model: Any) -> None:
        """Tie this optimizer's state to ``model``; refuse a step of another model.

        Slots are keyed by weight name (``"dense/kernel"``), and two models' weights
        may bear the same names, so a second model would silently inherit the first
        one's moments. Keras builds an optimizer for one set of variables; so does
        this: the first model to step owns the state, until :meth:`set_state`
        replaces it. Recompiling the same model with the same optimizer is fine.

        Raises:
            ValueError: when another model already stepped with this optimizer.
        """
        owner = None if self._owner is None else self._owner()
        if owner is model:
            return
        if self._owner is not None:
            name = getattr(model, "name", "?")
            raise fail(
                "optimizer",
                f"an optimizer that no other model has stepped; create one "
                f"optimizer per model, e.g. a new {type(self).__name__} for model "
                f"{name!r} (Keras builds an optimizer for one set of variables)",
                f"this {type(self).__name__}, which already holds the state of "
                f"{'another ' if self._owner_name == name else ''}model "
                f"{self._owner_name!r} ({self.iterations} steps)",
            )
        self._owner = weakref.ref(model)
        self._owner_name = str(getattr(model, "name", "?"))

    def apply(self, params: Any, grads: Any = None) -> Any:
        """One step: replace each ``params[key]`` by its updated value.

        Keys are the model's unique weight names; a key seen for the first time
        gets a fresh slot dict. Keras 3's form ``apply(grads,
        trainable_variables)``, with lists, is :meth:`apply_gradients`.
        """
        if not isinstance(params, dict):
            return self.apply_gradients(list(zip(params, grads, strict=True)))
        lr = self.learning_rate
        rule = self._rule()
        for key, dw in grads.items():
            if self.clipnorm is not None:
                dw = optim.clip_by_norm(dw, self.clipnorm)
            if self.clipvalue is not None:
                dw = optim.clip_by_value(dw, self.clipvalue)
            config = self.slots.setdefault(
                key,
                {
                    **self.hyperparameters(),
                    "gradient_centralization": self.gradient_centralization,
                },
            )
            config["learning_rate"] = lr
            params[key], _ = rule(params[key], dw, config)
        if self.use_ema:
            self._update_averages(params, grads)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars: Any) -> int:
        """One step from ``(gradient, variable)`` pairs (Keras 3's signature).

        Each variable is a weight array (``model.trainable_weights``); it is
        updated in place, so the layer holding it computes with the new value.
        Its slots are keyed by the variable's identity (``"variable_<n>"`` in the
        order variables are first seen). A None gradient skips its variable.

        Shapes:
            each gradient: like its variable

        Returns:
            ``iterations`` after the step, as Keras returns it.

        Raises:
            ValueError: for a pair that is not (array, array) of one shape.
        """
        params: dict[str, Array] = {}
        grads: dict[str, Array] = {}
        variables: dict[str, Array] = {}
        for i, pair in enumerate(grads_and_vars):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise fail(f"grads_and_vars[{i}]", "a (gradient, variable) pair", pair)
            grad, var = pair
            if grad is None:
                continue
            if not hasattr(var, "shape") or np.shape(grad) != var.shape:
                raise fail(
                    f"grads_and_vars[{i}]",
                    "a gradient shaped like its variable (an array)",
                    f"shapes {np.shape(grad)} and {getattr(var, 'shape', type(var))}",
                )
            key = self._variable_key(var)
            # The rules compute on plain arrays; the result goes back in place.
            plain = variables_mod.unwrap(var)
            params[key], grads[key], variables[key] = plain, grad, var
        if grads:
            self.apply(params, grads)
            for key, var in variables.items():
                variables_mod.write(var, params[key])  # the layer keeps this array
        return self.iterations

    def _variable_key(self, var: Array) -> str:
        # A Variable and its layer's array are one variable (one set of slots).
        base = variables_mod.storage(var)
        keys = self.__dict__.setdefault("_variable_keys", {})
        entry = keys.get(id(base))
        if entry is None or entry[0] is not base:
            entry = (base, f"variable_{len(keys)}")
            keys[id(base)] = entry
        return entry[1]

    def _update_averages(
        self, params: dict[str, Array], grads: dict[str, Array]
    ) -> None:
        """Move each stepped weight's average (its ``"average"`` slot) towards it.

        A weight's first step starts its average at the weight itself (Keras:
        momentum 0 at iteration 0). Every ``ema_overwrite_frequency`` steps the
        weights are replaced by their averages.
        """
        overwrite = self.ema_overwrite_frequency
        overwrite_now = bool(overwrite) and (self.iterations + 1) % overwrite == 0
        for key in grads:
            slots = self.slots[key]
            if "average" in slots:
                slots["average"] = optim.moving_average(
                    slots["average"], params[key], self.ema_momentum
                )
            else:
                slots["average"] = params[key].copy()
            if overwrite_now:
                params[key] = slots["average"].copy()

    def finalize_variable_values(self, params: dict[str, Array]) -> None:
        """With ``use_ema``, replace each ``params[key]`` by its moving average.

        ``fit`` calls it after the last epoch, before the callbacks' ``on_train_end``
        (so that ``EarlyStopping(restore_best_weights=True)`` still has the last
        word). Keys never stepped, and every key without ``use_ema``, are left.
        """
        if not self.use_ema:
            return
        for key in params:
            average = self.slots.get(key, {}).get("average")
            if average is not None:
                params[key] = average.copy()

    # -- state, for saving and resuming --

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Return ``(arrays, scalars)``: slot arrays by ``"key/slot"`` and the rest."""
        arrays, scalars = {}, {"iterations": self.iterations, "slots": {}}
        for key, config in self.slots.items():
            for slot, value in config.items():
                if hasattr(value, "shape"):
                    arrays[f"{key}/{slot}"] = to_numpy(value)
                else:
                    scalars["slots"].setdefault(key, {})[slot] = value
        return arrays, scalars

    def set_state(self, arrays: dict[str, np.ndarray], scalars: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        self.iterations = check_int(
            "iterations", scalars.get("iterations"), min_value=0
        )
        slots: dict[str, dict[str, Any]] = {
            k: dict(v) for k, v in scalars.get("slots", {}).items()
        }
        for name, value in arrays.items():
            key, _, slot = name.rpartition("/")
            if not key:
                raise fail("optimizer state", "names 'weight/slot'", repr(name))
            slots.setdefault(key, {})[slot] = value
        self.slots = slots
        self._owner = None  # the restored state belongs to the next model to step

    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        config: dict[str, Any] = {
            "name": self.name,
            "learning_rate": lr
            if not isinstance(lr, LearningRateSchedule)
            else {"class_name": type(lr).__name__, "config": lr.get_config()},
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "gradient_centralization": self.gradient_centralization,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
        }
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            if lr.get("class_name") not in SCHEDULES:
                raise fail("learning_rate", f"one of {sorted(SCHEDULES)}", repr(lr))
            config["learning_rate"] = SCHEDULES[lr["class_name"]].from_config(
                lr["config"]
            )
        return cls(**config)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as Keras' ``SGD``."""

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_number(
            "momentum", momentum, low=0, high=1, high_open=True
        )
        self.nesterov = bool(nesterov)

    @property
    def rule_name(self) -> str:  # type: ignore[override]
        if self.nesterov:
            return "nesterov"
        return "sgd_momentum" if self.momentum > 0 else "sgd"

    def hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum} if self.momentum > 0 or self.nesterov else {}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (``rho=0.9``, ``epsilon=1e-7``)."""

    rule_name = "rmsprop"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_number("rho", rho, low=0, high=1, high_open=True)
        self.momentum = check_number(
            "momentum", momentum, low=0, high=1, high_open=True
        )
        self.epsilon = check_number("epsilon", epsilon, low=0, low_open=True)
        self.centered = bool(centered)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "decay_rate": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
            "epsilon_in_sqrt": True,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """Adam with Keras' defaults (``epsilon=1e-7``), optionally AMSGrad."""

    rule_name = "adam"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_number("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0, low_open=True)
        self.amsgrad = bool(amsgrad)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "beta1": self.beta_1,
            "beta2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' default ``weight_decay=0.004``)."""

    rule_name = "adamw"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)

    def hyperparameters(self) -> dict[str, Any]:
        return {**super().hyperparameters(), "weight_decay": self.weight_decay}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_decay": self.weight_decay}


class Adagrad(Optimizer):
    """Adagrad; Keras' defaults ``initial_accumulator_value=0.1``, ``epsilon=1e-7``."""

    rule_name = "adagrad"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, low=0
        )
        self.epsilon = check_number("epsilon", epsilon, low=0, low_open=True)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
            "epsilon_in_sqrt": True,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
}


def get(identifier: Any) -> Optimizer:
    """Resolve a name (``"adam"``), a class name, a config dict or an instance.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _registry.resolve(
        "optimizer", identifier, Optimizer, OPTIMIZERS, allow_none=False
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name", "config"}`` of an optimizer, safe to write as JSON."""
    return _registry.serialize(optimizer)


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "Optimizer",
    "PiecewiseConstantDecay",
    "RMSprop",
    "get",
    "serialize",
]
