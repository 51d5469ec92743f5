"""glassnet train never loses or mixes the results in --out: everything is checked
before anything there changes, one run writes there at a time, and --resume
goes on with the recorded settings (an option given again is honoured or
refused, never ignored)."""

import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from glassnet._internal import memory as _memory
from glassnet.callbacks import CSVLogger, TerminateOnNaN
from glassnet.cli import main
from glassnet.cli.rundir import LOCK, RECORD
from glassnet.models import load_model

ROOT = Path(__file__).resolve().parents[2]


def train(out, *extra, preset="digits-mlp"):
    return main(["train", *([preset] if preset else []), "--out", str(out), *extra])


def interrupted(out, monkeypatch, *extra, epochs=4, at_epoch=1):
    """A run stopped as by Ctrl-C at the end of epoch ``at_epoch``, before that
    epoch's backup (BackupAndRestore backs up last): the backup holds the
    epochs before it. ``out`` may be an argv word ``--out=...``."""
    real = CSVLogger.on_epoch_end

    def stop(self, epoch, logs=None):
        real(self, epoch, logs)
        if epoch == at_epoch:
            raise KeyboardInterrupt

    words = [out] if str(out).startswith("--out=") else ["--out", str(out)]
    with monkeypatch.context() as m:
        m.setattr(CSVLogger, "on_epoch_end", stop)
        argv = ["train", "digits-mlp", *words, "--epochs", str(epochs), *extra]
        assert main(argv) == 130


def resume_line(printed):
    """The Ctrl-C message's first line: the command that goes on."""
    (line,) = [ln for ln in printed.splitlines() if ln.startswith("to go on: ")]
    return line


def snapshot(out):
    """Every file under ``out`` (but the lock) and its bytes."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != LOCK
    }


def weights(path):
    return load_model(path).get_weights()


def assert_same_weights(a, b):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


def rows(path):
    with open(path, newline="") as f:
        return [row["epoch"] for row in csv.DictReader(f)]


# -- a refused command changes nothing --


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "4"], "did not finish.*--resume.*--overwrite"),
        (["--overwrite", "--batch-size", "5000"], "--batch-size: expected at most"),
        (["--overwrite", "--units", "0"], "--units"),
        (["--resume", "--batch-size", "64"], "--batch-size: the run in .* 32"),
        (["--resume", "--lr", "0.5"], "--lr: the run in .* 0.001"),
        (["--resume", "--epochs", "2"], "--epochs: expected at least 4"),
        (["--resume", "--overwrite"], "--resume and --overwrite"),
        (["fashion-mlp", "--overwrite", "--reduce-lr", "2"], "--reduce-lr"),
        (["fashion-mlp", "--resume"], "holds a run of digits-mlp"),
        (["mnist-cnn", "--overwrite", "--data", "{empty}"], "mnist"),
    ],
)
def test_a_refused_command_keeps_the_backup_and_every_file(
    tmp_path, monkeypatch, capsys, argv, message
):
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    before = snapshot(out)
    assert "backup/checkpoint.h5" in before
    (tmp_path / "empty").mkdir()
    argv = [a.replace("{empty}", str(tmp_path / "empty")) for a in argv]
    preset = None if argv[0].startswith("--") else argv.pop(0)
    capsys.readouterr()
    code = train(out, *argv, preset=preset or "digits-mlp")
    err = capsys.readouterr().err
    assert code == 2
    if preset != "mnist-cnn":  # a missing dataset also lists where it looked
        assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert snapshot(out) == before


def test_the_printed_resume_command_goes_on_to_the_uninterrupted_result(
    tmp_path, monkeypatch, capsys
):
    whole, out = tmp_path / "whole", tmp_path / "run"
    assert train(whole, "--epochs", "4", "--units", "16", "--lr", "0.002") == 0
    capsys.readouterr()
    interrupted(out, monkeypatch, "--units", "16", "--lr", "0.002")
    printed = resume_line(capsys.readouterr().out)
    assert printed.startswith("to go on: glassnet train digits-mlp --out")
    assert printed.endswith("--resume")
    assert json.loads((out / RECORD).read_text())["status"] == "interrupted"
    # --resume alone: the preset and every setting come from the record.
    assert main(["train", "--out", str(out), "--resume"]) == 0
    assert_same_weights(weights(out / "model.h5"), weights(whole / "model.h5"))
    assert rows(out / "history.csv") == ["0", "1", "2", "3"]
    record = json.loads((out / RECORD).read_text())
    assert record["status"] == "finished" and record["options"]["units"] == 16


def test_resuming_a_finished_run_writes_the_same_model(tmp_path):
    # digits-cnn averages its weights (use_ema) at the end of fit: a resumed
    # run with no epoch left must do so too (it used to skip it).
    out = tmp_path / "run"
    assert train(out, "--epochs", "2", preset="digits-cnn") == 0
    first = weights(out / "model.h5")
    history = (out / "history.json").read_text()
    assert train(out, "--epochs", "2", "--resume", preset="digits-cnn") == 0
    assert_same_weights(weights(out / "model.h5"), first)
    assert (out / "history.json").read_text() == history


def test_a_fresh_run_over_an_unfinished_one_needs_overwrite(tmp_path, monkeypatch):
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    assert train(out, "--epochs", "2", "--overwrite") == 0
    assert rows(out / "history.csv") == ["0", "1"]
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2


def test_a_fresh_run_over_a_finished_one_replaces_only_its_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", "2", "--tensorboard") == 0
    assert (out / "logs").is_dir()
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert train(out, "--epochs", "1") == 0
    assert "starting afresh" in capsys.readouterr().out
    assert not (out / "logs").exists()  # the earlier run's, not this one's
    assert (out / "notes.txt").read_text() == "mine"
    assert rows(out / "history.csv") == ["0"]


def test_an_interruption_before_the_first_backup_prints_no_resume_command(
    tmp_path, monkeypatch, capsys
):
    # Two Ctrl-Cs: the second stops fit at once, before anything is backed up.
    def stop(self, batch, logs=None):
        raise KeyboardInterrupt

    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(TerminateOnNaN, "on_train_batch_end", stop)
        assert train(out, "--epochs", "3") == 130
    printed = capsys.readouterr().out
    assert "nothing to resume" in printed and "--resume" not in printed
    assert "glassnet train digits-mlp --out" in printed
    assert train(out, "--epochs", "1") == 0  # no backup to protect: it starts


# -- one run at a time --

SLOW_CHILD = """
import sys, time
from glassnet.callbacks import CSVLogger
from glassnet.cli import main
real = CSVLogger.on_epoch_end
def slow(self, epoch, logs=None):
    real(self, epoch, logs)
    time.sleep(0.05)
