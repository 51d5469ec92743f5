"""Normalisation layers: ``BatchNormalization`` and ``LayerNormalization``.

Both view their input as a 2-D array of rows, with the normalised axes moved last
and flattened into the columns (one helper, :func:`_to_rows`), and call the
kernels of :mod:`glassnet.functional.normalization`: batchnorm standardises the
columns over the rows, layernorm each row over its columns.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet import constraints as constraints_mod
from glassnet import initializers as initializers_mod
from glassnet import regularizers as regularizers_mod
from glassnet._internal.checks import check_number, fail
from glassnet.backend import Array, get_array_module
from glassnet.functional.normalization import (
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from glassnet.layers.base import Layer, Shape


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _resolve_axes(
    axes: tuple[int, ...], input_shape: Shape, layer: str
) -> tuple[int, ...]:
    """Make ``axes`` non-negative for ``input_shape``; refuse the batch axis."""
    rank = len(input_shape)
    resolved = []
    for a in axes:
        if not -rank < a < rank or a % rank == 0:
            raise fail(
                "axis",
                f"non-batch axes of inputs of rank {rank}, in [1, {rank - 1}] or "
                f"[{1 - rank}, -1] (layer {layer!r})",
                repr(a),
            )
        resolved.append(a % rank)
    if len(set(resolved)) != len(resolved):
        raise fail("axis", "distinct axes", repr(axes))
    for a in resolved:
        if input_shape[a] is None:
            raise fail(
                f"input of layer {layer!r}",
                f"a known size on axis {a}",
                tuple(input_shape),
            )
    return tuple(sorted(resolved))


def _to_rows(x: Array, axes: tuple[int, ...]) -> tuple[Array, tuple[int, ...]]:
    """View ``x`` as (rows, features): ``axes`` moved last, in order, and flattened.

    Returns the 2-D view and the shape of the moved array, for :func:`_from_rows`.
    """
    k = len(axes)
    moved = get_array_module(x).moveaxis(x, axes, tuple(range(x.ndim - k, x.ndim)))
    return moved.reshape(-1, math.prod(moved.shape[x.ndim - k :])), moved.shape


def _from_rows(rows: Array, moved_shape: tuple[int, ...], axes: tuple) -> Array:
    """Undo :func:`_to_rows`."""
    n, k = len(moved_shape), len(axes)
    moved = rows.reshape(moved_shape)
    return get_array_module(rows).moveaxis(moved, tuple(range(n - k, n)), axes)


class _ScaleShiftNormalization(Layer):
    """Shared glue: ``gamma``/``beta`` arguments, their weights and their config."""

    def __init__(
        self,
        epsilon: float,
        center: bool,
        scale: bool,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        beta_constraint: Any,
        gamma_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.epsilon = check_number("epsilon", epsilon, low=0, low_open=True)
        for name, flag in (("center", center), ("scale", scale)):
            if not isinstance(flag, bool):
                raise fail(name, "True or False", repr(flag))
        self.center, self.scale = center, scale
        self.beta_initializer = initializers_mod.get(beta_initializer)
        self.gamma_initializer = initializers_mod.get(gamma_initializer)
        self.beta_regularizer = regularizers_mod.get(beta_regularizer)
        self.gamma_regularizer = regularizers_mod.get(gamma_regularizer)
        self.beta_constraint = constraints_mod.get(beta_constraint)
        self.gamma_constraint = constraints_mod.get(gamma_constraint)
        self._axes: tuple[int, ...] = ()

    def _add_scale_shift(self, shape: tuple[int, ...], rng: Any) -> None:
        if self.scale:
            self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                rng,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.add_weight(
                "beta",
                shape,
                self.beta_initializer,
                rng,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )

    def _gamma_beta(self, x: Array, d: int) -> tuple[Array, Array]:
        # The kernels always scale and shift; a layer without gamma (beta) uses
        # ones (zeros), and backward drops their gradients.
        xp = get_array_module(x)
        if self.scale:
            gamma = self.params["gamma"].reshape(d)
        else:
            gamma = xp.ones(d, dtype=x.dtype)
        if self.center:
            beta = self.params["beta"].reshape(d)
        else:
            beta = xp.zeros(d, dtype=x.dtype)
        return gamma, beta

    def _set_grads(self, dgamma: Array, dbeta: Array) -> None:
        self.grads = {}
        if self.scale:
            self.grads["gamma"] = dgamma.reshape(self.params["gamma"].shape)
        if self.center:
            self.grads["beta"] = dbeta.reshape(self.params["beta"].shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers_mod.serialize(self.beta_initializer),
            "gamma_initializer": initializers_mod.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers_mod.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers_mod.serialize(self.gamma_regularizer),
            "beta_constraint": constraints_mod.serialize(self.beta_constraint),
            "gamma_constraint": constraints_mod.serialize(self.gamma_constraint),
        }


class BatchNormalization(_ScaleShiftNormalization):
    """Normalises each feature over the batch, then scales and shifts it.

    Calls :func:`glassnet.functional.batchnorm_forward`. In training
    (``fit``, or ``training=True``) the batch mean and biased variance normalise
    the input and update the moving statistics,
    ``moving = moving * momentum + batch_statistic * (1 - momentum)``; in
    inference (``predict``, ``evaluate``, a plain call) the moving statistics
    normalise it. As in Keras, a layer with ``trainable=False`` always runs in
    inference mode. Every axis but ``axis`` is reduced: after ``Conv2D`` the
    statistics are per channel over (N, H, W).

    Shapes:
        x: (N, ..., C, ...) with C on ``axis``;  out: like x
        gamma, beta, moving_mean, moving_variance: (C,)

    Args:
        axis: the feature axis, an int other than the batch axis 0.
            Defaults to `-1`.
        momentum: the moving statistics' decay, in [0, 1]. Defaults to `0.99`.
        epsilon: added to the variance, > 0. Defaults to `0.001`.
        center: learn a shift ``beta``. Defaults to `True`.
        scale: learn a scale ``gamma``. Defaults to `True`.
        beta_initializer: Defaults to `"zeros"`.
        gamma_initializer: Defaults to `"ones"`.
        moving_mean_initializer: Defaults to `"zeros"`.
        moving_variance_initializer: Defaults to `"ones"`.
        beta_regularizer, gamma_regularizer: penalties. Default to `None`.
        beta_constraint, gamma_constraint: projections applied after each update.
            Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for a non-int ``axis`` (or, when built, the batch axis or one
            out of range), a momentum outside [0, 1] or ``epsilon <= 0``.

    Example:
        >>> import numpy as np
        >>> layer = BatchNormalization()
        >>> x = np.arange(8.0).reshape(4, 2)
        >>> np.round(layer(x, training=True)[:, 0], 2)
        array([-1.34, -0.45,  0.45,  1.34], dtype=float32)
        >>> [w.shape for w in layer.get_weights()]
        [(2,), (2,), (2,), (2,)]
        >>> np.round(layer.get_weights()[2], 2)  # 0.99 * 0 + 0.01 * [3, 4]
        array([0.03, 0.04], dtype=float32)
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 0.001,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
        if not _is_int(axis):
            raise fail("axis", "an int (the feature axis)", repr(axis))
        self.axis = int(axis)
        self.momentum = check_number("momentum", momentum, low=0, high=1)
        self.moving_mean_initializer = initializers_mod.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_mod.get(
            moving_variance_initializer
        )

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        self._axes = _resolve_axes(
            (self.axis,), input_shape, self.name or self.default_name()
        )
        shape = (int(input_shape[self._axes[0]]),)
        self._add_scale_shift(shape, rng)
        for key, init in (
            ("moving_mean", self.moving_mean_initializer),
            ("moving_variance", self.moving_variance_initializer),
        ):
            self.add_weight(key, shape, init, rng, trainable=False)
        super().build(input_shape)

    def forward(self, x: Array, training: bool = False) -> Array:
        rows, moved_shape = _to_rows(x, self._axes)
        gamma, beta = self._gamma_beta(x, rows.shape[1])
        bn_param = {
            "mode": "train" if training and self.trainable else "test",
            "eps": self.epsilon,
            "momentum": self.momentum,
            "running_mean": self.states["moving_mean"],
            "running_var": self.states["moving_variance"],
        }
        out, cache = batchnorm_forward(rows, gamma, beta, bn_param)
        self.states["moving_mean"] = bn_param["running_mean"]
        self.states["moving_variance"] = bn_param["running_var"]
        self._cache = (moved_shape, cache)
        return _from_rows(out, moved_shape, self._axes)

    def backward(self, dout: Array) -> Array:
        (moved_shape, cache), self._cache = self._cache, None
        drows, _ = _to_rows(dout, self._axes)
        dx, dgamma, dbeta = batchnorm_backward_alt(drows, cache)
        self._set_grads(dgamma, dbeta)
        return _from_rows(dx, moved_shape, self._axes)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": initializers_mod.serialize(
                self.moving_mean_initializer
            ),
            "moving_variance_initializer": initializers_mod.serialize(
                self.moving_variance_initializer
            ),
        }


