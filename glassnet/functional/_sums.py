"""Sums shared by gradients: column sums of tall 2-D arrays (bias and batchnorm
gradients), and the gradient of broadcasting (:func:`unbroadcast`).

NumPy reduces ``a.sum(axis=0)`` one short row at a time, so a tall (R, D) array
with a few dozen columns (the (N*H*W, C) view of a channels-last feature map) sums
several times slower than it streams. A vector-matrix product reads it once
through BLAS instead; it accumulates in ``a``'s dtype, as ``sum`` does.
"""

from __future__ import annotations

from glassnet.backend import Array, get_array_module


def sum_rows(a: Array) -> Array:
    """Sum a 2-D array over its rows: (R, D) -> (D,), in ``a``'s dtype."""
    return get_array_module(a).ones(a.shape[0], dtype=a.dtype) @ a


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``g`` down to ``shape``: the gradient of NumPy broadcasting.

    A broadcast operand was repeated along the new leading axes and along its
    size-1 axes, so its gradient sums over exactly those axes. (The merge
    layers' Keras rule, which inserts axes after the batch axis, aligns the
    shape first and then calls this.)
    """
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


__all__ = ["sum_rows", "unbroadcast"]
