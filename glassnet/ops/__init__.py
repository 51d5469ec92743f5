"""``glassnet.ops``: Keras 3's ``keras.ops`` names over arrays, with a tape.

Outside a :class:`GradientTape` these are plain NumPy computations. Inside one,
each call is recorded, and ``tape.gradient(target, sources)`` replays the records
backwards: the gradients of activations, products, convolutions and pooling are
the ``*_backward`` kernels of :mod:`glassnet.functional`; simple algebra (sums,
reshapes, products with broadcasting) is written once, in :mod:`.numpy`.

A ``Layer`` subclass whose ``call`` uses these ops needs no ``backward``: see
:mod:`glassnet.layers.base`.

Example:
    >>> import numpy as np
    >>> from glassnet import ops
    >>> x, w = np.ones((2, 3)), np.full((3, 1), 0.5)
    >>> with ops.GradientTape() as tape:
    ...     loss = ops.mean(ops.square(ops.matmul(x, w)))
    >>> tape.gradient(loss, [w])[0].ravel()  # x.T @ (2 x @ w / 2): 1.5 + 1.5
    array([3., 3., 3.])
"""

from glassnet.ops.nn import (
    average_pool,
    conv,
    matmul,
    max_pool,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from glassnet.ops.numpy import (
    add,
    concatenate,
    divide,
    exp,
    expand_dims,
    log,
    max,
    mean,
    multiply,
    negative,
    power,
    reshape,
    sqrt,
    square,
    squeeze,
    subtract,
    sum,
    take_slice,
    transpose,
    where,
)
from glassnet.ops.tape import GradientTape, TapedArray, is_recording

__all__ = [
    "GradientTape",
    "TapedArray",
    "add",
    "average_pool",
    "concatenate",
    "conv",
    "divide",
    "exp",
    "expand_dims",
    "is_recording",
    "log",
    "matmul",
    "max",
    "max_pool",
    "mean",
    "multiply",
    "negative",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "square",
    "squeeze",
    "subtract",
    "sum",
    "take_slice",
    "tanh",
    "transpose",
    "where",
]
