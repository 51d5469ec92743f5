import json

import numpy as np
import pytest

from glassnet import layers
from glassnet.gradcheck import eval_numerical_gradient_array, max_relative_error
from glassnet.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from glassnet.saving.spec import layer_registry

# (class, kwargs, input shapes, expected output, a NumPy oracle)
CASES = [
    (Add, {}, [(2, 3), (2, 3), (2, 3)], (2, 3), lambda a, b, c: a + b + c),
    (Subtract, {}, [(2, 3, 4), (2, 4)], (2, 3, 4), lambda a, b: a - b[:, None]),
    (Multiply, {}, [(2, 3), (2, 1)], (2, 3), lambda a, b: a * b),
    (Average, {}, [(2, 3), (2, 3)], (2, 3), lambda a, b: (a + b) / 2),
    (Maximum, {}, [(2, 3), (2, 3)], (2, 3), np.maximum),
    (Minimum, {}, [(2, 3), (2, 3)], (2, 3), np.minimum),
    (
        Concatenate,
        {"axis": 1},
        [(2, 3, 4), (2, 1, 4)],
        (2, 4, 4),
        lambda a, b: np.concatenate([a, b], axis=1),
    ),
    (
        Concatenate,
        {},
        [(2, 3), (2, 5)],
        (2, 8),
        lambda a, b: np.concatenate([a, b], axis=-1),
    ),
    (
        Dot,
        {"axes": (1, 2)},
        [(2, 5, 3), (2, 4, 5)],
        (2, 3, 4),
        lambda a, b: np.einsum("nka,nbk->nab", a, b),
    ),
    (
        Dot,
        {"axes": 1, "normalize": True},
        [(2, 5), (2, 5)],
        (2, 1),
        lambda a, b: (
            (a * b).sum(1, keepdims=True)
            / np.linalg.norm(a, axis=1, keepdims=True)
            / np.linalg.norm(b, axis=1, keepdims=True)
        ),
    ),
]
IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize(
    ("cls", "kwargs", "shapes", "out_shape", "oracle"), CASES, ids=IDS
)
def test_layer_forward_matches_numpy_and_backward_matches_numerical_gradients(
    cls, kwargs, shapes, out_shape, oracle, rng
):
    layer = cls(**kwargs, dtype="float64")
    xs = [rng.standard_normal(s) for s in shapes]
    out = layer(xs)
    assert out.shape == out_shape and out.dtype == np.float64
    np.testing.assert_allclose(out, oracle(*xs), rtol=1e-12)
    assert layer.count_params() == 0 and layer.params == {}

    dout = rng.standard_normal(out.shape)
    layer.forward(xs)
    dxs = layer.backward(dout)
    assert isinstance(dxs, list) and len(dxs) == len(xs)
    assert layer._cache is None  # backward drops the cache
    for i, (x, dx) in enumerate(zip(xs, dxs, strict=True)):

        def f(v, i=i):
            return layer.forward([*xs[:i], v, *xs[i + 1 :]])

        assert dx.shape == x.shape
        numerical = eval_numerical_gradient_array(f, x.copy(), dout)
        assert max_relative_error(dx, numerical) < 1e-7


@pytest.mark.parametrize(
    ("cls", "kwargs", "shapes", "out_shape", "oracle"), CASES, ids=IDS
)
def test_compute_output_shape_agrees_with_forward(
    cls, kwargs, shapes, out_shape, oracle, rng
):
    layer = cls(**kwargs)
    symbolic = [(None, *s[1:]) for s in shapes]
    assert layer.compute_output_shape(symbolic) == (None, *out_shape[1:])
    assert layer.compute_output_shape(shapes) == out_shape


@pytest.mark.parametrize(
    ("cls", "kwargs", "shapes", "out_shape", "oracle"), CASES, ids=IDS
)
def test_get_config_round_trips_through_json_and_from_config(
    cls, kwargs, shapes, out_shape, oracle, rng
):
    layer = cls(**kwargs, name="merge_me", dtype="float64")
    config = json.loads(json.dumps(layer.get_config()))
    clone = cls.from_config(config)
    assert clone.get_config() == layer.get_config()
    assert clone.name == "merge_me" and clone.dtype == np.float64
    xs = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_array_equal(clone(xs), layer(xs))


