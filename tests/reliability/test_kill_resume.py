"""SIGKILL at random moments, resume, repeat: the end is bitwise the same.

Each trial trains ``training_child.train_life`` in a forked process (forked, so
that no trial pays for importing glassnet again), kills it with SIGKILL after
a seeded random delay, resumes it in a new process, and so on until one life
reaches the end; some trials first kill it halfway through writing a
checkpoint; one more is killed after its last epoch's backup. The final weights
and history (the model averages its weights, use_ema, at the end of fit) must
equal those of a run that was never interrupted, in every trial.
"""

import multiprocessing
import os
import shutil
import signal
import time

import numpy as np
import pytest

from glassnet.saving.container import read_file
from tests.reliability import training_child

TRIALS = 12
SLOW = 0.004  # seconds per batch: the run's length is less at the mercy of load
KILLS: list[int] = []  # per trial, for the report (pytest -s prints nothing)
pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)


def _assert_no_corrupt_checkpoint(folder):
    backup = os.path.join(folder, "backup")
    for name in ("checkpoint.h5", "checkpoint.prev.h5"):
        path = os.path.join(backup, name)
        if os.path.exists(path):
            read_file(path)  # raises on a torn or corrupted file


def _backup_files(folder):
    backup = os.path.join(folder, "backup")
    return {
        name: open(os.path.join(backup, name), "rb").read()
        for name in sorted(os.listdir(backup))
        if name.startswith("checkpoint")  # not a torn write's temporary file
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("reference"))
    start = time.perf_counter()
    assert training_child.forked_life(folder, slow=SLOW) == 0
    return training_child.read_result(folder), time.perf_counter() - start


@pytest.mark.parametrize("trial", range(TRIALS))
def test_random_sigkills_and_resumes_end_bitwise_identical(trial, tmp_path, reference):
    (weights, history), duration = reference
    rng = np.random.default_rng(trial)
    folder, kills = str(tmp_path), 0
    if trial % 3 == 0:
        # Deterministic: killed halfway through writing checkpoint k.
        k = int(rng.integers(1, 20))
        code = training_child.forked_life(folder, kill_in_write=k, slow=SLOW)
        assert code == -signal.SIGKILL
        _assert_no_corrupt_checkpoint(folder)
        kills += 1
    scale = 0.9
    while True:
        # A kill anywhere in the run: in a batch, a checkpoint write, a rename.
        delay = float(rng.uniform(0.05, scale)) * duration if kills < 3 else None
        code = training_child.forked_life(folder, delay, slow=SLOW)
        _assert_no_corrupt_checkpoint(folder)
        if code == 0 and kills == 0:
            # This busy machine ran faster than the reference: start over, sooner.
            shutil.rmtree(folder)
            scale /= 2
            continue
        if code == 0:
            break
        assert code == -signal.SIGKILL
        kills += 1
    KILLS.append(kills)
    assert kills >= 1
    got_weights, got_history = training_child.read_result(folder)
    assert all(np.array_equal(a, b) for a, b in zip(weights, got_weights, strict=True))
    assert got_history == history


def test_a_kill_after_the_last_epoch_resumes_to_the_same_end(tmp_path, reference):
    (weights, history), _ = reference
    folder = str(tmp_path)
    code = training_child.forked_life(folder, kill_at_train_end=True, slow=SLOW)
    assert code == -signal.SIGKILL
    assert os.path.exists(os.path.join(folder, "backup", "checkpoint.h5"))
    assert training_child.forked_life(folder) == 0  # nothing left but to finish
    got_weights, got_history = training_child.read_result(folder)
    assert all(np.array_equal(a, b) for a, b in zip(weights, got_weights, strict=True))
    assert got_history == history


# The torn latest backup is replaced by the previous one, with this warning.
@pytest.mark.filterwarnings("ignore:BackupAndRestore:RuntimeWarning")
def test_a_resume_with_another_batch_size_is_refused_and_keeps_the_backup(
    tmp_path, reference
):
    (weights, history), _ = reference
    folder = str(tmp_path)
    # Killed halfway through its 7th backup: the 6th, inside epoch 1, is whole
    # (as checkpoint.prev.h5: the latest was being replaced).
    code = training_child.forked_life(folder, kill_in_write=7, slow=SLOW)
    assert code == -signal.SIGKILL
    before = _backup_files(folder)
    with pytest.raises(ValueError, match=r"batch_size: expected 8.*received 4"):
        training_child.train_life(folder, batch_size=4)
    assert _backup_files(folder) == before
    assert training_child.forked_life(folder) == 0
    got_weights, got_history = training_child.read_result(folder)
    assert all(np.array_equal(a, b) for a, b in zip(weights, got_weights, strict=True))
    assert got_history == history
