"""The course API's update rules, ``rule(w, dw, config)`` as in cs231n's optim.py.

The Keras API's optimizer classes (:mod:`glassnet.optimizers`) call these same
rules; this module is the mathematics, that one the objects around it.

Every rule takes the current weights ``w``, their gradient ``dw`` and a ``config``
dict of hyperparameters and per-parameter state, and returns ``(next_w, config)``::

    next_w, config = adam(w, dw, config)   # config None: a new dict with defaults

Missing hyperparameters are filled in with ``config.setdefault``; the dict that came
in is the dict that goes out, holding the updated state (``velocity``, ``cache``,
``m``, ``v``, ``t`` ...). Neither ``w`` nor any state array is changed in place:
the rule builds new arrays and the caller assigns them, as in cs231n's ``Solver``.
State arrays are created with ``w``'s dtype, and hyperparameters are used as Python
floats, so float32 weights stay float32.

Gradient centralisation (Yong et al., 2020) is available to every rule through two
config keys. With ``gradient_centralization=True`` and ``w.ndim >= 2``, ``dw`` is
replaced by ``dw`` minus its mean over every axis except the output axis
``gc_axis`` before the rule runs; rank-1 parameters (biases, batchnorm gamma/beta)
are left alone. The output axis is the one that indexes output units:

* affine weights ``(D, M)`` of the course and the Keras ``Dense`` kernel
  ``(in, out)``: the last axis, ``gc_axis=-1`` (the default);
* Keras conv kernels ``(HH, WW, C, F)``: the last axis, ``gc_axis=-1``;
* cs231n conv weights ``(F, C, HH, WW)``: the first axis, so pass ``gc_axis=0``.

:data:`RULES` maps names to rules and :func:`get_rule` resolves a name (or passes a
callable through); the ``Solver`` and the Keras optimizers look rules up there.
:data:`CONFIG_KEYS` lists the config keys each rule reads, and :func:`check_config`
refuses any other (the ``Solver`` checks its ``optim_config`` so).
:func:`clip_by_value` and :func:`clip_by_norm` clip one gradient the way Keras'
``clipvalue`` and ``clipnorm`` do.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import (
    check_array,
    check_choice,
    check_int,
    check_number,
    fail,
)
from glassnet._internal.threads import split_batch
from glassnet.backend import Array, get_array_module

Config = dict[str, Any]
Rule = Callable[..., tuple[Array, Config]]


def _key(key: str) -> str:
    return f"config[{key!r}]"


def _number(config: Config, key: str, default: float, **bounds: Any) -> float:
    """Fill in ``config[key]``, check it is in range and return it as a Python float.

    A Python float (never an ``np.float64``) keeps float32 arithmetic in float32.
    """
    return check_number(_key(key), config.setdefault(key, default), **bounds)


def _flag(config: Config, key: str, default: bool) -> bool:
    value = config.setdefault(key, default)
    if not isinstance(value, bool):
        raise fail(_key(key), "True or False", repr(value))
    return value


def _state(config: Config, key: str, w: Array, fill: float = 0.0) -> Array:
    """Return ``config[key]``, created like ``w`` and filled with ``fill`` if absent."""
    if key not in config:
        config[key] = get_array_module(w).full_like(w, fill)
    state = config[key]
    check_array(_key(key), state, shape=tuple(w.shape))
    if state.dtype != w.dtype:
        raise fail(_key(key), f"dtype {w.dtype} (w's dtype)", f"dtype {state.dtype}")
    return state


def centralize_gradient(dw: Array, axis: int = -1) -> Array:
    """Gradient centralisation: subtract the mean over every axis except ``axis``.

    Each output unit's slice of the result sums to zero. Rank-0 and rank-1
    gradients are returned unchanged: a bias has no fan-in to centre over.

    Shapes:
        dw: (d0, ..., dk), any rank; returns an array of the same shape.

    Args:
        dw: the gradient.
        axis: the output axis, kept out of the mean: -1 for affine ``(D, M)`` and
            Keras kernels, 0 for cs231n conv weights ``(F, C, HH, WW)``.
            Defaults to `-1`.

    Returns:
        A new array with ``dw``'s dtype (``dw`` itself when its rank is below 2).

    Raises:
        ValueError: if ``dw`` is not a floating-point array or ``axis`` is out of range.
    """
    check_array("dw", dw, floating=True)
    if dw.ndim < 2:
        return dw
    axis = check_int("axis", axis, min_value=-dw.ndim, max_value=dw.ndim - 1)
    others = tuple(a for a in range(dw.ndim) if a != axis % dw.ndim)
    return dw - dw.mean(axis=others, keepdims=True)


def _start(w: Array, dw: Array, config: Config | None) -> tuple[Array, Config]:
    """Checks shared by every rule; applies gradient centralisation when asked."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise fail("config", "a dict or None", type(config).__name__)
    check_array("w", w, floating=True)
    check_array("dw", dw, shape=tuple(w.shape))
    if dw.dtype != w.dtype:
        raise fail("dw", f"dtype {w.dtype} (w's dtype)", f"dtype {dw.dtype}")
    centre = _flag(config, "gradient_centralization", False)
    axis = config.setdefault("gc_axis", -1)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise fail(_key("gc_axis"), "an integer axis", repr(axis))
    if centre and w.ndim >= 2:
        if not -w.ndim <= axis < w.ndim:
            want = f"an axis in [{-w.ndim}, {w.ndim - 1}] for w of shape {w.shape}"
            raise fail(_key("gc_axis"), want, repr(axis))
        dw = centralize_gradient(dw, axis)
    return dw, config


