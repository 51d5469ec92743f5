import numpy as np
import pytest

from glassnet.functional.merge import (
    add_backward,
    add_forward,
    average_backward,
    average_forward,
    concatenate_backward,
    concatenate_forward,
    dot_backward,
    dot_forward,
    maximum_backward,
    maximum_forward,
    minimum_backward,
    minimum_forward,
    multiply_backward,
    multiply_forward,
    subtract_backward,
    subtract_forward,
)
from glassnet.gradcheck import eval_numerical_gradient_array, max_relative_error


def numerical_grads(forward, xs, dout, **kwargs):
    """The gradient of sum(forward(xs) * dout) for each input, by centred
    differences (each input perturbed in turn, the others held)."""
    grads = []
    for i in range(len(xs)):

        def f(v, i=i):
            call = list(xs)
            call[i] = v
            return forward(call, **kwargs)[0]

        grads.append(eval_numerical_gradient_array(f, xs[i].copy(), dout))
    return grads


def assert_gradients_match(forward, backward, xs, tol=1e-8, seed=1, **kwargs):
    out, cache = forward(xs, **kwargs)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dxs = backward(dout, cache)
    assert len(dxs) == len(xs)
    for dx, x, num in zip(
        dxs, xs, numerical_grads(forward, xs, dout, **kwargs), strict=True
    ):
        assert dx.shape == x.shape
        assert max_relative_error(dx, num) < tol


def keras_expand(x, ndim):
    # Keras' merge rule: a lower-rank input gains axes right after the batch axis.
    return x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:])


ELEMENTWISE = {
    "add": (add_forward, add_backward, lambda xs: sum(xs[1:], xs[0])),
    "multiply": (multiply_forward, multiply_backward, lambda xs: np.prod(xs, 0)),
    "average": (average_forward, average_backward, lambda xs: sum(xs) / len(xs)),
    "maximum": (maximum_forward, maximum_backward, lambda xs: np.max(xs, axis=0)),
    "minimum": (minimum_forward, minimum_backward, lambda xs: np.min(xs, axis=0)),
}

# Shapes that broadcast by Keras' rule; the last set mixes ranks.
SHAPE_SETS = [
    [(3, 4), (3, 4)],
    [(2, 3, 4), (2, 3, 4), (2, 3, 4)],
    [(2, 3, 4), (2, 1, 4), (2, 3, 1)],
    [(2, 3, 4), (2, 4), (2, 1, 1)],
]


