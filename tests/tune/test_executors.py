"""The Dask executor on a real LocalCluster of 2 worker processes."""

import os
import time
from pathlib import Path

import pytest

from glassnet.cli import main
from glassnet.tune.executors import SCHEDULER_ENV, DaskExecutor, SerialExecutor
from glassnet.tune.results import load_json
from glassnet.tune.search import run_search
from glassnet.tune.space import choice, loguniform
from glassnet.tune.trials import PresetTrial

pytest.importorskip("distributed")

TRIAL = PresetTrial("digits-mlp", epochs=2)
SPACE = {"lr": loguniform(1e-3, 1e-1), "reg": loguniform(1e-6, 1e-3)}


def summary(result):
    return [(r["trial"], r["status"], r["config"], r["metrics"]) for r in result.rows]


def crash_twice(config, data):
    """Fault injection: x == 1 kills its worker process the first time it runs,
    x == 3 every time (a marker file tells a first run from a retry)."""
    x = config["x"]
    if x == 3 or (x == 1 and not Path(data, "crashed-1").exists()):
        Path(data, f"crashed-{x}").touch()
        os._exit(1)
    time.sleep(0.05)  # long enough for the other worker to take some trials
    return {"val_accuracy": float(x)}


def fail_on_two(config, data):
    if config["x"] == 2:
        raise ValueError("two is not allowed")
    return {"val_accuracy": float(config["x"])}


@pytest.fixture(scope="module")
def two_workers(cluster, digits):
    return run_search(TRIAL, SPACE, digits, trials=6, seed=0, executor=cluster)


def test_random_search_finds_a_config_at_least_as_good_as_the_default(
    two_workers, cluster, digits
):
    # The preset's default learning rate, with the seed of trial 0.
    default = run_search(TRIAL, {"lr": 1e-3}, digits, trials=1, executor=cluster)
    assert all(r["status"] == "ok" for r in two_workers.rows)
    best = two_workers.best["metrics"]["val_accuracy"]
    assert best >= default.best["metrics"]["val_accuracy"]
    assert best > 0.85


def test_results_are_identical_serial_and_on_one_or_two_workers(two_workers, digits):
    serial = run_search(TRIAL, SPACE, digits, trials=6, seed=0, executor=None)
    with DaskExecutor(workers=1) as one:
        assert one.workers == 1
        single = run_search(TRIAL, SPACE, digits, trials=6, seed=0, executor=one)
    assert summary(single) == summary(two_workers)
    assert summary(serial) == summary(two_workers)


def test_killed_workers_are_replaced_and_the_sweep_completes(cluster, tmp_path):
    # x == 1 kills its worker once, then succeeds; x == 3 kills every worker
    # that runs it, so it fails once the retry (1 in the fixture) is spent.
    space = {"x": choice(0, 1, 2, 3, 4, 5)}
    result = run_search(
        crash_twice,
        space,
        str(tmp_path),
        trials=1,
        method="grid",
        executor=cluster,
    )
    assert (tmp_path / "crashed-1").exists() and (tmp_path / "crashed-3").exists()
    assert [r["trial"] for r in result.rows] == list(range(6))  # all accounted for
    assert [r["status"] for r in result.rows] == ["ok"] * 3 + ["failed"] + ["ok"] * 2
    assert result.rows[3]["error"].startswith("KilledWorker")
    assert [r["metrics"].get("val_accuracy") for r in result.rows] == [
        0,
        1,
        2,
        None,
        4,
        5,
    ]
    cluster.client.wait_for_workers(2, timeout=60)  # the nannies restarted them


def test_a_raising_trial_is_reported_not_fatal_on_the_cluster(cluster):
    space = {"x": choice(1, 2, 3)}
    result = run_search(fail_on_two, space, trials=1, method="grid", executor=cluster)
    assert [r["status"] for r in result.rows] == ["ok", "failed", "ok"]
    assert result.rows[1]["error"] == "ValueError: two is not allowed"
    assert result.best_config == {"x": 3}


def test_the_scheduler_variable_points_at_an_existing_cluster(cluster, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, cluster.client.scheduler.address)
    with DaskExecutor() as ex:
        assert ex.scheduler == cluster.client.scheduler.address
        assert ex.workers == 2
        result = run_search(
            fail_on_two, {"x": choice(1, 3)}, trials=1, method="grid", executor=ex
        )
    assert result.best_config == {"x": 3}
    assert cluster.client.status == "running"  # not closed by the other client


def test_the_sweep_command_runs_on_the_cluster_it_is_given(cluster, tmp_path, capsys):
    address = cluster.client.scheduler.address
    args = ["sweep", "digits-mlp", "--trials", "2", "--epochs", "1"]
    assert main([*args, "--scheduler", address, "--out", str(tmp_path)]) == 0
    assert "on the cluster with 2 worker" in capsys.readouterr().out
    assert [r["status"] for r in load_json(tmp_path / "results.json").rows] == [
        "ok",
        "ok",
    ]


def test_an_executor_must_be_entered_before_use():
    with pytest.raises(ValueError, match="DaskExecutor"):
        DaskExecutor(workers=1).put(None)
    with pytest.raises(ValueError, match="workers"):
        DaskExecutor(workers=0)
    assert SerialExecutor().workers == 1
