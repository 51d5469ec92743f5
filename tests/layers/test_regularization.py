import numpy as np
import pytest

from glassnet.layers import Dropout


def test_dropout_is_the_identity_in_inference_and_drops_rate_in_training(rng):
    x = np.ones((200, 50), dtype=np.float32)
    layer = Dropout(0.3, seed=0)
    np.testing.assert_array_equal(layer(x), x)
    out = layer(x, training=True)
    # Keras' rate is the probability of DROPPING; kept units are scaled by 1/(1-rate).
    assert abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)


def test_dropout_rate_is_validated():
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)
