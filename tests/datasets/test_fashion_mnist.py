import hashlib
from pathlib import Path

import numpy as np
import pytest

from glassnet.datasets import fashion_mnist
from glassnet.errors import DatasetNotFoundError
from tests.datasets.builders import write_idx_dataset

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# Read at import, before the autouse fixture empties it for each test.
DEFAULT_SYSTEM_DIRS = list(fashion_mnist.SYSTEM_DIRS)


def test_class_names_follow_the_fashion_mnist_readme():
    assert fashion_mnist.CLASS_NAMES == (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )


def test_the_system_wide_copy_is_used_after_the_cache(tmp_path, rng, monkeypatch):
    arrays = write_idx_dataset(tmp_path / "usr-share", rng)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", [str(tmp_path / "usr-share")])
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_the_debian_directory_is_a_default_place():
    assert str(DEBIAN_DIR) in DEFAULT_SYSTEM_DIRS


def test_the_error_suggests_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", [str(tmp_path / "absent")])
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "absent") in message
    assert "GLASSNET_DATA" in message


@pytest.mark.skipif(
    not DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed"
)
def test_the_real_debian_files_load_with_keras_shapes_and_balanced_classes():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=DEBIAN_DIR)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    # Fashion-MNIST README: 6,000 training and 1,000 test images per class.
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [1000] * 10)


# The Debian files are the official ones whose gzip header lost the file name
# and got a new mtime (strip-nondeterminism). The official mtimes below were
# found by searching for the header that reproduces the MD5 sums of the
# Fashion-MNIST README (README_MD5, copied from it).
OFFICIAL_MTIMES = {
    "train-images-idx3-ubyte": 1504176606,
    "train-labels-idx1-ubyte": 1504176606,
    "t10k-images-idx3-ubyte": 1504176627,
    "t10k-labels-idx1-ubyte": 1504176627,
}
README_MD5 = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}


@pytest.mark.skipif(
    not DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed"
)
def test_the_known_sha256_are_those_of_the_official_files_rebuilt_from_debian():
    for remote in fashion_mnist.FILES.values():
        stem = remote.name.removesuffix(".gz")
        debian = (DEBIAN_DIR / remote.name).read_bytes()
        assert debian[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no file name
        official = (
            debian[:3]
            + b"\x08"  # FNAME flag
            + OFFICIAL_MTIMES[stem].to_bytes(4, "little")
            + debian[8:10]
            + stem.encode()
            + b"\x00"
            + debian[10:]
        )
        assert hashlib.md5(official).hexdigest() == README_MD5[stem]
        assert len(official) == remote.size
        assert hashlib.sha256(official).hexdigest() == remote.sha256
