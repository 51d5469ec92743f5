"""Kernels: pure ``<op>_forward -> (out, cache)`` / ``<op>_backward`` functions.

Every name here keeps the cs231n assignment-2 signature and semantics, so course
code runs with ``from glassnet.functional import *``. Naive loop kernels
(``*_naive``) are the readable specification; ``*_fast`` and ``*_nhwc`` are their
vectorised twins, cross-checked in the tests.
"""

from glassnet.functional.activations import (
    elu_backward,
    elu_forward,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from glassnet.functional.affine import (
    affine_backward,
    affine_forward,
)
from glassnet.functional.conv import (
    conv_backward_naive,
    conv_forward_naive,
)
from glassnet.functional.conv_fast import (
    conv_backward_fast,
    conv_backward_nhwc,
    conv_forward_fast,
    conv_forward_nhwc,
)
from glassnet.functional.dropout import (
    dropout_backward,
    dropout_forward,
)
from glassnet.functional.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from glassnet.functional.losses import (
    binary_crossentropy_loss,
    categorical_crossentropy_loss,
    hinge_loss,
    mean_absolute_error_loss,
    mean_squared_error_loss,
    softmax_loss,
    sparse_categorical_crossentropy_loss,
    svm_loss,
)
from glassnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_backward_nhwc,
    spatial_batchnorm_forward,
    spatial_batchnorm_forward_nhwc,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from glassnet.functional.penalties import (
    elastic_net_penalty,
    l1_l2_penalty,
    l1_penalty,
    l2_penalty,
)
from glassnet.functional.pool import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from glassnet.functional.pool_fast import (
    avg_pool_backward_fast,
    avg_pool_backward_nhwc,
    avg_pool_forward_fast,
    avg_pool_forward_nhwc,
    max_pool_backward_fast,
    max_pool_backward_nhwc,
    max_pool_forward_fast,
    max_pool_forward_nhwc,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "affine_norm_relu_backward",
    "affine_norm_relu_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "avg_pool_backward_fast",
    "avg_pool_backward_naive",
    "avg_pool_backward_nhwc",
    "avg_pool_forward_fast",
    "avg_pool_forward_naive",
    "avg_pool_forward_nhwc",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "binary_crossentropy_loss",
    "categorical_crossentropy_loss",
    "conv_backward_fast",
    "conv_backward_naive",
    "conv_backward_nhwc",
    "conv_forward_fast",
    "conv_forward_naive",
    "conv_forward_nhwc",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
    "dropout_backward",
    "dropout_forward",
    "elastic_net_penalty",
    "elu_backward",
    "elu_forward",
    "gelu_backward",
    "gelu_forward",
    "hinge_loss",
    "l1_l2_penalty",
    "l1_penalty",
    "l2_penalty",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "max_pool_backward_fast",
    "max_pool_backward_naive",
    "max_pool_backward_nhwc",
    "max_pool_forward_fast",
    "max_pool_forward_naive",
    "max_pool_forward_nhwc",
    "mean_absolute_error_loss",
    "mean_squared_error_loss",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_forward",
    "softmax_loss",
    "sparse_categorical_crossentropy_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_backward_nhwc",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_forward_nhwc",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
    "tanh_backward",
    "tanh_forward",
]
