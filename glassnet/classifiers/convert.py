"""Turn a trained course model into the equivalent Keras-style ``Sequential``.

The converted model computes the course model's test-mode scores with the same
kernels, so it can be saved with ``model.save``, reloaded with
``glassnet.models.load_model``, summarised and used by ``predict``:

- ``FullyConnectedNet`` (and ``TwoLayerNet``): ``Input`` - [``Flatten``] -
  {``Dense`` - [``BatchNormalization`` | ``LayerNormalization``] - ``ReLU`` -
  [``Dropout``]} x (L - 1) - ``Dense``; without normalisation the ReLU is the
  hidden ``Dense``'s ``activation``.
- ``ThreeLayerConvNet``: ``Input((C, H, W))`` - ``Conv2D(relu, 'same',
  channels_first)`` - ``MaxPooling2D(channels_first)`` - ``Flatten`` -
  ``Dense(relu)`` - ``Dense``.

The last ``Dense`` has no activation: like the course models, the converted model
outputs raw class scores (compile it with
``SparseCategoricalCrossentropy(from_logits=True)`` to train it further). Every
layer takes the course model's dtype, so a float32 model gives float32 outputs
and a float64 one (``TwoLayerNet``'s default) stays float64, in memory and in
saved files.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from glassnet._internal.checks import fail
from glassnet.backend import to_numpy
from glassnet.classifiers.cnn import ThreeLayerConvNet
from glassnet.classifiers.fc_net import FullyConnectedNet
from glassnet.functional.normalization import _DEFAULT_EPS, _DEFAULT_MOMENTUM

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential

__all__ = ["to_sequential"]


def to_sequential(
    model: FullyConnectedNet | ThreeLayerConvNet,
    input_shape: Any = None,
    name: str | None = None,
) -> Sequential:
    """Build a ``Sequential`` whose ``predict`` equals ``model.loss(X)``.

    The weights are copied: later training of either model leaves the other one
    alone. Batchnorm's running statistics become ``moving_mean`` and
    ``moving_variance``, with the model's ``eps`` and ``momentum``; a model never
    run in train mode gets the zeros ``batchnorm_forward`` would create for both.
    Dropout's keep probability ``p`` becomes ``Dropout(rate=1 - p)``.

    Shapes:
        FullyConnectedNet: X: (N, *input_shape) with prod(input_shape) == D,
            input_shape defaulting to (D,);  out: (N, C)
        ThreeLayerConvNet: X: (N, C, H, W) (channels first, as the course);
            out: (N, num_classes)

    Args:
        model: a ``FullyConnectedNet`` (``TwoLayerNet`` included) or a
            ``ThreeLayerConvNet``.
        input_shape: the shape of one sample. For a ``FullyConnectedNet`` any
            shape of ``input_dim`` values, e.g. (3, 32, 32) (a ``Flatten``
            layer then flattens it row-major, as ``affine_forward`` does); for a
            ``ThreeLayerConvNet`` only its ``input_dim`` (C, H, W). Defaults to
            `None`, meaning ``(input_dim,)`` or ``input_dim``.
        name: the model's name. Defaults to `None`, meaning the course class's
            name in snake case (``"fully_connected_net"``).

    Returns:
        A built, uncompiled ``glassnet.models.Sequential``.

    Raises:
        ValueError: for another kind of ``model``, an ``input_shape`` that does not
            fit it, a ``name`` that is not a string, or a convolution that Keras'
            ``'same'`` padding cannot reproduce (an even or non-square
            ``filter_size``, a stride other than 1).

    Example:
        >>> import numpy as np
        >>> net = FullyConnectedNet([8], input_dim=12, num_classes=3, seed=0)
        >>> seq = to_sequential(net, input_shape=(3, 2, 2))
        >>> [layer.name for layer in seq.layers]
        ['flatten', 'dense', 'dense_1']
        >>> x = np.ones((2, 3, 2, 2), dtype=np.float32)
        >>> bool(np.allclose(seq.predict(x, verbose=0), net.loss(x)))
        True
    """
    # Imported on use: the Keras-style API sits below the course models in the
    # layering, and importing glassnet.classifiers should not load it.
    from glassnet.layers.base import _snake_case
    from glassnet.layers.input_layer import Input
    from glassnet.models.sequential import Sequential

    if isinstance(model, FullyConnectedNet):
        shape, layers = _fc_layers(model, input_shape)
    elif isinstance(model, ThreeLayerConvNet):
        shape, layers = _conv_layers(model, input_shape)
    else:
        raise fail(
            "model",
            "a FullyConnectedNet, TwoLayerNet or ThreeLayerConvNet",
            type(model).__name__,
        )
    if name is not None and (not isinstance(name, str) or not name):
        raise fail("name", "a non-empty string or None", repr(name))
    seq = Sequential(
        [Input(shape), *(layer for layer, _ in layers)],
        name=name or _snake_case(type(model).__name__),
    )
    for layer, weights in layers:
        if weights:
            # Layer.set_weights keeps arrays of its own dtype as they are: copy, so
            # that training either model leaves the other one alone.
            layer.set_weights([to_numpy(w).copy() for w in weights])
    return seq


def _fc_layers(model: FullyConnectedNet, input_shape: Any) -> tuple[tuple, list]:
    """The input shape and ``(layer, weights)`` pairs of a fully connected net."""
    from glassnet.layers import core, regularization, reshaping
    from glassnet.layers.activation import ReLU
    from glassnet.layers.base import normalize_shape

    D = model.input_dim
    shape = (D,) if input_shape is None else normalize_shape("input_shape", input_shape)
    if math.prod(shape) != D:
        raise fail(
            "input_shape", f"a shape of {D} values (the model's input_dim)", shape
        )
    p, dt, L = model.params, model.dtype, model.num_layers
    layers: list[tuple[Any, list]] = []
    if len(shape) > 1:
        layers.append((reshaping.Flatten(dtype=dt), []))
    for i in range(1, L):
        W, b = p[f"W{i}"], p[f"b{i}"]
        if not model.normalization:
            layers.append((core.Dense(W.shape[1], "relu", dtype=dt), [W, b]))
        else:
            layers.append((core.Dense(W.shape[1], dtype=dt), [W, b]))
            layers.append(_norm_layer(model, i))
            layers.append((ReLU(dtype=dt), []))
        if model.use_dropout:
            rate = 1.0 - model.dropout_param["p"]
            layers.append((regularization.Dropout(rate, dtype=dt), []))
    W, b = p[f"W{L}"], p[f"b{L}"]
    layers.append((core.Dense(W.shape[1], dtype=dt), [W, b]))
    return shape, layers


def _norm_layer(model: FullyConnectedNet, i: int) -> tuple[Any, list]:
    """The normalisation layer of hidden layer ``i`` (1-based) and its weights."""
    from glassnet.layers.normalization import BatchNormalization, LayerNormalization

    gamma, beta = model.params[f"gamma{i}"], model.params[f"beta{i}"]
    norm_param = model.bn_params[i - 1]
    eps = norm_param.get("eps", _DEFAULT_EPS)
    if model.normalization == "layernorm":
        return LayerNormalization(epsilon=eps, dtype=model.dtype), [gamma, beta]
    layer = BatchNormalization(
        momentum=norm_param.get("momentum", _DEFAULT_MOMENTUM),
        epsilon=eps,
        dtype=model.dtype,
    )
    # batchnorm_forward creates both running statistics as zeros on first use, so
    # a never-trained model normalises by sqrt(eps); the converted one must too.
    zeros = gamma * 0
    mean = norm_param.get("running_mean", zeros)
    var = norm_param.get("running_var", zeros)
    return layer, [gamma, beta, mean, var]


def _conv_layers(model: ThreeLayerConvNet, input_shape: Any) -> tuple[tuple, list]:
    """The input shape and ``(layer, weights)`` pairs of the three-layer convnet."""
    from glassnet.layers.base import normalize_shape
    from glassnet.layers.convolutional import Conv2D
    from glassnet.layers.core import Dense
    from glassnet.layers.pooling import MaxPooling2D
    from glassnet.layers.reshaping import Flatten

    shape = model.input_dim
    if input_shape is not None and normalize_shape("input_shape", input_shape) != shape:
        raise fail(
            "input_shape",
            f"the model's input_dim {shape} (C, H, W), or None",
            repr(input_shape),
        )
    p, dt, first = model.params, model.dtype, "channels_first"
    W1 = p["W1"]
    F, _, HH, _ = W1.shape
    _check_same_padding(W1.shape, model.conv_param)
    pool = model.pool_param
    layers: list[tuple[Any, list]] = [
        # Course filters are (F, C, HH, WW); Keras kernels are (HH, WW, C, F).
        (
            Conv2D(
                F, HH, padding="same", data_format=first, activation="relu", dtype=dt
            ),
            [W1.transpose(2, 3, 1, 0), p["b1"]],
        ),
        (
            MaxPooling2D(
                (pool["pool_height"], pool["pool_width"]),
                strides=pool["stride"],
                data_format=first,
                dtype=dt,
            ),
            [],
        ),
        # Flatten is row-major over (F, H', W'), the order affine_forward reshapes.
        (Flatten(dtype=dt), []),
        (Dense(p["W2"].shape[1], "relu", dtype=dt), [p["W2"], p["b2"]]),
        (Dense(p["W3"].shape[1], dtype=dt), [p["W3"], p["b3"]]),
    ]
    return shape, layers


def _check_same_padding(w_shape: tuple[int, ...], conv_param: dict) -> None:
    """Check that the course convolution is Keras' ``padding='same'``, stride 1.

    With stride 1 and a filter of odd size k, 'same' pads (k - 1) // 2 cells on
    each side, exactly the course's ``pad``; an even k would need an asymmetric
    padding (TensorFlow puts the extra cell after) that the course never uses.
    """
    HH, WW = w_shape[2:]
    if HH != WW or HH % 2 == 0:
        raise fail(
            "filter_size",
            "an odd square filter (Keras 'same' padding only matches those)",
            f"filters of shape {tuple(w_shape)}",
        )
    stride, pad = conv_param.get("stride", 1), conv_param.get("pad", 0)
    if stride != 1 or pad != (HH - 1) // 2:
        raise fail(
            "conv_param",
            f"stride 1 and pad {(HH - 1) // 2} for filter_size {HH}",
            f"stride {stride!r} and pad {pad!r}",
        )
