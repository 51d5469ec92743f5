"""Column sums of tall 2-D arrays, shared by bias and batchnorm gradients.

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


__all__ = ["sum_rows"]
