"""Run a search: the trials of a space on an executor, with resume and halving.

Trial ``i`` gets the seed ``trial_seed(seed, i)`` under the key ``"seed"`` of
its config (unless the space sets ``seed`` itself), and with successive
halving its budget under ``"epochs"``. Seeds and configs depend only on the
search's seed and the trial's index, so the results are the same whatever the
executor and however many workers it has.

Example:
    >>> from glassnet.tune.space import loguniform
    >>> def trial(config, data):
    ...     return {"val_accuracy": 1.0 - abs(config["lr"] - 0.01)}
    >>> result = run_search(trial, {"lr": loguniform(1e-4, 1e-1)}, trials=4, seed=0)
    >>> len(result.rows), result.best["status"]
    (4, 'ok')
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._internal.checks import check_choice, check_int, fail
from glassnet.tune.executors import SerialExecutor, TrialFn
from glassnet.tune.results import Row, SearchResult, jsonable, load_json, score
from glassnet.tune.space import Distribution, check_space, grid_configs, random_configs


@dataclass(frozen=True)
class SuccessiveHalving:
    """Train all trials briefly, keep the better ``1 / eta``, train those longer.

    Rung ``r`` trains for ``min_epochs * eta ** r`` epochs (from scratch); after
    each rung the best ``ceil(n / eta)`` trials go on. The search stops after
    the rung with one trial left, or before a rung longer than ``max_epochs``.

    Args:
        min_epochs: epochs of the first rung. Defaults to `1`.
        max_epochs: the longest rung. Defaults to `None` (no limit).
        eta: the factor between rungs, in trials and in epochs. Defaults to `2`.
    """

    min_epochs: int = 1
    max_epochs: int | None = None
    eta: int = 2

    def __post_init__(self) -> None:
        check_int("min_epochs", self.min_epochs, min_value=1)
        check_int("eta", self.eta, min_value=2)
        if self.max_epochs is not None:
            check_int("max_epochs", self.max_epochs, min_value=self.min_epochs)

    def epochs(self, rung: int) -> int:
        """The epochs of rung ``rung``."""
        return self.min_epochs * self.eta**rung

    def last_rung(self, trials: int) -> int:
        """The index of the final rung for a search of ``trials`` trials."""
        rung, alive = 0, trials
        while alive > 1:
            nxt = self.epochs(rung + 1)
            if self.max_epochs is not None and nxt > self.max_epochs:
                break
            rung, alive = rung + 1, math.ceil(alive / self.eta)
        return rung


def check_halving(space: dict[str, Any], halving: SuccessiveHalving | None) -> None:
    """Refuse ``epochs`` in a space searched with successive halving.

    Each rung sets the trials' epochs, so the space's would be silently
    overridden.

    Raises:
        ValueError: naming ``space`` and its ``epochs``.
    """
    if halving is not None and "epochs" in space:
        expected = "no 'epochs' with successive halving, which sets them per rung"
        raise fail("space", expected, f"epochs={space['epochs']!r}")


def trial_seed(seed: int, trial: int) -> int:
    """The seed of trial ``trial`` of a search seeded ``seed``: 0 <= s < 2**31."""
    state = np.random.SeedSequence([seed, trial, 1]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def plan(
    space: dict[str, Any], trials: int, method: str = "random", *, seed: int = 0
) -> list[dict[str, Any]]:
    """The configs a search evaluates: ``trials`` random draws, or the grid.

    For a grid, ``trials`` is the number of points per continuous
    hyperparameter.

    Raises:
        ValueError: for an unknown method or a malformed space.
    """
    check_choice("method", method, ("random", "grid"))
    if method == "grid":
        return grid_configs(space, trials)
    return random_configs(space, trials, seed=seed)


def run_search(
    trial: TrialFn,
    space: dict[str, Any],
    data: Any = None,
    *,
    trials: int = 10,
    method: str = "random",
    seed: int = 0,
    executor: Any = None,
    metric: str = "val_accuracy",
    mode: str = "max",
    halving: SuccessiveHalving | None = None,
    results_path: str | os.PathLike | None = None,
    resume: bool = False,
    on_result: Callable[[Row], None] | None = None,
) -> SearchResult:
    """Evaluate the configurations of ``space`` with ``trial(config, data)``.

    Args:
        trial: a function ``(config, data) -> dict of metrics``, picklable when
            the executor runs it elsewhere (a module-level function or object).
        space: name -> distribution or fixed value.
        data: the trial's data, sent once to each worker. Defaults to `None`.
        trials: random configurations to draw; for a grid, points per
            continuous hyperparameter. Defaults to `10`.
        method: ``"random"`` or ``"grid"``. Defaults to `"random"`.
        seed: seeds the configurations and each trial's seed. Defaults to `0`.
        executor: a :class:`SerialExecutor` or an entered
            :class:`~glassnet.tune.executors.DaskExecutor`. Defaults to `None`
            (serial).
        metric: the metric that ranks trials. Defaults to `"val_accuracy"`.
        mode: ``"max"`` or ``"min"``. Defaults to `"max"`.
        halving: successive halving. Defaults to `None` (every trial runs once).
        results_path: a JSON file rewritten after every finished trial.
            Defaults to `None`.
        resume: skip the trials that ``results_path`` records as successful
            (failed ones run again). Defaults to `False`.
        on_result: called with each new row as it arrives. Defaults to `None`.

    Returns:
        The :class:`SearchResult`, rows sorted by rung then trial.

    Raises:
        ValueError: for bad arguments (``epochs`` in a space searched with
            ``halving`` included), or when resuming from a file written by a
            different search.
    """
    check_space(space)
    check_int("trials", trials, min_value=1)
    check_choice("mode", mode, ("max", "min"))
    check_halving(space, halving)
    configs = plan(space, trials, method, seed=seed)
    search = _describe(space, trials, method, seed, halving)
    search["trial"] = _trial_settings(trial)
    done = _resumed(results_path, search) if resume else {}
    result = SearchResult(list(done.values()), metric, mode, search)
    executor = SerialExecutor() if executor is None else executor
    handle = executor.put(data)
    alive = list(range(len(configs)))
    last = halving.last_rung(len(alive)) if halving else 0
    for rung in range(last + 1):
        epochs = halving.epochs(rung) if halving else None
        todo = [i for i in alive if (i, rung) not in done]
        tasks = [
            ((i, rung), _trial_config(space, configs[i], seed, i, epochs)) for i in todo
        ]
        for (i, r), outcome in executor.map(trial, tasks, handle):
            row = _row(i, r, configs[i], trial_seed(seed, i), epochs, outcome)
            result.rows.append(row)
            if results_path is not None:
                result.to_json(results_path)
            if on_result is not None:
                on_result(row)
        if halving and rung < last:
            alive = _survivors(result, rung, alive, halving.eta)
    return SearchResult(result.rows, metric, mode, search)


def _trial_config(
    space: dict[str, Any], config: dict[str, Any], seed: int, i: int, epochs: Any
) -> dict[str, Any]:
    full = dict(config)
    if "seed" not in space:
        full["seed"] = trial_seed(seed, i)
    if epochs is not None:
        full["epochs"] = epochs
    return full


def _row(i: int, rung: int, config: dict, seed: int, epochs: Any, outcome: dict) -> Row:
    row = {"trial": i, "rung": rung, "seed": seed, "epochs": epochs}
    row["config"] = dict(config)
    row.update(outcome)
    return jsonable(row)


def _survivors(result: SearchResult, rung: int, alive: list[int], eta: int) -> list:
    """The best ``ceil(len(alive) / eta)`` trials of ``rung``, by index order."""
    rows = {r["trial"]: r for r in result.rows if r["rung"] == rung}
    ranked = sorted(
        alive,
        key=lambda i: (-score(rows[i], result.metric, result.mode), i),
    )
    return sorted(ranked[: math.ceil(len(alive) / eta)])


def _describe(space: dict, trials: int, method: str, seed: int, halving: Any) -> dict:
    def spec(v: Any) -> Any:
        return repr(v) if isinstance(v, Distribution) else v

    return jsonable(
        {
            "space": {k: spec(v) for k, v in space.items()},
            "trials": trials,
            "method": method,
            "seed": seed,
            "halving": None if halving is None else vars(halving),
        }
    )


def _trial_settings(trial: Any) -> Any:
    """A dataclass trial's fields (a :class:`PresetTrial`'s preset, epochs,
    folds, split seed), which a resumed search must keep: trials trained
    otherwise are not comparable. None for any other trial."""
    if dataclasses.is_dataclass(trial) and not isinstance(trial, type):
        return jsonable({"class": type(trial).__name__, **dataclasses.asdict(trial)})
    return None


def _resumed(path: Any, search: dict) -> dict[tuple[int, int], Row]:
    """The successful rows of ``path``, checked to come from the same search."""
    if path is None:
        raise fail("results_path", "a file to resume from", None)
    if not Path(path).is_file():
        return {}
    old = load_json(path)
    # More random trials extend the same sequence; any other change is a new
    # search. A key the file lacks (written by an older version) is not compared.
    keys = [k for k in search if not (k == "trials" and search["method"] == "random")]
    changed = [k for k in keys if k in old.search and old.search[k] != search[k]]
    if changed:
        diffs = "; ".join(_change(k, old.search[k], search[k]) for k in changed)
        raise fail(
            "resume",
            f"a results file of the same search (this one differs in {diffs})",
            str(path),
        )
    return {(r["trial"], r["rung"]): r for r in old.rows if r["status"] == "ok"}


def _change(key: str, old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
        return ", ".join(f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys)
    return f"{key}: {old!r} -> {new!r}"


__all__ = ["SuccessiveHalving", "check_halving", "plan", "run_search", "trial_seed"]
