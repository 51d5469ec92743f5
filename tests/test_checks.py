import numpy as np
import pytest

from glassnet._internal import checks as _checks


def test_messages_name_the_argument_the_expectation_and_the_value():
    with pytest.raises(
        ValueError, match=r"w: expected shape \(3, \*\); received shape \(2, 4\)"
    ):
        _checks.check_array("w", np.zeros((2, 4)), shape=(3, None))


def test_numbers_and_intervals():
    assert _checks.check_number("p", 0.5, low=0, low_open=True, high=1) == 0.5
    with pytest.raises(ValueError, match=r"p: expected a number in \(0, 1\]"):
        _checks.check_number("p", 0, low=0, low_open=True, high=1)
    with pytest.raises(ValueError, match="finite"):
        _checks.check_number("lr", float("nan"))
    with pytest.raises(ValueError, match="batch_size"):
        _checks.check_int("batch_size", 0, min_value=1)
    with pytest.raises(ValueError, match="batch_size"):
        _checks.check_int("batch_size", True)


def test_labels_must_be_integers_within_the_class_range():
    _checks.check_labels("y", np.array([0, 2]), 3, n=2)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        _checks.check_labels("y", np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="integer"):
        _checks.check_labels("y", np.array([0.5]), 3)
    with pytest.raises(ValueError, match="2 labels"):
        _checks.check_labels("y", np.array([0]), 3, n=2)


def test_finite_and_choices():
    with pytest.raises(ValueError, match="1 NaN"):
        _checks.check_finite("X", np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="mode"):
        _checks.check_choice("mode", "eval", ("train", "test"))


@pytest.mark.parametrize(
    ("value", "received"),
    [
        ([[1, 2], [3]], "a ragged nested list: x[1] has 1 entry but x[0] has 2"),
        ([[[1], [2]], [[1], []]], "a ragged nested list: x[1][1] has 0 entries"),
        ([[1, 2], 3], "a ragged nested list: x[1] is a number but x[0] is a list"),
        ("abc", "strings (dtype <U3)"),
        (["1", "2"], "strings (dtype <U1)"),
        (None, "None"),
        ({"a": 1}, "dtype object"),
    ],
)
def test_as_numeric_array_names_the_argument_in_one_line(value, received):
    from glassnet._internal.checks import as_numeric_array

    with pytest.raises(ValueError) as info:
        as_numeric_array("x", value)
    message = str(info.value)
    assert message.startswith("x: expected a ") and received in message
    assert "\n" not in message and "inhomogeneous" not in message


def test_as_numeric_array_returns_rectangular_numbers_as_an_array():
    from glassnet._internal.checks import as_numeric_array

    out = as_numeric_array("x", [[1, 2], [3, 4]])
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    assert as_numeric_array("x", [True, False]).dtype == np.bool_
