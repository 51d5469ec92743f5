import pytest

from glassnet.callbacks.monitor import MonitorCallback


@pytest.mark.parametrize(
    "monitor, expected",
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_mse", "min"),
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("fmeasure", "max"),
    ],
)
def test_auto_mode_maximises_accuracy_like_names_and_minimises_the_rest(
    monitor, expected
):
    assert MonitorCallback(monitor=monitor).mode_resolved == expected


def test_explicit_mode_overrides_the_name():
    assert MonitorCallback(monitor="val_accuracy", mode="min").mode_resolved == "min"
    assert MonitorCallback(monitor="val_loss", mode="max").mode_resolved == "max"


def test_min_mode_needs_a_drop_larger_than_min_delta():
    cb = MonitorCallback(monitor="loss", min_delta=0.1)
    assert cb.is_improvement(0.85, 1.0)
    assert not cb.is_improvement(0.95, 1.0)
    assert not cb.is_improvement(0.9, 1.0)  # exactly min_delta is not enough
    assert not cb.is_improvement(1.2, 1.0)


def test_max_mode_needs_a_rise_larger_than_min_delta():
    cb = MonitorCallback(monitor="accuracy", min_delta=0.1)
    assert cb.is_improvement(0.75, 0.5)
    assert not cb.is_improvement(0.55, 0.5)
    assert not cb.is_improvement(0.25, 0.5)


def test_negative_min_delta_counts_by_its_size_as_in_keras():
    assert MonitorCallback(min_delta=-0.1).min_delta == 0.1


def test_anything_but_nan_improves_on_no_reference():
    cb = MonitorCallback()
    assert cb.is_improvement(1e9, None)
    assert not cb.is_improvement(float("nan"), None)
    assert not cb.is_improvement(float("nan"), 1.0)


def test_monitor_value_is_read_from_logs():
    cb = MonitorCallback(monitor="val_loss")
    assert cb.get_monitor_value({"loss": 1.0, "val_loss": 0.5}) == 0.5


@pytest.mark.parametrize(
    "monitor, key",
    [
        ("val_accuracy", "val_acc"),
        ("val_acc", "val_accuracy"),
        ("accuracy", "acc"),
        ("acc", "accuracy"),
    ],
)
def test_monitor_accepts_the_other_accuracy_spelling(monitor, key):
    cb = MonitorCallback(monitor=monitor)
    assert cb.get_monitor_value({"loss": 1.0, key: 0.75}) == 0.75


def test_missing_monitor_warns_and_lists_the_available_keys():
    cb = MonitorCallback(monitor="val_loss")
    with pytest.warns(RuntimeWarning, match="val_loss.*loss, accuracy"):
        assert cb.get_monitor_value({"loss": 1.0, "accuracy": 0.5}) is None


def test_train_begin_forgets_the_best_value():
    cb = MonitorCallback()
    cb.best = 0.1
    cb.on_train_begin()
    assert cb.best is None


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"monitor": ""}, "monitor"),
        ({"monitor": 3}, "monitor"),
        ({"mode": "lowest"}, "mode"),
        ({"baseline": "0.5"}, "baseline"),
        ({"min_delta": float("nan")}, "min_delta"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MonitorCallback(**kwargs)
