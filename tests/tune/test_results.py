import csv
import io
import math

import numpy as np
import pytest

from glassnet.tune.results import SearchResult, csv_text, jsonable, load_json


def row(trial, acc, status="ok", rung=0):
    return {
        "trial": trial,
        "rung": rung,
        "seed": trial,
        "epochs": None,
        "config": {"lr": 10.0**-trial, "opt": "adam"},
        "status": status,
        "metrics": {} if status != "ok" else {"val_accuracy": acc, "history": {}},
        "error": None if status == "ok" else "ValueError: boom",
        "wall_time": 0.5,
    }


def test_best_is_the_highest_metric_of_the_highest_rung():
    rows = [row(0, 0.9), row(1, 0.95), row(2, 0.0, "failed"), row(0, 0.91, rung=1)]
    result = SearchResult(rows)
    assert result.best["trial"] == 0 and result.best["rung"] == 1
    assert [r["trial"] for r in result.ranked(0)] == [1, 0]
    assert len(result.failed) == 1


def test_min_mode_prefers_the_lowest_value():
    rows = [row(0, 0.3), row(1, 0.1)]
    assert SearchResult(rows, mode="min").best["trial"] == 1


def test_no_successful_row_means_no_best():
    assert SearchResult([row(0, 0, "failed")]).best_config is None


def test_json_round_trip(tmp_path):
    result = SearchResult([row(0, 0.9), row(1, 0.0, "failed")], search={"seed": 3})
    result.to_json(tmp_path / "r.json")
    back = load_json(tmp_path / "r.json")
    assert back.rows == result.rows and back.search == {"seed": 3}


def test_csv_flattens_config_and_keeps_scalar_metrics(tmp_path):
    SearchResult([row(0, 0.9), row(1, 0.0, "failed")]).to_csv(tmp_path / "r.csv")
    lines = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    assert lines[0]["config.lr"] == "1.0" and lines[0]["val_accuracy"] == "0.9"
    assert "history" not in lines[0]
    assert lines[1]["status"] == "failed" and lines[1]["error"] == "ValueError: boom"


def test_csv_of_no_rows_is_a_header():
    assert csv_text([]).startswith("trial,rung,status")


def test_jsonable_converts_numpy_and_non_finite_values():
    value = {"a": np.float32(0.5), "b": np.arange(2), "c": math.nan, "d": (1, math.inf)}
    assert jsonable(value) == {"a": 0.5, "b": [0, 1], "c": None, "d": [1, None]}


def test_load_json_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"rows": [{"trial": 1}]}')
    with pytest.raises(ValueError, match="results file"):
        load_json(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("not json")
    with pytest.raises(ValueError, match="results file"):
        load_json(tmp_path / "y.json")
