"""The course's three-layer convolutional network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._internal.checks import check_int, fail
from glassnet.backend import Array, get_array_module
from glassnet.classifiers._common import (
    check_model_args,
    gaussian,
    new_rng,
    prepare_input,
    softmax_l2_loss,
    zeros,
)
from glassnet.functional.affine import affine_backward, affine_forward
from glassnet.functional.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward_nhwc,
    conv_relu_pool_forward_nhwc,
)

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The convolution keeps the spatial size (stride 1, padding ``(filter_size - 1) // 2``
    for odd filters) and the pool halves it (rounding down). Parameters: ``W1``
    (F, C, filter_size, filter_size), ``b1`` (F,), ``W2`` (F * H' * W', hidden_dim),
    ``b2``, ``W3`` (hidden_dim, num_classes), ``b3``.

    Args:
        input_dim: (C, H, W) of one input. Defaults to `(3, 32, 32)`.
        num_filters: F. Defaults to `32`.
        filter_size: the side of each square filter (odd). Defaults to `7`.
        hidden_dim: units of the hidden affine layer. Defaults to `100`.
        num_classes: C. Defaults to `10`.
        weight_scale: standard deviation of the initial weights. Defaults to `1e-3`.
        reg: L2 strength. Defaults to `0.0`.
        dtype: parameter dtype. Defaults to `np.float32`.
        seed: seeds glassnet's own generator for the initial weights; None
            draws them as the course does, ``weight_scale * np.random.randn``
            for W1, W2 then W3 from NumPy's global generator (so
            ``np.random.seed`` fixes them). Defaults to `None`.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: Any = np.float32,
        *,
        seed: int | None = None,
    ) -> None:
        if not isinstance(input_dim, tuple | list) or len(input_dim) != 3:
            raise fail("input_dim", "(C, H, W)", repr(input_dim))
        C, H, W = (
            check_int(f"input_dim[{i}]", d, min_value=1)
            for i, d in enumerate(input_dim)
        )
        F = check_int("num_filters", num_filters, min_value=1)
        fs = check_int("filter_size", filter_size, min_value=1)
        if fs % 2 == 0:
            raise fail("filter_size", "an odd size so that padding keeps H and W", fs)
        check_int("hidden_dim", hidden_dim, min_value=1)
        check_int("num_classes", num_classes, min_value=2)
        if H < 2 or W < 2:
            raise fail(
                "input_dim", "H and W of at least 2 for the 2x2 pool", repr(input_dim)
            )
        self.dtype = check_model_args(weight_scale, reg, dtype)
        self.reg = float(reg)
        self.input_dim = (C, H, W)
        self.conv_param = {"stride": 1, "pad": (fs - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        gen = new_rng(seed)
        pooled = F * (H // 2) * (W // 2)
        self.params: dict[str, Array] = {
            "W1": gaussian(gen, (F, C, fs, fs), weight_scale, self.dtype),
            "b1": zeros(F, dtype=self.dtype),
            "W2": gaussian(gen, (pooled, hidden_dim), weight_scale, self.dtype),
            "b2": zeros(hidden_dim, dtype=self.dtype),
            "W3": gaussian(gen, (hidden_dim, num_classes), weight_scale, self.dtype),
            "b3": zeros(num_classes, dtype=self.dtype),
        }

    def loss(
        self, X: Array, y: Array | None = None
    ) -> Array | tuple[float, dict[str, Array]]:
        """Class scores for ``X`` (when ``y`` is None), else the loss and gradients.

        Shapes:
            X: (N, C, H, W);  y: (N,);  scores: (N, num_classes)
        """
        X = prepare_input(X, self.input_dim, self.dtype)
        p = self.params
        # The conv block runs channels-last (the layout of the fast kernels) on
        # transposed views of X and W1; only the pooled maps go back to (F, H, W)
        # order, which W2's rows follow: the same numbers as the NCHW sandwich.
        h1, cache1 = conv_relu_pool_forward_nhwc(
            X.transpose(0, 2, 3, 1),
            p["W1"].transpose(2, 3, 1, 0),
            p["b1"],
            self.conv_param,
            self.pool_param,
        )
        h1 = h1.transpose(0, 3, 1, 2)
        h2, cache2 = affine_relu_forward(h1, p["W2"], p["b2"])
        scores, cache3 = affine_forward(h2, p["W3"], p["b3"])
        if y is None:
            return scores

        loss, dscores, grads = softmax_l2_loss(
            scores, y, p, self.reg, ("W1", "W2", "W3")
        )
        dh2, dw3, grads["b3"] = affine_backward(dscores, cache3)
        dh1, dw2, grads["b2"] = affine_relu_backward(dh2, cache2)
        # Nobody reads the gradient of X: skip its product and col2im. dh1 is in
        # (F, H, W) order; one copy to channels-last makes the ReLU's and the
        # pooling's five passes over it contiguous (cheaper than five strided
        # passes).
        dh1 = get_array_module(dh1).ascontiguousarray(dh1.transpose(0, 2, 3, 1))
        _, dw1, grads["b1"] = conv_relu_pool_backward_nhwc(dh1, cache1, need_dx=False)
        grads["W1"] += dw1.transpose(3, 2, 0, 1)
        grads["W2"] += dw2
        grads["W3"] += dw3
        return loss, grads

    def to_sequential(
        self, input_shape: Any = None, name: str | None = None
    ) -> Sequential:
        """The equivalent Keras-style model (see :func:`.convert.to_sequential`)."""
        from glassnet.classifiers.convert import to_sequential

        return to_sequential(self, input_shape, name)


__all__ = ["ThreeLayerConvNet"]