class LayerNormalization(_ScaleShiftNormalization):
    """Normalises each sample over ``axis``, then scales and shifts.

    Calls :func:`glassnet.functional.layernorm_forward`. The statistics belong to
    one sample, so training and inference compute the same thing. ``gamma`` and
    ``beta`` have the shape of the normalised axes, as in Keras.

    Shapes:
        x: (N, ..., D);  out: like x
        gamma, beta: the sizes of x on ``axis`` (D for the default ``axis=-1``)

    Args:
        axis: the axis, or a list/tuple of axes, to normalise over; never the
            batch axis 0. Defaults to `-1`.
        epsilon: added to the variance, > 0. Defaults to `0.001`.
        center: learn a shift ``beta``. Defaults to `True`.
        scale: learn a scale ``gamma``. Defaults to `True`.
        beta_initializer: Defaults to `"zeros"`.
        gamma_initializer: Defaults to `"ones"`.
        beta_regularizer, gamma_regularizer: penalties. Default to `None`.
        beta_constraint, gamma_constraint: projections applied after each update.
            Default to `None`.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: for an ``axis`` that is not an int or a non-empty list of ints
            (or, when built, includes the batch axis or one out of range) or
            ``epsilon <= 0``.

    Example:
        >>> import numpy as np
        >>> layer = LayerNormalization(epsilon=1e-6)
        >>> np.round(layer(np.array([[1.0, 2.0, 3.0]])), 4)
        array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
    """

    def __init__(
        self,
        axis: int | list[int] | tuple[int, ...] = -1,
        epsilon: float = 0.001,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
        many = isinstance(axis, list | tuple)
        if not (_is_int(axis) or (many and axis and all(map(_is_int, axis)))):
            raise fail("axis", "an int or a non-empty list of ints", repr(axis))
        self.axis: int | list[int] = [int(a) for a in axis] if many else int(axis)

    def build(self, input_shape: Shape, rng: Any = None) -> None:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = _resolve_axes(
            tuple(axes), input_shape, self.name or self.default_name()
        )
        self._add_scale_shift(tuple(int(input_shape[a]) for a in self._axes), rng)
        super().build(input_shape)

    def forward(self, x: Array, training: bool = False) -> Array:
        rows, moved_shape = _to_rows(x, self._axes)
        gamma, beta = self._gamma_beta(x, rows.shape[1])
        out, cache = layernorm_forward(rows, gamma, beta, {"eps": self.epsilon})
        self._cache = (moved_shape, cache)
        return _from_rows(out, moved_shape, self._axes)

    def backward(self, dout: Array) -> Array:
        (moved_shape, cache), self._cache = self._cache, None
        drows, _ = _to_rows(dout, self._axes)
        dx, dgamma, dbeta = layernorm_backward(drows, cache)
        self._set_grads(dgamma, dbeta)
        return _from_rows(dx, moved_shape, self._axes)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


__all__ = ["BatchNormalization", "LayerNormalization"]
