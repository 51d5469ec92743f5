"""``glassnet predict`` scales each input as the model's training data was and
refuses, in one line naming the file, what it cannot interpret."""

from pathlib import Path

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.cli import main
from glassnet.cli._common import CliError
from glassnet.cli._predict_inputs import expected_inputs, interpret, read_image


def _saved(tmp_path, x=None, shape=(8, 8, 1), name="mine"):
    """A small image classifier fitted on ``x`` (unfitted when None), saved."""
    model = models.Sequential(
        [layers.Input(shape), layers.Flatten(), layers.Dense(10, "softmax")],
        name=name,
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    if x is not None:
        y = np.arange(len(x)) % 10
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / f"{name}.h5"
    model.save(path)
    return path, models.load_model(path)


def _pixels(rng, n=6, shape=(8, 8, 1), high=255):
    return rng.integers(0, high + 1, size=(n, *shape))


def _predicted(capsys):
    """{label: {class name: probability}} from predict's output."""
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        label, pairs = line.split(": ", 1)
        rows[label] = {
            p.split(" (")[0]: float(p.split(" (")[1][:-1]) for p in pairs.split(", ")
        }
    return rows


def _predict(model_path, file, capsys):
    assert main(["predict", str(model_path), str(file), "--top-k", "10"]) == 0
    return _predicted(capsys)


def _close(rows, model, x, file):
    """Each printed row equals the model's output for ``x``."""
    probs = model.predict(x, verbose=0)
    name = Path(file).name
    for i, row in enumerate(probs):
        label = name if len(probs) == 1 else f"{name}[{i}]"
        (got,) = [v for k, v in rows.items() if Path(k).name == label]
        assert all(abs(got[str(c)] - p) < 1e-4 for c, p in enumerate(row)), i


def _refused(model_path, file, capsys, *words):
    assert main(["predict", str(model_path), str(file)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"glassnet: error: {file}: expected"), err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("dtype", ["uint8", "int64", "int32", "uint32", "int16"])
def test_integer_pixels_of_any_dtype_are_scaled_for_a_model_fitted_on_0_1(
    tmp_path, rng, capsys, dtype
):
    path, model = _saved(tmp_path, _pixels(rng, 40) / 255)
    pixels = _pixels(rng)
    np.save(tmp_path / "x.npy", pixels.astype(dtype))
    _close(_predict(path, tmp_path / "x.npy", capsys), model, pixels / 255, "x.npy")


def test_a_16_bit_png_is_read_at_full_depth_and_scaled_by_65535(tmp_path, rng, capsys):
    image = pytest.importorskip("PIL.Image")
    path, model = _saved(tmp_path, _pixels(rng, 40) / 255)
    deep = rng.integers(0, 65536, size=(8, 8)).astype(np.uint16)
    image.fromarray(deep).save(tmp_path / "deep.png")
    assert np.array_equal(read_image(tmp_path / "deep.png", (8, 8, 1)), deep)
    rows = _predict(path, tmp_path / "deep.png", capsys)
    _close(rows, model, (deep / 65535)[None, :, :, None], tmp_path / "deep.png")


def test_a_16_bit_grey_png_feeds_every_channel_of_an_rgb_model(tmp_path, rng, capsys):
    image = pytest.importorskip("PIL.Image")
    x = _pixels(rng, 20, (4, 4, 3)) / 255
    path, model = _saved(tmp_path, x, shape=(4, 4, 3))
    deep = rng.integers(0, 65536, size=(4, 4)).astype(np.uint16)
    image.fromarray(deep).save(tmp_path / "grey.png")
    expected = np.repeat((deep / 65535)[None, :, :, None], 3, axis=-1)
    _close(_predict(path, tmp_path / "grey.png", capsys), model, expected, "grey.png")


def test_floats_inside_the_training_range_are_used_as_they_are(tmp_path, rng, capsys):
    path, model = _saved(tmp_path, _pixels(rng, 40) / 255)
    x = rng.random((3, 8, 8, 1))
    np.save(tmp_path / "f.npy", x)
    _close(_predict(path, tmp_path / "f.npy", capsys), model, x, "f.npy")


@pytest.mark.parametrize(
    "value, words",
    [
        (np.nan, ["1 NaN or infinite", "finite"]),
        (np.inf, ["1 NaN or infinite"]),
        (255.0, ["values in [0, 1]", "255]", "as integers to have them scaled"]),
        (-0.5, ["values in [0, 1]", "the model was trained on float64"]),
    ],
)
def test_floats_it_cannot_interpret_are_refused_naming_the_file(
    tmp_path, rng, capsys, value, words
):
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    x = rng.random((2, 8, 8, 1))
    x[1, 3, 4, 0] = value
    np.save(tmp_path / "bad.npy", x)
    _refused(path, tmp_path / "bad.npy", capsys, *words)


@pytest.mark.parametrize("low, high", [(-1, 3), (0, 256), (0, 70000)])
def test_integers_beyond_8_bits_are_refused_unless_uint16(
    tmp_path, rng, capsys, low, high
):
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    x = np.full((8, 8), low, np.int64)
    x[0, 0] = high
    np.save(tmp_path / "big.npy", x)
    _refused(path, tmp_path / "big.npy", capsys, "0..255", f"[{low}, {high}]")


def test_a_model_fitted_on_raw_0_255_pixels_takes_them_as_they_are(
    tmp_path, rng, capsys
):
    path, model = _saved(tmp_path, _pixels(rng, 40).astype(np.float32))
    pixels = _pixels(rng, 3)
    np.save(tmp_path / "p.npy", pixels.astype(np.uint8))
    _close(_predict(path, tmp_path / "p.npy", capsys), model, pixels, "p.npy")
    np.save(tmp_path / "w.npy", (pixels * 257).astype(np.uint16))
    _close(_predict(path, tmp_path / "w.npy", capsys), model, pixels, "w.npy")


def test_a_model_fitted_on_integers_takes_integers_in_its_range_as_they_are(
    tmp_path, rng, capsys
):
    path, model = _saved(tmp_path, _pixels(rng, 40, high=1))  # int64 0/1 images
    binary = _pixels(rng, 2, high=1)
    np.save(tmp_path / "b.npy", binary)
    _close(_predict(path, tmp_path / "b.npy", capsys), model, binary, "b.npy")


def test_a_standardised_model_refuses_pixels_and_takes_floats_in_its_range(
    tmp_path, rng, capsys
):
    x = rng.standard_normal((40, 8, 8, 1))
    path, model = _saved(tmp_path, x)
    np.save(tmp_path / "px.npy", _pixels(rng, 2).astype(np.uint8))
    _refused(path, tmp_path / "px.npy", capsys, "integer pixels cannot be scaled")
    np.save(tmp_path / "z.npy", x[:2])
    _close(_predict(path, tmp_path / "z.npy", capsys), model, x[:2], "z.npy")
    np.save(tmp_path / "far.npy", x[:2] * 10)
    _refused(path, tmp_path / "far.npy", capsys, "float64 values in")


def test_a_model_file_without_the_record_keeps_the_earlier_rules(tmp_path, rng, capsys):
    # Unfitted models are saved without a record, as all files were before it.
    known, model = _saved(tmp_path, None, shape=(8, 8, 1), name="old")
    pixels = _pixels(rng, 2)
    np.save(tmp_path / "i.npy", pixels)  # int64: scaled now, as uint8 was
    _close(_predict(known, tmp_path / "i.npy", capsys), model, pixels / 255, "i.npy")
    np.save(tmp_path / "f.npy", pixels.astype(np.float32))
    _refused(known, tmp_path / "f.npy", capsys, "records no training range")
    # A model of no known dataset takes any finite floats, as before.
    other, model = _saved(tmp_path, None, shape=(5, 5, 1), name="odd")
    x = rng.standard_normal((2, 5, 5, 1)) * 50
    np.save(tmp_path / "o.npy", x)
    _close(_predict(other, tmp_path / "o.npy", capsys), model, x, "o.npy")
    x[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "o.npy", x)
    _refused(other, tmp_path / "o.npy", capsys, "NaN")
    pixels = _pixels(rng, 2, (5, 5, 1))
    np.save(tmp_path / "u.npy", pixels.astype(np.uint8))  # scaled, as before
    _close(_predict(other, tmp_path / "u.npy", capsys), model, pixels / 255, "u.npy")


# -- corrupt and forged files --


def test_a_npy_whose_header_claims_10_to_the_11_images_is_refused_at_once(
    tmp_path, rng, capsys
):
    import io

    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**11, 8, 8)}
    )
    forged = tmp_path / "forged.npy"
    forged.write_bytes(header.getvalue() + b"\x00")
    assert forged.stat().st_size == 129
    _refused(
        path, forged, capsys, "expected 51200000000000 bytes", "(100000000000, 8, 8)"
    )


