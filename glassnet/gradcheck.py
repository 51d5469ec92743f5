"""Numerical gradients and one-call gradient checks of kernels, losses and models.

The first four functions keep the cs231n names and signatures exactly, so course
notebooks run unchanged. :func:`check_kernel`, :func:`check_loss` and
:func:`check_model` wrap them: each compares an analytic gradient ``a`` with
centred differences ``n`` and returns, per input or parameter, the worst error
relative to the larger of the two gradients,

    max_i |a_i - n_i| / max(max_i |a_i|, max_i |n_i|, floor)

Dividing by the gradient's largest entry rather than entry by entry keeps entries
that are tiny next to the rest (a bias before batchnorm, whose true gradient is
zero; a weight in a nearly saturated unit) from reporting their rounding noise as
a large relative error, while any wrong formula still shows as an error of order
one. Run the checks in float64: in float32 the rounding error of a centred
difference (about 1e-7 / h) swamps the comparison, so a warning is issued.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from random import Random
from typing import Any

import numpy as np

from glassnet._internal.checks import check_number, fail
from glassnet.backend import Array, get_array_module

DEFAULT_FLOOR = 1e-8


def eval_numerical_gradient(
    f: Callable[[Array], float], x: Array, verbose: bool = True, h: float = 1e-5
) -> Array:
    """Numerical gradient of a scalar function by centred differences.

    ``x`` is perturbed in place, one entry at a time, and restored.

    Args:
        f: a function of one argument returning a scalar.
        x: the point at which to evaluate the gradient.
        verbose: print each entry's index and gradient, as cs231n does.
            Defaults to `True`.
        h: the step. Defaults to `1e-5`.

    Returns:
        An array shaped like ``x``.
    """
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix].copy()
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[Array], Array], x: Array, df: Array, h: float = 1e-5
) -> Array:
    """Numerical gradient of ``sum(f(x) * df)``: the backward pass of ``f`` at ``df``.

    Args:
        f: a function of one array returning an array.
        x: the input; perturbed in place and restored.
        df: the upstream gradient, shaped like ``f(x)``.
        h: the step. Defaults to `1e-5`.

    Returns:
        An array shaped like ``x``.
    """
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix].copy()
        x[ix] = old + h
        pos = xp.array(f(x), copy=True)
        x[ix] = old - h
        neg = xp.array(f(x), copy=True)
        x[ix] = old
        grad[ix] = xp.sum((pos - neg) * df) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[Array], float],
    x: Array,
    analytic_grad: Array,
    num_checks: int = 10,
    h: float = 1e-5,
    *,
    seed: int | None = None,
    verbose: bool = True,
) -> list[float]:
    """Compare ``analytic_grad`` with centred differences at random entries.

    Args:
        f: a scalar function of ``x``.
        x: the point; perturbed in place and restored.
        analytic_grad: the gradient to check, shaped like ``x``.
        num_checks: how many random entries to check. Defaults to `10`.
        h: the step. Defaults to `1e-5`.
        seed: seed for choosing entries. Defaults to `None`.
        verbose: print one line per entry, as cs231n does. Defaults to `True`.

    Returns:
        The relative error of each checked entry.
    """
    if analytic_grad.shape != x.shape:
        raise fail(
            "analytic_grad", f"shape {x.shape} like x", f"shape {analytic_grad.shape}"
        )
    pick = Random(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(pick.randrange(m) for m in x.shape)
        old = x[ix].copy()
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        num = float((fxph - fxmh) / (2 * h))
        ana = float(analytic_grad[ix])
        err = abs(num - ana) / (abs(num) + abs(ana)) if num or ana else 0.0
        errors.append(err)
        if verbose:
            print(f"numerical: {num:f} analytic: {ana:f}, relative error: {err:e}")
    return errors


def rel_error(x: Array, y: Array) -> float:
    """cs231n's relative error: ``max(|x - y| / max(1e-8, |x| + |y|))``."""
    xp = get_array_module(x, y)
    return float(xp.max(xp.abs(x - y) / xp.maximum(1e-8, xp.abs(x) + xp.abs(y))))


def max_relative_error(
    analytic: Array, numerical: Array, floor: float = DEFAULT_FLOOR
) -> float:
    """``max |a - n| / max(max |a|, max |n|, floor)``; 0.0 for empty arrays.

    ``floor`` keeps the ratio finite for gradients that are zero everywhere.
    """
    xp = get_array_module(analytic, numerical)
    a = xp.asarray(analytic, dtype=np.float64)
    n = xp.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise fail(
            "analytic",
            f"shape {n.shape} like the numerical gradient",
            f"shape {a.shape}",
        )
    if a.size == 0:
        return 0.0
    scale = max(float(xp.abs(a).max()), float(xp.abs(n).max()), floor)
    return float(xp.abs(a - n).max()) / scale


def _warn_if_low_precision(named: dict[str, Array], *, upcast: bool = False) -> None:
    low = [k for k, v in named.items() if v.dtype != np.float64]
    if low:
        action = "they are checked as float64 copies" if upcast else "pass float64"
        warnings.warn(
            f"gradient check on non-float64 inputs {low}: centred differences are "
            f"unreliable in low precision; {action}",
            RuntimeWarning,
            stacklevel=3,
        )


def _float64(x: Array) -> Array:
    return x if x.dtype == np.float64 else x.astype(np.float64)


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return [positional[i] if i < len(positional) else f"arg{i}" for i in range(n)]


