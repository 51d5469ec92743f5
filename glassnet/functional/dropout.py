"""Inverted dropout, with cs231n's ``dropout_param`` (``p`` = keep probability)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import backend
from glassnet._internal.checks import (
    check_array,
    check_choice,
    check_number,
    check_param_dict,
    fail,
)
from glassnet.backend import Array, Cache

__all__ = ["dropout_backward", "dropout_forward"]

_MODES = ("train", "test")


def dropout_forward(
    x: Array, dropout_param: dict[str, Any], *, rng: Any = None
) -> tuple[Array, Cache]:
    """Inverted dropout: keep each unit with probability p and scale it by 1 / p.

    Scaling at train time keeps the expected activation equal to ``x``, so test
    time is the identity.

    Shapes:
        x: any shape;  out: like x

    Args:
        x: the input.
        dropout_param: a dict with ``"p"``, the probability of keeping a unit, in
            (0, 1]; ``"mode"``, ``"train"`` or ``"test"``; and optionally
            ``"seed"``, which makes the mask deterministic and takes precedence
            over ``rng``.
        rng: a random generator for the mask when no seed is given. When
            neither is, the mask is the course's ``(np.random.rand(*x.shape) <
            p) / p``, drawn from NumPy's global generator (so
            ``np.random.seed`` fixes it). Defaults to `None`.

    Returns:
        out, and a cache (the mode and the mask, which has x's dtype and holds
        0 or 1 / p) for dropout_backward.

    Raises:
        ValueError: when a key is missing, ``p`` lies outside (0, 1], ``mode`` is
            unknown, or ``rng`` is not a generator.
    """
    check_array("x", x, floating=True)
    check_param_dict("dropout_param", dropout_param, ("p", "mode"))
    p = check_number(
        "dropout_param['p']", dropout_param["p"], low=0, low_open=True, high=1
    )
    mode = check_choice("dropout_param['mode']", dropout_param["mode"], _MODES)
    if rng is not None and not hasattr(rng, "random"):
        raise fail("rng", "a random Generator or None", type(rng).__name__)
    if mode == "test":
        return x, (mode, None)

    if "seed" in dropout_param or rng is not None:
        gen = backend.rng(dropout_param["seed"]) if "seed" in dropout_param else rng
        mask = (gen.random(x.shape) < p).astype(x.dtype)
        mask /= p
    else:
        # The course's call and arithmetic (float64), then x's dtype and module.
        u = np.asarray(np.random.rand(*x.shape))  # noqa: NPY002  (the course's)
        mask = backend.get_array_module(x).asarray(((u < p) / p).astype(x.dtype))
    return x * mask, (mode, mask)


def dropout_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`dropout_forward`: the mask again (identity in test).

    Shapes:
        dout: like x;  dx: like x

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`dropout_forward`.

    Returns:
        dx.
    """
    mode, mask = cache
    if mode == "test":
        return dout
    check_array("dout", dout, shape=mask.shape)
    return dout * mask