@pytest.mark.parametrize("cut", [0, 20, 60])
def test_truncated_or_corrupt_files_are_refused_naming_the_file(
    tmp_path, rng, capsys, cut
):
    image = pytest.importorskip("PIL.Image")
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    image.fromarray(_pixels(rng, 1)[0, :, :, 0].astype(np.uint8)).save(
        tmp_path / "whole.png"
    )
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:cut] if cut else b"not a png at all")
    _refused(path, tmp_path / "cut.png", capsys, "corrupt, truncated or foreign")
    np.save(tmp_path / "whole.npy", _pixels(rng, 2))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "whole.npy").read_bytes()[:-7])
    _refused(path, tmp_path / "cut.npy", capsys, "bytes of data")


def test_a_pickled_npy_is_refused_without_loading_it(tmp_path, rng, capsys):
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    _refused(path, tmp_path / "obj.npy", capsys, "numeric dtype")


# -- the rules, one by one --


def test_interpret_scales_and_refuses_by_the_expected_range():
    unit = expected_inputs({"dtype": "float32", "min": 0.0, "max": 0.9}, False)
    pixels = np.array([[[[0], [51], [255]]]], np.int64)
    assert np.allclose(interpret("x", pixels, unit)[0, 0, :, 0], [0, 0.2, 1])
    assert interpret("x", np.ones((1, 1, 1, 1)), unit).dtype == np.float64
    with pytest.raises(CliError, match="^x: expected numeric pixels"):
        interpret("x", np.zeros((1, 1, 1, 1), bool), unit)
    with pytest.raises(CliError, match="^x: expected at least one image"):
        interpret("x", np.zeros((0, 1, 1, 1)), unit)