def draw(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("shapes", SHAPE_SETS)
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_forward_matches_numpy_after_keras_rank_expansion(op, shapes, rng):
    forward, _, expected = ELEMENTWISE[op]
    xs = draw(rng, shapes)
    ndim = max(x.ndim for x in xs)
    full = np.broadcast_shapes(*(keras_expand(x, ndim).shape for x in xs))
    reference = expected([np.broadcast_to(keras_expand(x, ndim), full) for x in xs])
    out, _ = forward(xs)
    assert out.shape == full
    np.testing.assert_allclose(out, reference, rtol=1e-12)


@pytest.mark.parametrize("shapes", SHAPE_SETS)
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_gradients_match_numerical_gradients(op, shapes, rng):
    forward, backward, _ = ELEMENTWISE[op]
    assert_gradients_match(forward, backward, draw(rng, shapes))


def test_subtract_is_the_first_minus_the_second_with_gradients(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4))
    out, cache = subtract_forward([a, b])
    np.testing.assert_allclose(out, a - b[:, None, :], rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    da, db = subtract_backward(dout, cache)
    # Closed form: d(a - b)/da = 1, /db = -1, summed over b's broadcast axis.
    np.testing.assert_allclose(da, dout, rtol=1e-12)
    np.testing.assert_allclose(db, -dout.sum(axis=1), rtol=1e-12)
    assert_gradients_match(subtract_forward, subtract_backward, [a, b])


def test_a_rank_1_input_broadcasts_along_the_axes_after_the_batch(rng):
    # (N,) against (N, 3): Keras expands to (N, 1); NumPy alone would pair N with 3.
    a, b = rng.standard_normal(2), rng.standard_normal((2, 3))
    out, cache = add_forward([a, b])
    np.testing.assert_allclose(out, a[:, None] + b, rtol=1e-12)
    da, db = add_backward(np.ones((2, 3)), cache)
    np.testing.assert_allclose(da, [3.0, 3.0])
    np.testing.assert_allclose(db, np.ones((2, 3)))


def test_multiply_gradients_are_exact_where_an_input_is_zero(rng):
    xs = draw(rng, [(2, 3), (2, 3), (2, 3)])
    xs[1][0, 0] = 0.0
    out, cache = multiply_forward(xs)
    dout = rng.standard_normal(out.shape)
    d0, d1, d2 = multiply_backward(dout, cache)
    # Products of the others: no out / x, so no 0 / 0 at the zero.
    np.testing.assert_allclose(d0, dout * xs[1] * xs[2], rtol=1e-12)
    np.testing.assert_allclose(d1, dout * xs[0] * xs[2], rtol=1e-12)
    np.testing.assert_allclose(d2, dout * xs[0] * xs[1], rtol=1e-12)
    assert d1[0, 0] != 0.0 and d0[0, 0] == 0.0


def test_average_gradient_is_dout_over_the_number_of_inputs(rng):
    xs = draw(rng, [(2, 3)] * 4)
    out, cache = average_forward(xs)
    dout = rng.standard_normal(out.shape)
    for dx in average_backward(dout, cache):
        np.testing.assert_allclose(dx, dout / 4, rtol=1e-12)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [(maximum_forward, maximum_backward), (minimum_forward, minimum_backward)],
)
def test_extremum_ties_send_the_gradient_to_the_first_holding_input(forward, backward):
    a = np.array([[1.0, 5.0, 2.0]])
    b = np.array([[1.0, 5.0, 7.0]])
    c = np.array([[1.0, 5.0, -7.0]])
    out, cache = forward([a, b, c])
    da, db, dc = backward(np.array([[10.0, 20.0, 30.0]]), cache)
    # Columns 0 and 1 are three-way ties: the first input takes the gradient.
    np.testing.assert_array_equal(da[0, :2], [10.0, 20.0])
    np.testing.assert_array_equal(db[0, :2], [0.0, 0.0])
    np.testing.assert_array_equal(dc[0, :2], [0.0, 0.0])
    winner = 1 if forward is maximum_forward else 2  # 7 is largest, -7 smallest
    assert [da[0, 2], db[0, 2], dc[0, 2]] == [30.0 * (i == winner) for i in range(3)]


def test_a_tie_between_broadcast_entries_still_sends_one_gradient(rng):
    a = np.zeros((2, 3))
    b = np.zeros((2, 1))  # ties with every entry of a
    out, cache = maximum_forward([a, b])
    da, db = maximum_backward(np.ones((2, 3)), cache)
    np.testing.assert_array_equal(da, np.ones((2, 3)))
    np.testing.assert_array_equal(db, np.zeros((2, 1)))


@pytest.mark.parametrize("op", sorted(ELEMENTWISE) + ["subtract"])
def test_float32_in_is_float32_out_and_gradients_are_fresh_arrays(op, rng):
    forward, backward = (
        (subtract_forward, subtract_backward)
        if op == "subtract"
        else ELEMENTWISE[op][:2]
    )
    xs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    out, cache = forward(xs)
    assert out.dtype == np.float32
    assert not any(np.shares_memory(out, x) for x in xs)
    dout = np.ones((2, 3), np.float32)
    dxs = backward(dout, cache)
    assert all(dx.dtype == np.float32 for dx in dxs)
    assert not any(np.shares_memory(dx, dout) for dx in dxs)
    assert not np.shares_memory(dxs[0], dxs[1])


