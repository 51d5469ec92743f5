"""A model's size from its layers' configuration, before any weight exists.

:func:`estimate_size` rebuilds each layer from its ``get_config()`` with
``_shapes_only`` set, so that ``add_weight`` registers a zero-byte placeholder
(a broadcast view of one scalar) of the right shape instead of drawing values;
the layers' own ``build`` and ``compute_output_shape`` then give every weight's
shape and every output's shape. The layers passed in are never touched. The CLI
compares the result with :func:`glassnet._internal.memory.available_memory` to refuse a
model that cannot fit before building it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from glassnet._internal.checks import fail
from glassnet.initializers import creation_bytes
from glassnet.layers.base import Layer, normalize_shape
from glassnet.layers.input_layer import input_layer_of

__all__ = ["SizeEstimate", "estimate_size"]


@dataclass(frozen=True)
class SizeEstimate:
    """What :func:`estimate_size` found.

    Attributes:
        params: the number of values in every weight (``count_params()`` once
            built).
        trainable_params: those the optimizer updates.
        param_bytes: the bytes of every weight, in each layer's dtype.
        peak_build_bytes: the most bytes creating one weight needs at once (the
            weight plus its initializer's float64 draw).
        activation_bytes_per_sample: the bytes of every layer's output for one
            sample, or None when an output size depends on the input (a ``None``
            dimension). Training keeps about this much per sample of a batch for
            backward, and its gradients as much again.
    """

    params: int
    trainable_params: int
    param_bytes: int
    peak_build_bytes: int
    activation_bytes_per_sample: int | None

    def activation_bytes(self, batch_size: int) -> int | None:
        """The bytes of every layer's output for a batch of ``batch_size``."""
        per_sample = self.activation_bytes_per_sample
        return None if per_sample is None else per_sample * int(batch_size)


def _start(layers: Any, input_shape: Any) -> tuple[list[Any], tuple[int, ...]]:
    """The layer list and the per-sample input shape, from any accepted form."""
    spec = getattr(layers, "input_spec", None)  # a Sequential
    items = list(getattr(layers, "layers", layers))
    first = input_layer_of(items[0]) if items else None
    if first is not None:
        spec, items = (None, *first.shape), items[1:]
    if input_shape is None and spec is not None:
        input_shape = tuple(spec[1:])
    if input_shape is None and items and isinstance(items[0], Layer):
        input_shape = items[0].input_shape_arg
    if input_shape is None:
        raise fail(
            "input_shape",
            "the shape of one sample (or an Input first, or a built model)",
            "None",
        )
    for i, layer in enumerate(items):
        if not isinstance(layer, Layer):
            raise fail(f"layers[{i}]", "a glassnet Layer", type(layer).__name__)
    return items, normalize_shape("input_shape", input_shape)


def estimate_size(layers: Any, input_shape: Any = None) -> SizeEstimate:
    """Count a model's weights and outputs from configuration alone.

    Shapes:
        input_shape: one sample's shape, without the batch axis.

    Args:
        layers: a ``Sequential`` (built or not) or a list of layers, optionally
            starting with an ``Input``.
        input_shape: the shape of one sample. Defaults to `None`: the ``Input``'s,
            the model's, or the first layer's ``input_shape=``.

    Returns:
        A :class:`SizeEstimate`; no weight is allocated and ``layers`` is left as
        it was.

    Raises:
        ValueError: when no input shape is known, an item is not a layer, or a
            layer refuses its input shape (the same message as building it).

    Example:
        >>> from glassnet import layers
        >>> size = estimate_size([layers.Dense(10**7), layers.Dense(10)], (64,))
        >>> size.params, size.param_bytes
        (750000010, 3000000040)
    """
    items, sample = _start(layers, input_shape)
    shape: tuple[int | None, ...] = (None, *sample)
    params = trainable = nbytes = peak = 0
    activations: int | None = 0
    for layer in items:
        clone = type(layer).from_config(layer.get_config())
        clone.name = layer.name or clone.name or layer.default_name()
        clone._shapes_only = True
        clone.build(shape, None)
        for key in clone.weight_names:
            size = math.prod(clone._weight(key).shape)
            params += size
            trainable += size if clone.trainable and key in clone.params else 0
            nbytes += size * clone.dtype.itemsize
            peak = max(peak, creation_bytes(clone._weight(key).shape, clone.dtype))
        shape = tuple(clone.compute_output_shape(shape))
        if activations is not None and all(d is not None for d in shape[1:]):
            activations += math.prod(shape[1:]) * clone.dtype.itemsize
        else:
            activations = None
    return SizeEstimate(params, trainable, nbytes, peak, activations)
