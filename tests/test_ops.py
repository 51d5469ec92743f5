"""glassnet.ops: every op's tape gradient against centred differences (float64)."""

import numpy as np
import pytest

from glassnet import ops
from glassnet.functional import affine_forward, relu_forward
from glassnet.gradcheck import eval_numerical_gradient_array, rel_error


def check_op(f, *inputs, rng, tol=1e-7):
    """The tape's gradient of sum(f(*inputs) * dout) equals the numerical one,
    for every input."""
    out = f(*inputs)
    dout = rng.standard_normal(np.shape(out))
    with ops.GradientTape() as tape:
        taped = f(*inputs)
    grads = tape.gradient(taped, list(inputs), output_gradients=dout)
    for i, (x, g) in enumerate(zip(inputs, grads, strict=True)):

        def fi(xi, i=i):
            args = list(inputs)
            args[i] = xi
            return np.asarray(f(*args))

        num = eval_numerical_gradient_array(fi, x, dout)
        assert g is not None and g.shape == x.shape, f"input {i}"
        assert rel_error(g, num) < tol, f"input {i}: {rel_error(g, num)}"


def randn(rng, *shape):
    return rng.standard_normal(shape)


BINARY = [ops.add, ops.subtract, ops.multiply, ops.divide]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((3, 1), (1, 4))]


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_op_gradients_sum_back_to_each_broadcast_operand(op, shapes, rng):
    a, b = randn(rng, *shapes[0]), randn(rng, *shapes[1])
    if op is ops.divide:
        b = np.abs(b) + 0.5  # away from the pole
    check_op(op, a, b, rng=rng)


@pytest.mark.parametrize(
    "op",
    [ops.negative, ops.exp, ops.square, ops.relu, ops.sigmoid, ops.tanh, ops.softmax],
    ids=lambda f: f.__name__,
)
def test_unary_op_gradients(op, rng):
    x = randn(rng, 3, 5)
    if op is ops.relu:
        x[np.abs(x) < 1e-3] = 0.5  # no kink within the step
    check_op(op, x, rng=rng)


@pytest.mark.parametrize("op", [ops.log, ops.sqrt], ids=lambda f: f.__name__)
def test_log_and_sqrt_gradients_on_positive_inputs(op, rng):
    check_op(op, np.abs(randn(rng, 3, 4)) + 0.5, rng=rng)


def test_power_gradients_for_base_and_exponent(rng):
    a, b = np.abs(randn(rng, 3, 4)) + 0.5, randn(rng, 4)
    check_op(ops.power, a, b, rng=rng)
    check_op(lambda x: ops.power(x, 3), a, rng=rng)


def test_softmax_along_axis_0(rng):
    check_op(lambda x: ops.softmax(x, axis=0), randn(rng, 4, 3), rng=rng)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", [ops.sum, ops.mean, ops.max], ids=lambda f: f.__name__)
def test_reduction_gradients(op, axis, keepdims, rng):
    check_op(
        lambda x: op(x, axis=axis, keepdims=keepdims), randn(rng, 2, 3, 4), rng=rng
    )