def _learning_rate(config: Config, default: float) -> float:
    return _number(config, "learning_rate", default, low=0.0, low_open=True)


def _fraction(config: Config, key: str, default: float) -> float:
    """A decay factor in [0, 1): 1 would freeze the running average."""
    return _number(config, key, default, low=0.0, high=1.0, high_open=True)


def _root(config: Config, cache: Array, eps: float) -> Array:
    """``sqrt(cache) + eps`` (cs231n, PyTorch), or ``sqrt(cache + eps)`` with the
    config key ``epsilon_in_sqrt`` (Keras' RMSprop and Adagrad)."""
    xp = get_array_module(cache)
    if _flag(config, "epsilon_in_sqrt", False):
        return xp.sqrt(cache + eps)
    return xp.sqrt(cache) + eps


def _epsilon(config: Config) -> float:
    return _number(config, "epsilon", 1e-8, low=0.0, low_open=True)


def sgd(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Vanilla stochastic gradient descent: ``next_w = w - learning_rate * dw``.

    Shapes:
        w, dw, next_w: the same shape, any rank.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: hyperparameters, filled in with defaults where missing:
            ``learning_rate`` (1e-2), ``gradient_centralization`` (False),
            ``gc_axis`` (-1). Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)``: new weights and the same config dict.

    Raises:
        ValueError: for mismatched ``w``/``dw`` or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    lr = _learning_rate(config, 1e-2)
    return w - lr * dw, config


def _momentum_velocity(
    w: Array, dw: Array, config: Config
) -> tuple[Array, float, float]:
    """Heavy-ball velocity ``v = momentum * v - learning_rate * dw``, momentum, lr."""
    lr = _learning_rate(config, 1e-2)
    mu = _fraction(config, "momentum", 0.9)
    v = mu * _state(config, "velocity", w) - lr * dw
    config["velocity"] = v
    return v, mu, lr


