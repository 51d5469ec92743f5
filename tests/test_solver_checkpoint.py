"""Tests of Solver checkpoints: file names, contents without pickle, bitwise
identical resumption, and the refusal of corrupt, foreign or mismatched files."""

import json
import os
import pickle
import re

import numpy as np
import pytest

from glassnet.errors import InvalidFileError
from glassnet.optim import sgd
from glassnet.solver import Solver
from tests.test_solver import (
    C,
    D,
    NormalizedSoftmax,
    assert_same_training_state,
    blobs,
    make_solver,
)


def bn_run(tmp_path, num_epochs, seed_model=5, name="run", **kwargs):
    data = blobs(np.random.default_rng(2))
    model = NormalizedSoftmax(np.random.default_rng(seed_model))
    kwargs = {
        "update_rule": "adam",
        "optim_config": {"learning_rate": 1e-2},
        "lr_decay": 0.9,
        "num_train_samples": 40,
        "checkpoint_name": tmp_path / name,
        "num_epochs": num_epochs,
        **kwargs,
    }
    return make_solver(None, model=model, data=data, **kwargs)


def test_checkpoints_are_named_per_epoch_and_hold_no_pickle(tmp_path):
    solver = bn_run(tmp_path, num_epochs=3)
    solver.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"run_epoch_{e}.ckpt" for e in (1, 2, 3)
    ]
    with np.load(tmp_path / "run_epoch_3.ckpt", allow_pickle=False) as archive:
        assert "meta" in archive.files
        assert all(archive[k].dtype != object for k in archive.files)
    loaded = bn_run(tmp_path, num_epochs=3, seed_model=9, name="other")
    loaded.load_checkpoint(tmp_path / "run_epoch_3.ckpt")
    assert loaded.epoch == 3
    assert loaded.val_acc_history == solver.val_acc_history
    for k, w in solver.best_params.items():
        assert np.array_equal(loaded.best_params[k], w)


def test_resumed_training_is_bitwise_identical(tmp_path):
    full = bn_run(tmp_path, num_epochs=4)
    full.train()
    resumed = bn_run(tmp_path, num_epochs=4, seed_model=9, name="resumed")
    resumed.resume(tmp_path / "run_epoch_2.ckpt")
    assert_same_training_state(full, resumed)
    assert (tmp_path / "resumed_epoch_4.ckpt").exists()
    assert not (tmp_path / "resumed_epoch_2.ckpt").exists()


def test_custom_rule_is_stored_as_none_and_must_be_passed_on_resume(tmp_path):
    def my_sgd(w, dw, config):
        return sgd(w, dw, config)

    bn_run(tmp_path, num_epochs=1, update_rule=my_sgd).train()
    bn_run(tmp_path, num_epochs=1, name="adam").train()
    path = tmp_path / "run_epoch_1.ckpt"
    assert _read_meta(path)["update_rule"] is None
    assert _read_meta(tmp_path / "adam_epoch_1.ckpt")["update_rule"] == "adam"
    model = NormalizedSoftmax(np.random.default_rng(9))
    default = Solver(model, blobs(np.random.default_rng(2)), verbose=False)
    with pytest.raises(ValueError, match="update_rule: .*custom rule"):
        default.load_checkpoint(path)
    again = bn_run(tmp_path, num_epochs=2, update_rule=my_sgd, name="again")
    again.resume(path)
    assert again.epoch == 2


def test_checkpoint_of_another_rule_or_model_is_refused_untouched(tmp_path, rng):
    bn_run(tmp_path, num_epochs=1).train()
    path = tmp_path / "run_epoch_1.ckpt"
    with pytest.raises(ValueError, match="update_rule: expected 'adam'"):
        bn_run(tmp_path, num_epochs=1, update_rule="sgd").load_checkpoint(path)
    without_bn = make_solver(rng, update_rule="adam")
    with pytest.raises(ValueError, match="expected 0 bn_params"):
        without_bn.load_checkpoint(path)
    wider = bn_run(tmp_path, num_epochs=1)
    W = np.zeros((D, C + 1))
    wider.model.params["W"] = W
    with pytest.raises(ValueError, match=r"param 'W' of shape \(5, 4\)"):
        wider.load_checkpoint(path)
    assert wider.model.params["W"] is W and wider.epoch == 0
    narrow = bn_run(tmp_path, num_epochs=1)
    params = narrow.model.params
    narrow.model.params = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(ValueError, match="dtype float32"):
        narrow.load_checkpoint(path)
    other_bn = bn_run(tmp_path, num_epochs=1, name="other")
    other_bn.train()
    other_bn.model.bn_params[0]["running_mean"] = np.zeros(D + 2)
    with pytest.raises(ValueError, match=r"bn_params\[0\]\['running_mean'\]"):
        other_bn.load_checkpoint(path)
    renamed = bn_run(tmp_path, num_epochs=1)
    renamed.model.params["W2"] = renamed.model.params.pop("W")
    with pytest.raises(ValueError, match="parameters"):
        renamed.load_checkpoint(path)


