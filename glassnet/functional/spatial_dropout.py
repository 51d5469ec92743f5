"""Spatial dropout: inverted dropout of whole channels, over the dropout kernel.

Neighbouring pixels of a feature map are strongly correlated, so dropping single
pixels barely regularises a conv net; dropping a whole channel of one sample does
(Tompson et al., 2015). The mask is drawn by :func:`glassnet.functional.dropout_forward`
itself, on a ``(N, 1, 1, C)`` (or ``(N, C, 1, 1)``) array of ones, so the keep
probability, the 1 / p scaling and the random draws are those of dropout; it is
then broadcast over the spatial axes.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_array
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional.dropout import dropout_backward, dropout_forward

__all__ = ["spatial_dropout_backward", "spatial_dropout_forward"]


def spatial_dropout_forward(
    x: Array,
    dropout_param: dict[str, Any],
    *,
    channels_last: bool = False,
    rng: Any = None,
) -> tuple[Array, Cache]:
    """Keep each (sample, channel) map with probability p, scaled by 1 / p.

    Shapes:
        x: (N, C, H, W), or (N, H, W, C) with ``channels_last``;  out: like x
        mask: (N, C, 1, 1), or (N, 1, 1, C)

    Args:
        x: the images.
        dropout_param: as for :func:`glassnet.functional.dropout_forward`:
            ``"p"`` (keep probability), ``"mode"`` and optionally ``"seed"``.
        channels_last: whether ``x`` is (N, H, W, C). Defaults to `False`.
        rng: the generator for the mask, as for dropout_forward. Defaults to
            `None`.

    Returns:
        out, and a cache (dropout's cache of the mask) for
        spatial_dropout_backward.

    Raises:
        ValueError: when ``x`` is not a rank-4 float array, or for the
            arguments dropout_forward refuses.
    """
    check_array("x", x, ndim=4, floating=True)
    N = x.shape[0]
    noise_shape = (N, 1, 1, x.shape[3]) if channels_last else (N, x.shape[1], 1, 1)
    ones = get_array_module(x).ones(noise_shape, dtype=x.dtype)
    mask, cache = dropout_forward(ones, dropout_param, rng=rng)
    if cache[0] == "test":
        return x, cache
    return x * mask, cache


def spatial_dropout_backward(dout: Array, cache: Cache) -> Array:
    """Backward pass of :func:`spatial_dropout_forward`: the same channel mask.

    Shapes:
        dout: like x;  dx: like x
    """
    mode, mask = cache
    if mode == "test":
        return dropout_backward(dout, cache)
    check_array("dout", dout, ndim=4)
    # dropout_backward(dout, cache) would insist on the mask's shape; the
    # product it computes is this one, broadcast over the spatial axes.
    return dout * mask