def sgd_momentum(
    w: Array, dw: Array, config: Config | None = None
) -> tuple[Array, Config]:
    """SGD with momentum: ``v = momentum * v - learning_rate * dw; next_w = w + v``.

    Shapes:
        w, dw, next_w, config["velocity"]: the same shape, any rank.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: ``learning_rate`` (1e-2), ``momentum`` in [0, 1) (0.9),
            ``velocity`` (zeros like ``w``), and the gradient-centralisation keys.
            Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with ``config["velocity"]`` updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    v, _, _ = _momentum_velocity(w, dw, config)
    return w + v, config


def nesterov(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Nesterov momentum in the cs231n form, with the gradient taken at ``w``.

    ``v_prev = v; v = momentum * v - learning_rate * dw;
    next_w = w - momentum * v_prev + (1 + momentum) * v``.

    Shapes:
        w, dw, next_w, config["velocity"]: the same shape, any rank.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: the keys of :func:`sgd_momentum`, with the same defaults.
            Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with ``config["velocity"]`` updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    v, mu, lr = _momentum_velocity(w, dw, config)
    # -mu*v_prev + (1+mu)*v == mu*v - lr*dw, since v - mu*v_prev == -lr*dw
    # (Keras' form); it needs no copy of the previous velocity.
    return w + mu * v - lr * dw, config


def rmsprop(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """RMSProp: divide the step by a running root mean square of the gradient.

    ``cache = decay_rate * cache + (1 - decay_rate) * dw**2;
    next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)``.

    With ``centered`` a running mean ``mg`` of ``dw`` is kept and the denominator
    uses the variance estimate ``cache - mg**2``. With ``momentum > 0`` the step
    is accumulated, ``m = momentum * m + step; next_w = w - m``, as Keras does.
    Epsilon is added after the square root, as in cs231n and PyTorch; Keras adds
    it under the root, which the config key ``epsilon_in_sqrt=True`` selects.

    Shapes:
        w, dw, next_w and every state array in config: the same shape.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: ``learning_rate`` (1e-2), ``decay_rate`` in [0, 1) (0.99),
            ``epsilon`` (1e-8), ``cache`` (zeros), ``momentum`` in [0, 1) (0.0;
            state ``m``), ``centered`` (False; state ``mg``), and the
            gradient-centralisation keys. Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with the state arrays updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    lr = _learning_rate(config, 1e-2)
    rho = _fraction(config, "decay_rate", 0.99)
    eps = _epsilon(config)
    mu = _fraction(config, "momentum", 0.0)
    centered = _flag(config, "centered", False)
    xp = get_array_module(w)
    cache = rho * _state(config, "cache", w) + (1 - rho) * (dw * dw)
    config["cache"] = cache
    if centered:
        mg = rho * _state(config, "mg", w) + (1 - rho) * dw
        config["mg"] = mg
        # E[dw^2] - E[dw]^2 >= 0 in exact arithmetic; rounding can dip below zero.
        cache = xp.maximum(cache - mg * mg, 0.0)
    step = lr * dw / _root(config, cache, eps)
    if mu > 0:
        step = mu * _state(config, "m", w) + step
        config["m"] = step
    return w - step, config


