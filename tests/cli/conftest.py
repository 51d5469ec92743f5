import numpy as np
import pytest

from tests.datasets.builders import write_idx_dataset


@pytest.fixture(scope="package")
def fake_fashion(tmp_path_factory):
    """Small Fashion-MNIST-format IDX files: 200 training and 12 test images."""
    where = tmp_path_factory.mktemp("fashion")
    write_idx_dataset(where, np.random.default_rng(0), n_train=200, n_test=12)
    return where
