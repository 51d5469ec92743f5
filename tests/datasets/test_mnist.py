import numpy as np
import pytest

from glassnet.datasets import mnist
from glassnet.datasets._sources import RemoteFile, cache_root
from glassnet.errors import DatasetNotFoundError, InvalidFileError
from tests.datasets.builders import (
    idx_bytes,
    remote_files_for,
    serve_directory,
    write_idx_dataset,
)


def assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in ((x_train, "x_train"), (y_train, "y_train")):
        np.testing.assert_array_equal(got, arrays[key])
    for got, key in ((x_test, "x_test"), (y_test, "y_test")):
        np.testing.assert_array_equal(got, arrays[key])
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8


def test_class_names_are_the_ten_digits():
    assert mnist.CLASS_NAMES == tuple("0123456789")


def test_the_known_checksums_are_sha256_hex_digests():
    for remote in mnist.FILES.values():
        assert isinstance(remote, RemoteFile)
        assert len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0


@pytest.mark.parametrize(
    ("gz", "dotted"), [(True, False), (False, False), (False, True)]
)
def test_files_load_from_an_explicit_path_gzipped_or_not(tmp_path, rng, gz, dotted):
    arrays = write_idx_dataset(tmp_path / "m", rng, gz=gz, dotted=dotted)
    (x_train, y_train), (x_test, _) = result = mnist.load_data(path=tmp_path / "m")
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,)
    assert x_test.shape == (4, 28, 28)
    assert_loaded(result, arrays)


def test_path_beats_glassnet_data_which_beats_the_cache(tmp_path, rng, monkeypatch):
    explicit = write_idx_dataset(tmp_path / "explicit", rng, n_train=1)
    env = write_idx_dataset(tmp_path / "env" / "mnist", rng, n_train=2)
    cached = write_idx_dataset(cache_root() / "mnist", rng, n_train=3)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    assert_loaded(mnist.load_data(path=tmp_path / "explicit"), explicit)
    assert_loaded(mnist.load_data(), env)
    monkeypatch.delenv("GLASSNET_DATA")
    assert_loaded(mnist.load_data(), cached)


def test_missing_files_download_into_the_cache_and_load(tmp_path, rng, monkeypatch):
    arrays = write_idx_dataset(tmp_path / "www", rng)
    monkeypatch.setattr(mnist, "FILES", remote_files_for(tmp_path / "www", mnist.FILES))
    with serve_directory(tmp_path / "www") as url:
        monkeypatch.setattr(mnist, "MIRRORS", [mnist.MIRRORS[0], url])
        assert_loaded(mnist.load_data(), arrays)
    cached = sorted(p.name for p in (cache_root() / "mnist").iterdir())
    assert cached == sorted(r.name for r in mnist.FILES.values())
    assert_loaded(mnist.load_data(), arrays)  # server gone: from the cache


def test_a_checksum_mismatch_fails_and_caches_nothing(tmp_path, rng, monkeypatch):
    write_idx_dataset(tmp_path / "www", rng)
    files = remote_files_for(tmp_path / "www", mnist.FILES)
    files["x_train"] = RemoteFile(
        files["x_train"].name, files["x_train"].size, "f" * 64
    )
    monkeypatch.setattr(mnist, "FILES", files)
    with serve_directory(tmp_path / "www") as url:
        monkeypatch.setattr(mnist, "MIRRORS", [url])
        with pytest.raises(InvalidFileError, match="SHA-256"):
            mnist.load_data()
    assert list((cache_root() / "mnist").iterdir()) == []


def test_no_files_and_no_server_list_the_places_and_the_ways_out():
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "$GLASSNET_DATA/mnist (not set)" in message
    assert str(cache_root() / "mnist") in message
    assert "Download failed" in message and "127.0.0.1" in message
    assert "train-images-idx3-ubyte.gz" in message


def test_a_missing_explicit_path_is_reported_without_download(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no such directory"):
        mnist.load_data(path=tmp_path / "nowhere")


def test_images_of_the_wrong_size_are_refused(tmp_path, rng):
    write_idx_dataset(tmp_path, rng)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.unlink()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(
        idx_bytes(np.zeros((6, 27, 28), dtype=np.uint8))
    )
    with pytest.raises(InvalidFileError, match="28x28.*27x28"):
        mnist.load_data(path=tmp_path)


def test_label_counts_must_match_image_counts(tmp_path, rng):
    write_idx_dataset(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3)))
    with pytest.raises(InvalidFileError, match="expected 4 labels.*received 3"):
        mnist.load_data(path=tmp_path)


def test_labels_outside_the_ten_classes_are_refused(tmp_path, rng):
    write_idx_dataset(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(4, 10)))
    with pytest.raises(InvalidFileError, match=r"\[0, 10\)"):
        mnist.load_data(path=tmp_path)
