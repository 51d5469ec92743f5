import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from glassnet.cli import main
from glassnet.models import load_model


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "digits-cnn", "--epochs", "2", "--out", str(out)])
    assert code == 0
    return out


def test_info_prints_the_version_and_the_dataset_places(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert glassnet.__version__ in text
    assert str(tmp_path / "mnist") in text
    assert "user cache" in text
    assert "/usr/share/datasets/fashion-mnist" in text


def test_gradcheck_passes_every_kernel_and_layer(capsys):
    assert main(["gradcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.endswith(("PASS", "FAIL"))]
    assert rows and all(row.endswith("PASS") for row in rows)
    names = " ".join(rows)
    for name in ("conv naive", "max pool fast", "batchnorm", "layers.Conv2D"):
        assert name in names


def test_gradcheck_returns_1_when_a_row_fails(capsys):
    # A threshold below every rounding error makes every row fail.
    assert main(["gradcheck", "--threshold", "1e-30"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_train_writes_every_file_and_a_loadable_model(run_dir):
    names = ["model.h5", "best.weights.h5", "history.csv", "history.json", "report.md"]
    for name in names:
        assert (run_dir / name).is_file(), name
    model = load_model(run_dir / "model.h5")
    pred = model.predict(np.zeros((3, 8, 8, 1), dtype=np.float32), verbose=0)
    assert pred.shape == (3, 10)
    assert "accuracy" in (run_dir / "report.md").read_text()
    with open(run_dir / "history.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2


def test_best_weights_load_into_the_saved_model(run_dir):
    model = load_model(run_dir / "model.h5")
    model.load_weights(run_dir / "best.weights.h5")


def test_summary_prints_the_layers_of_a_saved_model(run_dir, capsys):
    assert main(["summary", str(run_dir / "model.h5")]) == 0
    text = capsys.readouterr().out
    assert "Conv2D" in text and "Total params" in text


def test_evaluate_prints_test_loss_and_accuracy(run_dir, capsys):
    assert main(["evaluate", str(run_dir / "model.h5"), "--data", "digits"]) == 0
    text = capsys.readouterr().out
    assert "test loss" in text and "test accuracy" in text


@pytest.mark.parametrize(
    "argv, word",
    [
        (["train", "no-such-preset"], "preset"),
        (["train", "--epochs", "0"], "--epochs"),
        (["summary", "missing.h5"], "not found"),
        (["evaluate", "missing.h5"], "not found"),
    ],
)
def test_bad_arguments_give_exit_code_2_and_one_line(argv, word, capsys, tmp_path):
    argv = [a if a != "missing.h5" else str(tmp_path / a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error: ") and word in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not a model")
    assert main(["summary", str(bad)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--debug", "summary", str(bad)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "glassnet.cli", "info"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert glassnet.__version__ in done.stdout
