"""Soak test: train, SIGKILL, resume, again and again; memory flat, files whole.

Not part of the test suite. From the repository root::

    python soak/soak_resume.py --minutes 5

Each cycle trains the small run of ``tests/reliability/training_child.py``
(a backup after every batch) in a forked process and SIGKILLs it after a random
delay, then checks that no checkpoint file left behind is torn or fails its
checksum; when a life reaches the end, its final weights and history must equal
the uninterrupted reference bitwise, and the run starts over. Every few cycles
the parent itself resumes a run to the end, so that its resident memory (RSS)
shows any leak in ``fit``, backing up or restoring. Exits 1 on any mismatch,
corrupt file or RSS growth above ``--max-rss-growth-mb``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from glassnet.saving.container import read_file  # noqa: E402
from tests.reliability import training_child  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def checkpoints_whole(folder: str) -> bool:
    for name in ("checkpoint.h5", "checkpoint.prev.h5"):
        path = os.path.join(folder, "backup", name)
        if os.path.exists(path):
            try:
                read_file(path)
            except Exception:  # noqa: BLE001  (any failure is a corrupt file)
                return False
    return True


def same(result, reference) -> bool:
    (wa, ha), (wb, hb) = result, reference
    return ha == hb and all(np.array_equal(a, b) for a, b in zip(wa, wb, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rss-growth-mb", type=float, default=20.0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    root = tempfile.mkdtemp(prefix="glassnet-soak-")
    ref_dir = os.path.join(root, "reference")
    start = time.perf_counter()
    training_child.train_life(ref_dir, epochs=args.epochs)
    duration = time.perf_counter() - start
    reference = training_child.read_result(ref_dir)
    run, cycles, kills, completed, corrupt, mismatches = 0, 0, 0, 0, 0, 0
    rss: list[float] = []
    folder = os.path.join(root, f"run{run}")
    deadline = time.monotonic() + 60 * args.minutes
    while time.monotonic() < deadline:
        cycles += 1
        if cycles % 10 == 0:  # the parent resumes this run to the end itself
            training_child.train_life(folder, epochs=args.epochs)
            rss.append(rss_mb())
            code = 0
        else:
            delay = float(rng.uniform(0.02, 0.5)) * duration
            code = training_child.forked_life(folder, delay, epochs=args.epochs)
        corrupt += not checkpoints_whole(folder)
        if code == 0:
            completed += 1
            mismatches += not same(training_child.read_result(folder), reference)
            shutil.rmtree(folder)
            run += 1
            folder = os.path.join(root, f"run{run}")
        else:
            kills += 1
    shutil.rmtree(root, ignore_errors=True)
    half = len(rss) // 2
    growth = max(rss[half:], default=0.0) - max(rss[: max(half, 1)], default=0.0)
    print(
        f"{cycles} cycles in {args.minutes} min: {kills} SIGKILLs, {completed} runs "
        f"completed, {mismatches} differing from the uninterrupted run, {corrupt} "
        f"corrupt checkpoint files; parent RSS {rss[0] if rss else 0:.1f} -> "
        f"{rss[-1] if rss else 0:.1f} MB over {len(rss)} in-process resumes "
        f"(growth over the second half {growth:+.1f} MB)"
    )
    ok = not mismatches and not corrupt and growth <= args.max_rss_growth_mb
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
