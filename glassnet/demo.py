"""The quick demo: a FullyConnectedNet trained by the Solver, printing its accuracy.

Run with ``python -m glassnet.demo``. It uses scikit-learn's bundled 8x8 digits
when scikit-learn is installed (``pip install -e ".[data]"``) and otherwise a
generated, learnable 10-class problem of the same size, so it runs on any machine
with no download.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.classifiers import FullyConnectedNet
from glassnet.solver import Solver


def load_digits_or_blobs(seed: int = 0) -> tuple[dict[str, np.ndarray], str]:
    """Return a Solver data dict (train/val/test) and the name of the data used."""
    gen = np.random.default_rng(seed)
    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X, y, name = digits.data / 16.0, digits.target, "scikit-learn 8x8 digits"
    except ImportError:
        centres = gen.normal(size=(10, 64)) * 2.0
        y = gen.integers(10, size=1797)
        X, name = centres[y] + gen.normal(size=(1797, 64)), "generated 10-class blobs"
    order = gen.permutation(len(X))
    X, y = X[order].astype(np.float32), y[order].astype(np.int64)
    mean = X[:1200].mean(axis=0)
    X = X - mean
    data = {
        "X_train": X[:1200],
        "y_train": y[:1200],
        "X_val": X[1200:1500],
        "y_val": y[1200:1500],
        "X_test": X[1500:],
        "y_test": y[1500:],
    }
    return data, name


def main() -> int:
    """Train the demo model and print validation and test accuracy."""
    data, name = load_digits_or_blobs()
    model = FullyConnectedNet(
        [100, 100],
        input_dim=64,
        num_classes=10,
        normalization="batchnorm",
        weight_scale=5e-2,
        reg=1e-3,
        seed=0,
    )
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-3},
        lr_decay=0.95,
        batch_size=50,
        num_epochs=15,
        print_every=100,
        seed=0,
    )
    print(f"glassnet demo: FullyConnectedNet [100, 100] + batchnorm, Adam, on {name}")
    start = time.perf_counter()
    solver.train()
    elapsed = time.perf_counter() - start
    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
    print(f"best validation accuracy: {solver.best_val_acc:.4f}")
    print(
        f"test accuracy: {test_acc:.4f} "
        f"({len(data['y_test'])} samples, {elapsed:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
