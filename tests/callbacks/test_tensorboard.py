import glob
import os
import struct
import sys

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.callbacks.base import Callback
from glassnet.callbacks.tensorboard import TensorBoard, weight_image


def read_records(path):
    """Event protos of one file, checking TFRecord framing and both CRCs."""
    from tensorboardX.proto import event_pb2
    from tensorboardX.record_writer import masked_crc32c

    events, data = [], open(path, "rb").read()
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        body = data[pos + 12 : pos + 12 + length]
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])
        assert header_crc == masked_crc32c(header) and body_crc == masked_crc32c(body)
        event = event_pb2.Event()
        event.ParseFromString(body)
        events.append(event)
        pos += 16 + length
    return events


def read_run(run_dir):
    """{"scalars": {tag: [(step, value)]}, "histograms": {tag: [(step, proto)]},
    "images": {tag: [step]}} from every event file of a run, in file order."""
    out = {"scalars": {}, "histograms": {}, "images": {}}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        for event in read_records(path):
            for v in event.summary.value:
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    out["scalars"].setdefault(v.tag, []).append(
                        (event.step, v.simple_value)
                    )
                elif kind == "histo":
                    out["histograms"].setdefault(v.tag, []).append(
                        (event.step, v.histo)
                    )
                elif kind == "image":
                    out["images"].setdefault(v.tag, []).append(event.step)
    return out


