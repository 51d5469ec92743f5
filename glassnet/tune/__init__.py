"""Hyperparameter search and cross-validation, in-process or on a Dask cluster.

Example:
    >>> from glassnet import tune
    >>> def trial(config, data):
    ...     return {"val_accuracy": -abs(config["x"] - 3)}
    >>> result = tune.run_search(trial, {"x": tune.randint(0, 10)}, trials=8)
    >>> len(result.rows), result.best_config["x"] in range(10)
    (8, True)

On a cluster::

    with tune.DaskExecutor(workers=4) as ex:  # or scheduler="tcp://host:8786"
        result = tune.run_search(tune.PresetTrial("digits-mlp", epochs=5),
                                 {"lr": tune.loguniform(1e-4, 1e-1)},
                                 tune.preset_data("digits-mlp"),
                                 trials=32, executor=ex)
"""

from __future__ import annotations

from glassnet.tune.executors import SCHEDULER_ENV, DaskExecutor, SerialExecutor
from glassnet.tune.results import SearchResult, load_json
from glassnet.tune.search import SuccessiveHalving, plan, run_search, trial_seed
from glassnet.tune.space import (
    choice,
    grid_configs,
    loguniform,
    parse_param,
    parse_params,
    randint,
    random_configs,
    uniform,
)
from glassnet.tune.trials import PresetTrial, check_params, preset_data

__all__ = [
    "SCHEDULER_ENV",
    "DaskExecutor",
    "PresetTrial",
    "SearchResult",
    "SerialExecutor",
    "SuccessiveHalving",
    "check_params",
    "choice",
    "grid_configs",
    "load_json",
    "loguniform",
    "parse_param",
    "parse_params",
    "plan",
    "preset_data",
    "randint",
    "random_configs",
    "run_search",
    "trial_seed",
    "uniform",
]
