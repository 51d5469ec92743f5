"""The ``glassnet`` command: info, gradcheck, train, evaluate and summary.

Each subcommand is one small function calling the library. Only this module reads
``sys.argv`` or returns exit codes: 0 on success, 1 when ``gradcheck`` finds a
failing gradient, 2 for a usage or input error, reported as one line
``glassnet: error: ...`` on stderr (``--debug`` prints the traceback as well).

Example:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    glassnet ...
    0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import __version__, backend, callbacks, layers, models, optimizers
from glassnet.datasets import digits, scale_images, train_val_test_split
from glassnet.datasets._sources import ENV_VAR, search_dirs

PRESETS: dict[str, dict[str, Any]] = {
    "digits-mlp": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    "digits-cnn": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
}
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class CliError(Exception):
    """A user-facing error: its message says what went wrong and how to fix it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line instead of usage + message
        raise CliError(f"{message} (see `{self.prog} --help`)")


# -- info --


def _blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except Exception:  # numpy < 1.26 has no mode="dicts"; never fail `info` for it
        return "unknown"


def _cmd_info(args: argparse.Namespace) -> int:
    from glassnet.datasets import cifar10, fashion_mnist, mnist

    print(f"glassnet {__version__}")
    print(f"array backend: {backend.backend_name()} (floatx {backend.floatx()})")
    print(f"numpy: {np.__version__}")
    print(f"BLAS: {_blas_name()}")
    for var in _THREAD_VARS:
        print(f"{var}: {os.environ.get(var, 'unset')}")
    print(f"datasets (searched in this order; set ${ENV_VAR} to add a place):")
    for name, module in (("mnist", mnist), ("fashion_mnist", fashion_mnist)):
        _print_places(name, module.SYSTEM_DIRS)
    _print_places("cifar10", cifar10.SYSTEM_DIRS)
    print("  digits: bundled with scikit-learn (pip install glassnet[data])")
    return 0


def _print_places(dataset: str, system_dirs: list[str]) -> None:
    print(f"  {dataset}:")
    for what, directory in search_dirs(dataset, None, system_dirs):
        print(f"    {what}: {directory if directory is not None else '(unset)'}")


# -- gradcheck --


def _without_db(backward: Callable) -> Callable:
    def wrapped(dout: np.ndarray, cache: Any) -> tuple:
        dx, dw, _, *rest = backward(dout, cache)
        return (dx, dw, *rest)

    return wrapped


