import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.datasets import cifar10
from glassnet.datasets.utils import (
    get_cifar10_data,
    kfold,
    scale_images,
    shift_augment,
    subtract_channel_mean,
    to_categorical,
    train_val_test_split,
)
from tests.datasets.builders import write_cifar

labels_st = st.lists(st.integers(0, 3), min_size=8, max_size=60).map(np.array)


def ids_and_labels(y):
    """x holds each sample's index, so a split's x tells where samples went."""
    return np.arange(len(y)), np.asarray(y)


@given(labels_st, st.floats(0, 0.3), st.floats(0.05, 0.3), st.booleans())
def test_split_parts_are_disjoint_cover_the_data_and_keep_pairs(y, val, test, strat):
    x, y = ids_and_labels(y)
    parts = train_val_test_split(x, y, val, test, stratify=strat, seed=1)
    ids = np.concatenate([p[0] for p in parts])
    np.testing.assert_array_equal(np.sort(ids), x)
    for xs, ys in parts:
        np.testing.assert_array_equal(ys, y[xs])
    assert len(parts[1][0]) == math.ceil(val * len(y))
    assert len(parts[2][0]) == math.ceil(test * len(y))


@given(labels_st, st.floats(0.05, 0.3), st.floats(0.05, 0.3))
def test_a_stratified_split_gives_each_class_its_share_within_one(y, val, test):
    x, y = ids_and_labels(y)
    parts = train_val_test_split(x, y, val, test, seed=2)
    counts = np.bincount(y, minlength=4)
    n_test = len(parts[2][1])
    # Largest-remainder rounding: each class gets floor or ceil of its share.
    exact = counts * n_test / len(y)
    got = np.bincount(parts[2][1], minlength=4)
    assert np.all(got >= np.floor(exact)) and np.all(got <= np.ceil(exact))


def test_a_split_is_fixed_by_its_seed(rng):
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    a = train_val_test_split(x, y, 0.2, 0.2, seed=5)
    b = train_val_test_split(x, y, 0.2, 0.2, seed=5)
    c = train_val_test_split(x, y, 0.2, 0.2, seed=6)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa[0], pb[0])
    assert not np.array_equal(a[2][0], c[2][0])
    assert a[0][0].dtype == np.float32


def test_integer_sizes_are_counts_and_column_labels_are_stratified():
    y = np.repeat([0, 1], 10).reshape(-1, 1)
    (_, y_tr), (_, y_va), (_, y_te) = train_val_test_split(np.arange(20), y, 4, 6)
    assert (len(y_tr), len(y_va), len(y_te)) == (10, 4, 6)
    assert np.bincount(y_te[:, 0]).tolist() == [3, 3]


def test_split_arguments_are_validated():
    x, y = np.arange(10), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="val_size and test_size"):
        train_val_test_split(x, y, 5, 5)
    with pytest.raises(ValueError, match="test_size"):
        train_val_test_split(x, y, 0.1, 1.0)
    with pytest.raises(ValueError, match="x and y"):
        train_val_test_split(x[:9], y, 0.1, 0.1)
    with pytest.raises(ValueError, match="y: expected integer labels"):
        train_val_test_split(x, np.eye(10), 0.1, 0.1)
    one_hot_ok = train_val_test_split(x, np.eye(10), 0.1, 0.1, stratify=False)
    assert one_hot_ok[0][1].shape == (8, 10)


@given(labels_st, st.integers(2, 8), st.booleans(), st.booleans())
def test_folds_are_disjoint_cover_the_data_and_balance_sizes(y, k, strat, shuffle):
    k = min(k, len(y))
    folds = list(kfold(y, k, stratify=strat, shuffle=shuffle, seed=3))
    assert len(folds) == k
    vals = np.concatenate([v for _, v in folds])
    np.testing.assert_array_equal(np.sort(vals), np.arange(len(y)))
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0
        assert len(train) + len(val) == len(y)
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 1


@given(labels_st, st.integers(2, 5))
def test_stratified_folds_spread_each_class_within_one(y, k):
    per_fold = np.array([np.bincount(y[v], minlength=4) for _, v in kfold(y, k)])
    assert np.all(per_fold.max(axis=0) - per_fold.min(axis=0) <= 1)


def test_unshuffled_plain_folds_are_contiguous_chunks():
    folds = list(kfold(np.zeros(10), 3, stratify=False, shuffle=False))
    # np.array_split(arange(10), 3) = [0..3], [4..6], [7..9]
    assert [v.tolist() for _, v in folds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_kfold_validates_k_at_call_time():
    with pytest.raises(ValueError, match="k"):
        kfold(np.zeros(5, dtype=int), 1)
    with pytest.raises(ValueError, match="k"):
        kfold(np.zeros(5, dtype=int), 6)


@pytest.mark.parametrize("shape", [(7,), (7, 1), (2, 3)])
def test_to_categorical_is_rows_of_the_identity(rng, shape):
    y = rng.integers(0, 4, shape)
    out = to_categorical(y, 5)
    base = shape[:-1] if shape[-1:] == (1,) and len(shape) > 1 else shape
    # float64 by default, as Keras 3 returns it.
    assert out.shape == (*base, 5) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(5)[y.reshape(base)])


def test_to_categorical_infers_the_classes_and_takes_a_dtype():
    assert to_categorical(x=[1], num_classes=2).dtype == np.float64
    assert to_categorical([1], dtype="float32").dtype == np.float32
    out = to_categorical([2, 0], dtype="int32")
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(
        to_categorical(np.array([1.0, 0.0])), np.eye(2)[[1, 0]]
    )


