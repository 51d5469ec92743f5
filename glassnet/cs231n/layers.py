"""cs231n's ``layers``: the kernels of :mod:`glassnet.functional`, re-exported.

``from glassnet.cs231n.layers import *`` gives the course's names, each the
glassnet function itself (the conv and pool kernels are the loop versions, as in
the course; the vectorised ones are in :mod:`glassnet.cs231n.fast_layers`).
"""

from glassnet.functional import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    svm_loss,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward_naive",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "layernorm_backward",
    "layernorm_forward",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
]
