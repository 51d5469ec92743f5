"""Fashion-MNIST: Zalando's 70,000 28x28 grey images of clothing in 10 classes.

A drop-in replacement for MNIST, with the same file format, shapes and split.

Example:
    >>> from glassnet.datasets import fashion_mnist
    >>> fashion_mnist.CLASS_NAMES[9]
    'Ankle boot'
"""

from __future__ import annotations

import os

import numpy as np

from glassnet.datasets._idx_dataset import load_idx_dataset
from glassnet.datasets._sources import RemoteFile

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# The official host (plain http: it is an S3 website endpoint; the SHA-256 check
# protects the content), then the copy in the project's GitHub repository.
MIRRORS: list[str] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/"
    "master/data/fashion/",
]

# Sizes and SHA-256 of the official files, as in TensorFlow Datasets'
# url_checksums/fashion_mnist.txt, and reproduced here: Debian's
# dataset-fashion-mnist ships the official files with the gzip header normalised
# (file name dropped, mtime reset), so its own checksums differ; restoring the
# name and the mtime gives files whose MD5 equal those of the Fashion-MNIST
# README and whose SHA-256 are these (tests/datasets/test_fashion_mnist.py).
FILES: dict[str, RemoteFile] = {
    "x_train": RemoteFile(
        "train-images-idx3-ubyte.gz",
        26421880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "y_train": RemoteFile(
        "train-labels-idx1-ubyte.gz",
        29515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "x_test": RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        4422102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    "y_test": RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        5148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}

# Where Debian's (and Ubuntu's) dataset-fashion-mnist package puts the four
# gzipped IDX files.
SYSTEM_DIRS: list[str] = ["/usr/share/datasets/fashion-mnist"]

_HINTS = (
    "on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist",
    "download the four files from " + MIRRORS[0],
)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as Keras does, from local files or a verified download.

    The four IDX files (``train-images-idx3-ubyte.gz`` and the others, gzipped or
    not) are looked for in ``path``; else in ``$GLASSNET_DATA/fashion_mnist``, in
    ``~/.cache/glassnet/fashion_mnist``, then in Debian's
    ``/usr/share/datasets/fashion-mnist``; else they are downloaded into the
    cache from :data:`MIRRORS` and checked against the SHA-256 sums in
    :data:`FILES`.

    Shapes:
        x_train: (60000, 28, 28);  y_train: (60000,)
        x_test: (10000, 28, 28);  y_test: (10000,)

    Args:
        path: a directory holding the files; when given, no other place is
            tried and nothing is downloaded. Defaults to `None`.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images in [0, 255] and
        uint8 labels in [0, 10), named by :data:`CLASS_NAMES`.

    Raises:
        DatasetNotFoundError: when the files are nowhere and cannot be downloaded;
            the message lists the places looked in and how to get the files.
        InvalidFileError: when a file is corrupt or a download fails its checksum.
    """
    return load_idx_dataset(
        "fashion_mnist",
        FILES,
        MIRRORS,
        path=path,
        system_dirs=SYSTEM_DIRS,
        hints=_HINTS,
    )


__all__ = ["CLASS_NAMES", "FILES", "MIRRORS", "SYSTEM_DIRS", "load_data"]