def test_one_input_is_accepted_and_copied(rng):
    x = rng.standard_normal((2, 3))
    for forward in (add_forward, multiply_forward, maximum_forward, average_forward):
        out, _ = forward([x])
        np.testing.assert_array_equal(out, x)
        assert not np.shares_memory(out, x)


@pytest.mark.parametrize(
    ("xs", "match"),
    [
        ([np.zeros((2, 3)), np.zeros((3, 3))], r"inputs\[1\].*batch size 2"),
        ([np.zeros((2, 3)), np.zeros((2, 4))], r"inputs\[1\].*broadcast.*\(2, 3\)"),
        ([np.zeros((2, 3, 4)), np.zeros((2, 3))], r"received shape \(2, 3\)"),
        ([np.zeros((2, 3)), np.zeros((2, 3), int)], r"inputs\[1\].*floating"),
        ([], "at least 1"),
        (np.zeros((2, 3)), "a list of arrays"),
    ],
)
def test_elementwise_merges_refuse_mismatches_naming_the_input(xs, match):
    with pytest.raises(ValueError, match=match):
        add_forward(xs)


def test_subtract_refuses_anything_but_two_inputs():
    with pytest.raises(ValueError, match="exactly 2 arrays; received 3"):
        subtract_forward([np.zeros((1, 2))] * 3)


# -- concatenate --


@pytest.mark.parametrize(
    ("shapes", "axis"),
    [
        ([(2, 3), (2, 4)], -1),
        ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], 1),
        ([(2, 3, 4), (2, 3, 5)], 2),
        ([(2, 3), (1, 3)], 0),
    ],
)
def test_concatenate_matches_numpy_and_numerical_gradients(shapes, axis, rng):
    xs = draw(rng, shapes)
    out, cache = concatenate_forward(xs, axis)
    np.testing.assert_array_equal(out, np.concatenate(xs, axis=axis))
    dout = rng.standard_normal(out.shape)
    dxs = concatenate_backward(dout, cache)
    # Closed form: each input receives its own slice of dout.
    np.testing.assert_array_equal(np.concatenate(dxs, axis=axis), dout)
    assert not any(np.shares_memory(dx, dout) for dx in dxs)
    for dx, num in zip(
        dxs, numerical_grads(concatenate_forward, xs, dout, axis=axis), strict=True
    ):
        assert max_relative_error(dx, num) < 1e-8


def test_concatenate_defaults_to_the_last_axis(rng):
    xs = draw(rng, [(2, 3, 1), (2, 3, 2)])
    assert concatenate_forward(xs)[0].shape == (2, 3, 3)


@pytest.mark.parametrize(
    ("shapes", "axis", "match"),
    [
        ([(2, 3), (2, 3, 1)], -1, r"inputs\[1\].*except on axis"),
        ([(2, 3, 4), (2, 2, 5)], -1, r"inputs\[1\]: expected the shape of inputs"),
        ([(2, 3), (2, 3)], 2, r"axis: expected an axis in \[-2, 2\)"),
        ([(2, 3), (2, 3)], 1.0, "axis: expected an integer"),
    ],
)
def test_concatenate_refuses_mismatched_shapes_and_bad_axes(shapes, axis, match):
    with pytest.raises(ValueError, match=match):
        concatenate_forward([np.zeros(s) for s in shapes], axis)


# -- dot --


