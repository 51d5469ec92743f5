"""Ctrl-C (SIGINT) sent to a training subprocess: checkpoint, message, exit 130."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from glassnet.cli import main
from glassnet.models import load_model
from glassnet.saving.container import read_file
from tests.reliability import training_child

ROOT = Path(__file__).resolve().parents[2]


def _interrupt_when(argv, ready, timeout=60):
    """Start ``argv``; send SIGINT once ``ready()``; return (exit code, output)."""
    child = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + timeout
    while not ready() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=timeout)
    return child.returncode, out


def test_ctrl_c_in_fit_backs_up_and_the_resumed_run_is_bitwise_identical(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    training_child.train_life(str(whole))
    backup = parts / "backup" / "checkpoint.h5"
    argv = [sys.executable, "-m", "tests.reliability.training_child", str(parts)]
    code, out = _interrupt_when([*argv, "--slow", "0.02"], backup.exists)
    assert code == 130, out
    assert "interrupted" in out and "BackupAndRestore" in out
    read_file(str(backup))  # whole, with its checksum
    training_child.train_life(str(parts))
    (wa, ha), (wb, hb) = (training_child.read_result(str(p)) for p in (whole, parts))
    assert all(np.array_equal(a, b) for a, b in zip(wa, wb, strict=True))
    assert ha == hb


def test_ctrl_c_in_glassnet_train_prints_the_resume_command(tmp_path):
    out_dir = tmp_path / "run"
    # Enough epochs that the signal, sent once the first backup exists, lands
    # during training rather than while the outputs are written.
    argv = ["train", "digits-mlp", "--epochs", "6", "--out", str(out_dir)]
    whole = tmp_path / "whole"
    assert main(["train", "digits-mlp", "--epochs", "6", "--out", str(whole)]) == 0
    backup = out_dir / "backup" / "checkpoint.h5"
    command = [sys.executable, "-m", "glassnet", *argv]
    code, out = _interrupt_when(command, backup.exists)
    assert code == 130, out
    lines = out.strip().splitlines()
    # The message leads with the command that goes on, then says why.
    resume = next(ln for ln in lines if ln.startswith("to go on: "))
    assert lines.index(resume) < len(lines) - 1 and "interrupted" in lines[-1]
    assert resume.startswith("to go on: glassnet train digits-mlp --out ")
    assert resume.endswith("--resume")
    words = resume.removeprefix("to go on: glassnet ").split()
    assert main(words) == 0
    a, b = load_model(whole / "model.h5"), load_model(out_dir / "model.h5")
    assert all(
        np.array_equal(u, v)
        for u, v in zip(a.get_weights(), b.get_weights(), strict=True)
    )