def test_max_shares_the_gradient_of_tied_maxima_equally():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    with ops.GradientTape() as tape:
        m = ops.max(x, axis=1)
    np.testing.assert_array_equal(tape.gradient(m, [x])[0], [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize(
    "f",
    [
        lambda x: ops.reshape(x, (4, -1)),
        lambda x: ops.transpose(x),
        lambda x: ops.transpose(x, (1, 2, 0)),
        lambda x: ops.expand_dims(x, 1),
        lambda x: ops.squeeze(ops.expand_dims(x, 0)),
        lambda x: ops.where(x > 0, x, ops.square(x)),
        lambda x: ops.take_slice(x, (slice(None), [0, 2, 2])),
    ],
)
def test_shape_op_gradients(f, rng):
    check_op(f, randn(rng, 2, 3, 4), rng=rng)


def test_concatenate_splits_the_gradient_between_its_inputs(rng):
    check_op(
        lambda a, b: ops.concatenate([a, b], axis=1),
        randn(rng, 2, 3),
        randn(rng, 2, 5),
        rng=rng,
    )


@pytest.mark.parametrize(
    "shapes",
    [
        ((4, 3), (3, 5)),
        ((2, 4, 3), (3, 5)),
        ((2, 4, 3), (2, 3, 5)),
        ((3,), (3, 5)),
        ((4, 3), (3,)),
        ((3,), (3,)),
        ((2, 4, 3), (1, 3, 2)),
    ],
    ids=str,
)
def test_matmul_gradients(shapes, rng):
    check_op(ops.matmul, randn(rng, *shapes[0]), randn(rng, *shapes[1]), rng=rng)


def test_matmul_of_a_batch_and_a_matrix_is_affine_forward(rng):
    x, w = randn(rng, 4, 3), randn(rng, 3, 2)
    np.testing.assert_array_equal(
        ops.matmul(x, w), affine_forward(x, w, np.zeros(2))[0]
    )


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_gradients(padding, strides, data_format, rng):
    x = randn(rng, 2, 5, 5, 3)
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    w = randn(rng, 3, 3, 3, 2)
    check_op(lambda x, w: ops.conv(x, w, strides, padding, data_format), x, w, rng=rng)


def test_conv_same_padding_keeps_the_size_and_matches_a_hand_sum(rng):
    x, w = randn(rng, 1, 4, 4, 1), randn(rng, 3, 3, 1, 1)
    out = ops.conv(x, w, padding="same")
    assert out.shape == (1, 4, 4, 1)
    xp = np.pad(x[0, :, :, 0], 1)
    # The centre output by definition: the window around (1, 1) times the kernel.
    assert out[0, 1, 1, 0] == pytest.approx(np.sum(xp[1:4, 1:4] * w[:, :, 0, 0]))


@pytest.mark.parametrize(
    "op", [ops.max_pool, ops.average_pool], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [None, 1])
def test_pool_gradients(op, padding, strides, rng):
    x = randn(rng, 2, 5, 5, 3)
    check_op(lambda x: op(x, 2, strides, padding), x, rng=rng)


def test_pool_channels_first_equals_channels_last_transposed(rng):
    x = randn(rng, 2, 4, 4, 3)
    a = ops.max_pool(x, 2)
    b = ops.max_pool(x.transpose(0, 3, 1, 2), 2, data_format="channels_first")
    np.testing.assert_array_equal(a, b.transpose(0, 2, 3, 1))


def mlp_loss(x, y, w1, b1, w2, b2):
    h = ops.relu(ops.matmul(x, w1) + b1)
    p = ops.softmax(ops.matmul(h, w2) + b2)
    return -ops.mean(ops.sum(y * ops.log(p), axis=1))


def test_mlp_loss_gradients_with_operators_and_fan_out(rng):
    x, y = randn(rng, 5, 4), np.eye(3)[rng.integers(0, 3, 5)]
    weights = [randn(rng, 4, 6), randn(rng, 6), randn(rng, 6, 3), randn(rng, 3)]
    with ops.GradientTape() as tape:
        loss = mlp_loss(x, y, *weights)
    grads = tape.gradient(loss, weights)
    for i, w in enumerate(weights):

        def f(wi, i=i):
            ws = list(weights)
            ws[i] = wi
            return np.asarray(mlp_loss(x, y, *ws))

        num = eval_numerical_gradient_array(f, w, np.array(1.0))
        assert rel_error(grads[i], num) < 1e-7


def test_an_array_used_twice_gets_the_sum_of_both_gradients(rng):
    x = randn(rng, 3)
    with ops.GradientTape() as tape:
        y = ops.sum(ops.multiply(x, x) + x)
    np.testing.assert_allclose(tape.gradient(y, x), 2 * x + 1)


def test_relu_gradient_is_relu_backward_kernel(rng, monkeypatch):
    calls = []
    import glassnet.ops.nn as nn

    def spy(dout, cache):
        calls.append(1)
        return dout * cache

    monkeypatch.setattr(nn, "relu_backward", spy)
    x = randn(rng, 3)
    with ops.GradientTape() as tape:
        y = ops.relu(x)
    tape.gradient(y, x)
    assert calls == [1]
    np.testing.assert_array_equal(y, relu_forward(x)[0])


def test_unreachable_sources_get_none_or_zeros(rng):
    x, z = randn(rng, 3), randn(rng, 2)
    with ops.GradientTape(persistent=True) as tape:
        y = ops.sum(ops.exp(x))
    assert tape.gradient(y, [x, z])[1] is None
    np.testing.assert_array_equal(
        tape.gradient(y, [z], unconnected_gradients="zero")[0], np.zeros(2)
    )


def test_a_non_persistent_tape_gives_one_set_of_gradients(rng):
    x = randn(rng, 3)
    with ops.GradientTape() as tape:
        y = ops.sum(x)
    tape.gradient(y, [x])
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, [x])


def test_nested_tapes_are_refused():
    with ops.GradientTape():
        with pytest.raises(RuntimeError, match="nested"):
            with ops.GradientTape():
                pass


def test_operators_on_two_plain_arrays_are_not_recorded(rng):
    # Only an op's output (a TapedArray) carries the operators onto the tape.
    x = randn(rng, 3)
    with ops.GradientTape() as tape:
        y = ops.sum(x * x)
    assert tape.gradient(y, [x])[0] is None


def test_numpy_functions_without_a_gradient_are_refused_on_the_tape(rng):
    x = randn(rng, 3)
    with ops.GradientTape():
        y = ops.exp(x)
        with pytest.raises(TypeError, match="np.sin"):
            np.sin(y)


def test_ops_outside_a_tape_return_plain_arrays(rng):
    x = randn(rng, 2, 3)
    out = ops.relu(x) + 1
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, np.maximum(x, 0) + 1)


def test_stop_recording_leaves_ops_off_the_tape(rng):
    x = randn(rng, 3)
    with ops.GradientTape() as tape:
        with tape.stop_recording():
            y = ops.exp(x)
        z = ops.sum(ops.multiply(x, 1.0))
    assert type(y) is np.ndarray
    assert tape.gradient(z, [x])[0] is not None


def test_bad_arguments_name_themselves(rng):
    x = randn(rng, 1, 4, 4, 1)
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, randn(rng, 3, 3, 1, 1), padding="full")
    with pytest.raises(ValueError, match="unconnected_gradients"):
        ops.GradientTape().gradient(x, [x], unconnected_gradients="zeros")
