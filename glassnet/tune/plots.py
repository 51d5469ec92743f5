"""Plots of a search: the classic lr/reg scatter and the best learning curves.

matplotlib is optional (``pip install glassnet[plot]``) and imported inside
each function; every function accepts ``ax=None``, returns the figure and
never calls ``plt.show()``.
"""

from __future__ import annotations

import os
from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet.tune.results import SearchResult, score


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig


def plot_param_scatter(
    result: SearchResult,
    path: str | os.PathLike | None = None,
    *,
    x: str = "lr",
    y: str = "reg",
    ax: Any = None,
) -> Any:
    """Each successful trial at (x, y) on log axes, coloured by the metric.

    The course's picture of a learning-rate/regularisation search: the good
    region shows as a bright patch. Only the highest rung of each trial counts.

    Args:
        result: the search's result.
        path: where to save the PNG. Defaults to `None` (not saved).
        x: the hyperparameter on the horizontal axis. Defaults to `"lr"`.
        y: the one on the vertical axis. Defaults to `"reg"`.
        ax: matplotlib axes to draw on. Defaults to `None` (a new figure).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: when no successful trial has positive numbers for x and y.
    """
    last: dict[int, dict] = {}
    for row in result.ranked():
        if row["trial"] not in last or row["rung"] > last[row["trial"]]["rung"]:
            last[row["trial"]] = row
    points = [
        (r["config"][x], r["config"][y], r["metrics"][result.metric])
        for r in last.values()
        if all(_positive(r["config"].get(k)) for k in (x, y))
    ]
    if not points:
        raise fail("result", f"successful trials with positive {x!r} and {y!r}", 0)
    fig, ax = _axes(ax, (5.5, 4.5))
    xs, ys, cs = zip(*points, strict=True)
    dots = ax.scatter(xs, ys, c=cs, cmap="viridis", s=60, edgecolors="k")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{result.metric} of {len(points)} trials")
    fig.colorbar(dots, ax=ax, label=result.metric)
    return _save(fig, path)


def _positive(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v > 0


def plot_learning_curves(
    result: SearchResult,
    path: str | os.PathLike | None = None,
    *,
    top: int = 3,
    key: str = "val_accuracy",
    ax: Any = None,
) -> Any:
    """``history[key]`` per epoch of the ``top`` best trials, labelled by config.

    Args:
        result: the search's result; rows need ``metrics["history"]``.
        path: where to save the PNG. Defaults to `None` (not saved).
        top: how many trials. Defaults to `3`.
        key: the history entry to draw. Defaults to `"val_accuracy"`.
        ax: matplotlib axes to draw on. Defaults to `None` (a new figure).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: when no successful row has that history.
    """
    check_int("top", top, min_value=1)
    best = result.best
    rung = None if best is None else best["rung"]
    rows = [
        r for r in result.ranked(rung) if key in (r["metrics"].get("history") or {})
    ][:top]
    if not rows:
        raise fail("result", f"successful trials with history[{key!r}]", 0)
    fig, ax = _axes(ax, (6.5, 4.0))
    for r in rows:
        label = ", ".join(f"{k}={_short(v)}" for k, v in r["config"].items())
        value = score(r, result.metric, result.mode)
        curve = r["metrics"]["history"][key]
        ax.plot(
            range(1, len(curve) + 1),
            curve,
            marker=".",
            label=f"#{r['trial']} ({value:.3g}) {label}",
        )
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(key)
    ax.set_title(f"learning curves of the {len(rows)} best trials")
    ax.legend(fontsize="small")
    return _save(fig, path)


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


__all__ = ["plot_learning_curves", "plot_param_scatter"]
