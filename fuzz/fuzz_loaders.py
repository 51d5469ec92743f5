"""Long fuzzing runs of glassnet's file loaders (not part of the test suite).

Each target feeds mutated files to one loader and checks the contract of
``tests/fuzz/corpus.py``: a correct load or a ``glassnet.errors.GlassnetError``,
nothing else (no other exception, crash, hang or memory blow-up).

Usage (from the repository root)::

    python fuzz/fuzz_loaders.py TARGET [--engine atheris|hypothesis]
                                       [--seconds S] [--examples N]

TARGET is one of ``model``, ``weights``, ``forged-model``, ``idx``, ``idx-gz``,
``cifar-bin``, ``cifar-py``, ``solver-checkpoint``, or ``all`` (each in turn, in
its own process).
atheris (``pip install atheris``) is coverage-guided and runs for ``--seconds``;
without it, or with ``--engine hypothesis``, hypothesis draws ``--examples``
mutations. A summary line ``TARGET: N files, L loaded, R refused`` ends each run;
any contract violation stops the run with the offending input saved under
``fuzz/crashes/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGETS = (
    "model",
    "weights",
    "forged-model",
    "idx",
    "idx-gz",
    "cifar-bin",
    "cifar-py",
    "solver-checkpoint",
)
FORGED_KEYS = ("model", "compile", "optimizer_state", "rng_state", "layer_order")


def _forged(data: bytes) -> str:
    """First byte: which metadata entry; the rest: its new JSON text."""
    from tests.fuzz import corpus

    meta, tensors = _contents()
    if data:
        meta[FORGED_KEYS[data[0] % len(FORGED_KEYS)]] = data[1:].decode(
            "utf-8", "replace"
        )
    return corpus.check_forged_model(meta, tensors)


_CONTENTS: list = []


def _contents() -> tuple[dict, dict]:
    from tests.fuzz import corpus

    if not _CONTENTS:
        _CONTENTS.append(corpus.model_contents())
    meta, tensors = _CONTENTS[0]
    return dict(meta), dict(tensors)


def target(name: str) -> tuple[Callable[[bytes], str], list[bytes]]:
    """The check of ``name`` and its seed files."""
    from tests.fuzz import corpus

    if name == "forged-model":
        meta, _ = _contents()
        seeds = [bytes([i]) + meta[k].encode() for i, k in enumerate(FORGED_KEYS)]
        return _forged, seeds
    py = corpus.cifar_python_seed()
    return {
        "model": (corpus.check_model_file, [corpus.model_seed()]),
        "weights": (corpus.check_weights_file, [corpus.weights_seed()]),
        "idx": (corpus.check_idx, [corpus.idx_seed(False)]),
        "idx-gz": (corpus.check_idx, [corpus.idx_seed(True)]),
        "cifar-bin": (corpus.check_cifar_binary, [corpus.cifar_binary_seed()]),
        "cifar-py": (lambda d: corpus.check_cifar_python(d, py), [py]),
        "solver-checkpoint": (
            corpus.check_solver_checkpoint,
            [corpus.solver_checkpoint_seed()],
        ),
    }[name]


class Tally:
    """Counts outcomes; saves the input of a violation before re-raising."""

    def __init__(self, name: str) -> None:
        self.name, self.counts, self.start = name, Counter(), time.monotonic()

    def run(self, check: Callable[[bytes], str], data: bytes) -> None:
        try:
            self.counts[check(data)] += 1
        except BaseException:
            os.makedirs(os.path.join(ROOT, "fuzz", "crashes"), exist_ok=True)
            path = os.path.join(ROOT, "fuzz", "crashes", f"{self.name}-{len(data)}")
            with open(path, "wb") as f:
                f.write(data)
            print(f"{self.name}: contract violated; input saved to {path}")
            raise
        if sum(self.counts.values()) % 500 == 0:
            self.report()

    def report(self) -> None:
        n = sum(self.counts.values())
        seconds = time.monotonic() - self.start
        line = {"target": self.name, "files": n, "seconds": round(seconds, 1)}
        print(json.dumps({**line, **self.counts}), flush=True)


def run_atheris(name: str, seconds: int) -> None:
    import tempfile

    import atheris

    with atheris.instrument_imports(include=["glassnet"]):
        import glassnet.datasets.cifar_format  # noqa: F401
        import glassnet.datasets.idx  # noqa: F401
        import glassnet.saving  # noqa: F401
    check, seeds = target(name)
    tally = Tally(name)
    corpus_dir = tempfile.mkdtemp(prefix=f"glassnet-fuzz-{name}-")
    for i, seed in enumerate(seeds):
        with open(os.path.join(corpus_dir, f"seed{i}"), "wb") as f:
            f.write(seed)
    args = [
        sys.argv[0],
        corpus_dir,
        f"-max_total_time={seconds}",
        "-timeout=20",  # a hang is a failure
        "-rss_limit_mb=3072",  # so is a memory blow-up
        "-max_len=65536",
        # libFuzzer's own crash files go beside ours, not in the working directory.
        f"-artifact_prefix={os.path.join(ROOT, 'fuzz', 'crashes')}{os.sep}",
    ]
    os.makedirs(os.path.join(ROOT, "fuzz", "crashes"), exist_ok=True)
    atheris.Setup(args, lambda data: tally.run(check, data))
    try:
        atheris.Fuzz()
    finally:
        tally.report()


def run_hypothesis(name: str, examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.fuzz import corpus

    check, seeds = target(name)
    tally = Tally(name)
    steps = corpus.mutation_steps(max_blob=32, max_steps=4)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.sampled_from(seeds), steps)
    def fuzz(seed: bytes, mutations: list) -> None:
        tally.run(check, corpus.mutated(seed, mutations))

    fuzz()
    tally.report()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=(*TARGETS, "all"))
    parser.add_argument("--engine", choices=("atheris", "hypothesis"), default=None)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--examples", type=int, default=5000)
    args = parser.parse_args(argv)
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if args.target == "all":
        failed = 0
        for name in TARGETS:
            command = [sys.executable, __file__, name, "--engine", engine]
            command += ["--seconds", str(args.seconds)]
            command += ["--examples", str(args.examples)]
            failed |= subprocess.call(command) != 0
        return failed
    if engine == "atheris":
        run_atheris(args.target, args.seconds)
    else:
        run_hypothesis(args.target, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
