"""Mutated Solver checkpoints (bit flips, truncation, forged integers, spliced
bytes): every outcome is the original training state or a glassnet error that
leaves the solver untouched (hypothesis; the conftest profile keeps the examples
few)."""

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import corpus
from tests.fuzz.test_fuzz_model_files import FAST, mutated, mutations


def test_the_unmutated_checkpoint_loads_as_the_original():
    assert corpus.check_solver_checkpoint(corpus.solver_checkpoint_seed()) == "loaded"


@FAST
@given(mutations)
def test_a_mutated_checkpoint_restores_the_original_or_is_refused(steps):
    corpus.check_solver_checkpoint(mutated(corpus.solver_checkpoint_seed(), steps))


@FAST
@given(st.lists(st.integers(0, 2**20), min_size=1, max_size=4))
def test_a_checkpoint_with_flipped_bits_restores_the_original_or_is_refused(bits):
    data = corpus.flip_bits(corpus.solver_checkpoint_seed(), bits)
    corpus.check_solver_checkpoint(data)


@FAST
@given(st.integers(0, 10**6))
def test_a_checkpoint_cut_anywhere_is_refused(cut):
    data = corpus.solver_checkpoint_seed()
    assert corpus.check_solver_checkpoint(data[: cut % len(data)]) == "refused"
