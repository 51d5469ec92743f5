"""The fully connected (affine) layer: ``out = x.reshape(N, D) @ w + b``."""

from __future__ import annotations

import math

from glassnet._internal.checks import check_array, fail
from glassnet.backend import Array, Cache

__all__ = ["affine_backward", "affine_forward", "affine_param_grads"]


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, Cache]:
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Shapes:
        x: (N, d1, ..., dk), flattened to (N, D) with D = d1 * ... * dk
        w: (D, M);  b: (M,);  out: (N, M)

    Args:
        x: the input minibatch.
        w: the weights.
        b: the biases.

    Returns:
        out, and a cache that only affine_backward should open.

    Raises:
        ValueError: when ``x`` has rank < 2, ``w`` is not rank 2 with ``D`` rows,
            ``b`` is not of shape ``(M,)``, or any of them is not floating point
            (integer products would wrap around silently).
    """
    check_array("x", x, min_ndim=2, floating=True)
    check_array("w", w, ndim=2, floating=True)
    D = math.prod(x.shape[1:])
    if w.shape[0] != D:
        raise fail(
            "w",
            f"shape ({D}, M) to match x's {D} features (x shape {tuple(x.shape)})",
            f"shape {tuple(w.shape)}",
        )
    M = w.shape[1]
    check_array("b", b, ndim=1, floating=True)
    if b.shape[0] != M:
        raise fail(
            "b",
            f"shape ({M},) to match w's {M} columns (w shape {tuple(w.shape)})",
            f"shape {tuple(b.shape)}",
        )
    out = x.reshape(x.shape[0], D) @ w
    if out.dtype == b.dtype:
        out += b  # in place: one temporary and one pass over out fewer
    else:
        out = out + b  # a wider b widens out, as the plain formula would
    return out, (x, w)


def affine_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`affine_forward`.

    Shapes:
        dout: (N, M);  dx: (N, d1, ..., dk) like x;  dw: (D, M);  db: (M,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`affine_forward`.

    Returns:
        ``(dx, dw, db)``.

    Raises:
        ValueError: when ``dout`` is not of shape ``(N, M)``.
    """
    x, w = cache
    dw, db = affine_param_grads(dout, cache)
    return (dout @ w.T).reshape(x.shape), dw, db


def affine_param_grads(dout: Array, cache: Cache) -> tuple[Array, Array]:
    """The weight half of :func:`affine_backward`: ``(dw, db)`` without ``dx``.

    A model's first layer calls this: nobody reads its input gradient, so the
    product ``dout @ w.T`` would be wasted.

    Shapes:
        dout: (N, M);  dw: (D, M);  db: (M,)

    Args:
        dout: the upstream gradient.
        cache: the cache from :func:`affine_forward`.

    Returns:
        ``(dw, db)``.

    Raises:
        ValueError: when ``dout`` is not of shape ``(N, M)``.
    """
    x, w = cache
    check_array("dout", dout, shape=(x.shape[0], w.shape[1]))
    dw = x.reshape(x.shape[0], w.shape[0]).T @ dout
    return dw, dout.sum(axis=0)
