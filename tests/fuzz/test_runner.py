"""The long fuzzing runner's targets: each one's seed file loads through its check."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def runner():
    path = os.path.join(ROOT, "fuzz", "fuzz_loaders.py")
    spec = importlib.util.spec_from_file_location("fuzz_loaders", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", runner().TARGETS)
def test_every_target_loads_its_own_seed(name):
    check, seeds = runner().target(name)
    assert seeds
    assert all(check(seed) == "loaded" for seed in seeds)
