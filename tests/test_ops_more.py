"""glassnet.ops beyond the first set: the keras.ops names keras.io guides use.

Differentiable ops are checked against centred differences in float64
(``check_op``); constant-making and reading ops against NumPy and Keras'
documented dtypes.
"""

import numpy as np
import pytest

from glassnet import activations, layers, ops
from glassnet.gradcheck import eval_numerical_gradient_array, rel_error
from tests.test_ops import check_op, randn


def away_from(x, points, gap=0.05):
    """``x`` with entries near any of ``points`` moved off the kink."""
    x = x.copy()
    for p in np.atleast_1d(points):
        x[np.abs(x - p) < gap] = p + 2 * gap
    return x


# ---- gradients ---------------------------------------------------------------------


def test_abs_and_log1p_gradients(rng):
    check_op(ops.abs, away_from(randn(rng, 3, 4), 0.0), rng=rng)
    check_op(ops.log1p, np.abs(randn(rng, 3, 4)), rng=rng)


@pytest.mark.parametrize("op", [ops.maximum, ops.minimum], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1), (3,))])
def test_maximum_and_minimum_send_the_gradient_to_the_chosen_operand(op, shapes, rng):
    check_op(op, randn(rng, *shapes[0]), randn(rng, *shapes[1]), rng=rng)


def test_maximum_and_minimum_ties_go_to_the_first_operand():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    for op in (ops.maximum, ops.minimum):
        with ops.GradientTape() as tape:
            y = op(a, b)
        da, db = tape.gradient(y, [a, b])
        assert da[0] == 1 and db[0] == 0


def test_clip_passes_the_gradient_inside_and_hands_it_to_the_bounds_outside(rng):
    x = away_from(randn(rng, 4, 5), [-0.5, 0.5])
    check_op(lambda v: ops.clip(v, -0.5, 0.5), x, rng=rng)
    lo, hi = -np.abs(randn(rng, 5)) - 0.2, np.abs(randn(rng, 5)) + 0.2
    x = 2 * randn(rng, 4, 5)
    x[np.abs(x - lo) < 0.05] += 0.1
    x[np.abs(x - hi) < 0.05] += 0.1
    check_op(ops.clip, x, lo, hi, rng=rng)
    np.testing.assert_array_equal(ops.clip(x, lo, hi), np.clip(x, lo, hi))


@pytest.mark.parametrize("axis", [None, 0, (1, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", [ops.min, ops.var, ops.std], ids=lambda f: f.__name__)
def test_min_var_and_std_gradients(op, axis, keepdims, rng):
    x = randn(rng, 2, 3, 4)
    check_op(lambda v: op(v, axis=axis, keepdims=keepdims), x, rng=rng)
    expected = {ops.min: np.min, ops.var: np.var, ops.std: np.std}[op]
    np.testing.assert_allclose(
        op(x, axis=axis, keepdims=keepdims), expected(x, axis=axis, keepdims=keepdims)
    )


@pytest.mark.parametrize(
    ("ord", "axis"),
    [(None, None), ("fro", None), (None, 1), (1, 1), (2, 0), (np.inf, -1)],
)
def test_norm_gradients_and_values_match_numpy(ord, axis, rng):
    x = away_from(randn(rng, 3, 4), 0.0)
    check_op(lambda v: ops.norm(v, ord=ord, axis=axis), x, rng=rng)
    if axis is None:
        expected = np.linalg.norm(x.ravel()) if ord is None else np.linalg.norm(x, ord)
    else:
        expected = np.linalg.norm(x, ord=ord, axis=axis)
    np.testing.assert_allclose(ops.norm(x, ord=ord, axis=axis), expected)


def test_norm_refuses_matrix_norms_naming_ord(rng):
    with pytest.raises(ValueError, match="ord"):
        ops.norm(randn(rng, 3, 3), ord=2)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_gives_each_input_its_slice_of_the_gradient(axis, rng):
    a, b, c = randn(rng, 2, 3), randn(rng, 2, 3), randn(rng, 2, 3)
    check_op(lambda *xs: ops.stack(list(xs), axis=axis), a, b, c, rng=rng)
    np.testing.assert_array_equal(ops.stack([a, b, c], axis), np.stack([a, b, c], axis))


def test_broadcast_to_sums_the_gradient_back(rng):
    check_op(lambda v: ops.broadcast_to(v, (2, 3, 4)), randn(rng, 3, 1), rng=rng)


@pytest.mark.parametrize(
    ("op", "arg"),
    [(ops.leaky_relu, 0.2), (ops.elu, 1.0), (ops.gelu, True), (ops.gelu, False)],
    ids=["leaky_relu", "elu", "gelu_tanh", "gelu_erf"],
)
def test_kernel_activation_ops_gradients(op, arg, rng):
    check_op(lambda v: op(v, arg), away_from(randn(rng, 3, 4), 0.0), rng=rng)


def test_keras_default_arguments_of_the_activation_ops():
    x = np.array([-1.0, 2.0])
    np.testing.assert_allclose(ops.leaky_relu(x), [-0.2, 2.0])
    t = np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))
    np.testing.assert_allclose(ops.gelu(x), 0.5 * x * (1 + t))  # approximate=True


def test_cast_between_floats_keeps_the_gradient_and_to_int_drops_it(rng):
    x = randn(rng, 3).astype("float32")
    with ops.GradientTape(persistent=True) as tape:
        y = ops.cast(x, "float64")
        loss = ops.sum(ops.square(y))
        n = ops.cast(x, "int32")
    g = tape.gradient(loss, [x])[0]
    assert y.dtype == np.float64 and g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x, 1e-6)
    assert n.dtype == np.int32 and tape.gradient(ops.sum(n), [x])[0] is None


