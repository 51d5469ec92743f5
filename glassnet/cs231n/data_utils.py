"""cs231n's ``data_utils``: CIFAR-10 as the course loads it, read by glassnet.

``get_CIFAR10_data`` is :func:`glassnet.datasets.get_cifar10_data` (same arguments,
plus ``path``; float32 images where the course's are float64). The course's two
loaders keep their return values (float64 images channels last, int labels) but
read through :mod:`glassnet.datasets`: ``load_CIFAR10`` through
:func:`~glassnet.datasets.cifar10.load_data` (binary or Python version, the
pickles through the restricted unpickler) and ``load_CIFAR_batch`` through
:func:`~glassnet.datasets.read_cifar_python` (or
:func:`~glassnet.datasets.read_cifar_binary` for a ``.bin`` batch). Nothing here
calls ``pickle.load``.
"""

from __future__ import annotations

import os

import numpy as np

from glassnet.datasets import (
    cifar10,
    get_cifar10_data,
    read_cifar_binary,
    read_cifar_python,
)

get_CIFAR10_data = get_cifar10_data


def load_CIFAR_batch(
    filename: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file, as the course's ``load_CIFAR_batch``.

    Shapes:
        X: (N, 32, 32, 3);  Y: (N,)

    Args:
        filename: a batch of the Python version (``data_batch_1``) or, ending
            in ``.bin``, of the binary version.

    Returns:
        ``(X, Y)``: float64 pixels in [0, 255], channels last, and int64 labels.

    Raises:
        InvalidFileError: as the glassnet reader.
    """
    binary = os.fspath(filename).endswith(".bin")
    x, y = (read_cifar_binary if binary else read_cifar_python)(filename)
    # A record holds each channel as one 32x32 plane: channels first on disk.
    X = x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    return X, y.astype(np.int64)


def load_CIFAR10(
    ROOT: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All of CIFAR-10 from the directory ``ROOT``, as the course's ``load_CIFAR10``.

    Shapes:
        Xtr: (50000, 32, 32, 3);  Ytr: (50000,);  Xte: (10000, 32, 32, 3);
        Yte: (10000,)

    Args:
        ROOT: the directory holding the batches (``cifar-10-batches-py`` or
            ``-bin``, or their parent); nothing is downloaded.

    Returns:
        ``(Xtr, Ytr, Xte, Yte)``: float64 pixels in [0, 255], int64 labels.

    Raises:
        DatasetNotFoundError, InvalidFileError: as
            :func:`glassnet.datasets.cifar10.load_data`.
    """
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(ROOT)
    return (
        x_train.astype(np.float64),
        y_train.reshape(-1).astype(np.int64),
        x_test.astype(np.float64),
        y_test.reshape(-1).astype(np.int64),
    )


__all__ = ["get_CIFAR10_data", "load_CIFAR10", "load_CIFAR_batch"]