def fit(log_dir, epochs=3, extra=(), validation_split=0.25, **kwargs):
    # Fresh automatic names (conftest clears the session): dense, dense_1.
    model = models.Sequential([layers.Dense(2), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.linspace(-1, 1, 24).reshape(12, 2)
    y = x[:, :1] - x[:, 1:]
    tb = TensorBoard(log_dir, **kwargs)
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=3,
        verbose=0,
        validation_split=validation_split,
        callbacks=[tb, *extra],
    )
    return model, history, tb


@pytest.fixture
def tensorboardx():
    return pytest.importorskip("tensorboardX")


def test_epoch_scalars_follow_keras_train_and_validation_layout(tmp_path, tensorboardx):
    _, history, _ = fit(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train = read_run(tmp_path / "train")["scalars"]
    val = read_run(tmp_path / "validation")["scalars"]
    assert set(train) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    assert set(val) == {"epoch_loss", "epoch_mae"}
    h = history.history
    for key, runs in (("loss", train), ("mae", train)):
        assert [s for s, _ in runs["epoch_" + key]] == [0, 1, 2]
        # Event files store scalars as float32.
        assert [v for _, v in runs["epoch_" + key]] == pytest.approx(h[key], rel=1e-6)
    # History has no learning_rate (Keras 3); TensorBoard reads the optimizer's.
    assert "learning_rate" not in h
    lrs = [v for _, v in train["epoch_learning_rate"]]
    assert [s for s, _ in train["epoch_learning_rate"]] == [0, 1, 2]
    assert lrs == pytest.approx([0.01] * 3, rel=1e-6)
    for key in ("loss", "mae"):
        values = [v for _, v in val["epoch_" + key]]
        assert values == pytest.approx(h["val_" + key], rel=1e-6)


def test_without_validation_no_validation_run_is_written(tmp_path, tensorboardx):
    fit(tmp_path, validation_split=0.0)
    assert os.listdir(tmp_path) == ["train"]


def test_histograms_every_histogram_freq_epochs_match_the_weights(
    tmp_path, tensorboardx
):
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = {
                f"{layer.name}/{name}": w
                for layer in self.model.layers
                for name, w in zip(layer.weight_names, layer.get_weights(), strict=True)
            }

    model, _, _ = fit(tmp_path, epochs=5, histogram_freq=2, extra=[Snapshot()])
    histograms = read_run(tmp_path / "train")["histograms"]
    names = [layer.name for layer in model.layers]
    assert names[0] == "dense"
    assert set(histograms) == {f"{n}/{w}" for n in names for w in ("kernel", "bias")}
    for tag, entries in histograms.items():
        assert [step for step, _ in entries] == [0, 2, 4]
        for step, histo in entries:
            w = snapshots[step][tag]
            assert histo.num == w.size
            assert histo.min == pytest.approx(w.min()) and histo.max == pytest.approx(
                w.max()
            )
            assert histo.sum == pytest.approx(w.sum(), abs=1e-6)


def test_write_images_draws_each_weight_with_its_histogram(tmp_path, tensorboardx):
    fit(tmp_path, epochs=2, histogram_freq=1, write_images=True)
    images = read_run(tmp_path / "train")["images"]
    assert images["dense/kernel/image"] == [0, 1]
    assert images["dense/bias/image"] == [0, 1]


def test_batch_updates_write_every_batch_loss_at_the_global_batch(
    tmp_path, tensorboardx
):
    batch_logs = []

    class Record(Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append(dict(logs))

    fit(tmp_path, epochs=2, update_freq="batch", extra=[Record()])
    scalars = read_run(tmp_path / "train")["scalars"]
    # 9 training samples in batches of 3: 3 batches per epoch, steps 1..6.
    assert [s for s, _ in scalars["batch_loss"]] == [1, 2, 3, 4, 5, 6]
    expected = [logs["loss"] for logs in batch_logs]
    assert [v for _, v in scalars["batch_loss"]] == pytest.approx(expected, rel=1e-6)
    assert "batch_mae" in scalars


def test_an_integer_update_freq_writes_every_that_many_batches(tmp_path, tensorboardx):
    fit(tmp_path, epochs=2, update_freq=4)
    scalars = read_run(tmp_path / "train")["scalars"]
    assert [s for s, _ in scalars["batch_loss"]] == [4]


def test_epoch_updates_write_no_batch_scalars(tmp_path, tensorboardx):
    fit(tmp_path, epochs=1)
    assert not any(
        t.startswith("batch_") for t in read_run(tmp_path / "train")["scalars"]
    )


def test_steps_per_second_is_logged_when_asked(tmp_path, tensorboardx):
    fit(tmp_path, epochs=2, update_freq="batch", write_steps_per_second=True)
    scalars = read_run(tmp_path / "train")["scalars"]
    assert all(v > 0 for _, v in scalars["epoch_steps_per_second"])
    assert len(scalars["batch_steps_per_second"]) == 6


def test_reusing_the_callback_writes_a_new_file_and_restarts_the_batch_count(
    tmp_path, tensorboardx
):
    model, _, tb = fit(tmp_path, epochs=1, update_freq="batch")
    model.fit(
        np.ones((3, 2)),
        np.ones((3, 1)),
        epochs=1,
        batch_size=3,
        verbose=0,
        callbacks=[tb],
    )
    files = sorted(glob.glob(str(tmp_path / "train" / "events.out.tfevents.*")))
    assert len(files) == 2
    steps = [
        [
            e.step
            for e in read_records(f)
            if e.summary.value and e.summary.value[0].tag == "batch_loss"
        ]
        for f in files
    ]
    assert sorted(steps) == [[1], [1, 2, 3]]


def test_tensorboards_own_reader_sees_the_same_events(tmp_path, tensorboardx):
    ea_module = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    fit(tmp_path, epochs=3, histogram_freq=1)
    acc = ea_module.EventAccumulator(
        str(tmp_path / "train"), size_guidance={"scalars": 0, "histograms": 0}
    )
    acc.Reload()
    ours = read_run(tmp_path / "train")
    assert set(acc.Tags()["scalars"]) == set(ours["scalars"])
    assert set(acc.Tags()["histograms"]) == set(ours["histograms"])
    for tag, entries in ours["scalars"].items():
        assert [(e.step, e.value) for e in acc.Scalars(tag)] == entries
    for tag, entries in ours["histograms"].items():
        assert [(h.step, h.histogram_value.num) for h in acc.Histograms(tag)] == [
            (step, histo.num) for step, histo in entries
        ]


def test_a_missing_tensorboardx_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install glassnet\[tensorboard\]"):
        TensorBoard("logs")


def test_profiling_and_embeddings_are_accepted_but_warn(tmp_path, tensorboardx):
    with pytest.warns(UserWarning, match="profile_batch"):
        TensorBoard(tmp_path, profile_batch=(10, 20))
    with pytest.warns(UserWarning, match="embeddings_freq"):
        TensorBoard(tmp_path, embeddings_freq=1)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"log_dir": ""}, "log_dir"),
        ({"log_dir": None}, "log_dir"),
        ({"histogram_freq": -1}, "histogram_freq"),
        ({"histogram_freq": 1.0}, "histogram_freq"),
        ({"update_freq": "step"}, "update_freq"),
        ({"update_freq": 0}, "update_freq"),
        ({"update_freq": True}, "update_freq"),
        ({"write_images": "yes"}, "write_images"),
        ({"write_graph": None}, "write_graph"),
        ({"write_steps_per_second": 1}, "write_steps_per_second"),
        ({"embeddings_freq": -1}, "embeddings_freq"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TensorBoard(**kwargs)


@pytest.mark.parametrize(
    "shape, image_shape",
    [
        ((5,), (1, 5, 1, 1)),  # a bias: one column
        ((3, 7), (1, 3, 7, 1)),  # a dense kernel, already wider than tall
        ((7, 3), (1, 3, 7, 1)),  # a tall dense kernel is transposed
        ((4, 5, 2), (2, 4, 5, 1)),  # rank 3: one image per last-axis slice
        ((3, 3, 2, 4), (8, 3, 3, 1)),  # HH x WW images per channel pair
        ((2, 2, 2, 2, 2), None),
    ],
)
def test_weight_image_shapes_follow_keras_for_ranks_1_to_3(shape, image_shape, rng):
    w = rng.standard_normal(shape)
    img = weight_image(w)
    if image_shape is None:
        assert img is None
        return
    assert img.shape == image_shape
    assert img.min() == 0.0 and img.max() == 1.0


def test_weight_image_of_a_conv_kernel_keeps_each_spatial_filter(rng):
    w = rng.standard_normal((3, 3, 2, 4))
    img = weight_image(w)
    scaled = (w - w.min()) / (w.max() - w.min())
    # Image c * F + f is the HH x WW filter from input channel c to output f.
    np.testing.assert_allclose(img[1 * 4 + 3, :, :, 0], scaled[:, :, 1, 3])


def test_weight_image_of_a_constant_weight_is_mid_grey():
    assert np.all(weight_image(np.zeros(4)) == 0.5)
