import numpy as np
import pytest

from glassnet import layers, models
from glassnet._internal import memory as _memory
from glassnet.errors import InsufficientMemoryError


def test_a_weight_too_large_for_the_machine_is_refused_with_its_sizes():
    # 64 x 10**10 float32 values: 2.3 TiB, more than any test machine has; NumPy
    # would raise a bare MemoryError from inside the initializer.
    with pytest.raises(InsufficientMemoryError) as info:
        models.Sequential([layers.Input((64,)), layers.Dense(10**10, name="huge")])
    message = str(info.value)
    assert message.startswith("weight 'kernel' of layer 'huge': expected a size ")
    assert "received shape (64, 10000000000) float32" in message
    assert "of memory available" in message and "7,680,000,000,000 bytes" in message


def test_the_check_uses_the_memory_available_at_build_time(monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: 1000)
    layer = layers.Dense(100, name="d")
    with pytest.raises(MemoryError, match=r"1,000 bytes\) of memory available"):
        layer.build((None, 4))
    # 4 x 100 float32 values, drawn in float64 first: 4800 bytes at the peak
    with pytest.raises(ValueError, match=r"needs 4.7 KiB \(4,800 bytes\)"):
        layer.build((None, 4))
    monkeypatch.setattr(_memory, "available_memory", lambda: 4800)
    layer.build((None, 4))
    assert layer.params["kernel"].shape == (4, 100)


def test_weights_are_built_when_the_available_memory_is_unknown(monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: None)
    layer = layers.Dense(3)
    layer.build((None, 2), np.random.default_rng(0))
    assert layer.count_params() == 9


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("ab", r"^weights of layer 'd': expected a list of 2 arrays .*received str$"),
        (
            [np.full((2, 3), "a"), np.zeros(3)],
            r"^weight 'kernel' of layer 'd': expected a numeric array; received "
            r"strings \(dtype <U1\)$",
        ),
        (
            [np.ones((2, 3)), [[1, 2, 3], [4, 5]]],
            r"^weight 'bias' of layer 'd': expected a rectangular numeric array; "
            r"received a ragged nested list: item \[1\] has 2 entries but item \[0\] "
            r"has 3$",
        ),
        (
            [[[1, 2, 3], [4, 5]], np.zeros(3)],
            r"^weight 'kernel' of layer 'd': expected a rectangular numeric array; "
            r"received a ragged nested list: item \[1\] has 2 entries but item \[0\] "
            r"has 3$",
        ),
    ],
)
def test_set_weights_refuses_strings_and_ragged_lists_naming_the_weight(
    weights, message
):
    layer = layers.Dense(3, name="d")
    layer.build((None, 2), np.random.default_rng(0))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=message):
        layer.set_weights(weights)
    for old, new in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_calling_a_layer_on_a_ragged_list_names_its_input():
    layer = layers.Dense(3, name="d")
    with pytest.raises(ValueError, match=r"^input of layer 'd': expected a rect"):
        layer([[1.0, 2.0], [3.0]])
