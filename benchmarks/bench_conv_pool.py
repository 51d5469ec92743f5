"""Time the fast conv and pooling kernels against their naive loop twins.

Cases (cs231n's benchmark shapes):

- conv forward + backward: x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1;
- max pooling forward + backward on (100, 32, 28, 28): 2x2 stride 2 (the reshape
  path) and 3x3 stride 2 (overlapping windows, the strided path);

each in float32 and float64. The naive twins are slow, so they run ``--naive-repeats``
times (default once); the fast ones run ``--repeats`` times and the best is kept.

Usage::

    python benchmarks/bench_conv_pool.py --repeats 10
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.functional.conv import conv_backward_naive, conv_forward_naive
from glassnet.functional.conv_fast import conv_backward_fast, conv_forward_fast
from glassnet.functional.pool import max_pool_backward_naive, max_pool_forward_naive
from glassnet.functional.pool_fast import max_pool_backward_fast, max_pool_forward_fast

Pair = tuple[Callable[..., Any], Callable[..., Any]]


def best_time(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    args: tuple[Any, ...],
    dout: Any,
    repeats: int,
) -> tuple[float, Any]:
    """Best wall time of forward + backward over ``repeats`` runs, and the results."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out, cache = forward(*args)
        grads = backward(dout, cache)
        best = min(best, time.perf_counter() - start)
    return best, (out, grads)


def _scaled_error(ref: Any, other: Any) -> float:
    """Largest difference over the largest reference entry (robust near zero)."""
    return float(np.max(np.abs(other - ref)) / max(np.max(np.abs(ref)), 1e-30))


def _flat(result: tuple[Any, Any]) -> list[Any]:
    out, grads = result
    return [out, *(grads if isinstance(grads, tuple) else (grads,))]


def compare(
    name: str,
    naive: Pair,
    fast: Pair,
    args: tuple[Any, ...],
    repeats: int,
    naive_repeats: int,
) -> None:
    out, _ = fast[0](*args)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    t_naive, res_naive = best_time(*naive, args, dout, naive_repeats)
    t_fast, res_fast = best_time(*fast, args, dout, repeats)
    pairs = zip(_flat(res_naive), _flat(res_fast), strict=True)
    err = max(_scaled_error(a, b) for a, b in pairs)
    print(
        f"{name:<34} naive {t_naive:9.3f} s   fast {t_fast * 1e3:9.2f} ms   "
        f"speed-up {t_naive / t_fast:8.1f}x   max scaled diff {err:.1e}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=10,
        help="runs of each fast kernel (best kept). Default 10.",
    )
    parser.add_argument(
        "--naive-repeats",
        type=int,
        default=1,
        help="runs of each naive kernel (best kept). Default 1.",
    )
    opts = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    conv = (
        (conv_forward_naive, conv_backward_naive),
        (conv_forward_fast, conv_backward_fast),
    )
    pool = (
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward_fast, max_pool_backward_fast),
    )
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((100, 3, 31, 31)).astype(dtype)
        w = rng.standard_normal((25, 3, 3, 3)).astype(dtype)
        b = rng.standard_normal(25).astype(dtype)
        compare(
            f"conv 3x3 s2 p1 {np.dtype(dtype).name}",
            *conv,
            (x, w, b, {"stride": 2, "pad": 1}),
            opts.repeats,
            opts.naive_repeats,
        )
        x = rng.standard_normal((100, 32, 28, 28)).astype(dtype)
        for k in (2, 3):
            param = {"pool_height": k, "pool_width": k, "stride": 2}
            compare(
                f"max pool {k}x{k} s2 {np.dtype(dtype).name}",
                *pool,
                (x, param),
                opts.repeats,
                opts.naive_repeats,
            )


if __name__ == "__main__":
    main()