def adagrad(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Adagrad: divide the step by the root of the summed squared gradients.

    ``cache = cache + dw**2; next_w = w - learning_rate * dw / (sqrt(cache) + eps)``.

    Shapes:
        w, dw, next_w, config["cache"]: the same shape, any rank.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: ``learning_rate`` (1e-2), ``epsilon`` (1e-8),
            ``initial_accumulator_value`` >= 0 (0.0; the starting ``cache``),
            ``cache``, ``epsilon_in_sqrt`` (False; True divides by
            ``sqrt(cache + eps)`` as Keras does), and the gradient-centralisation
            keys. Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with ``config["cache"]`` updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    lr = _learning_rate(config, 1e-2)
    eps = _epsilon(config)
    init = _number(config, "initial_accumulator_value", 0.0, low=0.0)
    cache = _state(config, "cache", w, fill=init) + dw * dw
    config["cache"] = cache
    return w - lr * dw / _root(config, cache, eps), config


# Weights of at least this many elements get Adam's update in cached blocks on
# threads; below it the blocks' slicing costs more than it saves.
_BLOCKED_ADAM_SIZE = 1 << 18


def _adam_step(w: Array, dw: Array, config: Config) -> tuple[Array, float]:
    """Adam's bias-corrected step ``lr * mt / (sqrt(vt) + eps)``, and ``lr``."""
    lr = _learning_rate(config, 1e-3)
    b1 = _fraction(config, "beta1", 0.9)
    b2 = _fraction(config, "beta2", 0.999)
    eps = _epsilon(config)
    amsgrad = _flag(config, "amsgrad", False)
    t = check_int(_key("t"), config.setdefault("t", 0), min_value=0) + 1
    xp = get_array_module(w)
    m_old, v_old = _state(config, "m", w), _state(config, "v", w)
    vhat_old = _state(config, "vhat", w) if amsgrad else None
    # New arrays (the old state stays untouched: the rule is pure) with half
    # the temporaries of the plain formula; C-ordered whatever w's layout, so
    # that their flat views below are views.
    m, v, step = (xp.empty(w.shape, w.dtype) for _ in range(3))
    vhat = xp.empty(w.shape, w.dtype) if amsgrad else None
    # Both moments start at zero; dividing by c = 1 - beta**t undoes that bias.
    # lr * (m/c1) / (sqrt(v/c2) + eps) == lr*sqrt(c2)/c1 * m / (sqrt(v) + eps*sqrt(c2))
    # exactly, and the right side needs no bias-corrected copies of m and v.
    root_c2 = math.sqrt(1 - b2**t)
    scale = lr * root_c2 / (1 - b1**t)

    def update(
        g: Array,
        m0: Array,
        v0: Array,
        h0: Array | None,
        m1: Array,
        v1: Array,
        h1: Array | None,
        s1: Array,
    ) -> None:
        xp.multiply(m0, b1, out=m1)
        m1 += (1 - b1) * g
        xp.multiply(g, g, out=v1)
        v1 *= 1 - b2
        v1 += b2 * v0
        second = v1
        if h1 is not None:
            # AMSGrad never lets the second moment shrink, so steps cannot grow.
            second = xp.maximum(h0, v1, out=h1)
        denom = xp.sqrt(second)
        denom += eps * root_c2
        xp.multiply(m1, scale, out=s1)
        s1 /= denom

    arrays = (dw, m_old, v_old, vhat_old, m, v, vhat, step)
    if w.size < _BLOCKED_ADAM_SIZE:
        update(*arrays)
    else:
        # Large weights go block by block (the passes over a block find it in
        # the cache) and the blocks are shared between threads; element-wise,
        # so the same bits for any split.
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        split_batch(
            lambda b: update(*(a if a is None else a[b] for a in flat)), flat[-1]
        )
    config.update(m=m, v=v, t=t)
    if amsgrad:
        config["vhat"] = vhat
    return step, lr


def adam(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Adam (Kingma & Ba, 2015), optionally AMSGrad (Reddi et al., 2018).

    ``t += 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2;
    next_w = w - learning_rate * (m/(1-beta1**t)) / (sqrt(v/(1-beta2**t)) + eps)``.
    With ``amsgrad`` the running maximum ``vhat = max(vhat, v)`` replaces ``v``.

    Shapes:
        w, dw, next_w, config["m"], config["v"], config["vhat"]: the same shape.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: ``learning_rate`` (1e-3), ``beta1`` (0.9) and ``beta2`` (0.999)
            in [0, 1), ``epsilon`` (1e-8), ``m`` and ``v`` (zeros), ``t`` (0;
            incremented before use), ``amsgrad`` (False; state ``vhat``), and the
            gradient-centralisation keys. Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with ``m``, ``v``, ``t`` (and ``vhat``) updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    step, _ = _adam_step(w, dw, config)
    return get_array_module(w).subtract(w, step, out=step), config


def adamw(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """AdamW: Adam plus weight decay applied to the weights, not the gradient.

    ``next_w = w - learning_rate * weight_decay * w - adam_step``, with the decay
    computed from the weights before the step, as in Loshchilov & Hutter,
    PyTorch's and Keras' AdamW. Decoupling keeps the decay out of Adam's
    per-coordinate scaling, unlike L2 regularisation added to ``dw``.

    Shapes:
        w, dw, next_w and every state array in config: the same shape.

    Args:
        w: the weights.
        dw: the gradient of the loss with respect to ``w``.
        config: the keys of :func:`adam`, with the same defaults, plus
            ``weight_decay`` >= 0 (1e-2). Defaults to `None` (a new dict).

    Returns:
        ``(next_w, config)`` with Adam's state updated.

    Raises:
        ValueError: for mismatched shapes or dtypes or an out-of-range config value.
    """
    dw, config = _start(w, dw, config)
    wd = _number(config, "weight_decay", 1e-2, low=0.0)
    step, lr = _adam_step(w, dw, config)
    return w * (1 - lr * wd) - step, config


RULES: dict[str, Rule] = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov": nesterov,
    "rmsprop": rmsprop,
    "adagrad": adagrad,
    "adam": adam,
    "adamw": adamw,
}
"""Update rules by name; :func:`get_rule` looks names up here."""

_GC_KEYS = ("gradient_centralization", "gc_axis")
_ADAM_KEYS = ("learning_rate", "beta1", "beta2", "epsilon", "amsgrad")
_ADAM_STATE = ("m", "v", "t", "vhat")

CONFIG_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sgd": (("learning_rate", *_GC_KEYS), ()),
    "sgd_momentum": (("learning_rate", "momentum", *_GC_KEYS), ("velocity",)),
    "nesterov": (("learning_rate", "momentum", *_GC_KEYS), ("velocity",)),
    "rmsprop": (
        ("learning_rate", "decay_rate", "epsilon", "momentum", "centered")
        + ("epsilon_in_sqrt", *_GC_KEYS),
        ("cache", "mg", "m"),
    ),
    "adagrad": (
        ("learning_rate", "epsilon", "initial_accumulator_value", "epsilon_in_sqrt")
        + _GC_KEYS,
        ("cache",),
    ),
    "adam": ((*_ADAM_KEYS, *_GC_KEYS), _ADAM_STATE),
    "adamw": ((*_ADAM_KEYS, "weight_decay", *_GC_KEYS), _ADAM_STATE),
}
"""Each rule of :data:`RULES` -> (its hyperparameters, the state slots it writes):
every key the rule reads from its config. :func:`check_config` refuses others."""


def check_config(name: str, rule: str, config: Any) -> None:
    """Refuse a config holding a key that the update rule ``rule`` never reads.

    A misspelt hyperparameter (``learning_rat``) would otherwise be ignored and
    the rule's default used. The state slots the rule writes (``velocity``,
    ``cache``, ``m``, ``v``, ``t`` ...) are known keys, so a config the rule has
    filled in passes.

    Args:
        name: the config's name, used in the message.
        rule: a key of :data:`CONFIG_KEYS`.
        config: the config dict (or its keys).

    Raises:
        ValueError: naming the unknown keys, listing the rule's keys and
            suggesting a close match.
    """
    check_choice("rule", rule, CONFIG_KEYS)
    hyperparameters, state = CONFIG_KEYS[rule]
    unknown = [k for k in config if k not in hyperparameters + state]
    if not unknown:
        return
    expected = f"only the keys of update rule {rule!r}: {', '.join(hyperparameters)}"
    expected += f" (and its state {', '.join(state)})" if state else ""
    received = f"unknown {'key' if len(unknown) == 1 else 'keys'} "
    received += ", ".join(repr(k) for k in unknown)
    hints = [
        f"{match[0]!r} for {k!r}"
        for k in unknown
        if isinstance(k, str)
        and (match := difflib.get_close_matches(k, hyperparameters, n=1))
    ]
    if hints:
        received += f" (did you mean {', '.join(hints)}?)"
    raise fail(name, expected, received)


def get_rule(name_or_callable: str | Rule) -> Rule:
    """Return the update rule called ``name_or_callable``, or the callable itself.

    Args:
        name_or_callable: a key of :data:`RULES` or a callable with the
            signature ``rule(w, dw, config) -> (next_w, config)``.

    Returns:
        The update rule.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a
            value that is neither a string nor callable.
    """
    if callable(name_or_callable):
        return name_or_callable
    if isinstance(name_or_callable, str) and name_or_callable in RULES:
        return RULES[name_or_callable]
    names = ", ".join(repr(n) for n in RULES)
    expected = f"one of {names} or a callable"
    raise fail("name_or_callable", expected, repr(name_or_callable))


def clip_by_value(dw: Array, clipvalue: float) -> Array:
    """Clip every entry of ``dw`` to ``[-clipvalue, clipvalue]`` (Keras ``clipvalue``).

    Shapes:
        dw: any shape; returns an array of the same shape and dtype.

    Args:
        dw: the gradient.
        clipvalue: the largest allowed magnitude, > 0.

    Returns:
        A new clipped array.

    Raises:
        ValueError: if ``dw`` is not a floating-point array or ``clipvalue`` <= 0.
    """
    check_array("dw", dw, floating=True)
    c = check_number("clipvalue", clipvalue, low=0.0, low_open=True)
    return get_array_module(dw).clip(dw, -c, c)


def clip_by_norm(dw: Array, clipnorm: float) -> Array:
    """Rescale ``dw`` so its L2 norm is at most ``clipnorm`` (Keras ``clipnorm``).

    The norm is over all entries of this one gradient (per variable, not global):
    ``dw * clipnorm / max(||dw||, clipnorm)``, so the direction never changes and
    a gradient already inside the ball is returned as an equal copy.

    Shapes:
        dw: any shape; returns an array of the same shape and dtype.

    Args:
        dw: the gradient.
        clipnorm: the largest allowed L2 norm, > 0.

    Returns:
        A new rescaled array.

    Raises:
        ValueError: if ``dw`` is not a floating-point array or ``clipnorm`` <= 0.
    """
    check_array("dw", dw, floating=True)
    c = check_number("clipnorm", clipnorm, low=0.0, low_open=True)
    xp = get_array_module(dw)
    # Kept as an array in dw's dtype (no float() round trip) so CuPy never syncs.
    norm = xp.sqrt(xp.sum(dw * dw))
    return dw * (c / xp.maximum(norm, c))


def moving_average(average: Array, value: Array, momentum: float) -> Array:
    """One step of an exponential moving average: ``momentum * average + (1 -
    momentum) * value``.

    The running statistics of batch normalisation and the weight averages of
    ``Optimizer(use_ema=True)`` both take this step.

    Shapes:
        average, value: the same shape; returns a new array of that shape.

    Args:
        average: the average so far.
        value: the new value.
        momentum: how much of the old average stays, in [0, 1].

    Returns:
        The new average (a new array).

    Raises:
        ValueError: if ``momentum`` is outside [0, 1].
    """
    m = check_number("momentum", momentum, low=0.0, high=1.0)
    return m * average + (1.0 - m) * value


__all__ = [
    "CONFIG_KEYS",
    "RULES",
    "adagrad",
    "adam",
    "adamw",
    "centralize_gradient",
    "check_config",
    "clip_by_norm",
    "clip_by_value",
    "get_rule",
    "moving_average",
    "nesterov",
    "rmsprop",
    "sgd",
    "sgd_momentum",
]
