import numpy as np
import pytest

from glassnet.layers import Flatten, Reshape
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
