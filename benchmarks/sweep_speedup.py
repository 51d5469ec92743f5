"""Speed-up of a 16-trial sweep on a LocalCluster of 1 worker vs 2 workers.

Each trial trains the digits-mlp preset for 20 epochs with a random learning
rate and L2 strength; each worker is one process with one BLAS thread. The
clusters are started before the clock starts, so the times are the sweep's
alone (startup is printed apart). The results of both runs must be identical.

"At a time" is the trials' summed wall time over the sweep's: close to the
number of workers when each has a core to itself. On a shared machine the
speed-up is bounded by the cores actually free.

Usage: python benchmarks/sweep_speedup.py [--trials 16] [--epochs 20]
"""

from __future__ import annotations

import argparse
import time

from glassnet import tune


def timed_sweep(workers: int, trials: int, epochs: int, data: dict) -> tuple:
    """(startup seconds, sweep seconds, result) on a fresh LocalCluster."""
    start = time.perf_counter()
    with tune.DaskExecutor(workers=workers) as ex:
        ready = time.perf_counter()
        result = tune.run_search(
            tune.PresetTrial("digits-mlp", epochs=epochs),
            {"lr": tune.loguniform(1e-4, 1e-1), "reg": tune.loguniform(1e-6, 1e-2)},
            data,
            trials=trials,
            seed=0,
            executor=ex,
        )
        done = time.perf_counter()
    return ready - start, done - ready, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    data = tune.preset_data("digits-mlp")
    runs = {}
    for workers in (1, 2):
        startup, seconds, result = timed_sweep(workers, args.trials, args.epochs, data)
        runs[workers] = (seconds, result)
        busy = sum(r["wall_time"] for r in result.rows)
        print(
            f"{workers} worker(s): {args.trials} trials in {seconds:.1f} s "
            f"(cluster startup {startup:.1f} s; trials busy {busy:.1f} s, "
            f"{busy / seconds:.2f} at a time), best val_accuracy "
            f"{result.best['metrics']['val_accuracy']:.4f}"
        )

    def key(result: tune.SearchResult) -> list:
        return [(r["config"], r["metrics"]) for r in result.rows]

    same = key(runs[1][1]) == key(runs[2][1])
    print(
        f"speed-up 2 vs 1 worker: {runs[1][0] / runs[2][0]:.2f}x; "
        f"identical results: {same}"
    )


if __name__ == "__main__":
    main()
