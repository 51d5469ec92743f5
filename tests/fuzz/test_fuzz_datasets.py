"""Mutated IDX (raw and gzip) and CIFAR-10 (binary and Python) files: every
outcome is the naive parse of the bytes or a glassnet error."""

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import corpus
from tests.fuzz.test_fuzz_model_files import mutated, mutations


def test_the_unmutated_seeds_load():
    assert corpus.check_idx(corpus.idx_seed(False)) == "loaded"
    assert corpus.check_idx(corpus.idx_seed(True)) == "loaded"
    assert corpus.check_cifar_binary(corpus.cifar_binary_seed()) == "loaded"
    seed = corpus.cifar_python_seed()
    assert corpus.check_cifar_python(seed, seed) == "loaded"


@given(st.booleans(), mutations)
def test_a_mutated_idx_file_loads_as_its_naive_parse_or_is_refused(gz, steps):
    corpus.check_idx(mutated(corpus.idx_seed(gz), steps))


@given(st.booleans(), st.lists(st.sampled_from(corpus.INTERESTING_INTS), max_size=4))
def test_forged_idx_dimensions_are_refused_or_match_the_data(gz, dims):
    raw = bytes([0, 0, 8, len(dims)]) + b"".join(
        (d % 2**32).to_bytes(4, "big") for d in dims
    )
    data = raw + bytes(30)
    corpus.check_idx(corpus.gzip.compress(data, mtime=0) if gz else data)


@given(mutations)
def test_a_mutated_cifar_binary_batch_loads_record_by_record_or_is_refused(steps):
    corpus.check_cifar_binary(mutated(corpus.cifar_binary_seed(), steps))


@given(mutations)
def test_a_mutated_cifar_python_batch_is_a_valid_batch_or_is_refused(steps):
    seed = corpus.cifar_python_seed()
    corpus.check_cifar_python(mutated(seed, steps), seed)
