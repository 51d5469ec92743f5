import numpy as np
import pytest

from glassnet import constraints


def test_max_norm_rescales_only_columns_above_the_limit():
    w = np.array([[3.0, 0.1], [4.0, 0.1]])
    out = constraints.MaxNorm(2.0)(w)
    # Column 0 (norm 5) is scaled to 2; column 1 (norm 0.14) is left as it is.
    np.testing.assert_allclose(
        np.linalg.norm(out, axis=0), [2.0, np.sqrt(0.02)], rtol=1e-6
    )


def test_unit_norm_and_non_neg():
    w = np.array([[3.0, -1.0], [4.0, 2.0]])
    np.testing.assert_allclose(
        np.linalg.norm(constraints.UnitNorm()(w), axis=0), 1, rtol=1e-6
    )
    np.testing.assert_array_equal(constraints.NonNeg()(w), [[3.0, 0.0], [4.0, 2.0]])


def test_get_and_serialize():
    c = constraints.get(constraints.serialize(constraints.MaxNorm(3, axis=(0, 1))))
    assert c.max_value == 3 and c.axis == (0, 1)
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="constraint"):
        constraints.get("positive")
