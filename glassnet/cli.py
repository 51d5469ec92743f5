"""The ``glassnet`` command: info, gradcheck, train, evaluate, summary, predict, sanity.

Each subcommand is one small function calling the library. Only this module reads
``sys.argv`` or returns exit codes: 0 on success, 1 when ``gradcheck`` or ``sanity``
finds a failing check, 2 for a usage or input error, reported as one line
``glassnet: error: ...`` on stderr (``--debug`` prints the traceback as well).

Example:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    glassnet ...
    0
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import (
    __version__,
    _cli_gradcheck,
    backend,
    callbacks,
    evaluation,
    layers,
    models,
    optimizers,
    regularizers,
)
from glassnet.datasets import (
    digits,
    fashion_mnist,
    mnist,
    scale_images,
    train_val_test_split,
)
from glassnet.datasets._sources import ENV_VAR, search_dirs
from glassnet.errors import DatasetNotFoundError

PRESETS: dict[str, dict[str, Any]] = {
    "digits-mlp": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    "digits-cnn": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    "mnist-cnn": {"epochs": 15, "batch_size": 128, "optimizer": "adam", "lr": 1e-3},
    "fashion-mlp": {"epochs": 20, "batch_size": 128, "optimizer": "adam", "lr": 1e-3},
    "fashion-cnn": {"epochs": 15, "batch_size": 128, "optimizer": "adam", "lr": 1e-3},
}
# The dataset module each preset trains on; the digits presets use _digits().
_DATASETS: dict[str, Any] = {
    "digits-mlp": digits,
    "digits-cnn": digits,
    "mnist-cnn": mnist,
    "fashion-mlp": fashion_mnist,
    "fashion-cnn": fashion_mnist,
}
_DIGITS_PRESETS = ["digits-cnn", "digits-mlp"]
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


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from glassnet.gradcheck import check_kernel

    rows = []
    for name, fwd, bwd, call, *wrt in _cli_gradcheck.kernel_cases(
        np.random.default_rng(0)
    ):
        errors = check_kernel(fwd, bwd, *call, wrt=wrt[0] if wrt else None)
        rows.append((name, max(errors.values())))
    for name, cls, kwargs, shape in _cli_gradcheck.layer_cases():
        rows.append((f"layers.{name}", _cli_gradcheck.check_layer(cls, kwargs, shape)))
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


def _body(preset: str, seed: int, reg: dict[str, Any]) -> list[Any]:
    """The layers of ``preset`` between its input and its softmax classifier."""
    L = layers
    if preset == "digits-mlp":
        return [
            L.Flatten(),
            L.Dense(64, activation="relu", **reg),
            L.Dropout(0.2, seed=seed),
        ]
    if preset == "fashion-mlp":
        return [
            L.Flatten(),
            L.Dense(256, activation="relu", **reg),
            L.Dropout(0.2, seed=seed),
            L.Dense(128, activation="relu", **reg),
            L.Dropout(0.2, seed=seed + 1),
        ]
    # digits-cnn pads to keep its 8x8 inputs from shrinking away; the 28x28
    # presets are Keras' classic MNIST convnet, which does not pad.
    padding = "same" if preset == "digits-cnn" else "valid"
    return [
        L.Conv2D(32, 3, padding=padding, activation="relu", **reg),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding=padding, activation="relu", **reg),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.3 if preset == "digits-cnn" else 0.5, seed=seed),
    ]


def _build_model(
    preset: str, seed: int, kernel_regularizer: Any = None
) -> models.Sequential:
    reg = {"kernel_regularizer": kernel_regularizer}
    side = 8 if preset in _DIGITS_PRESETS else 28
    return models.Sequential(
        [
            layers.Input((side, side, 1)),
            *_body(preset, seed, reg),
            layers.Dense(10, activation="softmax", **reg),
        ],
        name=preset,
        seed=seed,
    )


def _digits(seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    (x_train, y_train), (x_test, y_test) = digits.load_data(seed=seed)

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=16).reshape(-1, 8, 8, 1)

    return (prep(x_train), y_train), (prep(x_test), y_test)


def _preset_data(
    preset: str, path: str | None
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The train and test sets of ``preset``: (N, H, W, 1) images in [0, 1]."""
    module = _DATASETS[preset]
    if module is digits:
        if path is not None:
            raise CliError(f"--data: {preset} uses scikit-learn's bundled digits")
        return _digits()
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data(path=path)
    except DatasetNotFoundError as e:
        first = str(e).strip().splitlines()[0]
        raise CliError(
            f"{first} Set ${ENV_VAR}, pass --data DIR, or see `glassnet info`"
        ) from e

    def prep(x: np.ndarray) -> np.ndarray:
        return scale_images(x, max_value=255).reshape(-1, 28, 28, 1)

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
    if args.tensorboard:
        cbs.append(callbacks.TensorBoard(log_dir=out / "logs"))
    return cbs