def test_every_merge_layer_says_it_takes_a_list_and_is_registered():
    classes = [Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot]
    registry = layer_registry()
    for cls in classes:
        assert cls.multi_input is True
        assert registry[cls.__name__] is cls
        assert getattr(layers, cls.__name__) is cls
    assert Add.default_name() == "add" and Concatenate.default_name() == "concatenate"


def test_function_forms_equal_their_layers_on_concrete_arrays(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    pairs = [
        (add, Add(), {}),
        (subtract, Subtract(), {}),
        (multiply, Multiply(), {}),
        (average, Average(), {}),
        (maximum, Maximum(), {}),
        (minimum, Minimum(), {}),
        (concatenate, Concatenate(axis=0), {"axis": 0}),
        (dot, Dot(axes=1, normalize=True), {"axes": 1, "normalize": True}),
    ]
    for function, layer, kwargs in pairs:
        np.testing.assert_array_equal(function([a, b], **kwargs), layer([a, b]))
    assert dot([a, b]).shape == (2, 1)  # Keras' default axes=-1
    assert add([a, b], dtype="float64").dtype == np.float64


def test_layers_cast_inputs_to_their_dtype_and_accept_nested_lists():
    out = Add()([[[1, 2]], np.array([[0.5, 0.5]])])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1.5, 2.5]])


def test_build_records_the_list_of_input_shapes(rng):
    layer = Concatenate()
    layer([rng.standard_normal((2, 3)), rng.standard_normal((2, 4))])
    assert layer.built and layer.input_shape == [(None, 3), (None, 4)]


@pytest.mark.parametrize(
    ("layer", "shapes", "expected"),
    [
        (Add(), [(None, 3, 4), (None, 4), (None, 1, 1)], (None, 3, 4)),
        (Add(), [(None, 3), (None, None)], (None, None)),
        (Multiply(), [(None, 1), (8, 5)], (8, 5)),
        (Concatenate(), [(None, 2, 3), (None, 2, None)], (None, 2, None)),
        (Concatenate(axis=1), [(None, None, 3), (None, 2, 3)], (None, None, 3)),
        (Dot(axes=-1), [(None, 4), (None, 4)], (None, 1)),
        (Dot(axes=(1, 1)), [(None, 4), (None, 4, 7)], (None, 7)),
    ],
)
def test_compute_output_shape_follows_keras_with_unknown_sizes(layer, shapes, expected):
    assert layer.compute_output_shape(shapes) == expected


@pytest.mark.parametrize(
    ("layer", "shapes", "match"),
    [
        (Add(), [(None, 3), (None, 4)], "shapes that broadcast"),
        (Add(), [(2, 3), (5, 3)], "one batch size"),
        (Add(), [], "at least 1 shape"),
        (Add(), (None, 3), "a list of shapes"),
        (Subtract(), [(None, 3)] * 3, "exactly 2 shapes"),
        (Concatenate(), [(None, 3), (None, 3, 1)], "one rank"),
        (Concatenate(), [(None, 3, 4), (None, 2, 5)], "except on axis 2"),
        (Concatenate(axis=3), [(None, 3, 4)], "axis=3"),
        (Dot(axes=1), [(None, 3), (None, 4)], "equal sizes on axes"),
        (Dot(axes=0), [(None, 3), (None, 3)], "non-batch axis"),
    ],
)
def test_compute_output_shape_refuses_with_the_layer_and_shapes(layer, shapes, match):
    with pytest.raises(ValueError, match=match):
        layer.compute_output_shape(shapes)


def test_calling_with_mismatched_arrays_names_the_inputs(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=r"layer 'add'.*\(None, 3\), \(None, 4\)"):
        Add()([a, b])
    built = Add()
    built([a, a])
    with pytest.raises(ValueError, match=r"add: inputs\[1\]: expected a shape"):
        built([a, b])
    with pytest.raises(ValueError, match="a list of inputs"):
        Add()(rng.standard_normal((2, 3)))


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (Concatenate, {"axis": "1"}, "axis: expected an integer"),
        (Concatenate, {"axis": True}, "axis: expected an integer"),
        (Dot, {"axes": (1, 2, 3)}, "axes: expected an integer or a pair"),
        (Dot, {"axes": (1, 2.0)}, r"axes\[1\]: expected an integer"),
        (Dot, {"axes": 1, "normalize": 1}, "normalize: expected True or False"),
    ],
)
def test_constructors_validate_their_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
