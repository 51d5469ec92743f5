import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet import optimizers, presets
from glassnet.cli import build_parser, main, outputs, sanity, train
from glassnet.models import load_model
from tests.datasets.builders import closed_port_url

PLOTS = [
    "history.png",
    "confusion_matrix.png",
    "per_class_error.png",
    "filters.png",
    "misclassified.png",
]


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


def test_threads_setting_reaches_the_element_wise_kernels(capsys, monkeypatch):
    from glassnet import utils
    from glassnet.cli._common import set_threads

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    before = utils.num_threads()
    try:
        set_threads(1)
        assert main(["info"]) == 0
        assert "element-wise kernel threads: 1" in capsys.readouterr().out
        assert utils.num_threads() == 1
    finally:
        utils.set_num_threads(before)


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


def _check_run_outputs(out, image_shape):
    """Every file of a run is there and the saved model predicts 10 classes."""
    names = ["model.h5", "best.weights.h5", "history.csv", "history.json", "report.md"]
    for name in names:
        assert (out / name).is_file(), name
    model = load_model(out / "model.h5")
    pred = model.predict(np.zeros((2, *image_shape), dtype=np.float32), verbose=0)
    assert pred.shape == (2, 10)


def test_train_writes_every_file_and_a_loadable_model(run_dir):
    _check_run_outputs(run_dir, (8, 8, 1))
    assert "accuracy" in (run_dir / "report.md").read_text()
    with open(run_dir / "history.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2


def test_train_writes_the_plots_and_links_them_from_the_report(run_dir):
    pytest.importorskip("matplotlib")
    for name in PLOTS:
        assert (run_dir / name).read_bytes().startswith(b"\x89PNG"), name
    # The learning rate was constant, so there is no schedule to plot.
    assert not (run_dir / "learning_rate.png").exists()
    text = (run_dir / "report.md").read_text()
    for name in PLOTS:
        assert f"({name})" in text


def test_report_holds_the_per_class_table_and_the_confusion_matrix(run_dir):
    text = (run_dir / "report.md").read_text()
    lines = text.splitlines()
    assert any(line.startswith("- test accuracy: 0.") for line in lines)
    assert "| class | precision | recall | f1-score | support | error rate |" in text
    header = next(line for line in lines if line.startswith("| true"))
    assert header.split("|")[2:-1] == [f" {d} " for d in range(10)]
    start = lines.index(header)
    rows = [line.split("|")[2:-1] for line in lines[start + 2 : start + 12]]
    # The digits test split holds 360 images, one row of the matrix per true class.
    assert sum(int(cell) for row in rows for cell in row) == 360


def test_train_writes_the_learning_rate_plot_only_when_the_rate_changed(
    run_dir, tmp_path
):
    pytest.importorskip("matplotlib")
    model = load_model(run_dir / "model.h5")
    (x, y), _ = presets.digits_data()
    x, y = x[:20], y[:20]
    pred = np.argmax(model.predict(x, verbose=0), axis=1)
    logs = {"loss": [1.0, 0.5], "learning_rate": [1e-3, 5e-4]}
    written = outputs.save_plots(
        tmp_path, model, logs, x, y, pred, presets.class_names("digits-cnn")
    )
    assert "learning_rate.png" in written
    assert (tmp_path / "learning_rate.png").is_file()


def test_dense_kernels_of_square_images_become_keras_filters():
    model = presets.build_model("digits-mlp", 0)
    kernel = outputs.first_kernel(model)
    dense = model.layers[1].params["kernel"]
    assert kernel.shape == (8, 8, 1, 64)
    # Unit m's weight on pixel (i, j) of the row-major flattened image.
    assert kernel[2, 5, 0, 7] == dense[2 * 8 + 5, 7]


def test_train_without_matplotlib_says_how_to_get_the_plots(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr(outputs, "has_matplotlib", lambda: False)
    assert main(["train", "digits-mlp", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "pip install glassnet[plot]" in out
    assert not list(tmp_path.glob("*.png"))
    assert "## Plots" not in (tmp_path / "report.md").read_text()


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


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    """Three test digits as a .npy batch, the first also as a grey PNG."""
    mpl_image = pytest.importorskip("matplotlib.image")
    where = tmp_path_factory.mktemp("images")
    (x, _), _ = presets.digits_data()
    np.save(where / "batch.npy", x[:3])
    mpl_image.imsave(where / "digit.png", x[0, :, :, 0], cmap="gray", vmin=0, vmax=1)
    mpl_image.imsave(where / "big.png", np.zeros((9, 9)), cmap="gray")
    return where


def _top(line):
    """The (class name, probability) pairs of one line of `predict`'s output."""
    pairs = line.split(": ", 1)[1].split(", ")
    return [(p.split(" (")[0], float(p.split(" (")[1][:-1])) for p in pairs]


def test_predict_prints_the_top_k_classes_of_each_image(run_dir, image_files, capsys):
    where = image_files
    files = [str(where / "batch.npy"), str(where / "digit.png")]
    assert main(["predict", str(run_dir / "model.h5"), *files, "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{files[0]}[0]",
        f"{files[0]}[1]",
        f"{files[0]}[2]",
        files[1],
    ]
    model = load_model(run_dir / "model.h5")
    probs = model.predict(np.load(where / "batch.npy"), verbose=0)
    for line, row in zip(lines, probs, strict=False):
        top = _top(line)
        assert [name for name, _ in top] == [str(c) for c in np.argsort(-row)[:3]]
        assert all(math.isclose(p, row[int(c)], abs_tol=1e-4) for c, p in top)
    # The PNG holds the first batch image at 8 bits, so it should rank alike.
    assert _top(lines[3])[0][0] == _top(lines[0])[0][0]


def test_predict_of_a_single_image_npy_without_channel_axis(run_dir, tmp_path, capsys):
    x = np.zeros((8, 8), dtype=np.uint8)
    np.save(tmp_path / "one.npy", x)
    assert main(["predict", str(run_dir / "model.h5"), str(tmp_path / "one.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and len(_top(lines[0])) == 3
    assert sum(p for _, p in _top(lines[0])) <= 1.0 + 1e-6


@pytest.mark.parametrize(
    "name, word",
    [("big.png", "received shape (9, 9)"), ("missing.npy", "not found")],
)
def test_predict_names_the_file_and_shape_it_cannot_use(
    run_dir, image_files, capsys, name, word
):
    where = image_files
    assert main(["predict", str(run_dir / "model.h5"), str(where / name)]) == 2
    err = capsys.readouterr().err
    assert name in err and word in err and len(err.strip().splitlines()) == 1
    if name == "big.png":
        assert "(8, 8, 1)" in err


def test_predict_without_pillow_says_how_to_read_images(
    run_dir, image_files, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "PIL", None)
    argv = ["predict", str(run_dir / "model.h5"), str(image_files / "digit.png")]
    assert main(argv) == 2
    assert "Pillow" in capsys.readouterr().err


def test_predict_rejects_a_top_k_above_the_number_of_classes(
    run_dir, image_files, capsys
):
    where = image_files
    argv = ["predict", str(run_dir / "model.h5"), str(where / "digit.png")]
    assert main([*argv, "--top-k", "11"]) == 2
    assert "--top-k" in capsys.readouterr().err


def test_sanity_passes_every_check_on_digits_mlp(capsys):
    assert main(["sanity", "digits-mlp"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.endswith("PASS")]
    assert len(rows) == 3
    assert "ln(C)" in rows[0] and "L2" in rows[1] and "overfit 30" in rows[2]


def test_sanity_passes_every_check_on_the_batchnorm_convnet_digits_cnn(capsys):
    # Its overfitting is judged on the training accuracy: in inference mode the
    # moving statistics of batchnorm lag far behind 30 images' own.
    assert main(["sanity", "digits-cnn"]) == 0
    out = capsys.readouterr().out
    assert "3 passed, 0 failed" in out


def test_sanity_returns_1_when_a_check_fails(monkeypatch, capsys):
    # An overfitting check that never succeeds makes exactly that row fail.
    monkeypatch.setattr(sanity, "_overfit_epochs", lambda model, x, y, limit: limit + 1)
    assert main(["sanity", "digits-mlp"]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL") == 1 and "never" in out


@pytest.mark.parametrize(
    "argv, word",
    [
        (["train", "no-such-preset"], "preset"),
        (["train", "--epochs", "0"], "--epochs"),
        (["summary", "missing.h5"], "not found"),
        (["evaluate", "missing.h5"], "not found"),
        (["predict", "missing.h5", "x.npy"], "not found"),
        (["predict", "missing.h5", "x.npy", "--top-k", "0"], "--top-k"),
        (["sanity", "no-such-preset"], "preset"),
        (["train", "--dropout", "1"], "--dropout"),
        (["train", "--reg", "-1e-3"], "--reg"),
        (["train", "--units", "0"], "--units"),
        (["train", "--weight-scale", "0"], "--weight-scale"),
        (["train", "mnist-cnn", "--units", "8"], "no hidden Dense layer"),
        (["train", "cifar10-convnet", "--dropout", "0.1"], "no dropout layer"),
        (["train", "digits-mlp", "--weight-scale", "0.1"], "--weight-scale"),
        (["train", "digits-mlp", "--lr-decay", "0.9"], "--lr-decay"),
        (["train", "cifar10-fc", "--split-seed", "1"], "--split-seed"),
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


@pytest.mark.parametrize("module", ["glassnet", "glassnet.cli"])
def test_python_dash_m_runs_the_command(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"glassnet {glassnet.__version__}"


@pytest.fixture
def no_dataset_anywhere(monkeypatch, tmp_path):
    """No local copy of (Fashion-)MNIST and no mirror that answers."""
    from glassnet.datasets import fashion_mnist, mnist

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GLASSNET_DATA", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    url = closed_port_url()  # refused at once: nothing reaches the network
    for module in (mnist, fashion_mnist):
        monkeypatch.setattr(module, "MIRRORS", [url])
        monkeypatch.setattr(module, "SYSTEM_DIRS", [])
    return tmp_path


@pytest.mark.parametrize("preset", ["mnist-cnn", "fashion-mlp", "fashion-cnn"])
def test_train_without_the_dataset_says_where_it_looked_and_why_download_failed(
    preset, no_dataset_anywhere, capsys
):
    out = no_dataset_anywhere / "run"
    assert main(["train", preset, "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    first, *rest = err.strip().splitlines()
    assert first.startswith("glassnet: error: ") and "could not find" in first
    text = "\n".join(rest)
    assert "Looked in:" in text and "Download failed:" in text
    assert "127.0.0.1" in text  # the mirror tried, and why it failed
    assert "To get the files:" in text and "http" in text
    assert "--data DIR" in text and "GLASSNET_DATA" in text
    assert not list((no_dataset_anywhere / ".cache").rglob("*.gz"))


@pytest.mark.parametrize("preset", ["fashion-mlp", "fashion-cnn"])
def test_fashion_presets_train_on_idx_files_given_with_data(
    preset, fake_fashion, tmp_path
):
    argv = ["train", preset, "--data", str(fake_fashion), "--epochs", "1"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    _check_run_outputs(tmp_path, (28, 28, 1))
    text = (tmp_path / "report.md").read_text()
    assert "Ankle boot" in text and "T-shirt/top" in text
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["val_accuracy"]) == 1


def test_presets_build_the_keras_models_with_their_settings():
    mlp = presets.build_model("fashion-mlp", 0)
    kinds = [type(layer).__name__ for layer in mlp.layers]
    assert kinds == ["Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert mlp.count_params() == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
    cnn = presets.build_model("mnist-cnn", 0)
    # 320 + 18,496 + 16,010: the 34,826 of keras.io/examples/vision/mnist_convnet.
    assert cnn.count_params() == 34826
    assert presets.PRESETS["fashion-mlp"].epochs == 30
    bn = presets.build_model("fashion-cnn", 0)
    kinds = [type(layer).__name__ for layer in bn.layers]
    assert kinds[:6] == [
        "RandomFlip",
        "RandomTranslation",
        "Conv2D",
        "BatchNormalization",
        "ReLU",
        "MaxPooling2D",
    ]
    # 288 + 128 (BN) + 18,432 + 256 + 3,136 * 256 + 256 + 2,570
    assert bn.count_params() == 288 + 128 + 18432 + 256 + 3136 * 256 + 256 + 2570
    # Without its augmentation (the sanity check's overfitting run): the same net.
    plain = presets.build_model("fashion-cnn", 0, augmentation=False)
    assert [type(layer).__name__ for layer in plain.layers] == kinds[2:]
    assert plain.count_params() == bn.count_params()
    mnist = presets.PRESETS["mnist-cnn"]
    assert (mnist.epochs, mnist.batch_size, mnist.optimizer, mnist.lr) == (
        15,
        128,
        "adam",
        1e-3,
    )


def test_tensorboard_writes_train_and_validation_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    argv = ["train", "digits-mlp", "--epochs", "1", "--tensorboard"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    for run in ("train", "validation"):
        assert list((tmp_path / "logs" / run).glob("events.out.tfevents*")), run


def test_sanity_runs_on_the_presets_own_dataset(fake_fashion, capsys):
    assert main(["sanity", "fashion-mlp", "--data", str(fake_fashion)]) == 0
    out = capsys.readouterr().out
    assert "on 200 fashion_mnist training images" in out
    assert out.strip().endswith("3 passed, 0 failed")


def test_ctrl_c_outside_training_exits_130_without_a_traceback(monkeypatch, capsys):
    import glassnet.cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(glassnet.cli, "cmd_info", interrupted)
    assert main(["info"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_the_report_reads_a_constant_learning_rate_from_the_optimizer():
    # Keras 3: without ReduceLROnPlateau or LearningRateScheduler the logs hold
    # no learning_rate; the note reads the rate from the model's optimizer.
    args = build_parser().parse_args(["train", "digits-mlp", "--epochs", "2"])
    args.monitor = "val_loss"  # as train resolves it
    logs = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}
    notes = train._callback_notes(args, [], logs, Path("out"), optimizers.SGD(0.05))
    assert "- The learning rate stayed at 0.05." in notes
    logs["learning_rate"] = [0.05, 0.025]
    notes = train._callback_notes(args, [], logs, Path("out"), optimizers.SGD(0.025))
    assert (
        "- ReduceLROnPlateau lowered the learning rate at epoch 2: 0.05 -> 0.025."
        in notes
    )