@pytest.mark.parametrize(
    ("shapes", "axes", "spec", "out_shape"),
    [
        ([(4, 5), (4, 5)], 1, "nk,nk->n", (4, 1)),
        ([(4, 5), (4, 5)], -1, "nk,nk->n", (4, 1)),
        ([(2, 3, 5), (2, 4, 5)], 2, "nak,nbk->nab", (2, 3, 4)),
        ([(2, 5, 3), (2, 4, 5)], (1, 2), "nka,nbk->nab", (2, 3, 4)),
        ([(2, 5), (2, 5, 3)], (1, 1), "nk,nkb->nb", (2, 3)),
        ([(2, 3, 5), (2, 5)], (-1, -1), "nak,nk->na", (2, 3)),
        ([(2, 3, 4, 5), (2, 5, 6)], (3, 1), "nabk,nkc->nabc", (2, 3, 4, 6)),
    ],
)
def test_dot_is_a_per_sample_tensor_contraction_as_keras_shapes_it(
    shapes, axes, spec, out_shape, rng
):
    xs = draw(rng, shapes)
    out, _ = dot_forward(xs, axes)
    assert out.shape == out_shape
    np.testing.assert_allclose(
        out.reshape(-1), np.einsum(spec, *xs).reshape(-1), rtol=1e-12
    )
    assert_gradients_match(dot_forward, dot_backward, xs, axes=axes)


def test_dot_normalize_gives_the_cosine_similarity(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out, _ = dot_forward([x, y], 1, normalize=True)
    cosine = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(out[:, 0], cosine, rtol=1e-12)
    np.testing.assert_allclose(dot_forward([x, 5 * x], 1, normalize=True)[0], 1.0)


@pytest.mark.parametrize(
    ("shapes", "axes"),
    [([(3, 4), (3, 4)], 1), ([(2, 5, 3), (2, 4, 5)], (1, 2))],
)
def test_dot_normalize_gradients_match_numerical_gradients(shapes, axes, rng):
    xs = draw(rng, shapes)
    assert_gradients_match(
        dot_forward, dot_backward, xs, tol=1e-7, axes=axes, normalize=True
    )


def test_dot_normalize_leaves_a_zero_vector_at_zero_without_nan(rng):
    x, y = np.zeros((2, 3)), rng.standard_normal((2, 3))
    out, cache = dot_forward([x, y], 1, normalize=True)
    np.testing.assert_array_equal(out, 0.0)
    dx, dy = dot_backward(np.ones((2, 1)), cache)
    # Below Keras' epsilon the norm is the constant 1e-7: dx = y_hat / 1e-7.
    y_hat = y / np.linalg.norm(y, axis=1, keepdims=True)
    np.testing.assert_allclose(dx, y_hat / 1e-7, rtol=1e-12)
    np.testing.assert_array_equal(dy, 0.0)


def test_dot_keeps_float32_and_accepts_mixed_float_inputs(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    y = rng.standard_normal((2, 3))
    out, cache = dot_forward([x, x], 1)
    assert out.dtype == np.float32
    out, cache = dot_forward([x, y], 1)
    dx, dy = dot_backward(np.ones_like(out), cache)
    assert (dx.dtype, dy.dtype) == (np.float32, np.float64)


@pytest.mark.parametrize(
    ("shapes", "axes", "match"),
    [
        ([(2, 3), (2, 3)], 0, "batch axis 0 cannot be reduced"),
        ([(2, 3), (2, 3)], (1, 2), r"axes: expected an axis of inputs\[1\]"),
        ([(2, 3), (2, 4)], 1, r"inputs\[1\]: expected size 3 on axis 1"),
        ([(2, 3), (3, 3)], 1, "batch size 2"),
        ([(2,), (2,)], 1, "rank >= 2"),
        ([(2, 3), (2, 3)], (1, 1, 1), "a pair of integers"),
        ([(2, 3), (2, 3)], True, "a pair of integers"),
    ],
)
def test_dot_refuses_bad_axes_and_mismatched_shapes(shapes, axes, match):
    with pytest.raises(ValueError, match=match):
        dot_forward([np.zeros(s) for s in shapes], axes)


def test_dot_refuses_anything_but_two_inputs():
    with pytest.raises(ValueError, match="exactly 2 arrays"):
        dot_forward([np.zeros((2, 3))] * 3, 1)
