"""Training and inference throughput of glassnet against PyTorch on the CPU.

Models (see ``_throughput_models.py``): mlp_small, mlp_bn_dropout, cnn_mnist,
cnn_cifar; float32, Adam(1e-3), sparse categorical cross-entropy. glassnet's
final softmax layer is fused with the loss (one log-softmax), exactly what torch's
``CrossEntropyLoss`` on logits computes, so the torch models end in logits.

For each model, glassnet and PyTorch train ``--steps`` steps (default: the
model's own, 200 for the sub-millisecond mlp_small, else 20) on random float32
data, alternating ``--repeats`` times on the same machine in one run; warm-up
steps are excluded. Every timed run starts after a pause of ``SETTLE_S`` and one
untimed step of its own, so that the other framework's idle threads have gone to
sleep (see ``_settled``). Reported per model:

- samples/s (median over repeats) of each, and the ratio glassnet / PyTorch;
- peak memory, the same quantity for both: each (framework, model) runs in a
  fresh subprocess, which imports everything and creates the data, then builds
  the model and trains ``MEMORY_STEPS`` steps; reported is the peak growth of the
  process RSS over that window (parameters + optimizer state + activations +
  temporaries + allocator slack). The peak is the kernel's high-water mark
  (``getrusage``) when the window set a new one, else the highest RSS that a
  thread sampled every 0.5 ms (``/proc/self/statm``); ``None`` off Linux;
- glassnet's achieved GFLOP/s: Dense and Conv2D products counted analytically,
  forward = 2 x MACs, backward = 2 x forward; next to a float32 matmul peak
  (best of several 2048 x 2048 ``np.matmul``) measured in the same run;
- inference: ``model.predict`` against torch ``no_grad`` + ``eval`` (plus the
  softmax for the models whose glassnet twin ends in one, so that both compute
  the same probabilities);
- the classic Solver path (FullyConnectedNet, ThreeLayerConvNet with "adam") for
  mlp_bn_dropout and cnn_cifar against Keras ``fit`` on the same data,
  alternated; the Solver's accuracy checks are timed and subtracted.

Threads are left at their defaults and printed. Without torch installed, only the
glassnet numbers are reported.

Usage::

    python benchmarks/train_throughput.py [--quick] [--steps N] [--repeats R]
        [--models a,b] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _throughput_models as tm  # noqa: E402

from glassnet.classifiers.cnn import ThreeLayerConvNet  # noqa: E402
from glassnet.classifiers.fc_net import FullyConnectedNet  # noqa: E402
from glassnet.solver import Solver  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

WARMUP = 2
# Both frameworks' thread pools keep their idle threads spinning for a while
# after a call (OpenBLAS's server threads about 0.1 s, torch's OpenMP workers),
# and on two cores those threads slowed whichever framework ran next. Measured
# interleaved in one process: torch's mlp_small predictions 0.44 ms a batch after
# its own and 1.43 ms right after glassnet's; glassnet's 0.32 and 0.67 ms right
# after torch's; torch's cnn_mnist predictions 8.2 and 11.1 ms.
SETTLE_S = 0.5
MEMORY_STEPS = 3
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "train_throughput.json"
MiB = 2**20


def environment() -> dict[str, Any]:
    """NumPy/torch versions and thread settings (left at their defaults)."""
    info: dict[str, Any] = {"numpy": np.__version__, "cpu_count": os.cpu_count()}
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {k: p.get(k) for k in ("internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 ``np.matmul`` rate for n x n matrices, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    np.matmul(a, b)
    best = min(_timed(lambda: np.matmul(a, b)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _settled(warm: Callable[[], Any], run: Callable[[], Any]) -> float:
    """Seconds of ``run()`` after a pause of ``SETTLE_S`` and an untimed ``warm()``.

    The pause lets the other framework's idle threads go to sleep; the warm-up
    wakes this one's, as they are in the middle of any longer run.
    """
    time.sleep(SETTLE_S)
    warm()
    return _timed(run)


def _batches(spec: tm.ModelSpec, count: int = 4) -> list[tuple[np.ndarray, Any]]:
    """A few random (x, y) batches, channels-last float32, reused cyclically."""
    rng = np.random.default_rng(1)
    shape = (spec.batch_size, *spec.input_shape)
    return [
        (
            rng.standard_normal(shape, dtype=np.float32),
            rng.integers(0, spec.num_classes, spec.batch_size),
        )
        for _ in range(count)
    ]


def _to_torch(batches: list[tuple[np.ndarray, Any]]) -> list[tuple[Any, Any]]:
    out = []
    for x, y in batches:
        if x.ndim == 4:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        out.append((torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))))
    return out


def glassnet_steps(model: Any, batches: list, steps: int) -> float:
    """Seconds for ``steps`` calls of ``train_on_batch``."""
    start = time.perf_counter()
    for i in range(steps):
        x, y = batches[i % len(batches)]
        model.train_on_batch(x, y)
    return time.perf_counter() - start


def torch_steps(bundle: tuple[Any, Any, Any], batches: list, steps: int) -> float:
    """Seconds for ``steps`` torch steps: zero_grad, forward, backward, step."""
    model, optimizer, loss_fn = bundle
    model.train()
    start = time.perf_counter()
    for i in range(steps):
        x, y = batches[i % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes() -> int:
    if resource is None:
        return 0
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_growth(run: Callable[[], Any]) -> int:
    """Peak RSS growth in bytes while ``run()`` runs in this process (Linux)."""
    base, high_water = _rss_bytes(), _maxrss_bytes()
    peak, done = [base], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.0005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        run()
    finally:
        done.set()
        thread.join()
    top = max(peak[0], _rss_bytes())
    if _maxrss_bytes() > high_water:  # the kernel saw this window's exact peak
        top = max(top, _maxrss_bytes())
    return top - base


def memory_probe(framework: str, name: str) -> int:
    """Peak RSS growth of building ``name`` and training it ``MEMORY_STEPS`` steps.

    Meant to run in a fresh process (see :func:`peak_memory_mib`): imports and the
    data are in place before the measured window opens.
    """
    batches = _batches(tm.MODELS[name])
    if framework == "glassnet":
        return peak_rss_growth(
            lambda: glassnet_steps(tm.glassnet_model(name), batches, MEMORY_STEPS)
        )
    t_batches = _to_torch(batches)
    return peak_rss_growth(
        lambda: torch_steps(tm.torch_model(name), t_batches, MEMORY_STEPS)
    )


def peak_memory_mib(framework: str, name: str) -> float | None:
    """:func:`memory_probe` in a subprocess, in MiB; None off Linux or on failure."""
    if not os.path.exists("/proc/self/statm"):
        return None
    command = [sys.executable, __file__, "--memory-probe", framework, name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    return int(done.stdout.split()[-1]) / MiB


def train_case(name: str, steps: int, repeats: int) -> dict[str, Any]:
    """Alternate glassnet and torch training; medians, memory and FLOP rate."""
    spec = tm.MODELS[name]
    batches = _batches(spec)
    model = tm.glassnet_model(name)
    fwd, train_flops = tm.train_flops_per_sample(model)
    row: dict[str, Any] = {"model": name, "batch_size": spec.batch_size}
    row["params"] = tm.glassnet_param_count(model)
    row["train_flops_per_sample"] = train_flops
    glassnet_steps(model, batches, WARMUP)
    bundle = t_batches = None
    if torch is not None:
        bundle, t_batches = tm.torch_model(name), _to_torch(batches)
        assert tm.torch_param_count(bundle[0]) == row["params"], name
        torch_steps(bundle, t_batches, WARMUP)
    g_times, t_times = [], []
    for _ in range(repeats):
        g_times.append(
            _settled(
                lambda: glassnet_steps(model, batches, 1),
                lambda: glassnet_steps(model, batches, steps),
            )
        )
        if bundle is not None:
            t_times.append(
                _settled(
                    lambda: torch_steps(bundle, t_batches, 1),
                    lambda: torch_steps(bundle, t_batches, steps),
                )
            )
    samples = steps * spec.batch_size
    row["glassnet_samples_s"] = samples / statistics.median(g_times)
    row["glassnet_gflops"] = row["glassnet_samples_s"] * train_flops / 1e9
    row["glassnet_peak_mib"] = peak_memory_mib("glassnet", name)
    if bundle is not None:
        row["torch_samples_s"] = samples / statistics.median(t_times)
        row["ratio"] = row["glassnet_samples_s"] / row["torch_samples_s"]
        row["torch_peak_rss_growth_mib"] = peak_memory_mib("torch", name)
    return row


def predict_case(name: str, steps: int, repeats: int) -> dict[str, Any]:
    """Alternate glassnet ``predict`` and torch ``no_grad`` eval over steps batches."""
    spec = tm.MODELS[name]
    batches = _batches(spec, count=steps)
    x = np.concatenate([b[0] for b in batches])
    model = tm.glassnet_model(name)
    model.predict(x[: spec.batch_size], batch_size=spec.batch_size, verbose=0)
    g_times, t_times = [], []
    bundle = None
    if torch is not None:
        bundle, t_batches = tm.torch_model(name), _to_torch(batches)
        bundle[0].eval()

        def torch_predict(count: int = len(t_batches)) -> None:
            # The same outputs as glassnet's predict: probabilities for the
            # models that end in a softmax (the torch twins end in logits).
            with torch.no_grad():
                for tx, _ in t_batches[:count]:
                    out = bundle[0](tx)
                    if spec.softmax_output:
                        torch.softmax(out, dim=1)

        torch_predict()
    first = x[: spec.batch_size]
    for _ in range(repeats):
        g_times.append(
            _settled(
                lambda: model.predict(first, batch_size=spec.batch_size, verbose=0),
                lambda: model.predict(x, batch_size=spec.batch_size, verbose=0),
            )
        )
        if bundle is not None:
            t_times.append(_settled(lambda: torch_predict(1), torch_predict))
    row: dict[str, Any] = {"model": name, "batch_size": spec.batch_size}
    row["glassnet_samples_s"] = len(x) / statistics.median(g_times)
    if bundle is not None:
        row["torch_samples_s"] = len(x) / statistics.median(t_times)
        row["ratio"] = row["glassnet_samples_s"] / row["torch_samples_s"]
    return row


SOLVER_MODELS: dict[str, Callable[[], Any]] = {
    "mlp_bn_dropout": lambda: FullyConnectedNet(
        [512, 256, 256],
        normalization="batchnorm",
        dropout_keep_ratio=0.5,
        dtype=np.float32,
        seed=0,
    ),
    "cnn_cifar": lambda: ThreeLayerConvNet(
        num_filters=32, filter_size=7, hidden_dim=100, dtype=np.float32, seed=0
    ),
}


def _solver(name: str, steps: int) -> Any:
    """A Solver whose ``train()`` runs one epoch of ``steps`` iterations."""
    batch = tm.MODELS[name].batch_size
    rng = np.random.default_rng(2)
    X = rng.standard_normal((batch * steps, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch * steps)
    data = {"X_train": X, "y_train": y, "X_val": X[:batch], "y_val": y[:batch]}
    return Solver(
        SOLVER_MODELS[name](),
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-3},
        batch_size=batch,
        num_epochs=1,
        num_train_samples=batch,
        num_val_samples=batch,
        verbose=False,
    )


def _solver_run(solver: Any) -> tuple[float, float]:
    """(train seconds, accuracy-check seconds) of one ``solver.train()``.

    Solver checks accuracy twice (first and last iteration) on ``batch_size``
    samples each of train and val, timed here again.
    """
    X, y, batch = solver.X_train, solver.y_train, solver.batch_size
    train = _timed(solver.train)
    check = 2 * _timed(lambda: solver.check_accuracy(X, y, num_samples=batch))
    check += 2 * _timed(lambda: solver.check_accuracy(X[:batch], y[:batch]))
    return train, check


def solver_case(name: str, steps: int, repeats: int) -> dict[str, Any]:
    """Solver samples/s (accuracy checks subtracted) against Keras ``fit``.

    Both train one epoch of ``steps`` batches on the same data, drawing their
    batches from it (the Solver samples with replacement, ``fit`` shuffles), so
    both pay for gathering each batch, which ``train_on_batch`` on a few fixed
    batches (the training table) does not. The two alternate, so the ratio is
    not skewed by the machine's speed drifting between them. The repeats reuse
    one warm model and optimizer state each: another epoch from the current
    weights.
    """
    spec = tm.MODELS[name]
    solver = _solver(name, steps)
    solver.train()  # the warm-up: Adam's state allocated, the buffers mapped
    X, y = solver.X_train, solver.y_train
    x = X.reshape(len(X), -1) if len(spec.input_shape) == 1 else X.transpose(0, 2, 3, 1)
    x = np.ascontiguousarray(x)
    model = tm.glassnet_model(name)

    def fit() -> None:
        model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)

    fit()
    runs, fit_times = [], []
    for _ in range(repeats):
        time.sleep(SETTLE_S)
        runs.append(_solver_run(solver))
        time.sleep(SETTLE_S)
        fit_times.append(_timed(fit))
    net = statistics.median(t - c for t, c in runs)
    samples = steps * spec.batch_size
    keras = samples / statistics.median(fit_times)
    return {
        "model": name,
        "batch_size": spec.batch_size,
        "solver_samples_s": samples / net,
        "keras_fit_samples_s": keras,
        "solver_over_keras": samples / net / keras,
        "accuracy_check_s": statistics.median(c for _, c in runs),
    }


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_tables(result: dict[str, Any]) -> None:
    peak = result["matmul_peak_gflops"]
    print(f"float32 matmul peak (2048^3, best of 5): {peak:.1f} GFLOP/s")
    print("\nTraining (samples/s median; peak MiB: RSS growth, own subprocess each)")
    head = f"{'model':<15}{'batch':>6}{'glassnet':>11}{'torch':>11}{'ratio':>7}"
    print(f"{head}{'gn MiB':>9}{'tch MiB':>9}{'gn GFLOP/s':>12}{'%peak':>7}")
    for r in result["train"]:
        print(
            f"{r['model']:<15}{r['batch_size']:>6}{r['glassnet_samples_s']:>11.1f}"
            f"{_fmt(r.get('torch_samples_s'), '11.1f'):>11}"
            f"{_fmt(r.get('ratio'), '7.2f'):>7}"
            f"{_fmt(r.get('glassnet_peak_mib'), '9.1f'):>9}"
            f"{_fmt(r.get('torch_peak_rss_growth_mib'), '9.1f'):>9}"
            f"{r['glassnet_gflops']:>12.2f}{100 * r['glassnet_gflops'] / peak:>6.1f}%"
        )
    print("\nInference (samples/s median)")
    print(f"{'model':<15}{'batch':>6}{'glassnet':>11}{'torch':>11}{'ratio':>7}")
    for r in result["predict"]:
        print(
            f"{r['model']:<15}{r['batch_size']:>6}{r['glassnet_samples_s']:>11.1f}"
            f"{_fmt(r.get('torch_samples_s'), '11.1f'):>11}"
            f"{_fmt(r.get('ratio'), '7.2f'):>7}"
        )
    print(
        "\nSolver path (samples/s, accuracy checks subtracted) "
        "against Keras fit, alternated"
    )
    print(f"{'model':<15}{'batch':>6}{'Solver':>11}{'fit':>11}{'ratio':>7}")
    for r in result["solver"]:
        print(
            f"{r['model']:<15}{r['batch_size']:>6}{r['solver_samples_s']:>11.1f}"
            f"{r['keras_fit_samples_s']:>11.1f}{r['solver_over_keras']:>7.2f}"
            f"   (accuracy checks {r['accuracy_check_s'] * 1e3:.1f} ms per run)"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 steps, 1 repeat")
    parser.add_argument(
        "--steps", type=int, default=None, help="default: the model's (20 or 200)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="default 5")
    parser.add_argument("--models", default=",".join(tm.MODELS))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    args.steps = args.steps or (3 if args.quick else None)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(args.models) - set(tm.MODELS))
    if unknown:
        parser.error(f"--models: expected names from {list(tm.MODELS)}; got {unknown}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    env = environment()
    print(json.dumps(env, indent=None))
    steps = {m: args.steps or tm.MODELS[m].steps for m in args.models}
    reps = args.repeats
    result: dict[str, Any] = {
        "environment": env,
        "steps": steps,
        "repeats": reps,
        "matmul_peak_gflops": matmul_peak_gflops(),
        "train": [train_case(m, steps[m], reps) for m in args.models],
        "predict": [predict_case(m, steps[m], reps) for m in args.models],
        "solver": [
            solver_case(m, steps[m], reps) for m in args.models if m in SOLVER_MODELS
        ],
    }
    print_tables(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory-probe"]:
        print(memory_probe(sys.argv[2], sys.argv[3]))
    else:
        main()
