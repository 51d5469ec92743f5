"""Datasets with Keras' ``load_data()`` and the helpers that prepare them.

``mnist``, ``fashion_mnist`` and ``cifar10`` read their official files from a
directory you give, ``$GLASSNET_DATA/<dataset>``, the user cache
(``~/.cache/glassnet/<dataset>``) or a system-wide copy (Debian's
``dataset-fashion-mnist``), and download them into the cache, checked against
their SHA-256, when none has them. ``digits`` wraps scikit-learn's bundled digits.
Every module names its classes in ``CLASS_NAMES``.

Example:
    >>> from glassnet.datasets import fashion_mnist, to_categorical
    >>> len(fashion_mnist.CLASS_NAMES)
    10
"""

from __future__ import annotations

from glassnet.datasets import cifar10, digits, fashion_mnist, mnist
from glassnet.datasets.cifar_format import (
    RestrictedUnpickler,
    read_cifar_binary,
    read_cifar_python,
)
from glassnet.datasets.idx import read_idx
from glassnet.datasets.utils import (
    get_cifar10_data,
    kfold,
    scale_images,
    shift_augment,
    subtract_channel_mean,
    to_categorical,
    train_val_test_split,
)

__all__ = [
    "RestrictedUnpickler",
    "cifar10",
    "digits",
    "fashion_mnist",
    "get_cifar10_data",
    "kfold",
    "mnist",
    "read_cifar_binary",
    "read_cifar_python",
    "read_idx",
    "scale_images",
    "shift_augment",
    "subtract_channel_mean",
    "to_categorical",
    "train_val_test_split",
]