def _cmd_train(args: argparse.Namespace) -> int:
    if args.threads is not None:
        _set_threads(args.threads)
    settings = {k: v for k, v in PRESETS[args.preset].items()}
    settings.update({k: v for k, v in vars(args).items() if k in settings and v})
    out = Path(args.out or Path("runs") / args.preset)
    out.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = _preset_data(args.preset, args.data)
    names = list(_DATASETS[args.preset].CLASS_NAMES)
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
    plots: list[str] = []
    if not _has_matplotlib():
        print("plots skipped: matplotlib is not installed (pip install glassnet[plot])")
    else:
        plots = _save_plots(out, model, logs, x_test, y_test, pred, names)
    report = (args.preset, test, y_test, pred, seconds, plots, names)
    _write_report(out / "report.md", *report)
    print(f"test accuracy: {test['accuracy']:.4f} (test loss {test['loss']:.4f})")
    files = ["model.h5", "best.weights.h5", "history.csv", "history.json", "report.md"]
    files += ["logs"] if args.tensorboard else []
    print(f"wrote {', '.join(files + plots)} to {out}")
    return 0


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1)]
    lines[1] += "|"
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _write_report(
    path: Path,
    preset: str,
    test: dict,
    y: np.ndarray,
    pred: np.ndarray,
    sec: float,
    plots: list[str],
    names: list[str],
) -> None:
    cm = evaluation.confusion_matrix(y, pred, len(names))
    lines = [
        f"# glassnet train {preset}",
        "",
        f"- test accuracy: {test['accuracy']:.4f}",
        f"- test loss: {test['loss']:.4f}",
        f"- training time: {sec:.1f} s",
        "",
        "## Per class",
        "",
        evaluation.report_markdown(y, pred, names).rstrip("\n"),
        "",
        "## Confusion matrix (rows: true class, columns: predicted class)",
        "",
        *_md_table(
            ["true \\ pred", *names],
            [
                [n, *(str(int(v)) for v in row)]
                for n, row in zip(names, cm, strict=True)
            ],
        ),
    ]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"- [{Path(f).stem}]({f})" for f in plots]
    path.write_text("\n".join(lines) + "\n")


def _first_kernel(model: Any) -> np.ndarray | None:
    """The first Conv2D or Dense kernel in Keras layout (HH, WW, C, F), or None."""
    for layer in model.layers:
        kernel = getattr(layer, "params", {}).get("kernel")
        if kernel is None:
            continue
        kernel = backend.to_numpy(kernel)
        if kernel.ndim == 4:
            return kernel if kernel.shape[2] in (1, 3) else None
        side = int(round(np.sqrt(kernel.shape[0])))
        if kernel.ndim == 2 and side * side == kernel.shape[0]:
            # Row d of a Dense kernel weighs pixel d of the row-major flattened
            # image, so reshaping (D, M) gives each unit's template as an image.
            return kernel.reshape(side, side, 1, kernel.shape[1])
        return None
    return None


