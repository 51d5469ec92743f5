"""What every subcommand shares: the error type, argument types, model loading."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class CliError(Exception):
    """A user-facing error: its message says what went wrong and how to fix it."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised as :class:`CliError`."""

    def error(self, message: str) -> Any:
        raise CliError(f"{message} (see `{self.prog} --help`)")


def _number(text: str, parse: Any, ok: Any, expected: str) -> Any:
    """Parse ``text`` with ``parse``; refuse it unless ``ok(value)``."""
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; received {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, "an integer >= 1")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0, such as a seed."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, float, lambda v: 0 < v < float("inf"), "a number > 0")


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, lambda v: 0 <= v < float("inf"), "a number >= 0")


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1), such as a dropout rate."""
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def set_threads(n: int) -> None:
    """Limit BLAS and glassnet's element-wise kernels to ``n`` threads, now
    (threadpoolctl) and for child processes."""
    from glassnet._internal.threads import set_num_threads

    for var in THREAD_VARS:
        os.environ[var] = str(n)
    set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(
            f"note: --threads {n} set {', '.join(THREAD_VARS)}, but NumPy was "
            "imported before; set them in the shell or pip install threadpoolctl"
        )
        return
    threadpool_limits(n)


def load_model_file(path: str, compile: bool) -> Any:
    """The model saved at ``path``, or a :class:`CliError` saying what to pass."""
    from glassnet import models

    if not Path(path).is_file():
        raise CliError(
            f"model file {path!r} not found; give the path of a saved model, "
            "e.g. runs/digits-cnn/model.h5 written by `glassnet train`"
        )
    return models.load_model(path, compile=compile)


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, first column left-aligned and the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1)]
    lines[1] += "|"
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
