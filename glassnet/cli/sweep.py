"""``glassnet sweep PRESET``: search hyperparameters of a preset, in parallel.

Trials run on a Dask ``LocalCluster`` (one single-threaded worker process per
core), on an existing cluster (``--scheduler`` or ``$GLASSNET_SCHEDULER``), or
in this process (``--serial``). ``<out>/results.json`` is rewritten after every
trial, so an interrupted sweep continues with ``--resume``.

The sweep ends with the ``glassnet train`` command of the best config: every
tuned hyperparameter as an option, the trial's own ``--seed`` (weights,
shuffling, dropout), ``--split-seed`` (the sweep's ``--seed``, which drew the
validation split) and the preset's full ``--epochs``; with the trial's epochs
instead, it repeats the trial exactly.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import Any

from glassnet.cli._common import CliError, positive_int
from glassnet.cli.rundir import locked, make_dir
from glassnet.cli.train import MODEL_OPTIONS
from glassnet.presets import PRESETS

# Each hyperparameter of a trial's config -> its option of `glassnet train`.
TRAIN_OPTIONS = {
    "lr": "--lr",
    "batch_size": "--batch-size",
    "optimizer": "--optimizer",
    **MODEL_OPTIONS,
    "lr_decay": "--lr-decay",
}
DEFAULT_SPACE = ("lr=loguniform:1e-4:1e-1", "reg=loguniform:1e-6:1e-2")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``glassnet sweep`` on the subparsers ``sub``."""
    p = sub.add_parser(
        "sweep",
        parents=[common],
        help="search a preset's hyperparameters on all cores or a Dask cluster",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("preset", choices=list(PRESETS))
    p.add_argument("--trials", type=positive_int, default=16, help="default 16")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--random", dest="method", action="store_const", const="random")
    how.add_argument(
        "--grid",
        dest="method",
        action="store_const",
        const="grid",
        help="the largest grid of at most --trials points",
    )
    p.set_defaults(method="random")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=SPEC",
        help="loguniform:LOW:HIGH, uniform:LOW:HIGH, randint:LOW:HIGH, "
        "choice:A,B,... or a value; repeat for each. Defaults to "
        + " ".join(DEFAULT_SPACE),
    )
    p.add_argument("--epochs", type=positive_int, help="default: the preset's / 4")
    p.add_argument(
        "--halving",
        type=positive_int,
        metavar="MIN_EPOCHS",
        help="successive halving: train all for MIN_EPOCHS, keep the better "
        "half at twice the epochs, ... up to --epochs",
    )
    p.add_argument("--folds", type=positive_int, help="k-fold cross-validation")
    p.add_argument("--seed", type=int, default=0)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, help="default: one per core")
    where.add_argument("--scheduler", metavar="ADDRESS", help="e.g. tcp://host:8786")
    where.add_argument("--serial", action="store_true", help="no Dask: in-process")
    p.add_argument("--retries", type=int, default=2, help="per dead worker; 2")
    p.add_argument("--out", help="output directory. Defaults to runs/sweep-<preset>")
    p.add_argument("--resume", action="store_true", help="skip finished trials")
    p.add_argument("--data", metavar="DIR", help="as for train")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; print the best config and the command that trains it."""
    from glassnet import tune

    space = tune.parse_params(args.param or DEFAULT_SPACE)
    tune.check_params(args.preset, space)
    if args.folds is not None and args.folds < 2:
        raise CliError(f"--folds: expected at least 2; received {args.folds}")
    if args.seed < 0:
        raise CliError(f"--seed: expected an integer >= 0; received {args.seed}")
    if args.epochs is not None and "epochs" in space:
        raise CliError(
            "--param epochs: expected either it or --epochs (the param would "
            f"override --epochs {args.epochs}); received both"
        )
    preset = PRESETS[args.preset]
    epochs = args.epochs or max(preset.epochs // 4, 1)
    halving = None
    if args.halving is not None:
        if args.halving > epochs:
            raise CliError(
                f"--halving: expected at most the trials' --epochs ({epochs}); "
                f"received {args.halving}"
            )
        halving = tune.SuccessiveHalving(args.halving, epochs)
        tune.search.check_halving(space, halving)
    trials = args.trials
    if args.method == "grid":
        trials = tune.space.grid_points_for(space, args.trials)
    if args.out is not None and not args.out.strip():
        raise CliError(f"--out: expected a directory; received {args.out!r}")
    out = Path(args.out or Path("runs") / f"sweep-{args.preset}")
    results_path = out / "results.json"
    data = tune.preset_data(args.preset, args.data)
    trial = tune.PresetTrial(args.preset, epochs, args.folds, split_seed=args.seed)
    trial.check_data(data, space)
    make_dir(out)
    kwargs = dict(trials=trials, method=args.method, seed=args.seed, halving=halving)
    kwargs.update(results_path=results_path, resume=args.resume)
    total = _task_count(space, trials, args.method, halving, tune)
    with (
        locked(out),  # one sweep writes results.json at a time
        _executor(args, tune) as ex,
        _Progress(total, results_path, args) as bar,
    ):
        # Only a sweep that really starts replaces an earlier one's results.
        if not args.resume and results_path.is_file():
            print(f"note: a new sweep replaces {results_path} (--resume continues it)")
            results_path.unlink()
        print(f"{total} trials of {args.preset} on {_where(ex)}", flush=True)
        try:
            result = tune.run_search(
                trial, space, data, executor=ex, on_result=bar.update, **kwargs
            )
        except KeyboardInterrupt:
            print(f"\ninterrupted: rerun with --resume to go on ({results_path})")
            return 130
    _report(result, out, args, space, epochs)
    return 0


def _task_count(space: dict, trials: int, method: str, halving: Any, tune: Any) -> int:
    n = len(tune.plan(space, trials, method, seed=0))
    if halving is None:
        return n
    total = 0
    for _ in range(halving.last_rung(n) + 1):
        total, n = total + n, math.ceil(n / halving.eta)
    return total


def _executor(args: argparse.Namespace, tune: Any) -> Any:
    if args.serial:
        return tune.SerialExecutor()
    if args.scheduler is None and not _has_dask():
        print(
            "note: dask.distributed is not installed; running the trials "
            "one by one here (pip install glassnet[tune] for all cores)"
        )
        return tune.SerialExecutor()
    return tune.DaskExecutor(args.workers, args.scheduler, retries=args.retries)


def _has_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _where(ex: Any) -> str:
    if not hasattr(ex, "client"):  # the serial executor
        return "this process"
    kind = "the cluster" if ex.scheduler else "a local cluster"
    return f"{kind} with {ex.workers} worker thread(s)"


class _Progress:
    """A tqdm bar of finished trials (plain lines without tqdm)."""

    def __init__(self, total: int, results_path: Path, args: argparse.Namespace):
        self.total, self.done, self.best = total, 0, -math.inf
        if args.resume and results_path.is_file():
            from glassnet.tune import load_json

            self.done = sum(r["status"] == "ok" for r in load_json(results_path).rows)
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        try:
            from tqdm import tqdm
        except ImportError:
            return self
        self.bar = tqdm(total=self.total, initial=self.done, unit="trial")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        value = row["metrics"].get("val_accuracy")
        if row["status"] == "ok" and value is not None:
            self.best = max(self.best, value)
        if self.bar is not None:
            self.bar.set_postfix(best=f"{self.best:.4f}", refresh=False)
            self.bar.update(1)
        else:
            state = row["status"] if row["status"] != "ok" else f"{value:.4f}"
            print(f"[{self.done}/{self.total}] trial {row['trial']}: {state}")


def _report(
    result: Any, out: Path, args: argparse.Namespace, space: dict, epochs: int
) -> None:
    result.to_json(out / "results.json")
    result.to_csv(out / "results.csv")
    files = ["results.json", "results.csv", *_plots(result, out, space)]
    for row in result.failed:
        print(f"trial {row['trial']} failed: {row['error']}", file=sys.stderr)
    print(f"wrote {', '.join(files)} to {out}")
    best = result.best
    if best is None:
        raise CliError("every trial failed; see the errors above and results.json")
    metrics = best["metrics"]
    std = metrics.get("val_accuracy_std")
    spread = f" +/- {std:.4f} over {args.folds} folds" if std is not None else ""
    ok = len(result.rows) - len(result.failed)
    print(f"{ok} trials ok, {len(result.failed)} failed")
    print(
        f"best: trial {best['trial']}, val_accuracy {metrics['val_accuracy']:.4f}"
        f"{spread}, config {best['config']}"
    )
    seeds = {"seed": best["seed"], "split_seed": args.seed, "data": args.data}
    print(f"train it fully: {train_command(args.preset, best['config'], **seeds)}")
    if args.folds is None:
        ran = best["epochs"] or best["config"].get("epochs", epochs)
        print(
            f"(with --epochs {ran} instead, it repeats trial {best['trial']} exactly)"
        )


def train_command(
    preset: str,
    config: dict[str, Any],
    *,
    seed: int | None = None,
    split_seed: int | None = None,
    epochs: int | None = None,
    data: str | None = None,
) -> str:
    """The ``glassnet train`` command that trains a trial's ``config`` again.

    Every hyperparameter of ``config`` becomes its option (floats written
    exactly, as ``repr`` does). With ``config``'s ``seed`` (else ``seed``) and,
    for a Keras preset, the sweep's ``split_seed``, the run starts from the
    trial's weights and validation split; at the trial's epochs it is the
    trial.

    Args:
        preset: the sweep's preset.
        config: the trial's hyperparameters.
        seed: the trial's seed when ``config`` has none. Defaults to `None`
            (train's default, 0).
        split_seed: the trial's validation-split seed. Defaults to `None`
            (the same as the seed).
        epochs: Defaults to `None`: ``config``'s ``epochs`` if it has them,
            else the preset's, a full run.
        data: ``--data``. Defaults to `None`.

    Raises:
        ValueError: naming ``config`` for a key train has no option for.

    Example:
        >>> train_command("digits-mlp", {"lr": 0.0123456, "reg": 1e-4}, seed=7)
        'glassnet train digits-mlp --lr 0.0123456 --reg 0.0001 --epochs 30 --seed 7'
    """
    unknown = sorted(set(config) - {*TRAIN_OPTIONS, "epochs", "seed"})
    if unknown:
        raise ValueError(
            f"config: expected options of glassnet train; received {unknown}"
        )
    parts = ["glassnet", "train", preset]
    for key, option in TRAIN_OPTIONS.items():
        if key in config:
            parts += [option, _word(key, config[key])]
    if epochs is None:
        epochs = config.get("epochs", PRESETS[preset].epochs)
    parts += ["--epochs", _word("epochs", epochs)]
    seed = config.get("seed", seed)
    parts += [] if seed is None else ["--seed", _word("seed", seed)]
    default_split = 0 if seed is None else int(seed)  # train's: --seed
    if split_seed is not None and split_seed != default_split:
        if not PRESETS[preset].solver:  # the Solver presets' split is fixed
            parts += ["--split-seed", str(split_seed)]
    parts += ["--data", data] if data else []
    return " ".join(shlex.quote(p) for p in parts)


def _word(key: str, value: Any) -> str:
    """``value`` as an option's word that parses back to what the trial used."""
    from glassnet.tune.trials import INTEGER_PARAMS  # tune imports the cli

    if key in INTEGER_PARAMS:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _plots(result: Any, out: Path, space: dict) -> list[str]:
    from glassnet.cli import outputs
    from glassnet.tune import plots

    if not outputs.has_matplotlib():
        print("plots skipped: matplotlib is not installed (pip install glassnet[plot])")
        return []
    written = []
    if {"lr", "reg"} <= set(space):
        try:
            plots.plot_param_scatter(result, out / "lr_reg.png")
            written.append("lr_reg.png")
        except ValueError:
            pass  # no successful trial with positive lr and reg
    if result.best is not None:
        plots.plot_learning_curves(result, out / "learning_curves.png")
        written.append("learning_curves.png")
    return written


__all__ = ["add_parser", "cmd_sweep", "train_command"]
