import importlib.util
import sys

import numpy as np
import pytest

from glassnet.datasets import digits

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="scikit-learn not installed"
)


@needs_sklearn
def test_the_split_covers_all_1797_images_as_uint8_from_0_to_16():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert x_train.max() == 16 and x_test.min() == 0
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Every image of scikit-learn's set appears once, with its label.
    ours = np.concatenate([x_train, x_test]).reshape(len(bunch.target), -1)
    key = np.lexsort(ours.T[::-1])
    ref = bunch.data.astype(np.uint8)
    ref_key = np.lexsort(ref.T[::-1])
    np.testing.assert_array_equal(ours[key], ref[ref_key])
    np.testing.assert_array_equal(
        np.bincount(np.concatenate([y_train, y_test])), np.bincount(bunch.target)
    )


@needs_sklearn
def test_the_split_is_stratified():
    (_, y_train), (_, y_test) = digits.load_data(test_size=0.25)
    counts = np.bincount(y_train) + np.bincount(y_test)
    share = np.bincount(y_test) / counts
    assert np.all(np.abs(share - 0.25) < 1.5 / counts)


@needs_sklearn
def test_the_split_is_fixed_by_the_seed():
    a = digits.load_data(seed=3)
    b = digits.load_data(seed=3)
    c = digits.load_data(seed=4)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert not np.array_equal(a[1][0], c[1][0])


@needs_sklearn
def test_an_integer_test_size_is_a_count():
    (x_train, _), (x_test, _) = digits.load_data(test_size=100)
    assert len(x_test) == 100 and len(x_train) == 1697


@needs_sklearn
def test_a_test_size_that_leaves_no_training_data_is_refused():
    with pytest.raises(ValueError, match="test_size"):
        digits.load_data(test_size=1797)


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install glassnet\[data\]"):
        digits.load_data()


def test_class_names_are_the_ten_digits():
    assert digits.CLASS_NAMES == tuple("0123456789")
