import numpy as np
import pytest

from glassnet import backend


def test_numpy_arrays_use_the_numpy_module():
    assert backend.get_array_module(np.zeros(2), 3.0) is np
    assert backend.xp() is np and backend.backend_name() == "numpy"


def test_floatx_defaults_to_float32_and_can_be_changed_and_restored():
    assert backend.floatx() == np.float32
    backend.set_floatx("float64")
    try:
        assert backend.floatx() == np.float64
    finally:
        backend.set_floatx(np.float32)
    with pytest.raises(ValueError, match="dtype"):
        backend.set_floatx("int8")


def test_rng_is_reproducible_and_passes_generators_through():
    a, b = backend.rng(3).normal(size=4), backend.rng(3).normal(size=4)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert backend.rng(g) is g
    with pytest.raises(ValueError, match="seed"):
        backend.rng(1.5)


def test_unknown_backend_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="numpy"):
        backend.set_backend("torch")


def test_to_numpy_returns_numpy_arrays():
    assert isinstance(backend.to_numpy([1, 2]), np.ndarray)
