"""The loader shared by MNIST and Fashion-MNIST: four IDX files, same layout."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from glassnet.datasets._sources import RemoteFile, fetch, find_first, locate
from glassnet.datasets.idx import read_idx
from glassnet.errors import InvalidFileError

KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

Split = tuple[np.ndarray, np.ndarray]


def candidates(remote_name: str) -> tuple[str, ...]:
    """The file names accepted for a remote ``*.gz`` file: gzipped, plain, or
    with the dot that some unpacked copies use (``train-images.idx3-ubyte``)."""
    stem = remote_name.removesuffix(".gz")
    return (remote_name, stem, stem.replace("-idx", ".idx"))


def load_idx_dataset(
    dataset: str,
    files: Mapping[str, RemoteFile],
    mirrors: Sequence[str],
    *,
    path: str | os.PathLike[str] | None,
    system_dirs: Sequence[str] = (),
    hints: Sequence[str] = (),
) -> tuple[Split, Split]:
    """Find (or download) and read the four IDX files of an MNIST-like dataset.

    Shapes:
        x_train: (N, 28, 28);  y_train: (N,);  x_test: (M, 28, 28);  y_test: (M,)

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, uint8 images and labels.
    """

    def match(directory: Path) -> dict[str, Path] | None:
        found = {k: find_first(directory, candidates(files[k].name)) for k in KEYS}
        if any(p is None for p in found.values()):
            return None
        return {k: p for k, p in found.items() if p is not None}

    def download(cache: Path) -> None:
        for key in KEYS:
            if find_first(cache, candidates(files[key].name)) is None:
                fetch(files[key], mirrors, cache)

    wanted = ", ".join(files[k].name for k in KEYS) + " (gzipped or not)"
    paths = locate(
        dataset,
        match,
        path=path,
        system_dirs=system_dirs,
        wanted=wanted,
        download=download,
        hints=hints,
    )
    train = _read_split(paths["x_train"], paths["y_train"])
    test = _read_split(paths["x_test"], paths["y_test"])
    return train, test


def _read_split(images_path: Path, labels_path: Path) -> Split:
    x = read_idx(images_path, ndim=3)
    y = read_idx(labels_path, ndim=1)
    if x.shape[1:] != IMAGE_SHAPE:
        raise InvalidFileError(
            f"{images_path}: expected images of {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} "
            f"pixels; received {x.shape[1]}x{x.shape[2]}"
        )
    if len(x) != len(y):
        raise InvalidFileError(
            f"{labels_path}: expected {len(x)} labels, one per image in "
            f"{images_path.name}; received {len(y)}"
        )
    if y.size and int(y.max()) >= NUM_CLASSES:
        raise InvalidFileError(
            f"{labels_path}: expected labels in [0, {NUM_CLASSES}); received "
            f"a label {int(y.max())}"
        )
    return x, y
