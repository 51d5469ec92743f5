"""The ``glassnet`` command: info, gradcheck, train, evaluate, summary, predict, sanity.

Each subcommand is a small module of this package calling the library; only
this package reads ``sys.argv`` or returns exit codes: 0 on success, 1 when
``gradcheck`` or ``sanity`` finds a failing check, 2 for a usage or input error,
reported as one line ``glassnet: error: ...`` on stderr (``--debug`` prints the
traceback as well); a dataset that is not found also lists where glassnet looked,
why the download failed and where to get the files.

Example:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    glassnet ...
    0
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any

from glassnet import __version__
from glassnet.cli._common import (
    CliError,
    Parser,
    fraction,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from glassnet.cli.evaluate import DATASETS, cmd_evaluate, cmd_summary
from glassnet.cli.info import cmd_gradcheck, cmd_info
from glassnet.cli.predict import cmd_predict
from glassnet.cli.sanity import cmd_sanity
from glassnet.cli.sweep import add_parser as _add_sweep
from glassnet.cli.train import OPTIMIZER_CHOICES, cmd_train
from glassnet.datasets._sources import ENV_VAR
from glassnet.errors import DatasetNotFoundError
from glassnet.presets import PRESETS


def _add_train(sub: Any, common: argparse.ArgumentParser) -> None:
    presets = "; ".join(f"{name}: {p.help}" for name, p in PRESETS.items())
    p = sub.add_parser(
        "train",
        parents=[common],
        help="train a preset and write the model, history, plots and report",
        description=f"Presets: {presets}.",
    )
    p.add_argument(
        "preset",
        nargs="?",
        choices=list(PRESETS),
        help="default digits-cnn; with --resume, the preset of the run in --out",
    )

    def default(field: str) -> str:
        values = ", ".join(f"{n} {getattr(q, field)}" for n, q in PRESETS.items())
        return f"Default: the preset's ({values})"

    p.add_argument(
        "--epochs", type=positive_int, help=f"epochs to train. {default('epochs')}"
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        help=f"samples per step. {default('batch_size')}",
    )
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZER_CHOICES,
        help="a Keras optimizer; the Solver presets also take the course's update "
        f"rules (sgd_momentum, nesterov). {default('optimizer')}",
    )
    p.add_argument(
        "--lr", type=positive_float, help=f"the learning rate. {default('lr')}"
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        help="seeds the weights, shuffling and dropout (and the split). Default 0",
    )
    p.add_argument(
        "--split-seed",
        type=non_negative_int,
        metavar="SEED",
        help="seeds the 10%% validation split of the Keras presets. Defaults to --seed",
    )
    _add_model_options(p)
    p.add_argument("--out", help="output directory. Defaults to runs/<preset>")
    p.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="stop when --monitor has not improved for PATIENCE epochs, and keep "
        "the best epoch's weights (Keras' EarlyStopping). Default: off",
    )
    p.add_argument(
        "--reduce-lr",
        type=positive_int,
        metavar="PATIENCE",
        help="multiply the learning rate by the preset's factor (0.1; digits-cnn "
        "0.5) when --monitor has not improved for PATIENCE epochs "
        "(ReduceLROnPlateau). Default: the preset's (digits-cnn 20, others off)",
    )
    p.add_argument(
        "--monitor",
        choices=["val_loss", "val_accuracy"],
        help="what --early-stopping, --reduce-lr and best.weights.h5 watch. "
        "Default val_loss",
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        help="directory with the dataset's files. Defaults to the usual search: "
        f"${ENV_VAR}, the user cache, system copies, then a download",
    )
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="write TensorBoard event files to <out>/logs (needs tensorboardX)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the last checkpoint in --out with the settings "
        "recorded in <out>/run.json (an option given again must equal the "
        "record's; a larger --epochs trains on)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even when --out holds a run that did not finish "
        "(its backup is replaced); a finished run's files are replaced anyway",
    )
    p.add_argument(
        "--threads",
        type=positive_int,
        help="BLAS and element-wise kernel threads; the environment variables "
        "only take effect before NumPy is imported, so threadpoolctl (if "
        "installed) applies them now",
    )
    p.set_defaults(func=cmd_train)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """The options of ``train`` that change the preset's model, as a sweep may."""
    g = p.add_argument_group(
        "preset hyperparameters",
        "each defaults to the preset's own; a preset without the layers refuses "
        "it. `glassnet sweep` prints the options of its best trial",
    )
    g.add_argument(
        "--reg",
        type=non_negative_float,
        help="L2 regularization: on every kernel (Keras presets), the model's "
        "reg (Solver presets); 0 turns it off",
    )
    g.add_argument(
        "--dropout",
        type=fraction,
        metavar="RATE",
        help="every dropout layer's drop rate, in [0, 1)",
    )
    g.add_argument(
        "--units", type=positive_int, help="every hidden dense layer's width"
    )
    g.add_argument(
        "--weight-scale",
        type=positive_float,
        metavar="STD",
        help="Solver presets: std of the initial weights",
    )
    g.add_argument(
        "--lr-decay",
        type=positive_float,
        metavar="FACTOR",
        help="Solver presets: the rate's factor after every epoch. Default 0.95",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``glassnet`` command."""
    common = Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    parser = Parser(prog="glassnet", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", action="version", version=f"glassnet {__version__}"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("info", parents=[common], help="versions, BLAS, data places")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("gradcheck", parents=[common], help="check every gradient")
    p.add_argument("--threshold", type=positive_float, default=1e-6)
    p.set_defaults(func=cmd_gradcheck)
    _add_train(sub, common)
    _add_sweep(sub, common)
    p = sub.add_parser("evaluate", parents=[common], help="test loss and accuracy")
    p.add_argument("model", help="a file written by model.save")
    p.add_argument(
        "--weights",
        metavar="FILE",
        help="weights to load into the model first, e.g. the best.weights.h5 that "
        "glassnet train writes beside model.h5",
    )
    p.add_argument(
        "--data",
        metavar="NAME|DIR",
        help=f"a dataset in {sorted(DATASETS)} or a directory with the files of "
        "the model's dataset. Defaults to the dataset the model was trained on",
    )
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("summary", parents=[common], help="a saved model's layers")
    p.add_argument("model", help="a file written by model.save")
    p.set_defaults(func=cmd_summary)
    p = sub.add_parser("predict", parents=[common], help="classify image files")
    p.add_argument("model", help="a file written by model.save")
    p.add_argument("images", nargs="+", help=".npy (one image or a batch), .png, .jpg")
    p.add_argument("--top-k", type=positive_int, default=3)
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("sanity", parents=[common], help="training sanity checks")
    keras_presets = [name for name, p in PRESETS.items() if not p.solver]
    p.add_argument("preset", nargs="?", default="digits-mlp", choices=keras_presets)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", metavar="DIR", help="as for train")
    p.add_argument(
        "--overfit-lr",
        type=positive_float,
        help="learning rate of the overfitting check. Defaults to the preset's",
    )
    p.set_defaults(func=cmd_sanity)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``glassnet`` command with ``argv`` (``sys.argv[1:]`` by default).

    Returns:
        The exit code: 0 on success, 1 when a gradient or sanity check fails,
        2 on error, 130 when interrupted by Ctrl-C.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except CliError as e:
        print(f"glassnet: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help and --version
        return int(e.code or 0)
    try:
        return args.func(args)
    except DatasetNotFoundError as e:
        # The one error that is more than a line: where glassnet looked, why the
        # download failed and where to fetch the files are what a user needs.
        if args.debug:
            traceback.print_exc()
        first, *rest = str(e).strip().splitlines()
        hint = (
            f"  - or pass --data DIR (set ${ENV_VAR} for every command; see "
            "`glassnet info`)"
        )
        print(f"glassnet: error: {first}", *rest, hint, sep="\n", file=sys.stderr)
        return 2
    except (CliError, ValueError, OSError, ImportError, RuntimeError) as e:
        if args.debug:
            traceback.print_exc()
        message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
        print(f"glassnet: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside training, which checkpoints first
        print("\nglassnet: interrupted", file=sys.stderr)
        return 130


__all__ = ["CliError", "PRESETS", "build_parser", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