@pytest.mark.parametrize(
    ("y", "num_classes", "name"),
    [([0, 3], 3, "x"), ([-1, 0], 3, "x"), ([0.5], 3, "x"), ([], None, "num_classes")],
)
def test_to_categorical_refuses_what_it_cannot_encode(y, num_classes, name):
    with pytest.raises(ValueError, match=name):
        to_categorical(y, num_classes)


def test_scale_images_maps_the_range_to_unit_interval():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    out = scale_images(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-7)
    np.testing.assert_array_equal(scale_images(np.array([16]), max_value=16), [1.0])
    assert scale_images(x, dtype="float64").dtype == np.float64


def test_scale_images_refuses_values_beyond_max_value():
    with pytest.raises(ValueError, match="x: expected values in"):
        scale_images(np.array([0.0, 300.0]))
    with pytest.raises(ValueError, match="max_value"):
        scale_images(np.zeros(2), max_value=0)


@pytest.mark.parametrize("channel_axis", [-1, 1])
def test_channel_means_become_zero_and_the_training_mean_is_reused(rng, channel_axis):
    x = rng.normal(3.0, 1.0, (6, 3, 4, 4)).astype(np.float32)
    if channel_axis == -1:
        x = x.transpose(0, 2, 3, 1)
    centred, mean = subtract_channel_mean(x, channel_axis=channel_axis)
    axes = tuple(i for i in range(4) if i != channel_axis % 4)
    np.testing.assert_allclose(centred.mean(axis=axes), 0, atol=1e-6)
    assert centred.dtype == np.float32 and mean.dtype == np.float32
    np.testing.assert_allclose(mean.reshape(-1), x.mean(axis=axes), rtol=1e-6)
    other, same = subtract_channel_mean(
        x[:2], mean.reshape(-1), channel_axis=channel_axis
    )
    np.testing.assert_array_equal(other, x[:2] - mean)
    np.testing.assert_array_equal(same, mean)


def test_a_mean_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="mean"):
        subtract_channel_mean(np.zeros((2, 4, 4, 3)), np.zeros(4))


def test_cifar10_data_for_the_solver_follows_cs231n(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", 4)
    write_cifar(tmp_path, rng, 4)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path)
    data = get_cifar10_data(15, 5, 3, path=tmp_path)
    assert data["X_train"].shape == (15, 3, 32, 32)
    assert data["X_val"].shape == (5, 3, 32, 32) and data["X_test"].shape == (
        3,
        3,
        32,
        32,
    )
    assert all(data[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test"))
    assert all(data[k].dtype == np.int64 for k in ("y_train", "y_val", "y_test"))
    # cs231n: validation = the images after the first num_training, minus the
    # training mean image; then channels first.
    mean = x_train[:15].astype(np.float64).mean(axis=0)
    want_val = (x_train[15:20] - mean).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(data["X_val"], want_val, atol=1e-4)
    np.testing.assert_array_equal(data["y_val"], y_train[15:20, 0])
    np.testing.assert_array_equal(data["y_test"], y_test[:3, 0])
    raw = get_cifar10_data(15, 5, 3, subtract_mean=False, path=tmp_path)
    np.testing.assert_array_equal(raw["X_test"], x_test[:3].transpose(0, 3, 1, 2))


def test_cifar10_data_counts_beyond_the_data_are_refused(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", 2)
    write_cifar(tmp_path, rng, 2)
    with pytest.raises(ValueError, match="num_training"):
        get_cifar10_data(9, 2, 1, path=tmp_path)
    with pytest.raises(ValueError, match="num_test"):
        get_cifar10_data(5, 0, 3, path=tmp_path)


def test_shift_augment_adds_four_one_pixel_shifts_with_zero_fill(rng):
    x = rng.random((3, 5, 6, 2))
    y = np.array([0, 1, 2])
    xs, ys = shift_augment(x, y)
    assert xs.shape == (15, 5, 6, 2) and ys.tolist() == [0, 1, 2] * 5
    np.testing.assert_array_equal(xs[:3], x)
    down, up, right, left = xs[3:6], xs[6:9], xs[9:12], xs[12:15]
    np.testing.assert_array_equal(down[:, 1:], x[:, :-1])
    np.testing.assert_array_equal(up[:, :-1], x[:, 1:])
    np.testing.assert_array_equal(right[:, :, 1:], x[:, :, :-1])
    np.testing.assert_array_equal(left[:, :, :-1], x[:, :, 1:])
    for moved, edge in ((down, 0), (up, -1)):
        assert not moved[:, edge].any()
    for moved, edge in ((right, 0), (left, -1)):
        assert not moved[:, :, edge].any()


def test_shift_augment_checks_its_arguments(rng):
    x = rng.random((2, 4, 4))
    with pytest.raises(ValueError, match="shift"):
        shift_augment(x, [0, 1], shift=4)
    with pytest.raises(ValueError, match="y"):
        shift_augment(x, [0])
    with pytest.raises(ValueError, match="x"):
        shift_augment(x[0], [0, 1])


def test_shift_augment_with_diagonals_adds_the_eight_neighbour_moves(rng):
    x = rng.random((2, 4, 5))
    xs, ys = shift_augment(x, np.array([3, 4]), diagonals=True)
    assert xs.shape == (18, 4, 5) and ys.tolist() == [3, 4] * 9
    np.testing.assert_array_equal(xs[:10], shift_augment(x, [3, 4])[0])
    # Diagonal copies in order: down-right, down-left, up-right, up-left.
    for k, (dr, dc) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        moved = xs[10 + 2 * k : 12 + 2 * k]
        expected = np.zeros_like(x)
        for r in range(4):
            for c in range(5):
                if 0 <= r - dr < 4 and 0 <= c - dc < 5:
                    expected[:, r, c] = x[:, r - dr, c - dc]
        np.testing.assert_array_equal(moved, expected)