def test_uint16_pixels_that_never_pass_255_are_refused_as_ambiguous(
    tmp_path, rng, capsys
):
    # 8-bit pixels in a 16-bit array: dividing by 65535 gave 3/40 right.
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    np.save(tmp_path / "x.npy", _pixels(rng).astype(np.uint16))
    _refused(path, tmp_path / "x.npy", capsys, "look like 8-bit pixels", "uint8")
    np.save(tmp_path / "zeros.npy", np.zeros((2, 8, 8, 1), np.uint16))
    assert main(["predict", str(path), str(tmp_path / "zeros.npy")]) == 0


def test_raw_digits_pixels_are_refused_for_a_digits_model(tmp_path, rng, capsys):
    # digits.load_data() gives 0..16: divided by 255 they were silently wrong.
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255, name="digits-mlp")
    np.save(tmp_path / "raw.npy", _pixels(rng, high=16).astype(np.uint8))
    _refused(path, tmp_path / "raw.npy", capsys, "raw 0..16 pixels", "x / 16")
    # The same images as 8-bit pixels are taken.
    np.save(tmp_path / "x.npy", (_pixels(rng, high=16) * 15).astype(np.uint8))
    assert main(["predict", str(path), str(tmp_path / "x.npy")]) == 0


def test_a_directory_is_not_an_input_file(tmp_path, rng, capsys):
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    (tmp_path / "d.npy").mkdir()
    assert main(["predict", str(path), str(tmp_path / "d.npy")]) == 2
    assert "it is a directory" in capsys.readouterr().err


def test_a_binary_integer_image_is_refused_as_ambiguous(tmp_path, rng, capsys):
    path, _ = _saved(tmp_path, _pixels(rng, 40) / 255)
    np.save(tmp_path / "bits.npy", _pixels(rng, high=1).astype(np.int64))
    _refused(path, tmp_path / "bits.npy", capsys, "look like a binary image")


def test_floats_in_0_1_for_a_model_trained_on_0_255_are_refused(tmp_path, rng, capsys):
    path, _ = _saved(tmp_path, _pixels(rng, 40).astype(np.float32))
    np.save(tmp_path / "x.npy", (_pixels(rng) / 255).astype(np.float32))
    _refused(path, tmp_path / "x.npy", capsys, "multiply them by 255")