def test_a_checkpoint_with_a_key_the_rule_does_not_read_is_refused_untouched(
    tmp_path,
):
    written = bn_run(tmp_path, num_epochs=1)
    written.optim_configs["W"]["learning_rat"] = 1e-2  # past the Solver's check
    written.train()
    loading = bn_run(tmp_path, num_epochs=1, name="other")
    with pytest.raises(InvalidFileError, match=r"optim_configs\['W'\].*'learning_rat'"):
        loading.load_checkpoint(tmp_path / "run_epoch_1.ckpt")
    assert loading.epoch == 0 and "m" not in loading.optim_configs["W"]


def _read_meta(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["meta"].tobytes().decode())


def _rewrite(src, dst, drop=(), **replace):
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in drop}
    arrays.update(replace)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def _meta(text):
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _truncate(good, bad):
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def _npy(good, bad):
    with open(bad, "wb") as f:
        np.save(f, np.zeros(3))


BAD_FILES = {
    "empty": lambda good, bad: bad.write_bytes(b""),
    "truncated": _truncate,
    "flipped byte": lambda good, bad: bad.write_bytes(_flip(good.read_bytes())),
    "random bytes": lambda good, bad: bad.write_bytes(
        np.random.default_rng(0).bytes(999)
    ),
    "text": lambda good, bad: bad.write_text("epoch = 1\n"),
    "pickle": lambda good, bad: bad.write_bytes(pickle.dumps({"W": np.zeros(3)})),
    "npy": _npy,
    "no meta": lambda good, bad: _rewrite(good, bad, drop=("meta",)),
    "meta not json": lambda good, bad: _rewrite(good, bad, meta=_meta("{oops")),
    "meta not a dict": lambda good, bad: _rewrite(good, bad, meta=_meta("[1, 2]")),
    "foreign meta": lambda good, bad: _rewrite(good, bad, meta=_meta('{"epoch": 1}')),
    "missing array": lambda good, bad: _rewrite(good, bad, drop=("param_0",)),
    "float meta": lambda good, bad: _rewrite(good, bad, meta=np.zeros(3)),
}


def _flip(data):
    data = bytearray(data)
    data[len(data) // 3] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_corrupt_or_foreign_checkpoint_raises_invalid_file_error(tmp_path, kind):
    solver = bn_run(tmp_path, num_epochs=1)
    solver.train()
    good, bad = tmp_path / "run_epoch_1.ckpt", tmp_path / "bad.ckpt"
    BAD_FILES[kind](good, bad)
    fresh = bn_run(tmp_path, num_epochs=2, seed_model=9)
    W = fresh.model.params["W"].copy()
    with pytest.raises(InvalidFileError, match=re.escape("bad.ckpt")):
        fresh.load_checkpoint(bad)
    assert np.array_equal(fresh.model.params["W"], W) and fresh.epoch == 0


def test_missing_checkpoint_raises_file_not_found(tmp_path, rng):
    with pytest.raises(FileNotFoundError):
        make_solver(rng).load_checkpoint(tmp_path / "nope.ckpt")


def test_a_directory_or_fifo_is_refused_as_not_a_regular_file(tmp_path, rng):
    solver = make_solver(rng)
    with pytest.raises(InvalidFileError, match="regular file; received a directory"):
        solver.load_checkpoint(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(InvalidFileError, match="received a FIFO"):
            solver.load_checkpoint(tmp_path / "fifo")
