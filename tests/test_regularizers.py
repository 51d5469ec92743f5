import numpy as np
import pytest

from glassnet import regularizers


def test_keras_defaults_and_closed_forms(rng):
    w = rng.normal(size=(3, 4))
    assert regularizers.L2()(w) == pytest.approx(0.01 * np.sum(w**2))
    assert regularizers.L1()(w) == pytest.approx(0.01 * np.sum(np.abs(w)))
    assert regularizers.L1L2()(w) == 0.0
    loss, dw = regularizers.L1L2(l1=0.1, l2=0.2).penalty(w)
    assert loss == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w**2).sum())
    np.testing.assert_allclose(dw, 0.1 * np.sign(w) + 0.4 * w)


def test_get_and_serialize_round_trip_and_errors():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    r = regularizers.get(regularizers.serialize(regularizers.L2(0.5)))
    assert isinstance(r, regularizers.L2) and r.l2 == 0.5
    with pytest.raises(ValueError, match="regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2(-1.0)
