import numpy as np
import pytest

from glassnet import layers, models

RAGGED_X = [[1.0, 2.0, 3.0], [1.0, 2.0]]
GOOD_X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
RAGGED_Y = [[1.0, 2.0], [3.0]]
GOOD_Y = [[1.0, 2.0], [3.0, 4.0]]
X_MESSAGE = (
    r"^x: expected a rectangular numeric array; received a ragged nested list: "
    r"x\[1\] has 2 entries but x\[0\] has 3$"
)
Y_MESSAGE = r"^y: expected a rectangular numeric array; received a ragged .*y\[1\]"


@pytest.fixture
def model():
    m = models.Sequential([layers.Input((3,)), layers.Dense(2)], seed=0)
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.fit(RAGGED_X, GOOD_Y, verbose=0), X_MESSAGE),
        (lambda m: m.fit(GOOD_X, RAGGED_Y, verbose=0), Y_MESSAGE),
        (
            lambda m: m.fit(
                np.array(GOOD_X),
                np.array(GOOD_Y),
                verbose=0,
                validation_data=(RAGGED_X, GOOD_Y),
            ),
            X_MESSAGE,
        ),
        (lambda m: m.evaluate(RAGGED_X, GOOD_Y, verbose=0), X_MESSAGE),
        (lambda m: m.evaluate(GOOD_X, RAGGED_Y, verbose=0), Y_MESSAGE),
        (lambda m: m.predict(RAGGED_X, verbose=0), X_MESSAGE),
        (lambda m: m.train_on_batch(GOOD_X, RAGGED_Y), Y_MESSAGE),
        (lambda m: m(RAGGED_X), X_MESSAGE),
    ],
)
def test_ragged_lists_are_refused_in_one_line_naming_the_argument(model, call, message):
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        call(model)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_string_targets_are_refused_naming_y(model):
    with pytest.raises(
        ValueError,
        match=r"^y: expected a numeric array; received "
        r"strings \(dtype <U1\)$",
    ):
        model.fit(GOOD_X, [["a", "b"], ["c", "d"]], verbose=0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("abc", r"^weights: expected a list of 2 arrays; received str$"),
        (np.zeros(2), r"^weights: expected a list of 2 arrays; received ndarray$"),
        (
            [np.full((3, 2), "w"), np.zeros(2)],
            r"^weight 'kernel' of layer 'dense': expected a numeric array; "
            r"received strings",
        ),
        (
            [[[1, 2], [3, 4], [5]], np.zeros(2)],
            r"^weight 'kernel' of layer 'dense': expected a rectangular numeric "
            r"array; received a ragged nested list: item \[2\] has 1 entry",
        ),
    ],
)
def test_set_weights_refuses_strings_and_ragged_lists(model, weights, message):
    with pytest.raises(ValueError, match=message):
        model.set_weights(weights)


def test_set_weights_still_takes_any_iterable_of_arrays(model):
    weights = [w + 1 for w in model.get_weights()]
    model.set_weights(iter(weights))
    np.testing.assert_array_equal(model.get_weights()[0], weights[0])