CSVLogger.on_epoch_end = slow
sys.exit(main(sys.argv[1:]))
"""


def test_a_second_run_into_the_same_out_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "digits-mlp", "--epochs", "60", "--out", str(out)]
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_CHILD, *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out / LOCK).exists() and time.monotonic() < deadline:
        assert first.poll() is None, first.communicate()[0]
        time.sleep(0.02)
    second = ["train", "digits-mlp", "--epochs", "3", "--seed", "1"]
    code = main([*second, "--out", str(out)])
    err = capsys.readouterr().err
    assert first.poll() is None, "the first run ended before the second was tried"
    assert code == 2
    assert f"another glassnet run (pid {first.pid} on {socket.gethostname()}" in err
    assert len(err.strip().splitlines()) == 1
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 0, output
    # The first run's files are whole and its own.
    assert rows(out / "history.csv") == [str(i) for i in range(60)]
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 60
    record = json.loads((out / RECORD).read_text())
    assert record["status"] == "finished" and record["options"]["seed"] == 0
    model = load_model(out / "model.h5")
    model.load_weights(out / "best.weights.h5")
    assert not (out / LOCK).exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": 2**22 + 1, "host": "h", "started": ""}))
    assert train(out, "--epochs", "1") == 0
    assert not (out / LOCK).exists()


# -- clear refusals --


def test_out_must_be_a_writable_directory(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for out, message in (
        ("", "--out: expected a directory path; received ''"),
        (str(tmp_path / "file"), "that path is a file"),
        ("/proc/glassnet-out", "--out /proc/glassnet-out: cannot create"),
    ):
        assert main(["train", "digits-mlp", "--epochs", "1", "--out", out]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "file").read_text() == "x"


def test_a_model_too_large_for_the_memory_is_refused_before_building(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(_memory, "available_memory", lambda: 8 * 2**30)
    out = tmp_path / "run"
    # Refused before building: no weight was drawn, no 3 GB kernel allocated.
    monkeypatch.setattr(
        "glassnet.models.Sequential.__init__",
        lambda *a, **k: pytest.fail("the model was built"),
    )
    assert train(out, "--units", "10000000") == 2
    err = capsys.readouterr().err
    assert "750,000,010 parameters" in err and "8.0 GiB" in err
    assert "give a smaller --units or --batch-size" in err
    assert not out.exists()


# Divergence on purpose: NumPy's overflow warnings are expected.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_penalty_names_reg_and_the_logged_batch(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", "1", "--reg", "1e300") == 2
    captured = capsys.readouterr()
    logged = [ln for ln in captured.out.splitlines() if "Invalid loss" in ln]
    batch = logged[0].split()[1].rstrip(":")
    assert f"batch {batch} (counted from 0, as logged)" in captured.err
    assert "--reg" in captured.err
    # Nothing worth resuming: a new run in the same directory just starts.
    assert json.loads((out / RECORD).read_text())["status"] == "failed"
    assert train(out, "--epochs", "1") == 0
    assert os.path.exists(out / "model.h5")


# -- what a review found after the first round --


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_failed_run_cannot_be_resumed_into_a_nan_model(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", "2", "--reg", "1e300") == 2
    before = snapshot(out)
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume"]) == 2
    assert "failed (its loss became NaN" in capsys.readouterr().err
    assert snapshot(out) == before


def test_resume_without_a_record_is_refused(tmp_path, monkeypatch, capsys):
    # Options given now could not be checked: --lr would be silently ignored.
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    (out / RECORD).unlink()
    before = snapshot(out)
    assert train(out, "--epochs", "4", "--resume", "--lr", "0.01") == 2
    assert f"no {RECORD} of its settings" in capsys.readouterr().err
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"preset": "foo"}, "run.json: expected a preset in"),
        ({"options": {"batch_size": "32"}}, "options['batch_size'] as --batch-size"),
        ({"options": {"epochs": True}}, "options['epochs'] as --epochs takes it"),
        ({"options": {"epochs": -3}}, "received -3 (move the file away"),
        ({"options": {"lr": 0}}, "options['lr'] as --lr takes it; received 0"),
        ({"options": {"optimizer": "bogus"}}, "options['optimizer'] in"),
        (
            {"status": "odd"},
            "expected a glassnet run record {format, preset, options, status};",
        ),
    ],
)
def test_a_bad_record_is_refused_in_one_line_and_overwrite_gets_past_it(
    tmp_path, monkeypatch, capsys, change, message
):
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    record = json.loads((out / RECORD).read_text())
    for key, value in change.items():
        if isinstance(value, dict):
            record[key].update(value)
        else:
            record[key] = value
    (out / RECORD).write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert train(out, "--epochs", "1", "--overwrite") == 0


def test_a_run_in_progress_is_named_before_any_other_advice(
    tmp_path, monkeypatch, capsys
):
    from glassnet.cli.rundir import locked

    out = tmp_path / "run"
    interrupted(out, monkeypatch)  # unfinished, with a backup
    capsys.readouterr()
    with locked(out):  # as if a run were writing there now
        assert train(out, "--epochs", "4") == 2
    err = capsys.readouterr().err
    assert "another glassnet run (pid" in err and "--overwrite" not in err


def test_ctrl_c_while_the_outputs_are_written_prints_the_resume_command(
    tmp_path, monkeypatch, capsys
):
    from glassnet.cli import outputs

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(outputs, "write_report", stop)
        assert train(out, "--epochs", "2") == 130
    assert resume_line(capsys.readouterr().out).endswith("--resume")
    assert json.loads((out / RECORD).read_text())["status"] == "interrupted"
    assert main(["train", "--out", str(out), "--resume"]) == 0  # writes them now
    assert (out / "report.md").is_file()


def test_the_resume_command_of_an_out_starting_with_a_dash_works(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    interrupted("--out=-dash", monkeypatch)
    printed = resume_line(capsys.readouterr().out)
    words = printed.removeprefix("to go on: glassnet ").split()
    assert words[words.index("--out") + 1] == os.path.join(".", "-dash")
    assert main(words) == 0


def test_a_lock_file_that_cannot_be_written_is_one_clear_line(
    tmp_path, monkeypatch, capsys
):
    from glassnet.cli import rundir

    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rundir.os, "write", full)
    assert train(tmp_path / "run", "--epochs", "1") == 2
    err = capsys.readouterr().err
    assert "cannot write its lock file (No space left on device)" in err


# -- what the second review found --


def test_resume_cannot_add_tensorboard_and_keeps_the_record(
    tmp_path, monkeypatch, capsys
):
    # TensorBoard has a state: a resumed run could not match its callbacks.
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    before = snapshot(out)
    assert main(["train", "--out", str(out), "--resume", "--tensorboard"]) == 2
    assert "--tensorboard: the run in" in capsys.readouterr().err
    assert snapshot(out) == before
    assert main(["train", "--out", str(out), "--resume"]) == 0


def test_a_refused_resume_leaves_the_record_as_it_was(tmp_path, monkeypatch):
    # The backup is refused by fit itself (here: its data no longer matches).
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    record = (out / RECORD).read_bytes()
    from glassnet.cli import train as train_mod

    real = train_mod.train_val_test_split

    def other_split(x, y, **kwargs):
        (a, b), val, test = real(x, y, **kwargs)
        return (a[::-1], b[::-1]), val, test

    monkeypatch.setattr(train_mod, "train_val_test_split", other_split)
    assert main(["train", "--out", str(out), "--resume", "--epochs", "6"]) == 2
    assert (out / RECORD).read_bytes() == record


def test_overwrite_replaces_every_output_of_the_earlier_run(
    tmp_path, monkeypatch, capsys
):
    from glassnet.cli import outputs

    out = tmp_path / "run"
    assert train(out, "--epochs", "2") == 0  # model.h5, report.md, plots...
    first = snapshot(out)
    assert all(p.name in outputs.PLOTS for p in out.glob("*.png"))
    # Resumed, then interrupted: its record lists no files of its own yet.
    interrupted(out, monkeypatch, "--resume", epochs=6, at_epoch=3)
    assert json.loads((out / RECORD).read_text())["files"] == []
    interrupted(out, monkeypatch, "--overwrite", "--seed", "5", epochs=4)
    left = snapshot(out)
    # Nothing of the first run is left beside the second's backup and record.
    assert not any(name in left for name in ("model.h5", "report.md", "history.json"))
    assert not any(left.get(k) == v for k, v in first.items() if k != "run.json")


def test_ctrl_c_before_training_starts_changes_nothing_and_offers_no_resume(
    tmp_path, monkeypatch, capsys
):
    from glassnet.cli import train as train_mod

    out = tmp_path / "run"
    assert train(out, "--epochs", "1") == 0
    before = snapshot(out)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "keras_data", stop)
    capsys.readouterr()
    assert train(out, "--epochs", "1", "--seed", "1") == 130
    printed = capsys.readouterr().out
    assert (
        "before training started; nothing in" in printed and "--resume" not in printed
    )
    assert snapshot(out) == before


def test_a_symlinked_backup_is_unlinked_not_followed(tmp_path):
    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    assert train(out, "--epochs", "1") == 0
    (out / "backup").rename(elsewhere)
    (out / "backup").symlink_to(elsewhere)
    kept = sorted(p.name for p in elsewhere.iterdir())
    assert train(out, "--epochs", "1", "--seed", "3") == 0
    assert sorted(p.name for p in elsewhere.iterdir()) == kept  # not deleted
    assert (out / "backup").is_dir() and not (out / "backup").is_symlink()


def test_a_resume_refusal_says_without_for_an_option_never_given(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    interrupted(out, monkeypatch)
    assert train(out, "--epochs", "4", "--resume", "--early-stopping", "3") == 2
    assert "trained without --early-stopping" in capsys.readouterr().err


def test_giving_a_default_again_on_resume_is_no_change(tmp_path, monkeypatch):
    out = tmp_path / "run"
    interrupted(out, monkeypatch)  # digits-mlp: split seed = --seed 0
    assert train(out, "--epochs", "4", "--resume", "--split-seed", "0") == 0