def _kernel_cases(rng: np.random.Generator) -> list[tuple]:
    from glassnet import functional as F

    def r(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    conv = {"stride": 1, "pad": 1}
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    xc, wc, bc = r(2, 2, 4, 4), r(3, 2, 3, 3), r(3)
    g3, b3 = 1 + 0.1 * r(3), r(3)
    cases = [
        ("affine", F.affine_forward, F.affine_backward, (r(3, 2, 2), r(4, 5), r(5))),
        ("relu", F.relu_forward, F.relu_backward, (r(3, 4),)),
        ("leaky_relu", F.leaky_relu_forward, F.leaky_relu_backward, (r(3, 4), 0.1)),
        ("sigmoid", F.sigmoid_forward, F.sigmoid_backward, (r(3, 4),)),
        ("tanh", F.tanh_forward, F.tanh_backward, (r(3, 4),)),
        ("softmax", F.softmax_forward, F.softmax_backward, (r(3, 4),)),
        ("elu", F.elu_forward, F.elu_backward, (r(3, 4),)),
        ("gelu", F.gelu_forward, F.gelu_backward, (r(3, 4),)),
        ("gelu (tanh)", F.gelu_forward, F.gelu_backward, (r(3, 4), True)),
        (
            "dropout (seeded)",
            F.dropout_forward,
            F.dropout_backward,
            (r(4, 5), {"mode": "train", "p": 0.6, "seed": 1}),
        ),
    ]
    bn = (r(5, 3), g3, b3)
    cases += [
        (
            "batchnorm",
            F.batchnorm_forward,
            F.batchnorm_backward,
            (*bn, {"mode": "train"}),
        ),
        (
            "batchnorm (alt backward)",
            F.batchnorm_forward,
            F.batchnorm_backward_alt,
            (*bn, {"mode": "train"}),
        ),
        ("layernorm", F.layernorm_forward, F.layernorm_backward, (*bn, {})),
        (
            "spatial batchnorm",
            F.spatial_batchnorm_forward,
            F.spatial_batchnorm_backward,
            (r(2, 3, 3, 3), g3, b3, {"mode": "train"}),
        ),
        (
            "spatial groupnorm",
            F.spatial_groupnorm_forward,
            F.spatial_groupnorm_backward,
            (r(2, 4, 2, 2), 1 + 0.1 * r(1, 4, 1, 1), r(1, 4, 1, 1), 2, {}),
        ),
        ("conv naive", F.conv_forward_naive, F.conv_backward_naive, (xc, wc, bc, conv)),
        ("conv fast", F.conv_forward_fast, F.conv_backward_fast, (xc, wc, bc, conv)),
    ]
    for kind in ("max", "avg"):
        for twin in ("naive", "fast"):
            fwd = getattr(F, f"{kind}_pool_forward_{twin}")
            bwd = getattr(F, f"{kind}_pool_backward_{twin}")
            cases.append((f"{kind} pool {twin}", fwd, bwd, (r(2, 2, 4, 4), pool)))
    cases += [
        (
            "affine_relu",
            F.affine_relu_forward,
            F.affine_relu_backward,
            (r(3, 4), r(4, 5), r(5)),
        ),
        (
            "affine_norm_relu (layernorm)",
            F.affine_norm_relu_forward,
            F.affine_norm_relu_backward,
            (r(4, 3), r(3, 5), r(5), 1 + 0.1 * r(5), r(5), {}, "layernorm"),
        ),
        # The batch mean cancels b, so its true gradient is zero and only rounding
        # noise is left to compare: b is left out of the batchnorm check.
        (
            "affine_norm_relu (batchnorm)",
            F.affine_norm_relu_forward,
            _without_db(F.affine_norm_relu_backward),
            (r(4, 3), r(3, 5), r(5), 1 + 0.1 * r(5), r(5), {"mode": "train"}),
            ("x", "w", "gamma", "beta"),
        ),
        ("conv_relu", F.conv_relu_forward, F.conv_relu_backward, (xc, wc, bc, conv)),
        (
            "conv_relu_pool",
            F.conv_relu_pool_forward,
            F.conv_relu_pool_backward,
            (xc, wc, bc, conv, pool),
        ),
    ]
    return cases


def _layer_cases() -> list[tuple[str, Any, dict[str, Any], tuple[int, ...]]]:
    L = layers
    img = (2, 4, 4, 2)
    return [
        ("Dense", L.Dense, {"units": 3, "activation": "tanh"}, (3, 4)),
        ("Conv2D", L.Conv2D, {"filters": 3, "kernel_size": 3, "padding": "same"}, img),
        ("MaxPooling2D", L.MaxPooling2D, {"pool_size": 2}, img),
        ("AveragePooling2D", L.AveragePooling2D, {"pool_size": 2}, img),
        ("GlobalAveragePooling2D", L.GlobalAveragePooling2D, {}, img),
        ("BatchNormalization", L.BatchNormalization, {}, img),
        ("LayerNormalization", L.LayerNormalization, {}, (3, 4)),
        ("Activation(sigmoid)", L.Activation, {"activation": "sigmoid"}, (3, 4)),
        ("LeakyReLU", L.LeakyReLU, {}, (3, 4)),
        ("Softmax", L.Softmax, {}, (3, 4)),
        ("Flatten", L.Flatten, {}, img),
    ]


def _check_layer(cls: Any, kwargs: dict[str, Any], shape: tuple[int, ...]) -> float:
    from glassnet.gradcheck import eval_numerical_gradient_array, max_relative_error

    rng = np.random.default_rng(0)
    layer = cls(**kwargs, dtype="float64")
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(layer(x, training=True).shape)
    layer.forward(x, True)
    dx = layer.backward(dout)
    grads = dict(layer.grads)

    def f(_: np.ndarray) -> np.ndarray:
        return layer.forward(x, True)

    errors = [max_relative_error(dx, eval_numerical_gradient_array(f, x, dout))]
    for key, w in layer.params.items():
        num = eval_numerical_gradient_array(f, w, dout)
        errors.append(max_relative_error(grads[key], num))
    return max(errors)


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from glassnet.gradcheck import check_kernel

    rows = []
    for name, fwd, bwd, call, *wrt in _kernel_cases(np.random.default_rng(0)):
        errors = check_kernel(fwd, bwd, *call, wrt=wrt[0] if wrt else None)
        rows.append((name, max(errors.values())))
    for name, cls, kwargs, shape in _layer_cases():
        rows.append((f"layers.{name}", _check_layer(cls, kwargs, shape)))
    width = max(len(n) for n, _ in rows) + 2
    print(f"{'name':<{width}}{'worst rel. error':>18}{'threshold':>12}  result")
    failed = 0
    for name, err in rows:
        ok = err < args.threshold
        failed += not ok
        verdict = "PASS" if ok else "FAIL"
        print(f"{name:<{width}}{err:>18.2e}{args.threshold:>12.0e}  {verdict}")
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


# -- train --


def _build_model(preset: str, seed: int) -> models.Sequential:
    L = layers
    body: list[Any]
    if preset == "digits-mlp":
        body = [L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.2, seed=seed)]
    else:
        body = [
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(64, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.3, seed=seed),
        ]
    return models.Sequential(
        [layers.Input((8, 8, 1)), *body, L.Dense(10, activation="softmax")],
        name=preset,
        seed=seed,
    )


