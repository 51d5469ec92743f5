import numpy as np
import pytest

from glassnet.functional._sums import sum_rows


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (500, 32)])
def test_sum_rows_equals_numpy_column_sums(rng, shape):
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(sum_rows(a), a.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_sum_rows_keeps_float32():
    a = np.ones((1000, 4), dtype=np.float32)
    total = sum_rows(a)
    assert total.dtype == np.float32
    np.testing.assert_array_equal(total, np.full(4, 1000.0, dtype=np.float32))
