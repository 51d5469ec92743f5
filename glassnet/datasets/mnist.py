"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

Example:
    >>> from glassnet.datasets import mnist
    >>> mnist.CLASS_NAMES[:3]
    ('0', '1', '2')
"""

from __future__ import annotations

import os

import numpy as np

from glassnet.datasets._idx_dataset import load_idx_dataset
from glassnet.datasets._sources import RemoteFile

CLASS_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))

# Mirrors tried in turn; the original yann.lecun.com host now refuses most
# downloads. Both mirrors serve the original files byte for byte.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

# Sizes and SHA-256 of the original files, from TensorFlow Datasets'
# url_checksums/mnist.txt (the cvdf-datasets mirror); other projects check the
# same SHA-256 on the ossci-datasets mirror and on yann.lecun.com.
FILES: dict[str, RemoteFile] = {
    "x_train": RemoteFile(
        "train-images-idx3-ubyte.gz",
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "y_train": RemoteFile(
        "train-labels-idx1-ubyte.gz",
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "x_test": RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "y_test": RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

SYSTEM_DIRS: list[str] = []

_HINTS = ("download the four files from " + MIRRORS[0],)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as Keras does, from local files or a verified download.

    The four IDX files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``, gzipped or not)
    are looked for in ``path``; else in ``$GLASSNET_DATA/mnist``, then in
    ``~/.cache/glassnet/mnist``; else they are downloaded there from
    :data:`MIRRORS` and checked against the SHA-256 sums in :data:`FILES`.

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
        "mnist", FILES, MIRRORS, path=path, system_dirs=SYSTEM_DIRS, hints=_HINTS
    )


__all__ = ["CLASS_NAMES", "FILES", "MIRRORS", "SYSTEM_DIRS", "load_data"]
