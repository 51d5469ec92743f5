"""scikit-learn's bundled 8x8 handwritten digits (1,797 images), split in two.

The images come from ``sklearn.datasets.load_digits`` (no download), which needs
the optional dependency: ``pip install glassnet[data]``. Pixels keep their
original range, 0 to 16, stored as uint8: scale them with
``scale_images(x, max_value=16)``.

Example:
    >>> from glassnet.datasets import digits
    >>> digits.CLASS_NAMES[7]
    '7'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.datasets.utils import train_val_test_split

CLASS_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))
PIXEL_MAX = 16  # load_data's pixels lie in 0..PIXEL_MAX (the others' in 0..255)


def load_data(
    test_size: float | int = 0.2, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the 8x8 digits with a fixed, stratified train/test split.

    The split is computed here, not by scikit-learn, so the same ``seed`` gives
    the same split with every scikit-learn version.

    Shapes:
        x_train: (N_train, 8, 8);  y_train: (N_train,)
        x_test: (N_test, 8, 8);  y_test: (N_test,), N_train + N_test = 1797

    Args:
        test_size: the test part, a fraction in [0, 1) (rounded up) or a count.
            Defaults to `0.2`.
        seed: the seed of the split. Defaults to `0`.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 pixels in [0, 16] and
        uint8 labels in [0, 10), each class in the same proportion in both parts.

    Raises:
        ImportError: when scikit-learn is not installed.
        ValueError: when ``test_size`` leaves no training image.
    """
    bunch = _load_sklearn_digits()
    x = np.asarray(bunch.images).astype(np.uint8)
    y = np.asarray(bunch.target).astype(np.uint8)
    train, _, test = train_val_test_split(
        x, y, val_size=0, test_size=test_size, stratify=True, seed=seed
    )
    return train, test


def _load_sklearn_digits() -> Any:
    try:
        from sklearn.datasets import load_digits  # type: ignore[import-untyped]
    except ImportError as e:
        raise ImportError(
            "glassnet.datasets.digits needs scikit-learn, which is not installed: "
            "pip install glassnet[data]  (or pip install scikit-learn)"
        ) from e
    return load_digits()


__all__ = ["CLASS_NAMES", "load_data"]