def test_operators_and_methods_on_taped_arrays_use_the_new_ops(rng):
    x = away_from(randn(rng, 3, 4), 0.0)
    with ops.GradientTape() as tape:
        h = ops.multiply(x, 1.0)
        y = ops.sum(abs(h) + np.maximum(h, 0.0) + h.astype("float64") + h.min())
    g = tape.gradient(y, [x])[0]
    winner = 12 * (x == x.min())  # the min is added to each of the 12 entries
    np.testing.assert_allclose(g, np.sign(x) + (x > 0) + 1 + winner)


def test_stop_gradient_blocks_the_gradient(rng):
    x = randn(rng, 4)
    with ops.GradientTape() as tape:
        y = ops.sum(ops.multiply(x, ops.stop_gradient(ops.multiply(x, 1.0))))
    np.testing.assert_allclose(tape.gradient(y, [x])[0], x)  # not 2 x


# ---- creation and reading ------------------------------------------------------------


def test_creation_ops_are_floatx_unless_told_otherwise():
    for make in (ops.ones, ops.zeros):
        assert make((2, 3)).dtype == np.float32 and make(4).shape == (4,)
        assert make((2,), dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(ops.ones((2, 2)), np.ones((2, 2)))
    np.testing.assert_array_equal(ops.zeros((2, 2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(ops.full((2, 3), 7), np.full((2, 3), 7.0))
    assert ops.full((2, 3), 7).dtype == np.float32
    np.testing.assert_array_equal(ops.eye(3, 4, 1), np.eye(3, 4, 1))
    assert ops.eye(2).dtype == np.float32


def test_like_ops_keep_the_input_dtype_and_shape(rng):
    x = randn(rng, 2, 3)
    assert ops.ones_like(x).dtype == np.float64
    np.testing.assert_array_equal(ops.zeros_like(x), np.zeros((2, 3)))
    np.testing.assert_array_equal(ops.ones_like(x, dtype="int32"), np.ones((2, 3)))
    assert ops.ones_like(x, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.full_like(x, 2.5), np.full((2, 3), 2.5))


def test_arange_follows_keras_dtype_rule():
    assert ops.arange(5).dtype == np.int32
    np.testing.assert_array_equal(ops.arange(5), np.arange(5))
    np.testing.assert_array_equal(ops.arange(2, 9, 3), [2, 5, 8])
    y = ops.arange(0.0, 1.0, 0.25)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [0, 0.25, 0.5, 0.75])


def test_one_hot_matches_rows_of_the_identity_and_zeros_out_of_range():
    x = np.array([[0, 2], [1, 5]])
    out = ops.one_hot(x, 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    expected = np.vstack([np.eye(3), np.zeros((1, 3))])[np.minimum(x, 3)]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(
        ops.one_hot(x, 3, axis=0), np.moveaxis(expected, -1, 0)
    )
    with pytest.raises(ValueError, match="x"):
        ops.one_hot(np.array([0.5]), 2)


def test_shape_argmax_and_comparisons_read_taped_arrays_without_a_gradient(rng):
    x = randn(rng, 3, 4)
    with ops.GradientTape():
        h = ops.multiply(x, 1.0)
        assert ops.shape(h) == (3, 4)
        assert ops.argmax(h, axis=1).dtype == np.int32
        np.testing.assert_array_equal(ops.argmax(h, axis=1), x.argmax(1))
        np.testing.assert_array_equal(ops.argmin(h), x.argmin())
        np.testing.assert_array_equal(ops.greater(h, 0), x > 0)
        np.testing.assert_array_equal(ops.less_equal(h, 0), x <= 0)
        np.testing.assert_array_equal(ops.equal(h, h), np.ones((3, 4), bool))
        np.testing.assert_array_equal(ops.not_equal(h, 0.0), x != 0)
        both = ops.logical_and(ops.greater(h, -1), ops.less(h, 1))
        np.testing.assert_array_equal(both, (x > -1) & (x < 1))
        np.testing.assert_array_equal(ops.logical_not(both), ~both)
        np.testing.assert_array_equal(ops.sign(h), np.sign(x))
    assert ops.shape(layers.Input(shape=(3,))) == (None, 3)


def test_convert_to_tensor_keeps_arrays_and_converts_python_numbers_as_keras():
    x = np.zeros(3)
    assert ops.convert_to_tensor(x) is x
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(x, dtype="float32").dtype == np.float32
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor(x, sparse=True)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="shape"):
        ops.ones((2, -1))
    with pytest.raises(ValueError, match="x"):
        ops.stack(np.zeros(3))
    with pytest.raises(ValueError, match="num_classes"):
        ops.one_hot(np.array([0]), 0)


# ---- keras.activations are ops -----------------------------------------------------


ACTIVATION_FUNCTIONS = [
    activations.relu,
    activations.leaky_relu,
    activations.sigmoid,
    activations.tanh,
    activations.softmax,
    activations.elu,
    activations.gelu,
    lambda v: activations.relu(v, negative_slope=0.1, max_value=1.0, threshold=0.2),
]


@pytest.mark.parametrize(
    "f", ACTIVATION_FUNCTIONS, ids=lambda f: f.__name__.replace("<lambda>", "relu_gen")
)
def test_activation_functions_are_recorded_with_their_kernel_gradient(f, rng):
    x = away_from(1.5 * randn(rng, 3, 5), [0.0, 0.2, 1.0])
    check_op(lambda v: f(ops.multiply(v, 1.0)), x, rng=rng)


def test_relu_takes_keras_arguments_with_its_docstring_values():
    x = np.array([-10, -5, 0.0, 5, 10])  # keras.activations.relu's docstring
    np.testing.assert_array_equal(activations.relu(x), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(
        activations.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10]
    )
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])


def test_leaky_relu_by_name_has_keras_slope_of_0_2(rng):
    dense = layers.Dense(3, activation="leaky_relu", dtype="float64")
    x = randn(rng, 4, 2)
    out = dense(x)
    z = x @ dense.kernel + dense.bias
    np.testing.assert_allclose(out, np.where(z > 0, z, 0.2 * z))
    np.testing.assert_allclose(activations.leaky_relu(z), np.where(z > 0, z, 0.2 * z))


class _MLPBlock(layers.Layer):  # keras.io's subclassing guide, in float64
    def __init__(self):
        super().__init__(dtype="float64")
        self.linear_1 = layers.Dense(5, dtype="float64")
        self.linear_2 = layers.Dense(1, dtype="float64")

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = activations.relu(x)
        return activations.sigmoid(self.linear_2(x))


def test_a_layer_calling_keras_activations_has_the_numerical_gradient(rng):
    block = _MLPBlock()
    x = randn(rng, 4, 3)
    out = block(x)
    dout = randn(rng, *out.shape)
    with ops.GradientTape() as tape:
        loss = ops.sum(ops.multiply(block(x), dout))
    weights = block.trainable_weights
    grads = tape.gradient(loss, weights)
    assert len(weights) == 4
    for w, g in zip(weights, grads, strict=True):
        num = eval_numerical_gradient_array(lambda _: np.asarray(block(x)), w, dout)
        assert rel_error(g, num) < 1e-7
