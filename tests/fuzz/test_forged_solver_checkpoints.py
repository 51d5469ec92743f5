"""Forged Solver checkpoints, loaded through the public API: each is refused
with a glassnet error, and the solver is left as it was."""

import io
import json
import zipfile

import numpy as np
import pytest

from glassnet.errors import GlassnetError, InvalidFileError
from glassnet.solver.checkpoint import STATS
from tests.test_solver_checkpoint import _meta, _read_meta, _rewrite, bn_run


@pytest.fixture
def good(tmp_path):
    bn_run(tmp_path, num_epochs=1).train()
    return tmp_path / "run_epoch_1.ckpt"


def load_forged(tmp_path, good, drop=(), **replace):
    """Load ``good`` rewritten without ``drop`` and with ``replace``d entries
    into a fresh solver; return the error, after checking that the solver was
    left untouched."""
    bad = tmp_path / "bad.ckpt"
    _rewrite(good, bad, drop=drop, **replace)
    return load_bad(tmp_path, bad)


def load_bad(tmp_path, bad):
    fresh = bn_run(tmp_path, num_epochs=2, seed_model=9)
    W = fresh.model.params["W"].copy()
    with pytest.raises(InvalidFileError) as info:
        fresh.load_checkpoint(bad)
    assert np.array_equal(fresh.model.params["W"], W) and fresh.epoch == 0
    return info.value


def optim_entries(good, i=0):
    return _read_meta(good)["optim"][i]


def forged_meta(good, **fields):
    return _meta(json.dumps({**_read_meta(good), **fields}))


def test_an_unknown_update_rule_is_refused(tmp_path, good):
    load_forged(tmp_path, good, meta=forged_meta(good, update_rule="os.system"))


def test_a_refusal_is_a_glassnet_error(tmp_path, good):
    error = load_forged(tmp_path, good, meta=forged_meta(good, epoch=-1))
    assert isinstance(error, GlassnetError)


def test_unhashable_batchnorm_keys_are_refused(tmp_path, good):
    load_forged(tmp_path, good, meta=forged_meta(good, bn=[[["running_mean"]]]))


def test_a_generator_state_too_large_for_the_generator_is_refused(tmp_path, good):
    state = _read_meta(good)["rng_state"]
    state["state"]["state"] = 2**130  # 40 digits: a valid JSON int, not a uint128
    load_forged(tmp_path, good, meta=forged_meta(good, rng_state=state))


def test_an_optimizer_slot_of_another_shape_is_refused(tmp_path, good):
    entries = _read_meta(good)["optim"][0]
    slot = next(name for _, kind, name in entries if kind == "array")
    load_forged(tmp_path, good, **{slot: np.zeros(1)})


def test_running_statistics_of_another_shape_are_refused(tmp_path, good):
    load_forged(tmp_path, good, bn_0_running_mean=np.zeros(7))


def test_a_generator_state_with_a_fractional_number_is_refused(tmp_path, good):
    state = _read_meta(good)["rng_state"]
    state["uinteger"] += 0.5  # numpy would silently truncate it
    load_forged(tmp_path, good, meta=forged_meta(good, rng_state=state))


def test_an_optimizer_slot_of_another_dtype_is_refused(tmp_path, good):
    slot = next(name for _, kind, name in optim_entries(good) if kind == "array")
    error = load_forged(tmp_path, good, **{slot: np.zeros((5, 3), np.float32)})
    assert "float32" in str(error)


def test_a_slot_naming_a_parameter_array_is_refused(tmp_path, good):
    # Both would be one array: an in-place slot update would change the weights.
    optim = _read_meta(good)["optim"]
    optim[0] = [
        [k, kind, "param_0" if kind == "array" else v] for k, kind, v in optim[0]
    ]
    load_forged(tmp_path, good, meta=forged_meta(good, optim=optim))


def test_a_scalar_slot_holding_an_array_is_refused(tmp_path, good):
    optim = _read_meta(good)["optim"]
    optim[0][0] = ["learning_rate", "scalar", "optim_0_0"]
    load_forged(
        tmp_path, good, meta=forged_meta(good, optim=optim), optim_0_0=np.ones(3)
    )


def test_a_duplicated_config_key_is_refused(tmp_path, good):
    optim = _read_meta(good)["optim"]
    optim[0].append(["learning_rate", "json", 1e6])
    load_forged(tmp_path, good, meta=forged_meta(good, optim=optim))


def test_running_statistics_of_another_shape_than_gamma_are_refused(tmp_path, good):
    # Both statistics, current and best, forged alike: only gamma1 can tell.
    stats = {f"{p}_0_{k}": np.ones(7) for p in ("bn", "best_bn") for k in STATS}
    fresh = bn_run(tmp_path, num_epochs=2, seed_model=9)
    _rewrite(good, tmp_path / "bad.ckpt", **stats)
    fresh.load_checkpoint(tmp_path / "bad.ckpt")  # no gamma: nothing to compare to
    fresh = bn_run(tmp_path, num_epochs=2, seed_model=9)
    fresh.model.params["gamma1"] = np.ones(5)
    meta = _read_meta(good)
    meta["param_names"].append("gamma1")
    meta["optim"].append([])
    bad = tmp_path / "bad.ckpt"
    _rewrite(good, bad, meta=_meta(json.dumps(meta)), param_2=np.ones(5),
             best_2=np.ones(5), **stats)  # fmt: skip
    with pytest.raises(InvalidFileError, match=r"bn_params\[0\]"):
        fresh.load_checkpoint(bad)


def test_an_integer_running_statistic_is_refused(tmp_path, good):
    load_forged(tmp_path, good, bn_0_running_var=np.ones(5, dtype=np.int64))


@pytest.mark.parametrize("key", ["epoch", "iteration"])
def test_a_huge_epoch_or_iteration_count_is_refused(tmp_path, good, key):
    load_forged(tmp_path, good, meta=forged_meta(good, **{key: 10**15}))


@pytest.mark.parametrize(
    "field", [{"best_val_acc": 1.5}, {"val_acc_history": [0.5, 2]},
              {"loss_history": [float("nan")]}, {"model_rng_state": [1]}],
)  # fmt: skip
def test_out_of_range_histories_are_refused(tmp_path, good, field):
    load_forged(tmp_path, good, meta=forged_meta(good, **field))


def test_an_array_the_metadata_does_not_name_is_refused(tmp_path, good):
    error = load_forged(tmp_path, good, extra=np.zeros(3))
    assert "extra" in str(error)


def test_a_forged_npy_shape_is_refused_before_allocating(tmp_path, good):
    # The member declares 2**40 float64 (8 TiB) but holds 40 bytes: np.load
    # would try to allocate the whole array first.
    bad = with_member(tmp_path, good, "param_0.npy", npy_header((2**40,)) + bytes(40))
    error = load_bad(tmp_path, bad)
    assert "param_0" in str(error)


def with_member(tmp_path, good, name, data):
    """A copy of the checkpoint ``good`` whose archive member ``name`` is ``data``."""
    bad = tmp_path / "bad.ckpt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            content = data if info.filename == name else src.read(info)
            dst.writestr(info.filename, content)
    return bad


def npy_header(shape):
    f = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue()


def test_a_pickled_object_array_is_refused(tmp_path, good):
    f = io.BytesIO()
    np.save(f, np.array([{"W": 1}], dtype=object), allow_pickle=True)
    bad = with_member(tmp_path, good, "param_0.npy", f.getvalue())
    error = load_bad(tmp_path, bad)
    assert "numeric dtype" in str(error)
