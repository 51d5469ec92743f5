"""The course's fully connected classifiers: ``TwoLayerNet``, ``FullyConnectedNet``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._internal.checks import check_choice, check_int, check_number, fail
from glassnet.backend import Array
from glassnet.classifiers._common import (
    check_model_args,
    gaussian,
    new_rng,
    ones,
    prepare_input,
    softmax_l2_loss,
    zeros,
)
from glassnet.functional.affine import (
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from glassnet.functional.dropout import dropout_backward, dropout_forward
from glassnet.functional.layer_utils import (
    affine_norm_relu_forward,
    affine_norm_relu_grads,
    affine_relu_forward,
    affine_relu_grads,
)

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential

NORMALIZATIONS = (None, "batchnorm", "layernorm")


class FullyConnectedNet:
    """A fully connected network with any number of hidden layers.

    Architecture: {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) -
    affine - softmax. Parameters live in ``self.params`` as ``W1, b1, gamma1,
    beta1, ..., WL, bL`` (no normalisation parameters on the last layer).

    Args:
        hidden_dims: the size of each hidden layer.
        input_dim: the size of one flattened input. Defaults to `3 * 32 * 32`.
        num_classes: the number of classes C. Defaults to `10`.
        dropout_keep_ratio: the probability of KEEPING a unit; 1 disables dropout.
            Defaults to `1`.
        normalization: ``None``, ``"batchnorm"`` or ``"layernorm"``. Defaults to `None`.
        reg: L2 strength; the loss gains ``0.5 * reg * sum(W**2)`` per weight matrix.
            Defaults to `0.0`.
        weight_scale: standard deviation of the Gaussian initial weights.
            Defaults to `1e-2`.
        dtype: the dtype of every parameter and computation. Defaults to `np.float32`.
        seed: seeds glassnet's own generator for the initial weights and, as in
            the course, fixes the dropout mask (so that gradient checks are
            deterministic). None draws, as the course does, from NumPy's global
            generator: ``weight_scale * np.random.randn(d_in, d_out)`` layer by
            layer, then a new dropout mask ``np.random.rand`` at every training
            forward, so that ``np.random.seed(231)`` reproduces the notebooks.
            Defaults to `None`.

    Attributes:
        dropout_rng: the generator of the dropout masks when ``dropout_param``
            has no ``"seed"``; None draws them from NumPy's global generator. To
            train with seeded but changing masks, remove the seed and set a
            generator: ``model.dropout_param.pop("seed"); model.dropout_rng =
            rng(1)``.

    Example:
        >>> import numpy as np
        >>> model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, seed=0)
        >>> sorted(model.params)
        ['W1', 'W2', 'W3', 'b1', 'b2', 'b3']
        >>> model.loss(np.zeros((2, 15))).shape
        (2, 10)
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: Any = np.float32,
        seed: int | None = None,
    ) -> None:
        if isinstance(hidden_dims, int | str) or not isinstance(hidden_dims, Sequence):
            raise fail("hidden_dims", "a list of layer sizes", repr(hidden_dims))
        dims = [check_int("input_dim", input_dim, min_value=1)]
        dims += [
            check_int(f"hidden_dims[{i}]", h, min_value=1)
            for i, h in enumerate(hidden_dims)
        ]
        dims.append(check_int("num_classes", num_classes, min_value=2))
        check_number(
            "dropout_keep_ratio", dropout_keep_ratio, low=0, low_open=True, high=1
        )
        self.normalization = check_choice(
            "normalization", normalization, NORMALIZATIONS
        )
        self.dtype = check_model_args(weight_scale, reg, dtype)
        self.reg = float(reg)
        self.num_layers = len(dims) - 1
        self.input_dim = dims[0]
        self.use_dropout = dropout_keep_ratio != 1

        gen = new_rng(seed)
        self.params: dict[str, Array] = {}
        for i in range(1, self.num_layers + 1):
            d_in, d_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = gaussian(
                gen, (d_in, d_out), weight_scale, self.dtype
            )
            self.params[f"b{i}"] = zeros(d_out, dtype=self.dtype)
            if self.normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = ones(d_out, dtype=self.dtype)
                self.params[f"beta{i}"] = zeros(d_out, dtype=self.dtype)

        self.dropout_param: dict[str, Any] = {}
        self.dropout_rng: Any = None
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": float(dropout_keep_ratio)}
            if seed is not None:
                self.dropout_param["seed"] = seed
        # One dict per hidden layer; batchnorm keeps its running statistics here.
        self.bn_params: list[dict[str, Any]] = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        elif self.normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]

    def loss(
        self, X: Array, y: Array | None = None
    ) -> Array | tuple[float, dict[str, Array]]:
        """Class scores for ``X`` (when ``y`` is None), else the loss and gradients.

        Shapes:
            X: (N, d1, ..., dk) with d1 * ... * dk == input_dim;  y: (N,)

        Returns:
            ``scores`` of shape (N, C) in test mode; ``(loss, grads)`` in train mode,
            with ``grads`` keyed like ``self.params``.
        """
        X = prepare_input(X, (self.input_dim,), self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        h, caches = X, []
        for i in range(1, self.num_layers):
            h, cache = self._hidden_forward(h, i)
            caches.append(cache)
        L = self.num_layers
        scores, last_cache = affine_forward(
            h, self.params[f"W{L}"], self.params[f"b{L}"]
        )
        if y is None:
            return scores

        weights = [f"W{i}" for i in range(1, L + 1)]
        loss, dout, grads = softmax_l2_loss(scores, y, self.params, self.reg, weights)
        # The first layer's input gradient (of X) is never read: skip it.
        if L == 1:
            dw, grads["b1"] = affine_param_grads(dout, last_cache)
        else:
            dh, dw, grads[f"b{L}"] = affine_backward(dout, last_cache)
        grads[f"W{L}"] += dw
        for i in range(L - 1, 0, -1):
            dh = self._hidden_backward(dh, caches[i - 1], i, grads)
        return loss, grads

    def to_sequential(
        self, input_shape: Any = None, name: str | None = None
    ) -> Sequential:
        """The equivalent Keras-style model (see :func:`.convert.to_sequential`)."""
        from glassnet.classifiers.convert import to_sequential

        return to_sequential(self, input_shape, name)

    def _hidden_forward(self, h: Array, i: int) -> tuple[Array, tuple]:
        w, b = self.params[f"W{i}"], self.params[f"b{i}"]
        if self.normalization:
            gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
            h, cache = affine_norm_relu_forward(
                h, w, b, gamma, beta, self.bn_params[i - 1], self.normalization
            )
        else:
            h, cache = affine_relu_forward(h, w, b)
        drop_cache = None
        if self.use_dropout:
            h, drop_cache = dropout_forward(h, self.dropout_param, rng=self.dropout_rng)
        return h, (cache, drop_cache)

    def _hidden_backward(
        self, dh: Array, cache: tuple, i: int, grads: dict
    ) -> Array | None:
        layer_cache, drop_cache = cache
        if self.use_dropout:
            dh = dropout_backward(dh, drop_cache)
        need_dx = i > 1
        if self.normalization:
            dh, dw, db, dgamma, dbeta = affine_norm_relu_grads(
                dh, layer_cache, need_dx=need_dx
            )
            grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        else:
            dh, dw, db = affine_relu_grads(dh, layer_cache, need_dx=need_dx)
        grads[f"W{i}"] += dw
        grads[f"b{i}"] = db
        return dh


class TwoLayerNet(FullyConnectedNet):
    """The course's two-layer network: affine - relu - affine - softmax.

    Parameters ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,). This is a
    :class:`FullyConnectedNet` with one hidden layer; nothing is computed twice.

    Args:
        input_dim: D. Defaults to `3 * 32 * 32`.
        hidden_dim: H. Defaults to `100`.
        num_classes: C. Defaults to `10`.
        weight_scale: standard deviation of the initial weights. Defaults to `1e-3`.
        reg: L2 strength. Defaults to `0.0`.
        dtype: parameter dtype. float64 by default, like the course's
            ``TwoLayerNet``, whose notebook checks scores to 1e-6 and the loss to
            1e-10. Defaults to `np.float64`.
        seed: seeds the initial weights; None draws them from NumPy's global
            generator, as the course (see :class:`FullyConnectedNet`).
            Defaults to `None`.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        *,
        dtype: Any = np.float64,
        seed: int | None = None,
    ) -> None:
        check_int("hidden_dim", hidden_dim, min_value=1)
        super().__init__(
            [hidden_dim],
            input_dim=input_dim,
            num_classes=num_classes,
            reg=reg,
            weight_scale=weight_scale,
            dtype=dtype,
            seed=seed,
        )


__all__ = ["FullyConnectedNet", "TwoLayerNet"]