def _digits(seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    (x_train, y_train), (x_test, y_test) = digits.load_data(seed=seed)

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=16).reshape(-1, 8, 8, 1)

    return (prep(x_train), y_train), (prep(x_test), y_test)


def _set_threads(n: int) -> None:
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(
            f"note: --threads {n} set {', '.join(_THREAD_VARS)}, but NumPy was "
            "imported before; set them in the shell or pip install threadpoolctl"
        )
        return
    threadpool_limits(n)


def _train_callbacks(args: argparse.Namespace, out: Path) -> list[Any]:
    cbs: list[Any] = [
        callbacks.ModelCheckpoint(
            out / "best.weights.h5",
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        ),
        callbacks.CSVLogger(out / "history.csv"),
    ]
    if args.early_stopping is not None:
        cbs.append(
            callbacks.EarlyStopping(
                monitor="val_accuracy",
                patience=args.early_stopping,
                restore_best_weights=True,
            )
        )
    if args.reduce_lr is not None:
        cbs.append(callbacks.ReduceLROnPlateau(patience=args.reduce_lr))
    return cbs


def _cmd_train(args: argparse.Namespace) -> int:
    if args.threads is not None:
        _set_threads(args.threads)
    settings = {k: v for k, v in PRESETS[args.preset].items()}
    settings.update({k: v for k, v in vars(args).items() if k in settings and v})
    out = Path(args.out or Path("runs") / args.preset)
    out.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = _digits()
    (x_tr, y_tr), (x_val, y_val), _ = train_val_test_split(
        x_train, y_train, val_size=0.1, test_size=0, seed=args.seed
    )
    model = _build_model(args.preset, args.seed)
    opt = optimizers.OPTIMIZERS[settings["optimizer"]](learning_rate=settings["lr"])
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(
        x_tr,
        y_tr,
        batch_size=settings["batch_size"],
        epochs=settings["epochs"],
        validation_data=(x_val, y_val),
        callbacks=_train_callbacks(args, out),
        verbose=2,
    )
    seconds = time.perf_counter() - start
    model.save(out / "model.h5")
    logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    (out / "history.json").write_text(json.dumps(logs, indent=2) + "\n")
    test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    _write_report(out / "report.md", args.preset, test, y_test, pred, seconds)
    print(f"test accuracy: {test['accuracy']:.4f} (test loss {test['loss']:.4f})")
    print(
        f"wrote model.h5, best.weights.h5, history.csv, history.json, report.md "
        f"to {out}"
    )
    return 0


