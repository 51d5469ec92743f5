import hashlib

import numpy as np
import pytest

from glassnet.datasets import cifar10
from glassnet.datasets._sources import RemoteFile, cache_root
from glassnet.errors import DatasetNotFoundError, InvalidFileError
from tests.datasets.builders import (
    CIFAR_BATCHES,
    cifar_bin_bytes,
    cifar_records,
    cifar_tarball,
    serve_directory,
    write_cifar,
)

N = 3  # records per batch in these tests; the real files hold 10,000


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", N)


def expected(batches):
    """The Keras arrays, built pixel by pixel from the record layout: byte
    1 + c * 1024 + r * 32 + k of a record is row r, column k of channel c."""

    def images(names):
        x = np.concatenate([batches[n][0] for n in names])
        out = np.empty((len(x), 32, 32, 3), dtype=np.uint8)
        for c in range(3):
            for r in range(32):
                out[:, r, :, c] = x[:, c * 1024 + r * 32 : c * 1024 + r * 32 + 32]
        return out

    def labels(names):
        return np.concatenate([batches[n][1] for n in names]).reshape(-1, 1)

    train = CIFAR_BATCHES[:5]
    return (images(train), labels(train)), (
        images(["test_batch"]),
        labels(["test_batch"]),
    )


def assert_loaded(result, batches):
    (x_train, y_train), (x_test, y_test) = result
    (ex_train, ey_train), (ex_test, ey_test) = expected(batches)
    assert x_train.shape == (5 * N, 32, 32, 3) and y_train.shape == (5 * N, 1)
    assert x_test.shape == (N, 32, 32, 3) and y_test.shape == (N, 1)
    for got, want in zip(
        (x_train, y_train, x_test, y_test),
        (ex_train, ey_train, ex_test, ey_test),
        strict=True,
    ):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_class_names_follow_the_cifar_page():
    assert cifar10.CLASS_NAMES == (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip


@pytest.mark.parametrize("sub", ["", "cifar-10-batches-bin"])
def test_the_binary_version_loads_channels_last(tmp_path, rng, sub):
    batches = write_cifar(tmp_path / sub, rng, N)
    assert_loaded(cifar10.load_data(path=tmp_path), batches)


@pytest.mark.parametrize("sub", ["", "cifar-10-batches-py"])
def test_the_python_version_loads_through_the_restricted_unpickler(tmp_path, rng, sub):
    batches = write_cifar(tmp_path / sub, rng, N, kind="python")
    assert_loaded(cifar10.load_data(path=tmp_path), batches)


def test_the_binary_version_is_preferred_when_both_are_present(tmp_path, rng):
    write_cifar(tmp_path / "cifar-10-batches-py", rng, N, kind="python")
    binary = write_cifar(tmp_path / "cifar-10-batches-bin", rng, N)
    assert_loaded(cifar10.load_data(path=tmp_path), binary)


def test_the_archive_is_read_without_unpacking(tmp_path, rng):
    batches = {name: cifar_records(rng, N) for name in CIFAR_BATCHES}
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(cifar_tarball(batches))
    assert_loaded(cifar10.load_data(path=tmp_path), batches)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-binary.tar.gz"]


def test_an_archive_member_of_the_wrong_size_is_refused(tmp_path, rng):
    batches = {name: cifar_records(rng, N) for name in CIFAR_BATCHES}
    batches["test_batch"] = cifar_records(rng, N + 1)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(cifar_tarball(batches))
    with pytest.raises(InvalidFileError, match="test_batch.bin a file of"):
        cifar10.load_data(path=tmp_path)


def test_a_batch_cut_at_a_record_boundary_is_refused(tmp_path, rng):
    write_cifar(tmp_path, rng, N)
    x, y = cifar_records(rng, N - 1)
    (tmp_path / "data_batch_3.bin").write_bytes(cifar_bin_bytes(x, y))
    with pytest.raises(
        InvalidFileError, match=f"data_batch_3.bin: expected {N} images"
    ):
        cifar10.load_data(path=tmp_path)


def test_glassnet_data_is_searched_before_the_cache(tmp_path, rng, monkeypatch):
    env = write_cifar(tmp_path / "env" / "cifar10", rng, N)
    cached = write_cifar(cache_root() / "cifar10", rng, N)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    assert_loaded(cifar10.load_data(), env)
    monkeypatch.delenv("GLASSNET_DATA")
    assert_loaded(cifar10.load_data(), cached)


def test_the_archive_downloads_verified_and_is_unpacked_in_the_cache(
    tmp_path, rng, monkeypatch
):
    batches = {name: cifar_records(rng, N) for name in CIFAR_BATCHES}
    data = cifar_tarball(batches)
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / cifar10.ARCHIVE.name).write_bytes(data)
    remote = RemoteFile(
        cifar10.ARCHIVE.name, len(data), hashlib.sha256(data).hexdigest()
    )
    monkeypatch.setattr(cifar10, "ARCHIVE", remote)
    with serve_directory(tmp_path / "www") as url:
        monkeypatch.setattr(cifar10, "MIRRORS", [url])
        assert_loaded(cifar10.load_data(), batches)
    cache = cache_root() / "cifar10"
    assert [p.name for p in cache.iterdir()] == ["cifar-10-batches-bin"]
    assert_loaded(cifar10.load_data(), batches)


def test_a_corrupted_archive_download_leaves_nothing(tmp_path, rng, monkeypatch):
    data = cifar_tarball({name: cifar_records(rng, N) for name in CIFAR_BATCHES})
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / cifar10.ARCHIVE.name).write_bytes(data)
    monkeypatch.setattr(
        cifar10, "ARCHIVE", RemoteFile(cifar10.ARCHIVE.name, len(data), "0" * 64)
    )
    with serve_directory(tmp_path / "www") as url:
        monkeypatch.setattr(cifar10, "MIRRORS", [url])
        with pytest.raises(InvalidFileError, match="SHA-256"):
            cifar10.load_data()
    assert list((cache_root() / "cifar10").iterdir()) == []


def test_no_files_anywhere_lists_the_places_and_the_download_url():
    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert "$GLASSNET_DATA/cifar10" in message
    assert str(cache_root() / "cifar10") in message
    assert "cifar-10-binary.tar.gz" in message and "www.cs.toronto.edu" in message
