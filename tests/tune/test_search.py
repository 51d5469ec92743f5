import json
from dataclasses import dataclass

import pytest

from glassnet.tune.executors import SerialExecutor, run_trial
from glassnet.tune.results import load_json
from glassnet.tune.search import SuccessiveHalving, run_search, trial_seed
from glassnet.tune.space import choice, loguniform, uniform


def quadratic(config, data):
    """Best at x = 0.3; fails for x > 0.9 to exercise failures."""
    if config["x"] > 0.9:
        raise RuntimeError(f"x = {config['x']} is too large")
    epochs = config.get("epochs", 1)
    return {"val_accuracy": 1 - (config["x"] - 0.3) ** 2 + 0.01 * epochs}


class Counting:
    def __init__(self):
        self.calls = []

    def __call__(self, config, data):
        self.calls.append(dict(config))
        return quadratic(config, data)


def test_every_trial_gets_a_row_and_the_best_is_the_closest_to_the_optimum():
    result = run_search(quadratic, {"x": uniform(0, 0.9)}, trials=12, seed=1)
    assert [r["trial"] for r in result.rows] == list(range(12))
    xs = [r["config"]["x"] for r in result.rows]
    assert result.best_config["x"] == min(xs, key=lambda x: abs(x - 0.3))


def test_each_trial_receives_its_own_seed_from_search_seed_and_index():
    trial = Counting()
    run_search(trial, {"x": uniform(0, 0.9)}, trials=5, seed=4)
    assert [c["seed"] for c in trial.calls] == [trial_seed(4, i) for i in range(5)]
    assert len({c["seed"] for c in trial.calls}) == 5


def test_a_failing_trial_is_recorded_and_the_search_goes_on():
    space = {"x": choice(0.1, 0.95, 0.3)}
    result = run_search(quadratic, space, trials=1, method="grid")
    assert [r["status"] for r in result.rows] == ["ok", "failed", "ok"]
    failed = result.failed[0]
    assert failed["error"] == "RuntimeError: x = 0.95 is too large"
    assert "Traceback" in failed["traceback"]
    assert result.best_config == {"x": 0.3}


def test_a_trial_returning_no_dict_fails_with_a_clear_error():
    outcome = run_trial(lambda c, d: 0.5, {}, None)
    assert outcome["status"] == "failed"
    assert "dict of metrics" in outcome["error"]


def test_resume_skips_finished_trials_and_reruns_failed_ones(tmp_path):
    path = tmp_path / "results.json"
    space = {"x": choice(0.1, 0.95, 0.2, 0.3, 0.4, 0.5)}  # trial 1 fails
    kw = {"trials": 1, "method": "grid", "seed": 2, "results_path": path}
    first = run_search(quadratic, space, **kw)
    # Simulate an interruption after the first three rows were written.
    doc = json.loads(path.read_text())
    doc["rows"] = doc["rows"][:3]
    path.write_text(json.dumps(doc))
    trial = Counting()
    resumed = run_search(trial, space, resume=True, **kw)
    assert [c["seed"] for c in trial.calls] == [trial_seed(2, i) for i in (1, 3, 4, 5)]
    assert [r["config"] for r in resumed.rows] == [r["config"] for r in first.rows]
    assert load_json(path).rows == resumed.rows


def test_resume_with_more_random_trials_extends_the_same_sequence(tmp_path):
    path = tmp_path / "results.json"
    space = {"x": uniform(0, 0.9)}
    run_search(quadratic, space, trials=3, results_path=path)
    trial = Counting()
    result = run_search(trial, space, trials=5, results_path=path, resume=True)
    assert len(trial.calls) == 2 and len(result.rows) == 5


def test_resume_refuses_a_file_of_another_search(tmp_path):
    path = tmp_path / "results.json"
    run_search(quadratic, {"x": uniform(0, 0.9)}, trials=2, results_path=path)
    with pytest.raises(ValueError, match="resume"):
        run_search(
            quadratic, {"x": uniform(0, 0.5)}, trials=2, results_path=path, resume=True
        )


@dataclass(frozen=True)
class Settled:
    scale: float = 1.0

    def __call__(self, config, data):
        return quadratic(config, data)


def test_resume_refuses_a_dataclass_trial_with_other_settings(tmp_path):
    path = tmp_path / "results.json"
    kw = {"trials": 2, "results_path": path}
    run_search(Settled(), {"x": uniform(0, 0.9)}, **kw)
    assert len(run_search(Settled(), {"x": uniform(0, 0.9)}, resume=True, **kw).rows)
    with pytest.raises(ValueError, match=r"resume: .*trial\.scale: 1\.0 -> 2\.0"):
        run_search(Settled(2.0), {"x": uniform(0, 0.9)}, resume=True, **kw)


def test_successive_halving_keeps_the_better_half_with_twice_the_epochs():
    trial = Counting()
    halving = SuccessiveHalving(min_epochs=1, max_epochs=4)
    result = run_search(trial, {"x": uniform(0, 0.9)}, trials=8, halving=halving)
    per_rung = [[r for r in result.rows if r["rung"] == k] for k in range(3)]
    assert [len(rows) for rows in per_rung] == [8, 4, 2]
    assert [rows[0]["epochs"] for rows in per_rung] == [1, 2, 4]
    for low, high in zip(per_rung, per_rung[1:], strict=False):
        kept = {r["trial"] for r in high}
        ranked = sorted(low, key=lambda r: -r["metrics"]["val_accuracy"])
        assert kept == {r["trial"] for r in ranked[: len(high)]}
    assert result.best["rung"] == 2
    assert [c["epochs"] for c in trial.calls] == [1] * 8 + [2] * 4 + [4] * 2


def test_epochs_in_a_space_searched_with_halving_are_refused():
    # The rungs set the epochs: the space's would be silently overridden.
    halving = SuccessiveHalving(min_epochs=1, max_epochs=4)
    space = {"x": uniform(0, 0.9), "epochs": choice(3, 5)}
    with pytest.raises(ValueError, match=r"space: expected no 'epochs'.*epochs="):
        run_search(Counting(), space, trials=4, halving=halving)


def test_successive_halving_stops_when_one_trial_is_left():
    assert SuccessiveHalving(1).last_rung(8) == 3
    assert SuccessiveHalving(1, max_epochs=3).last_rung(8) == 1
    with pytest.raises(ValueError, match="eta"):
        SuccessiveHalving(1, eta=1)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="method"):
        run_search(quadratic, {"x": 1}, method="bayes")
    with pytest.raises(ValueError, match="mode"):
        run_search(quadratic, {"x": 1}, mode="best")
    with pytest.raises(ValueError, match="trials"):
        run_search(quadratic, {"x": loguniform(1, 2)}, trials=0)


def test_serial_executor_runs_in_order():
    ex = SerialExecutor()
    tasks = [(i, {"x": i / 10}) for i in range(3)]
    keys = [k for k, _ in ex.map(quadratic, tasks, ex.put(None))]
    assert keys == [0, 1, 2] and ex.workers == 1
