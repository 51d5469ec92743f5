"""The results table of a search: a list of dicts, written as JSON and CSV.

One row per trial and rung::

    {"trial": 3, "rung": 0, "seed": 1234, "epochs": None,
     "config": {"lr": 0.004}, "status": "ok", "metrics": {"val_accuracy": 0.95},
     "error": None, "wall_time": 1.7}

The JSON file (``{"search": {...}, "rows": [...]}``) is the one to resume from;
the CSV file flattens the config into ``config.<name>`` columns and keeps the
scalar metrics only. Both are written atomically (temporary file, then
``os.replace``), so an interrupted search leaves a readable file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._internal.checks import check_choice, fail

Row = dict[str, Any]
_FIRST = ("trial", "rung", "status", "seed", "epochs")
_LAST = ("wall_time", "error")


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python ones, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def score(row: Row, metric: str, mode: str) -> float:
    """The row's metric, signed so that higher is better; -inf when missing."""
    value = row.get("metrics", {}).get(metric) if row.get("status") == "ok" else None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return -math.inf
    return float(value) if mode == "max" else -float(value)


@dataclass
class SearchResult:
    """Every row of a search, and the best of them.

    Attributes:
        rows: one dict per trial and rung, sorted by rung then trial.
        metric: the metric that ranks the trials.
        mode: ``"max"`` or ``"min"``.
        search: what produced the rows (seed, method, space...), JSON-safe.
    """

    rows: list[Row]
    metric: str = "val_accuracy"
    mode: str = "max"
    search: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("max", "min"))
        self.rows = sorted(self.rows, key=lambda r: (r["rung"], r["trial"]))

    @property
    def failed(self) -> list[Row]:
        """The rows whose trial raised (or whose worker kept dying)."""
        return [r for r in self.rows if r["status"] != "ok"]

    @property
    def best(self) -> Row | None:
        """The best successful row of the highest rung reached; None if none."""
        ok = [r for r in self.rows if score(r, self.metric, self.mode) > -math.inf]
        if not ok:
            return None
        top = max(r["rung"] for r in ok)
        return max(
            (r for r in ok if r["rung"] == top),
            key=lambda r: (score(r, self.metric, self.mode), -r["trial"]),
        )

    @property
    def best_config(self) -> dict[str, Any] | None:
        """The best row's config, or None when every trial failed."""
        best = self.best
        return None if best is None else dict(best["config"])

    def ranked(self, rung: int | None = None) -> list[Row]:
        """Successful rows of ``rung`` (default: all), best first."""
        rows = [r for r in self.rows if rung is None or r["rung"] == rung]
        rows = [r for r in rows if score(r, self.metric, self.mode) > -math.inf]
        return sorted(rows, key=lambda r: -score(r, self.metric, self.mode))

    def to_json(self, path: str | os.PathLike) -> None:
        """Write ``{"search": ..., "rows": ...}`` to ``path``."""
        doc = {"search": self.search, "metric": self.metric, "mode": self.mode}
        doc["rows"] = self.rows
        _write_atomic(Path(path), json.dumps(jsonable(doc), indent=1) + "\n")

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one line per row: config as ``config.<name>``, scalar metrics."""
        _write_atomic(Path(path), csv_text(self.rows))


def csv_text(rows: list[Row]) -> str:
    """The rows as CSV text, columns in a stable order."""
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for row in rows:
        params.update(dict.fromkeys(row.get("config", {})))
        for k, v in row.get("metrics", {}).items():
            if v is None or isinstance(v, int | float | str | np.generic):
                metrics[k] = None
    columns = [*_FIRST, *(f"config.{p}" for p in params), *metrics, *_LAST]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = {k: row.get(k) for k in (*_FIRST, *_LAST)}
        flat.update({f"config.{k}": v for k, v in row.get("config", {}).items()})
        flat.update({k: row.get("metrics", {}).get(k) for k in metrics})
        writer.writerow(jsonable(flat))
    return out.getvalue()


def load_json(path: str | os.PathLike) -> SearchResult:
    """Read a results file written by :meth:`SearchResult.to_json`.

    Raises:
        ValueError: when the file is not such a results file.
        OSError: when it cannot be read.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise fail("results file", "JSON written by a sweep", f"{path}: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise fail("results file", "a dict with a 'rows' list", str(path))
    for row in doc["rows"]:
        if not isinstance(row, dict) or not {"trial", "rung", "status"} <= set(row):
            raise fail("results file", "rows with trial, rung and status", row)
    return SearchResult(
        doc["rows"],
        metric=doc.get("metric", "val_accuracy"),
        mode=doc.get("mode", "max"),
        search=doc.get("search", {}),
    )


__all__ = ["SearchResult", "csv_text", "jsonable", "load_json", "score"]