def _has_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _save_plots(
    out: Path,
    model: Any,
    logs: dict,
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    names: list[str] | None = None,
) -> list[str]:
    """Write the PNG plots of a run into ``out``; returns the file names written."""
    from glassnet import report

    names = list(digits.CLASS_NAMES) if names is None else names
    cm = evaluation.confusion_matrix(y, pred, len(names))
    jobs: list[tuple[str, Callable[[Path], Any]]] = [
        ("history.png", lambda p: report.plot_history(logs, p)),
        (
            "confusion_matrix.png",
            lambda p: report.plot_confusion_matrix(cm, names, path=p),
        ),
        ("per_class_error.png", lambda p: report.plot_per_class_error(cm, names, p)),
    ]
    kernel = _first_kernel(model)
    if kernel is not None:
        jobs.append(
            ("filters.png", lambda p: report.plot_filters(kernel, p, layout="keras"))
        )
    jobs.append(
        (
            "misclassified.png",
            lambda p: report.plot_misclassified(x, y, pred, names, path=p),
        )
    )
    lrs = logs.get("learning_rate", [])
    if len(lrs) and min(lrs) != max(lrs):
        jobs.append(("learning_rate.png", lambda p: report.plot_learning_rate(lrs, p)))
    for name, draw in jobs:
        draw(out / name)
    return [name for name, _ in jobs]


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


# -- predict --

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _read_image(path: Path, channels: int) -> np.ndarray:
    """A PNG or JPEG file as uint8 (H, W) (when ``channels`` is 1) or (H, W, 3)."""
    try:
        # matplotlib.image.imread reads through Pillow too, so Pillow is the one need.
        from PIL import Image
    except ImportError as e:
        raise CliError(
            f"{path}: reading PNG/JPEG needs Pillow (pip install glassnet[plot]); "
            "or save the image as .npy"
        ) from e
    with Image.open(path) as img:
        # convert("L") is the ITU-R 601 luma, the usual grayscale.
        return np.asarray(img.convert("L" if channels == 1 else "RGB"))


