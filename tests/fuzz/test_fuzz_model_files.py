"""Mutated model and weights files: every outcome is the original model or a
glassnet error (hypothesis; the conftest profile keeps the examples few)."""

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import corpus

# Each example writes and loads one small file: a few milliseconds.
FAST = settings(suppress_health_check=[HealthCheck.too_slow])

mutations = corpus.mutation_steps()


mutated = corpus.mutated


def test_the_unmutated_seeds_load_as_the_original():
    assert corpus.check_model_file(corpus.model_seed()) == "loaded"
    assert corpus.check_weights_file(corpus.weights_seed()) == "loaded"


@FAST
@given(mutations)
def test_a_mutated_model_file_loads_as_the_original_or_is_refused(steps):
    corpus.check_model_file(mutated(corpus.model_seed(), steps))


@FAST
@given(mutations)
def test_a_mutated_weights_file_sets_the_original_weights_or_nothing(steps):
    corpus.check_weights_file(mutated(corpus.weights_seed(), steps))


@FAST
@given(st.integers(0, 10**6))
def test_a_model_file_cut_anywhere_is_refused(cut):
    data = corpus.model_seed()
    assert corpus.check_model_file(data[: cut % len(data)]) == "refused"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
FORGED_KEYS = ["model", "compile", "optimizer_state", "rng_state", "layer_order"]


@FAST
@given(st.sampled_from(FORGED_KEYS), st.integers(0, 10**6), json_values)
def test_a_forged_config_with_a_valid_checksum_is_checked_field_by_field(
    key, where, value
):
    meta, tensors = corpus.model_contents()
    spec = json.loads(meta[key])
    paths = corpus.json_paths(spec)
    meta[key] = json.dumps(corpus.replace_at(spec, paths[where % len(paths)], value))
    corpus.check_forged_model(meta, tensors)


@FAST
@given(st.integers(0, 10**6), st.sampled_from(corpus.INTERESTING_INTS[:-3]))
def test_forged_weight_shapes_with_a_valid_checksum_are_refused(which, size):
    meta, tensors = corpus.model_contents()
    names = sorted(k for k in tensors if k.startswith("layers/"))
    name = names[which % len(names)]
    # A zero-size tensor of an absurd declared shape costs no bytes to forge.
    tensors[name] = np.zeros((size, 0), np.float32)
    assert corpus.check_forged_model(meta, tensors) == "refused"
