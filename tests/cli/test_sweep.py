import json

import pytest

from glassnet.cli import main
from glassnet.cli.sweep import train_command

pytest.importorskip("sklearn")


def sweep(tmp_path, *extra):
    args = ["sweep", "digits-mlp", "--epochs", "1", "--out", str(tmp_path), *extra]
    return main(args)


def rows(tmp_path):
    return json.loads((tmp_path / "results.json").read_text())["rows"]


def test_serial_sweep_prints_the_best_config_and_the_train_command(tmp_path, capsys):
    assert sweep(tmp_path, "--trials", "3", "--serial") == 0
    out = capsys.readouterr().out
    assert "3 trials ok, 0 failed" in out
    assert "train it fully: glassnet train digits-mlp --lr " in out
    assert "no option for {'reg'" in out
    assert len(rows(tmp_path)) == 3
    assert (tmp_path / "results.csv").read_text().startswith("trial,rung,status")
    assert (tmp_path / "lr_reg.png").is_file()
    assert (tmp_path / "learning_curves.png").is_file()


def test_resume_runs_nothing_when_every_trial_is_finished(tmp_path, capsys):
    assert sweep(tmp_path, "--trials", "2", "--serial") == 0
    before = rows(tmp_path)
    assert sweep(tmp_path, "--trials", "2", "--serial", "--resume") == 0
    assert rows(tmp_path) == before  # same wall times: nothing ran again


def test_grid_with_cross_validation(tmp_path, capsys):
    params = ["--param", "lr=choice:0.01,0.03", "--param", "units=32"]
    assert (
        sweep(tmp_path, "--grid", "--trials", "4", "--folds", "2", "--serial", *params)
        == 0
    )
    assert [r["config"] for r in rows(tmp_path)] == [
        {"lr": 0.01, "units": 32},
        {"lr": 0.03, "units": 32},
    ]
    assert "+/- " in capsys.readouterr().out


def test_successive_halving_from_the_command_line(tmp_path):
    assert (
        sweep(tmp_path, "--trials", "4", "--halving", "1", "--epochs", "2", "--serial")
        == 0
    )
    assert [(r["rung"], r["epochs"]) for r in rows(tmp_path)] == [(0, 1)] * 4 + [
        (1, 2)
    ] * 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "momentum=0.9"], "momentum"),
        (["--param", "lr=gauss:1:2"], "--param"),
        (["--folds", "1"], "--folds"),
        (["--grid", "--trials", "2", "--param", "x=choice:1,2,3"], "x"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, extra, message):
    assert sweep(tmp_path, "--serial", *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error:") and message in err


def test_train_command_maps_the_options_train_has():
    config = {"lr": 0.00123456789, "batch_size": 64, "optimizer": "sgd", "reg": 1}
    assert train_command("digits-cnn", config) == (
        "glassnet train digits-cnn --lr 0.00123457 --batch-size 64 --optimizer sgd"
    )