def _as_batch(name: str, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as (N, *shape): one image or a batch; C = 1 may lack its axis."""
    h, w, c = shape
    if x.ndim in (2, 3) and x.shape[-2:] == (h, w):
        x = x[..., None] if c == 1 else np.repeat(x[..., None], c, axis=-1)
    if x.shape == shape:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != shape:
        raise CliError(
            f"{name}: expected an image of shape {shape} or a batch (N, {h}, {w}, "
            f"{c}); received shape {x.shape} (images are not resized)"
        )
    if x.dtype == np.uint8:  # 0..255 pixels, scaled to [0, 1] as the presets do
        return scale_images(x, max_value=255)
    if x.dtype.kind not in "iuf":
        raise CliError(f"{name}: expected numeric pixels; received dtype {x.dtype}")
    return x.astype(np.float32)


def _load_inputs(path: str, shape: tuple[int, ...]) -> np.ndarray:
    file = Path(path)
    if not file.is_file():
        raise CliError(f"input file {path!r} not found")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        x = np.load(file, allow_pickle=False)
    elif suffix in _IMAGE_SUFFIXES:
        x = _read_image(file, shape[-1])
    else:
        raise CliError(
            f"{path}: expected a .npy, .png, .jpg or .jpeg file; received {suffix!r}"
        )
    return _as_batch(path, x, shape)


def _probabilities(out: np.ndarray) -> np.ndarray:
    """Rows of ``out`` as probabilities: kept when they already are, else softmax."""
    out = out.astype(np.float64)
    if np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        return out
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _cmd_predict(args: argparse.Namespace) -> int:
    model = _load(args.model, compile=False)
    spec = getattr(model, "input_spec", None)
    if spec is None or len(spec) != 4:
        raise CliError(f"{args.model}: expected a model of images (N, H, W, C)")
    shape = tuple(int(d) for d in spec[1:])
    batches = [(path, _load_inputs(path, shape)) for path in args.images]
    for path, x in batches:
        probs = _probabilities(np.asarray(model.predict(x, verbose=0)))
        k = probs.shape[1]
        if args.top_k > k:
            raise CliError(
                f"--top-k: expected at most {k} (the model's classes); "
                f"received {args.top_k}"
            )
        names = list(digits.CLASS_NAMES) if k == 10 else [str(i) for i in range(k)]
        for i, row in enumerate(probs):
            label = path if len(x) == 1 else f"{path}[{i}]"
            top = np.argsort(-row, kind="stable")[: args.top_k]
            print(f"{label}: " + ", ".join(f"{names[c]} ({row[c]:.4f})" for c in top))
    return 0


# -- sanity --


def _compiled(preset: str, seed: int, lr: float, reg: Any = None) -> Any:
    model = _build_model(preset, seed, reg)
    settings = PRESETS[preset]
    opt = optimizers.OPTIMIZERS[settings["optimizer"]](learning_rate=lr)
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _overfit_epochs(model: Any, x: np.ndarray, y: np.ndarray, limit: int) -> int:
    """Epochs until ``model`` classifies all of ``x`` right (``limit`` + 1: never)."""
    for epoch in range(1, limit + 1):
        model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
        logs = model.evaluate(x, y, verbose=0, return_dict=True)
        if logs["accuracy"] == 1.0:
            return epoch
    return limit + 1


def _cmd_sanity(args: argparse.Namespace) -> int:
    (x, y), _ = _digits()
    num_classes = len(digits.CLASS_NAMES)
    lr = PRESETS[args.preset]["lr"]

    def loss(model: Any) -> float:
        return float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])

    small = _compiled(args.preset, args.seed, lr)
    # Tiny weights give near-equal logits, so softmax is uniform: loss = ln(C).
    small.set_weights([w * 1e-3 for w in small.get_weights()])
    initial = loss(small)
    expected = float(np.log(num_classes))
    plain = loss(_compiled(args.preset, args.seed, lr))
    with_l2 = loss(_compiled(args.preset, args.seed, lr, regularizers.L2(1.0)))
    n, limit = 30, 200
    epochs = _overfit_epochs(
        _compiled(args.preset, args.seed, args.overfit_lr or lr), x[:n], y[:n], limit
    )
    rows = [
        (
            "initial loss with small weights ~ ln(C)",
            f"{initial:.4f}",
            f"{expected:.4f} +- 0.2",
            abs(initial - expected) <= 0.2,
        ),
        (
            "L2(1.0) on the kernels raises the loss",
            f"{with_l2:.4f}",
            f"> {plain:.4f}",
            with_l2 > plain,
        ),
        (
            f"overfit {n} samples to 100% train accuracy",
            f"{epochs} epochs" if epochs <= limit else "never",
            f"<= {limit} epochs",
            epochs <= limit,
        ),
    ]
    print(f"sanity checks of {args.preset} on digits")
    print(f"{'check':<46}{'value':>12}{'target':>20}  result")
    for name, value, target, ok in rows:
        print(f"{name:<46}{value:>12}{target:>20}  {'PASS' if ok else 'FAIL'}")
    failed = sum(not ok for *_, ok in rows)
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


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
    p = sub.add_parser(
        "train", parents=[common], help="train a preset on digits or (Fashion-)MNIST"
    )
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
        "--data",
        metavar="DIR",
        help="directory with the (Fashion-)MNIST IDX files. Defaults to the usual "
        f"search: ${ENV_VAR}, the user cache, system copies, then a download",
    )
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="write TensorBoard event files to <out>/logs (needs tensorboardX)",
    )
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
    p = sub.add_parser("predict", parents=[common], help="classify image files")
    p.add_argument("model", help="a file written by model.save")
    p.add_argument("images", nargs="+", help=".npy (one image or a batch), .png, .jpg")
    p.add_argument("--top-k", type=_positive_int, default=3)
    p.set_defaults(func=_cmd_predict)
    p = sub.add_parser("sanity", parents=[common], help="training sanity checks")
    p.add_argument("preset", nargs="?", default="digits-mlp", choices=_DIGITS_PRESETS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--overfit-lr",
        type=_positive_float,
        help="learning rate of the overfitting check. Defaults to the preset's",
    )
    p.set_defaults(func=_cmd_sanity)
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
        The exit code: 0 on success, 1 when a gradient or sanity check fails,
        2 on error.
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
