"""cs231n's ``fast_layers``: glassnet's vectorised conv and max-pool kernels.

The course keeps two fast convolutions (``*_im2col`` and ``*_strides``, the
latter bound to ``*_fast``) and three max pools (``*_reshape``, ``*_im2col``,
``*_fast`` choosing between them). glassnet has one of each, which is both: im2col
read through strided views, and a pool taking the reshape path where the windows
tile the input. So every course name is bound to that one kernel; a cache from
any of the forwards goes to any of the matching backwards.
"""

from glassnet.functional import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

conv_forward_im2col = conv_forward_fast
conv_backward_im2col = conv_backward_fast
conv_forward_strides = conv_forward_fast
conv_backward_strides = conv_backward_fast
max_pool_forward_im2col = max_pool_forward_fast
max_pool_backward_im2col = max_pool_backward_fast
max_pool_forward_reshape = max_pool_forward_fast
max_pool_backward_reshape = max_pool_backward_fast

__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
    "max_pool_backward_fast",
    "max_pool_backward_im2col",
    "max_pool_backward_reshape",
    "max_pool_forward_fast",
    "max_pool_forward_im2col",
    "max_pool_forward_reshape",
]
