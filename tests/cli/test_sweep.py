import json
import shlex

import numpy as np
import pytest

from glassnet.cli import main, outputs
from glassnet.cli.sweep import train_command
from glassnet.datasets import cifar10
from glassnet.models import load_model
from glassnet.presets import PRESETS
from glassnet.tune import PresetTrial, load_json, preset_data, trials
from tests.datasets.builders import write_cifar

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
    assert " --reg " in out and "--epochs 30 --seed " in out  # the preset's 30
    assert "(with --epochs 1 instead, it repeats trial " in out
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
        # Refused before any trial runs (issue 16): each used to fail every
        # trial, be truncated or silently overridden.
        (["--param", "units=uniform:32.5:100"], "units: expected integers"),
        (["--param", "units=choice:32,64.5"], "units: expected an integer"),
        (["--param", "lr=choice:"], "--param: expected choice:A,B,..."),
        (["--param", "lr=1e-3", "--param", "lr=1e-2"], "'lr=1e-3' and 'lr=1e-2'"),
        (["--param", "lr=-1"], "lr: expected a number"),
        (["--param", "optimizer=choice:adam,adamm"], "'adamm'"),
        (["--param", "dropout=uniform:0:1"], "dropout (high bound)"),
        (["--param", "epochs=2"], "--param epochs: expected either it or --epochs"),
        (["--halving", "3"], "--halving: expected at most the trials' --epochs (1)"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, extra, message):
    assert sweep(tmp_path, "--serial", *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error:") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "results.json").exists()


def test_more_folds_than_samples_are_refused_and_earlier_results_are_kept(
    tmp_path, capsys
):
    assert sweep(tmp_path, "--trials", "1", "--serial") == 0
    before = rows(tmp_path)
    capsys.readouterr()
    # Every trial used to fail on it, after the earlier results were deleted.
    assert sweep(tmp_path, "--serial", "--folds", "5000") == 2
    err = capsys.readouterr().err
    assert err == "glassnet: error: folds: expected an integer <= 1437; received 5000\n"
    assert rows(tmp_path) == before
    assert sweep(tmp_path, "--trials", "1", "--serial", "--seed", "1") == 0
    assert "note: a new sweep replaces " in capsys.readouterr().out


def test_resume_with_other_epochs_or_folds_is_refused_not_mixed(tmp_path, capsys):
    assert sweep(tmp_path, "--trials", "2", "--serial") == 0  # at --epochs 1
    before = rows(tmp_path)
    capsys.readouterr()
    # The finished trials trained 1 epoch; those still to run would train 2.
    args = ["sweep", "digits-mlp", "--epochs", "2", "--out", str(tmp_path)]
    assert main([*args, "--trials", "3", "--serial", "--resume"]) == 2
    assert "trial.epochs: 1 -> 2" in capsys.readouterr().err
    args[3] = "1"
    assert main([*args, "--trials", "3", "--serial", "--resume", "--folds", "2"]) == 2
    assert "trial.folds: None -> 2" in capsys.readouterr().err
    assert rows(tmp_path) == before


def test_an_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "digits-mlp", "--serial", "--out", ""]) == 2
    assert "--out: expected a directory; received ''" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_epochs_in_the_space_with_halving_are_refused_before_any_trial(
    tmp_path, capsys
):
    args = ["sweep", "digits-mlp", "--serial", "--out", str(tmp_path / "s")]
    args += ["--halving", "1", "--param", "epochs=choice:2,4"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "space: expected no 'epochs' with successive halving" in err
    assert not (tmp_path / "s").exists()


def test_train_command_maps_every_hyperparameter_onto_its_option():
    config = {"lr": 0.00123456789, "batch_size": 64, "optimizer": "sgd", "reg": 1}
    config.update(dropout=0.25, units=32.0)
    assert train_command("digits-cnn", config, seed=5, split_seed=0) == (
        "glassnet train digits-cnn --lr 0.00123456789 --batch-size 64 "
        "--optimizer sgd --reg 1 --dropout 0.25 --units 32 "
        f"--epochs {PRESETS['digits-cnn'].epochs} --seed 5 --split-seed 0"
    )
    solver = {"weight_scale": 0.1 / 3, "lr_decay": 0.9, "epochs": 4, "seed": 2}
    # Floats are written in full (repr), the Solver presets' split is fixed.
    assert train_command("cifar10-fc", solver, seed=9, split_seed=1) == (
        "glassnet train cifar10-fc --weight-scale 0.03333333333333333 "
        "--lr-decay 0.9 --epochs 4 --seed 2"
    )
    assert train_command("digits-mlp", {}, seed=0, split_seed=0).endswith(
        "--epochs 30 --seed 0"
    )
    with pytest.raises(ValueError, match="momentum"):
        train_command("digits-mlp", {"momentum": 0.9})


def _printed_command(out: str, epochs: int) -> list[str]:
    """The argv of the sweep's train command, at ``epochs`` epochs."""
    line = next(x for x in out.splitlines() if x.startswith("train it fully: "))
    words = shlex.split(line.removeprefix("train it fully: "))
    assert words[:2] == ["glassnet", "train"]
    words[words.index("--epochs") + 1] = str(epochs)
    return words[1:]


def test_the_printed_command_at_the_trials_epochs_repeats_the_best_trial(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(outputs, "has_matplotlib", lambda: False)  # no plots: fast
    space = ["lr=loguniform:1e-3:1e-1", "reg=loguniform:1e-5:1e-2"]
    space += ["dropout=uniform:0:0.5", "units=randint:16:48"]
    params = [w for p in space for w in ("--param", p)]
    sweep_dir, train_dir = tmp_path / "sweep", tmp_path / "train"
    argv = ["sweep", "digits-mlp", "--serial", "--trials", "2", "--epochs", "2"]
    assert main([*argv, "--seed", "3", "--out", str(sweep_dir), *params]) == 0
    best = load_json(sweep_dir / "results.json").best
    argv = _printed_command(capsys.readouterr().out, epochs=2)
    assert argv[argv.index("--seed") + 1] == str(best["seed"])
    assert argv[argv.index("--split-seed") + 1] == "3"
    assert {"--lr", "--reg", "--dropout", "--units"} <= set(argv)
    assert main([*argv, "--out", str(train_dir)]) == 0
    history = json.loads((train_dir / "history.json").read_text())
    for key, values in best["metrics"]["history"].items():
        assert history[key] == values, key  # bitwise: every epoch's metrics
    # The trial again, in this process, keeping its model: the same weights.
    built, build = [], trials.build_model

    def keep(*args, **kwargs):
        built.append(build(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(trials, "build_model", keep)
    trial = PresetTrial("digits-mlp", epochs=2, split_seed=3)
    config = {**best["config"], "seed": best["seed"]}
    assert trial(config, preset_data("digits-mlp")) == best["metrics"]
    saved = load_model(train_dir / "model.h5").get_weights()
    for ours, theirs in zip(built[0].get_weights(), saved, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_the_printed_command_repeats_a_solver_trial(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", 30)
    monkeypatch.setattr(outputs, "has_matplotlib", lambda: False)
    data = tmp_path / "cifar"
    write_cifar(data, np.random.default_rng(0), 30)  # 135 train, 15 val images
    space = ["lr=loguniform:1e-4:1e-2", "reg=loguniform:1e-5:1e-2", "units=16"]
    space += ["dropout=uniform:0:0.5", "weight_scale=loguniform:1e-3:1e-1"]
    space += ["lr_decay=uniform:0.5:1", "batch_size=50"]
    params = [w for p in space for w in ("--param", p)]
    argv = ["sweep", "cifar10-fc", "--serial", "--trials", "2", "--epochs", "2"]
    argv += ["--data", str(data), "--out", str(tmp_path / "sweep"), *params]
    assert main(argv) == 0
    best = load_json(tmp_path / "sweep" / "results.json").best
    argv = _printed_command(capsys.readouterr().out, epochs=2)
    assert "--split-seed" not in argv and "--data" in argv
    assert main([*argv, "--out", str(tmp_path / "train")]) == 0
    history = json.loads((tmp_path / "train" / "history.json").read_text())
    ours = best["metrics"]
    assert history["val_accuracy"] == ours["history"]["val_accuracy"]
    assert history["accuracy"] == ours["history"]["accuracy"]
    assert history["loss"][-1] == ours["loss"]  # the last step's loss, bitwise


def test_a_sweep_into_a_directory_another_run_holds_is_refused(tmp_path, capsys):
    from glassnet.cli.rundir import locked

    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "results.json").write_text("{}")
    with locked(tmp_path):
        assert sweep(tmp_path, "--trials", "1", "--serial") == 2
    err = capsys.readouterr().err
    assert "another glassnet run (pid" in err and "--out" in err
    assert (tmp_path / "results.json").read_text() == "{}"  # untouched
