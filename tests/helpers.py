"""The one harness for layers: shape, parameter count, gradients and config."""

import os
import tempfile

import numpy as np

from glassnet import models
from glassnet.gradcheck import eval_numerical_gradient_array, max_relative_error


def check_layer(
    cls,
    kwargs,
    input_shape,
    expected_output_shape,
    *,
    expected_params=None,
    training=True,
    tol=1e-7,
    seed=0,
):
    """Build ``cls(**kwargs)`` in float64 on a random input and check it.

    Checks the output shape, the parameter count, the backward pass of the input
    and of every trainable weight against centred differences, and that
    ``from_config(get_config())`` rebuilds an equal layer (same output for the same
    weights), and that a model holding it survives a save/load round trip.
    Returns the layer.
    """
    rng = np.random.default_rng(seed)
    layer = cls(**kwargs, dtype="float64")
    x = rng.normal(size=input_shape)
    out = layer(x, training=training)
    assert out.shape == tuple(expected_output_shape), out.shape
    assert out.dtype == np.float64
    assert layer.compute_output_shape((None, *input_shape[1:]))[1:] == out.shape[1:]
    if expected_params is not None:
        assert layer.count_params() == expected_params

    dout = rng.normal(size=out.shape)
    layer.forward(x, training)
    dx = layer.backward(dout)

    def f_x(v):
        return layer.forward(v, training)

    errors = {"x": max_relative_error(dx, eval_numerical_gradient_array(f_x, x, dout))}
    analytic = dict(layer.grads)
    for key, w in layer.params.items():
        errors[key] = max_relative_error(
            analytic[key],
            eval_numerical_gradient_array(
                lambda _: layer.forward(x, training), w, dout
            ),
        )
    assert max(errors.values()) < tol, errors

    clone = cls.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x), layer(x), rtol=1e-12)

    # The save/load round trip: the layer alone in a model, through a file.
    model = models.Sequential([clone])
    expected = model(x)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer_model")
        model.save(path)
        np.testing.assert_array_equal(models.load_model(path)(x), expected)
    return layer