def check_kernel(
    forward: Callable[..., tuple[Array, Any]],
    backward: Callable[[Array, Any], Any],
    *args: Any,
    wrt: Sequence[int | str] | None = None,
    dout: Array | None = None,
    h: float = 1e-5,
    floor: float = DEFAULT_FLOOR,
    seed: int = 20231,
) -> dict[str, float]:
    """Check a ``forward``/``backward`` kernel pair against numerical gradients.

    ``forward(*args) -> (out, cache)`` and ``backward(dout, cache)`` returning one
    gradient or a tuple of gradients, in the order of the arguments in ``wrt``.

    Args:
        forward: the forward kernel.
        backward: its backward kernel.
        *args: every positional argument of ``forward``; float arrays are perturbed.
        wrt: the arguments (positions or names) that ``backward``'s gradients belong
            to. Defaults to every floating-point array in ``args``, in order.
        dout: the upstream gradient. Defaults to a seeded standard normal.
        h: the finite-difference step. Defaults to `1e-5`.
        floor: the smallest denominator of the relative error. Defaults to `1e-8`.
        seed: seed for the default ``dout``; unlike 0, it does not collide with
            a test's own ``default_rng(0)``. Defaults to `20231`.

    Returns:
        The worst relative error for each argument in ``wrt``, keyed by its name in
        ``forward``'s signature (``{"x": 3e-10, "w": 1e-10, "b": 4e-12}``).

    Raises:
        ValueError: when ``backward`` returns a different number of gradients than
            there are arguments in ``wrt``, or a gradient of the wrong shape.

    Example:
        >>> import numpy as np
        >>> from glassnet.functional import affine_forward, affine_backward
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
        >>> b = rng.normal(size=4)
        >>> errs = check_kernel(affine_forward, affine_backward, x, w, b)
        >>> sorted(errs), max(errs.values()) < 1e-7
        (['b', 'w', 'x'], True)
    """
    check_number("h", h, low=0, low_open=True)
    args = list(args)
    names = _arg_names(forward, len(args))
    if wrt is None:
        idx = [
            i for i, a in enumerate(args) if hasattr(a, "dtype") and a.dtype.kind == "f"
        ]
    else:
        idx = [names.index(k) if isinstance(k, str) else int(k) for k in wrt]
    _warn_if_low_precision({names[i]: args[i] for i in idx}, upcast=True)
    for i in idx:
        args[i] = _float64(args[i])

    out, cache = forward(*args)
    xp = get_array_module(out)
    if dout is None:
        dout = xp.asarray(
            np.random.default_rng(seed).standard_normal(out.shape), dtype=out.dtype
        )
    grads = backward(dout, cache)
    grads = list(grads) if isinstance(grads, tuple | list) else [grads]
    if len(grads) != len(idx):
        raise fail(
            "backward",
            f"{len(idx)} gradients for {[names[i] for i in idx]}",
            f"{len(grads)} gradients",
        )

    errors: dict[str, float] = {}
    for i, g in zip(idx, grads, strict=True):

        def f_i(v: Array, i: int = i) -> Array:
            call = list(args)
            call[i] = v
            return forward(*call)[0]

        num = eval_numerical_gradient_array(f_i, args[i], dout, h=h)
        if g.shape != num.shape:
            raise fail(
                f"gradient of {names[i]}", f"shape {num.shape}", f"shape {g.shape}"
            )
        errors[names[i]] = max_relative_error(g, num, floor)
    return errors


def check_loss(
    loss_fn: Callable[..., tuple[float, Array]],
    x: Array,
    *args: Any,
    h: float = 1e-5,
    floor: float = DEFAULT_FLOOR,
    **kwargs: Any,
) -> dict[str, float]:
    """Check a loss ``loss_fn(x, *args, **kwargs) -> (loss, dx)`` numerically.

    Returns:
        ``{"x": worst relative error of dx}``.
    """
    _warn_if_low_precision({"x": x}, upcast=True)
    x = _float64(x)
    _, dx = loss_fn(x, *args, **kwargs)
    num = eval_numerical_gradient(lambda v: loss_fn(v, *args, **kwargs)[0], x, False, h)
    return {"x": max_relative_error(dx, num, floor)}


def check_model(
    model: Any,
    X: Array,
    y: Array,
    *,
    params: Sequence[str] | None = None,
    h: float = 1e-5,
    floor: float = DEFAULT_FLOOR,
) -> dict[str, float]:
    """Check a course model's ``loss(X, y) -> (loss, grads)`` numerically.

    Every parameter in ``model.params`` is checked (weights, biases and
    normalisation scales alike) unless ``params`` narrows the list. Dropout must be
    seeded for the check to be meaningful.

    Returns:
        The worst relative error per parameter name.
    """
    names = list(model.params) if params is None else list(params)
    unknown = [k for k in names if k not in model.params]
    if unknown:
        raise fail("params", f"names from {sorted(model.params)}", unknown)
    _warn_if_low_precision({k: model.params[k] for k in names})
    # Each evaluation in train mode updates batchnorm running statistics; the
    # check must leave the model as it found it.
    saved = [
        {k: v.copy() for k, v in p.items() if hasattr(v, "copy")}
        for p in getattr(model, "bn_params", [])
    ]
    try:
        _, grads = model.loss(X, y)
        errors = {}
        for k in names:

            def f(_: Array) -> float:
                return model.loss(X, y)[0]

            num = eval_numerical_gradient(f, model.params[k], verbose=False, h=h)
            errors[k] = max_relative_error(grads[k], num, floor)
    finally:
        for param, snapshot in zip(getattr(model, "bn_params", []), saved, strict=True):
            param.update(snapshot)
            for key in set(param) - set(snapshot):
                if key.startswith("running_"):
                    del param[key]
    return errors


__all__ = [
    "check_kernel",
    "check_loss",
    "check_model",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "max_relative_error",
    "rel_error",
]
