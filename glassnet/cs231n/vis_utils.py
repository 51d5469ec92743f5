"""cs231n's ``vis_utils``: images tiled into one grid array, for ``plt.imshow``.

These are the course's display helpers, returning arrays (the notebooks plot
them); :func:`glassnet.report.plot_filters` draws the same filter grid as a
figure, and each tile here is scaled by that function's min-max rule. One
difference from the course: a constant image or grid scales to zeros, where the
course divides by zero (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from glassnet.backend import Array, to_numpy
from glassnet.report import _unit_range


def _tile(
    images: Sequence[np.ndarray],
    grid: tuple[int, int],
    gap: int,
    fill: float,
    dtype: np.dtype,
    *,
    trailing: bool = False,
) -> np.ndarray:
    """Place (H, W, C) images row by row on a ``grid`` of cells ``gap`` apart.

    The canvas is ``fill`` elsewhere; ``trailing`` adds a gap after the last row
    and column too, as the course's ``vis_grid`` and ``vis_nn`` do.
    """
    (n_rows, n_cols), (H, W, C) = grid, images[0].shape
    end = gap if trailing else 0
    size = (n_rows * (H + gap) - gap + end, n_cols * (W + gap) - gap + end, C)
    canvas = np.full(size, fill, dtype=dtype)
    for k, img in enumerate(images):
        y, x = divmod(k, n_cols)
        canvas[y * (H + gap) : y * (H + gap) + H, x * (W + gap) : x * (W + gap) + W] = (
            img
        )
    return canvas


def _float_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def visualize_grid(Xs: Array, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile N images into a square grid, each scaled to [0, ``ubound``] on its own.

    The grid has ``ceil(sqrt(N))`` cells a side, filled row by row; the
    ``padding`` gaps and the unused cells are 0. The course's filter cell is
    ``plt.imshow(visualize_grid(W1.transpose(0, 2, 3, 1)).astype("uint8"))``.

    Shapes:
        Xs: (N, H, W, C);  grid: (G * H + (G - 1) * padding,
        G * W + (G - 1) * padding, C) with G = ceil(sqrt(N))

    Args:
        Xs: the images, channels last.
        ubound: the top of the output range. Defaults to `255.0`.
        padding: pixels between neighbouring cells. Defaults to `1`.

    Returns:
        The grid, float64.

    Example:
        >>> visualize_grid(np.arange(12.0).reshape(3, 2, 2, 1)).shape
        (5, 5, 1)
    """
    Xs = to_numpy(Xs)
    G = math.ceil(math.sqrt(len(Xs)))
    tiles = [ubound * _unit_range(x) for x in Xs]
    return _tile(tiles, (G, G), padding, 0.0, np.dtype(np.float64))


def vis_grid(Xs: Array) -> np.ndarray:
    """Tile N images into a square grid, then scale the whole grid to [0, 1].

    Unlike :func:`visualize_grid`, the images keep their relative brightness:
    the one scaling spans all of them, and the gaps (one pixel, after every
    cell) and unused cells hold the smallest value of ``Xs``, so they come out 0.

    Shapes:
        Xs: (N, H, W, C);  grid: (G * (H + 1), G * (W + 1), C), G = ceil(sqrt(N))

    Returns:
        The grid, in ``Xs``'s float dtype (float64 for integer images).
    """
    Xs = to_numpy(Xs)
    G = math.ceil(math.sqrt(len(Xs)))
    dtype = _float_dtype(Xs)
    grid = _tile(list(Xs), (G, G), 1, Xs.min(), dtype, trailing=True)
    return _unit_range(grid).astype(dtype, copy=False)


def vis_nn(rows: Sequence[Sequence[Array]]) -> np.ndarray:
    """Tile a table of images (one list per row), then scale it to [0, 1].

    The gaps (one pixel, after every row and column) hold 1 before the scaling,
    as in the course.

    Shapes:
        rows: R lists of D images (H, W, C) each;  grid: (R * (H + 1),
        D * (W + 1), C)

    Returns:
        The grid, in the images' float dtype (float64 for integer images).
    """
    table = [[to_numpy(img) for img in row] for row in rows]
    first = table[0][0]
    dtype = _float_dtype(first)
    images = [img for row in table for img in row]
    grid = _tile(images, (len(table), len(table[0])), 1, 1.0, dtype, trailing=True)
    return _unit_range(grid).astype(dtype, copy=False)


__all__ = ["vis_grid", "vis_nn", "visualize_grid"]