def _confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true.astype(np.int64), y_pred.astype(np.int64)), 1)
    return cm


def _write_report(
    path: Path, preset: str, test: dict, y: np.ndarray, pred: np.ndarray, sec: float
) -> None:
    cm = _confusion_matrix(y, pred, len(digits.CLASS_NAMES))
    lines = [
        f"# glassnet train {preset}",
        "",
        f"- test accuracy: {test['accuracy']:.4f}",
        f"- test loss: {test['loss']:.4f}",
        f"- training time: {sec:.1f} s",
        "",
        "| class | samples | errors | error rate |",
        "|---|---|---|---|",
    ]
    for c, name in enumerate(digits.CLASS_NAMES):
        n, wrong = int(cm[c].sum()), int(cm[c].sum() - cm[c, c])
        lines.append(f"| {name} | {n} | {wrong} | {wrong / max(n, 1):.3f} |")
    path.write_text("\n".join(lines) + "\n")


# -- evaluate / summary --


def _load(path: str, compile: bool) -> Any:
    if not Path(path).is_file():
        raise CliError(
            f"model file {path!r} not found; give the path of a saved model, "
            "e.g. runs/digits-cnn/model.h5 written by `glassnet train`"
        )
    return models.load_model(path, compile=compile)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load(args.model, compile=True)
    if model.loss is None:
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    _, (x_test, y_test) = _digits()
    shape = getattr(model, "input_spec", None)
    if shape is not None:
        x_test = x_test.reshape(-1, *shape[1:])
    logs = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    for key, value in logs.items():
        print(f"test {key}: {value:.4f}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    _load(args.model, compile=False).summary()
    return 0


# -- parser --


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; received {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0; received {text!r}")
    return value


def _add_train(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train", parents=[common], help="train a preset on digits")
    p.add_argument("preset", nargs="?", default="digits-cnn", choices=sorted(PRESETS))
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--optimizer", choices=sorted(optimizers.OPTIMIZERS))
    p.add_argument("--lr", type=_positive_float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output directory. Defaults to runs/<preset>")
    p.add_argument("--early-stopping", type=_positive_int, metavar="PATIENCE")
    p.add_argument("--reduce-lr", type=_positive_int, metavar="PATIENCE")
    p.add_argument(
        "--threads",
        type=_positive_int,
        help="BLAS threads; the environment variables only take effect before "
        "NumPy is imported, so threadpoolctl (if installed) applies them now",
    )
    p.set_defaults(func=_cmd_train)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``glassnet`` command."""
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    parser = _Parser(prog="glassnet", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", action="version", version=f"glassnet {__version__}"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("info", parents=[common], help="versions, BLAS, data places")
    p.set_defaults(func=_cmd_info)
    p = sub.add_parser("gradcheck", parents=[common], help="check every gradient")
    p.add_argument("--threshold", type=_positive_float, default=1e-6)
    p.set_defaults(func=_cmd_gradcheck)
    _add_train(sub, common)
    for name, func, text in (
        ("evaluate", _cmd_evaluate, "test loss and accuracy of a saved model"),
        ("summary", _cmd_summary, "print a saved model's summary"),
    ):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("model", help="a file written by model.save")
        if name == "evaluate":
            p.add_argument("--data", choices=["digits"], default="digits")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``glassnet`` command with ``argv`` (``sys.argv[1:]`` by default).

    Returns:
        The exit code: 0 on success, 1 when a gradient check fails, 2 on error.
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
    except (CliError, ValueError, OSError, ImportError, RuntimeError) as e:
        if args.debug:
            traceback.print_exc()
        message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
        print(f"glassnet: error: {message}", file=sys.stderr)
        return 2


__all__ = ["CliError", "PRESETS", "build_parser", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
