"""data_utils on tiny CIFAR-10 files written in the real formats to tmp_path."""

import numpy as np
import pytest

from glassnet.cs231n.data_utils import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch
from glassnet.datasets import cifar10
from tests.datasets.builders import (
    CIFAR_BATCHES,
    cifar_bin_bytes,
    cifar_py2_pickle,
    write_cifar,
)

N = 4  # records per batch here; the real files hold 10,000


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", N)


def channels_last(x):
    """Record byte c * 1024 + r * 32 + k is row r, column k of channel c."""
    out = np.empty((len(x), 32, 32, 3))
    for c in range(3):
        out[..., c] = x[:, c * 1024 : (c + 1) * 1024].reshape(-1, 32, 32)
    return out


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_load_CIFAR_batch_returns_the_course_arrays(tmp_path, rng, kind):
    x, y = rng.integers(0, 256, (N, 3072), dtype=np.uint8), np.array([3, 0, 9, 1])
    name = "data_batch_1" + (".bin" if kind == "binary" else "")
    write = cifar_bin_bytes if kind == "binary" else cifar_py2_pickle
    (tmp_path / name).write_bytes(write(x, y.astype(np.uint8)))
    X, Y = load_CIFAR_batch(tmp_path / name)
    assert X.dtype == np.float64 and Y.dtype == np.int64
    np.testing.assert_array_equal(X, channels_last(x))
    np.testing.assert_array_equal(Y, y)


def test_load_CIFAR10_returns_train_and_test_flat_labels(tmp_path, rng):
    batches = write_cifar(tmp_path / "cifar-10-batches-py", rng, N, kind="python")
    Xtr, Ytr, Xte, Yte = load_CIFAR10(tmp_path / "cifar-10-batches-py")
    assert Xtr.shape == (5 * N, 32, 32, 3) and Xte.shape == (N, 32, 32, 3)
    assert Ytr.shape == (5 * N,) and Yte.dtype == np.int64 and Xtr.dtype == np.float64
    train = [batches[name] for name in CIFAR_BATCHES[:5]]
    np.testing.assert_array_equal(
        Xtr, channels_last(np.concatenate([b[0] for b in train]))
    )
    np.testing.assert_array_equal(Ytr, np.concatenate([b[1] for b in train]))
    np.testing.assert_array_equal(Xte, channels_last(batches["test_batch"][0]))


def test_get_CIFAR10_data_cell_prints_the_course_shapes(tmp_path, rng):
    write_cifar(tmp_path, rng, N, kind="binary")
    data = get_CIFAR10_data(
        num_training=15, num_validation=5, num_test=3, path=tmp_path
    )
    shapes = {k: v.shape for k, v in data.items()}
    assert shapes == {
        "X_train": (15, 3, 32, 32), "y_train": (15,), "X_val": (5, 3, 32, 32),
        "y_val": (5,), "X_test": (3, 3, 32, 32), "y_test": (3,),
    }  # fmt: skip
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0.0, atol=1e-3)
