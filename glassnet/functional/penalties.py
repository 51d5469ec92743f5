"""Weight penalties as ``<name>_penalty(w, ...) -> (loss, dw)``.

One formula, :func:`l1_l2_penalty`; the named penalties only translate their
coefficients into its ``l1`` and ``l2``.
"""

from __future__ import annotations

from glassnet._internal.checks import check_array, check_number
from glassnet.backend import Array, get_array_module

__all__ = ["elastic_net_penalty", "l1_l2_penalty", "l1_penalty", "l2_penalty"]


def l1_l2_penalty(w: Array, l1: float = 0.0, l2: float = 0.0) -> tuple[float, Array]:
    """The L1 + L2 penalty: loss = l1 * sum(|w|) + l2 * sum(w^2) (Keras ``L1L2``).

    Shapes:
        w: any shape;  dw: like w

    Args:
        w: the weights.
        l1: the L1 coefficient. Defaults to `0.0`.
        l2: the L2 coefficient. Defaults to `0.0`.

    Returns:
        ``(loss, dw)`` with dw = l1 * sign(w) + 2 * l2 * w (0 is the subgradient of
        |w| at w = 0).

    Raises:
        ValueError: when ``w`` is not a floating-point array or a coefficient is
            negative.
    """
    check_array("w", w, floating=True)
    l1 = check_number("l1", l1, low=0)
    l2 = check_number("l2", l2, low=0)
    xp = get_array_module(w)
    loss = 0.0
    dw = xp.zeros_like(w)
    if l1:
        loss += l1 * float(xp.abs(w).sum())
        dw += l1 * xp.sign(w)
    if l2:
        loss += l2 * float((w * w).sum())
        dw += (2.0 * l2) * w
    return loss, dw


def l2_penalty(w: Array, reg: float) -> tuple[float, Array]:
    """cs231n's L2 penalty: loss = 0.5 * reg * sum(w^2), so dw = reg * w.

    Shapes:
        w: any shape;  dw: like w

    Args:
        w: the weights.
        reg: the regularisation strength.

    Returns:
        ``(loss, dw)``.

    Raises:
        ValueError: when ``reg`` is negative.
    """
    reg = check_number("reg", reg, low=0)
    return l1_l2_penalty(w, l2=0.5 * reg)


def l1_penalty(w: Array, reg: float) -> tuple[float, Array]:
    """L1 penalty: loss = reg * sum(|w|), so dw = reg * sign(w).

    Shapes:
        w: any shape;  dw: like w

    Args:
        w: the weights.
        reg: the regularisation strength.

    Returns:
        ``(loss, dw)``.

    Raises:
        ValueError: when ``reg`` is negative.
    """
    reg = check_number("reg", reg, low=0)
    return l1_l2_penalty(w, l1=reg)


def elastic_net_penalty(w: Array, reg: float, beta: float) -> tuple[float, Array]:
    """Elastic net: loss = reg * sum(beta * w^2 + |w|).

    Shapes:
        w: any shape;  dw: like w

    Args:
        w: the weights.
        reg: the overall strength.
        beta: the weight of the squared term relative to the absolute one.

    Returns:
        ``(loss, dw)`` with dw = reg * (2 * beta * w + sign(w)).

    Raises:
        ValueError: when ``reg`` or ``beta`` is negative.
    """
    reg = check_number("reg", reg, low=0)
    beta = check_number("beta", beta, low=0)
    return l1_l2_penalty(w, l1=reg, l2=reg * beta)
