"""``glassnet info`` and ``glassnet gradcheck``: the installation and its gradients."""

from __future__ import annotations

import argparse
import os

import numpy as np

from glassnet import __version__, backend
from glassnet.cli import _gradcheck_cases
from glassnet.cli._common import THREAD_VARS
from glassnet.datasets._sources import ENV_VAR, search_dirs


def _blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except Exception:  # numpy < 1.26 has no mode="dicts"; never fail `info` for it
        return "unknown"


def cmd_info(args: argparse.Namespace) -> int:
    """Print the version, the array backend, BLAS and where datasets are looked for."""
    from glassnet._internal.threads import num_threads
    from glassnet.datasets import cifar10, fashion_mnist, mnist

    print(f"glassnet {__version__}")
    print(f"array backend: {backend.backend_name()} (floatx {backend.floatx()})")
    print(f"numpy: {np.__version__}")
    print(f"BLAS: {_blas_name()}")
    for var in THREAD_VARS:
        print(f"{var}: {os.environ.get(var, 'unset')}")
    print(f"element-wise kernel threads: {num_threads()}")
    print(f"datasets (searched in this order; set ${ENV_VAR} to add a place):")
    for name, module in (
        ("mnist", mnist),
        ("fashion_mnist", fashion_mnist),
        ("cifar10", cifar10),
    ):
        print(f"  {name}:")
        for what, directory in search_dirs(name, None, module.SYSTEM_DIRS):
            print(f"    {what}: {directory if directory is not None else '(unset)'}")
    print("  digits: bundled with scikit-learn (pip install glassnet[data])")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Check every kernel and layer gradient numerically; 1 if any fails."""
    from glassnet.gradcheck import check_kernel

    rows = []
    for name, fwd, bwd, call, *wrt in _gradcheck_cases.kernel_cases(
        np.random.default_rng(0)
    ):
        errors = check_kernel(fwd, bwd, *call, wrt=wrt[0] if wrt else None)
        rows.append((name, max(errors.values())))
    for name, cls, kwargs, shape in _gradcheck_cases.layer_cases():
        error = _gradcheck_cases.check_layer(cls, kwargs, shape)
        rows.append((f"layers.{name}", error))
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
