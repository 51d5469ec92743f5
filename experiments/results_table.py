"""Reproduce the README's results table: train each preset, collect accuracy and time.

Each row is one ``glassnet train PRESET`` run (its own settings, seed 0) on this
machine; the script records the test accuracy, the training time that
``glassnet train`` measured, and the whole command's wall time, then prints a
Markdown table and writes it with the raw numbers to ``experiments/results/``.
Presets whose dataset is not on this machine are reported as skipped.

    python experiments/results_table.py                    # every preset
    python experiments/results_table.py digits-cnn fashion-mlp --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

RUNS = {
    "digits-cnn": [],
    "digits-mlp": [],
    "fashion-mlp": [],
    "fashion-cnn": [],
    "mnist-cnn": [],
    "cifar10-fc": [],
    "cifar10-convnet": [],
}
RESULTS = Path("experiments/results")


def run(preset: str, threads: int | None) -> dict:
    out = RESULTS / "runs" / preset
    cmd = [sys.executable, "-m", "glassnet", "train", preset, "--out", str(out)]
    cmd += RUNS[preset] + (["--threads", str(threads)] if threads else [])
    print("$", " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    row = {"preset": preset, "command": " ".join(["glassnet", *cmd[3:]])}
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        print(f"  skipped: {reason}", flush=True)
        return {**row, "status": "skipped", "reason": reason}
    report = (out / "report.md").read_text()
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", report).group(1))
    seconds = float(re.search(r"training time: ([0-9.]+) s", report).group(1))
    epochs = len(json.loads((out / "history.json").read_text())["val_accuracy"])
    print(f"  test accuracy {accuracy:.4f}, {seconds:.0f} s training", flush=True)
    return {
        **row,
        "status": "ok",
        "test_accuracy": accuracy,
        "train_seconds": seconds,
        "wall_seconds": wall,
        "epochs_logged": epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    rows = [run(p, args.threads) for p in args.presets]
    lines = [
        f"Measured on {machine}, Python {platform.python_version()}.",
        "",
        "| preset | test accuracy | training time | command |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        if r["status"] == "ok":
            acc, sec = f"{r['test_accuracy']:.2%}", f"{r['train_seconds']:.0f} s"
        else:
            acc, sec = "skipped", r["reason"][:60]
        lines.append(f"| {r['preset']} | {acc} | {sec} | `{r['command']}` |")
    table = "\n".join(lines) + "\n"
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"results-{stamp}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / f"results-{stamp}.md").write_text(table)


if __name__ == "__main__":
    main()
