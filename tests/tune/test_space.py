import math

import numpy as np
import pytest

from glassnet.tune.space import (
    Choice,
    LogUniform,
    RandInt,
    choice,
    grid_configs,
    grid_points_for,
    loguniform,
    parse_param,
    parse_params,
    randint,
    random_configs,
    uniform,
)

SPACE = {
    "lr": loguniform(1e-4, 1e-1),
    "momentum": uniform(0.5, 0.99),
    "units": randint(16, 129),
    "optimizer": choice("adam", "sgd"),
    "batch_size": 32,
}


def test_random_samples_stay_inside_each_distribution():
    for config in random_configs(SPACE, 200, seed=3):
        assert 1e-4 <= config["lr"] <= 1e-1
        assert 0.5 <= config["momentum"] <= 0.99
        assert 16 <= config["units"] < 129 and isinstance(config["units"], int)
        assert config["optimizer"] in ("adam", "sgd")
        assert config["batch_size"] == 32


def test_loguniform_is_uniform_in_log_space():
    lrs = [c["lr"] for c in random_configs({"lr": loguniform(1e-4, 1e-1)}, 2000)]
    # log10 uniform on [-4, -1]: a quarter of the draws in each quarter interval.
    counts, _ = np.histogram(np.log10(lrs), bins=4, range=(-4, -1))
    assert np.all(np.abs(counts / 2000 - 0.25) < 0.04)


def test_the_ith_config_depends_on_seed_and_index_only():
    many = random_configs(SPACE, 10, seed=7)
    assert random_configs(SPACE, 4, seed=7) == many[:4]
    assert random_configs(SPACE, 4, seed=8) != many[:4]


def test_grid_is_the_cartesian_product_with_the_last_key_fastest():
    space = {"lr": loguniform(1e-3, 1e-1), "opt": choice("a", "b"), "k": 5}
    assert grid_configs(space, 3) == [
        {"lr": lr, "opt": o, "k": 5} for lr in (1e-3, 1e-2, 1e-1) for o in "ab"
    ]


def test_grid_points_per_axis():
    assert uniform(0, 1).grid(3) == [0.0, 0.5, 1.0]
    assert RandInt(0, 10).grid(4) == [0, 3, 6, 9]
    assert Choice((1, 2)).grid(7) == [1, 2]


def test_grid_points_for_fits_the_budget():
    space = {"lr": loguniform(1e-3, 1e-1), "reg": loguniform(1e-5, 1e-1)}
    assert grid_points_for(space, 16) == 4
    assert grid_points_for(space, 15) == 3
    assert grid_points_for({"o": choice(1, 2, 3)}, 10) == 1
    with pytest.raises(ValueError, match="trials"):
        grid_points_for({"o": choice(1, 2, 3)}, 2)


def test_parse_param_reads_every_kind():
    assert parse_param("lr=loguniform:1e-4:1e-1") == ("lr", LogUniform(1e-4, 0.1))
    assert parse_param("units=randint:16:64") == ("units", RandInt(16, 64))
    assert parse_param("opt=choice:adam,sgd") == ("opt", Choice(("adam", "sgd")))
    assert parse_param("bs=choice:32,64")[1].values == (32, 64)
    assert parse_param("dropout=uniform:0:0.5")[1].high == 0.5
    assert parse_param("batch_size=64") == ("batch_size", 64)


@pytest.mark.parametrize(
    "text",
    ["lr", "=1", "lr=normal:0:1", "lr=loguniform:0:1", "lr=uniform:1", "x=uniform:a:b"],
)
def test_parse_param_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="--param"):
        parse_param(text)


@pytest.mark.parametrize(
    "text", ["lr=choice:", "lr=choice:,", "lr=choice:0.1,", "opt=choice:a,,b", "lr= "]
)
def test_an_empty_choice_or_value_is_refused_at_parse_time(text):
    # Accepted before, as the value "": every trial then failed on it.
    with pytest.raises(ValueError, match=r"^--param: expected .*; received "):
        parse_param(text)


def test_parse_params_refuses_a_hyperparameter_given_twice_naming_both_specs():
    assert parse_params(["lr=0.1", "units=64"]) == {"lr": 0.1, "units": 64}
    with pytest.raises(ValueError) as info:
        parse_params(["lr=1e-3", "units=64", " lr=choice:0.1,0.2"])
    assert str(info.value) == (
        "--param lr: expected one spec per hyperparameter; "
        "received two: 'lr=1e-3' and ' lr=choice:0.1,0.2'"
    )


def test_bad_bounds_name_the_argument():
    with pytest.raises(ValueError, match="high"):
        uniform(1, 1)
    with pytest.raises(ValueError, match="low"):
        loguniform(0, 1)
    with pytest.raises(ValueError, match="low"):
        uniform(math.nan, 1)
    with pytest.raises(ValueError, match="high"):
        randint(3, 3)
    with pytest.raises(ValueError, match="values"):
        choice()
    with pytest.raises(ValueError, match="space"):
        random_configs({}, 3)
