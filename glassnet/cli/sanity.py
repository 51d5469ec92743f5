"""``glassnet sanity PRESET``: the course's training sanity checks on real data.

The initial loss with small weights is ln(C); an L2 penalty raises the loss;
the model overfits a tiny training subset to 100% accuracy (without the
preset's random augmentation).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from glassnet import optimizers, regularizers
from glassnet.presets import PRESETS, build_model, class_names, keras_data

SAMPLES = 2000  # training images the loss checks average over


def _compiled(
    preset: str, seed: int, lr: float, reg: Any = None, augmentation: bool = True
) -> Any:
    model = build_model(preset, seed, reg, augmentation=augmentation)
    settings = PRESETS[preset]
    opt = optimizers.OPTIMIZERS[settings.optimizer](learning_rate=lr)
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _overfit_epochs(model: Any, x: np.ndarray, y: np.ndarray, limit: int) -> int:
    """Epochs until ``model`` classifies all of ``x`` right (``limit`` + 1: never).

    Right means the training accuracy ``fit`` logs (Keras' ``accuracy``: the
    training-mode outputs of the epoch's one batch). Inference mode would
    measure batchnorm's moving statistics instead, which at Keras' momentum
    0.99 take hundreds of one-batch epochs to catch up with the batch's own.
    """
    for epoch in range(1, limit + 1):
        logs = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0).history
        if logs["accuracy"][-1] == 1.0:
            return epoch
    return limit + 1


def cmd_sanity(args: argparse.Namespace) -> int:
    """Print the pass/fail table of the sanity checks; 1 if any fails."""
    (x, y), _ = keras_data(args.preset, args.data)
    x, y = x[:SAMPLES], y[:SAMPLES]
    num_classes = len(class_names(args.preset))
    lr = PRESETS[args.preset].lr

    def loss(model: Any) -> float:
        return float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])

    small = _compiled(args.preset, args.seed, lr)
    # Tiny weights give near-equal logits, so softmax is uniform: loss = ln(C).
    small.set_weights([w * 1e-3 for w in small.get_weights()])
    initial = loss(small)
    expected = float(np.log(num_classes))
    plain = loss(_compiled(args.preset, args.seed, lr))
    with_l2 = loss(_compiled(args.preset, args.seed, lr, regularizers.L2(1.0)))
    # Overfitting is checked without augmentation, a regulariser like L2: the
    # course's check is that the model can fit the data at all.
    n, limit = 30, 200
    overfit_lr = args.overfit_lr or lr
    model = _compiled(args.preset, args.seed, overfit_lr, augmentation=False)
    epochs = _overfit_epochs(model, x[:n], y[:n], limit)
    rows = [
        (
            "initial loss with small weights ~ ln(C)",
            f"{initial:.4f}",
            f"{expected:.4f} +- 0.2",
            abs(initial - expected) <= 0.2,
        ),
        (
            "L2(1.0) on the kernels raises the loss",
            f"{with_l2:.4f}",
            f"> {plain:.4f}",
            with_l2 > plain,
        ),
        (
            f"overfit {n} samples to 100% train accuracy",
            f"{epochs} epochs" if epochs <= limit else "never",
            f"<= {limit} epochs",
            epochs <= limit,
        ),
    ]
    dataset = PRESETS[args.preset].dataset.__name__.rsplit(".", 1)[-1]
    print(f"sanity checks of {args.preset} on {len(x)} {dataset} training images")
    print(f"{'check':<46}{'value':>12}{'target':>20}  result")
    for name, value, target, ok in rows:
        print(f"{name:<46}{value:>12}{target:>20}  {'PASS' if ok else 'FAIL'}")
    failed = sum(not ok for *_, ok in rows)
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0
