import pytest

from glassnet.tune.plots import plot_learning_curves, plot_param_scatter
from glassnet.tune.results import SearchResult

pytest.importorskip("matplotlib")


def rows():
    out = []
    for i, (lr, reg, acc) in enumerate([(1e-3, 1e-4, 0.8), (1e-2, 1e-5, 0.9)]):
        history = {"val_accuracy": [acc - 0.1, acc]}
        out.append(
            {
                "trial": i,
                "rung": 0,
                "config": {"lr": lr, "reg": reg},
                "status": "ok",
                "metrics": {"val_accuracy": acc, "history": history},
            }
        )
    out.append(
        {
            "trial": 2,
            "rung": 0,
            "config": {"lr": 1e-1, "reg": 1e-2},
            "status": "failed",
            "metrics": {},
        }
    )
    return out


def test_scatter_draws_each_successful_trial_on_log_axes(tmp_path):
    fig = plot_param_scatter(SearchResult(rows()), tmp_path / "s.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.collections[0].get_offsets()) == 2
    assert (tmp_path / "s.png").stat().st_size > 0


def test_learning_curves_of_the_best_trials_best_first(tmp_path):
    fig = plot_learning_curves(SearchResult(rows()), tmp_path / "c.png", top=1)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 1 and list(lines[0].get_ydata()) == [0.8, 0.9]


def test_plots_without_usable_trials_raise():
    failed = SearchResult([rows()[2]])
    with pytest.raises(ValueError, match="result"):
        plot_param_scatter(failed)
    with pytest.raises(ValueError, match="result"):
        plot_learning_curves(failed)
    with pytest.raises(ValueError, match="top"):
        plot_learning_curves(SearchResult(rows()), top=0)
