import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.layers import Flatten, Reshape
from glassnet.layers.input_layer import Input
from glassnet.layers.reshaping import Permute
from glassnet.models.sequential import Sequential
from tests.helpers import check_layer


def test_flatten_and_reshape_pass_the_layer_checks():
    check_layer(Flatten, {}, (2, 3, 4), (2, 12), expected_params=0)
    check_layer(
        Reshape, {"target_shape": (4, -1)}, (2, 3, 4), (2, 4, 3), expected_params=0
    )


def test_reshape_refuses_incompatible_shapes():
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((5,))(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))


# -- Permute --


def test_permute_passes_the_layer_checks():
    check_layer(Permute, {"dims": (3, 1, 2)}, (2, 3, 4, 5), (2, 5, 3, 4))
    check_layer(Permute, {"dims": [2, 1]}, (2, 3, 4), (2, 4, 3), expected_params=0)


def test_permute_3_1_2_turns_channels_last_into_channels_first(rng):
    x = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    out = Permute((3, 1, 2))(x)
    assert out.shape == (2, 3, 4, 5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.transpose(x, (0, 3, 1, 2)))
    assert Permute((3, 1, 2)).compute_output_shape((None, 4, 5, 3)) == (None, 3, 4, 5)


@given(st.permutations([1, 2, 3]), st.lists(st.integers(1, 4), min_size=3, max_size=3))
def test_permute_matches_np_transpose_and_backward_undoes_it(dims, sizes):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *sizes))
    layer = Permute(dims, dtype="float64")
    out = layer(x)
    np.testing.assert_array_equal(out, np.transpose(x, (0, *dims)))
    # The gradient of a transpose is the transpose by the inverse permutation,
    # which np.argsort computes independently of the layer's own loop.
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, np.transpose(dout, np.argsort((0, *dims))))


def test_permute_followed_by_its_inverse_permutation_is_the_identity(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    forth, back = Permute((3, 1, 2)), Permute((2, 3, 1))
    np.testing.assert_array_equal(back(forth(x)), x.astype(np.float32))


def test_permute_config_holds_dims_as_a_list():
    config = Permute((3, 1, 2), name="p").get_config()
    assert config["dims"] == [3, 1, 2]
    assert Permute.from_config(config).dims == (3, 1, 2)


@pytest.mark.parametrize(
    "dims", [(1, 1), (0, 1), (1, 3), (2,), (-1, 1), [1.0, 2.0], (True,), 12, "12"]
)
def test_permute_refuses_dims_that_are_not_a_permutation_of_1_to_k(dims):
    with pytest.raises(ValueError, match="dims"):
        Permute(dims)


def test_permute_refuses_inputs_whose_rank_does_not_match_dims():
    with pytest.raises(ValueError, match="dims"):
        Permute((2, 1))(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="dims"):
        Sequential([Input((3, 4)), Permute((3, 1, 2))])
