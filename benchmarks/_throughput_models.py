"""Model builders and FLOP counts for ``train_throughput.py``.

Each model exists twice with the same architecture and the same number of
trainable parameters: a glassnet ``Sequential`` (channels-last, NHWC) and a
PyTorch ``nn.Sequential`` (NCHW). Initialisation schemes differ; only the shapes
and the arithmetic matter for throughput.

FLOPs are counted analytically: a multiply-add is 2 FLOPs; the backward pass of a
Dense or Conv2D is counted as twice its forward (one product for the input
gradient, one for the weight gradient). Elementwise work (bias, ReLU, batchnorm,
pooling, dropout, softmax) is ignored: it is small next to the products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassnet import layers, losses, models, optimizers

__all__ = [
    "MODELS",
    "ModelSpec",
    "conv2d_flops",
    "dense_flops",
    "glassnet_model",
    "glassnet_param_count",
    "torch_input_shape",
    "torch_model",
    "torch_param_count",
    "train_flops_per_sample",
]


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark case: input shape (channels-last, no batch axis), batch size,
    whether the glassnet model ends in a softmax fused with the loss, and the
    steps of one timed run (a run of 0.1-0.5 s here, so that a sub-millisecond
    step is not timed over a few milliseconds of a noisy machine)."""

    name: str
    input_shape: tuple[int, ...]
    batch_size: int
    softmax_output: bool
    num_classes: int = 10
    steps: int = 20


MODELS: dict[str, ModelSpec] = {
    "mlp_small": ModelSpec("mlp_small", (28, 28), 128, True, steps=200),
    "mlp_bn_dropout": ModelSpec("mlp_bn_dropout", (3 * 32 * 32,), 256, False),
    "cnn_mnist": ModelSpec("cnn_mnist", (28, 28, 1), 128, True),
    "cnn_cifar": ModelSpec("cnn_cifar", (32, 32, 3), 50, False),
}


def dense_flops(batch: int, in_features: int, units: int) -> int:
    """Forward FLOPs of ``x @ W`` for x (batch, in_features), W (in_features, units)."""
    return 2 * batch * in_features * units


def conv2d_flops(
    batch: int, h_out: int, w_out: int, channels: int, filters: int, kh: int, kw: int
) -> int:
    """Forward FLOPs of a 2-D convolution: one kh*kw*channels dot product per output."""
    return 2 * batch * h_out * w_out * filters * channels * kh * kw


def train_flops_per_sample(model: Any) -> tuple[int, int]:
    """(forward, forward + backward) FLOPs per sample of a built glassnet Sequential.

    Walks ``model.layers`` with ``compute_output_shape``; counts Dense and Conv2D.
    """
    shape = tuple(model.input_spec)
    forward = 0
    for layer in model.layers:
        out = layer.compute_output_shape(shape)
        if isinstance(layer, layers.Dense):
            forward += dense_flops(1, shape[-1], layer.units)
        elif isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            channels = shape[-1] // layer.groups
            forward += conv2d_flops(1, out[1], out[2], channels, layer.filters, kh, kw)
        shape = out
    return forward, 3 * forward


def _glassnet_layers(name: str) -> list[Any]:
    L = layers
    if name == "mlp_small":
        return [L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, "softmax")]
    if name == "mlp_bn_dropout":
        hidden: list[Any] = []
        for units in (512, 256, 256):
            hidden += [L.Dense(units), L.BatchNormalization(), L.ReLU(), L.Dropout(0.5)]
        return [*hidden, L.Dense(10)]
    if name == "cnn_mnist":
        return [
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPool2D(2),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPool2D(2),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    if name == "cnn_cifar":
        return [
            L.Conv2D(32, 7, padding="same"),
            L.ReLU(),
            L.MaxPool2D(2),
            L.Flatten(),
            L.Dense(100, activation="relu"),
            L.Dense(10),
        ]
    raise ValueError(f"model: expected one of {sorted(MODELS)}; received {name!r}")


def glassnet_model(name: str, seed: int = 0) -> Any:
    """Compiled glassnet Sequential for ``name`` (float32, Adam(1e-3)).

    Models ending in a softmax use "sparse_categorical_crossentropy", which glassnet
    fuses with the softmax (one stable log-softmax); logit models use
    ``from_logits=True``. Both match torch's ``CrossEntropyLoss`` on logits.
    """
    spec = MODELS[name]
    model = models.Sequential(
        [layers.Input(spec.input_shape), *_glassnet_layers(name)], seed=seed
    )
    loss: Any = (
        "sparse_categorical_crossentropy"
        if spec.softmax_output
        else losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.compile(optimizer=optimizers.Adam(1e-3), loss=loss)
    return model


def glassnet_param_count(model: Any) -> int:
    """Trainable parameters (BatchNormalization's moving statistics excluded)."""
    return int(sum(w.size for w in model.trainable_weights))


def _torch_layers(name: str, nn: Any) -> list[Any]:
    if name == "mlp_small":
        return [nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)]
    if name == "mlp_bn_dropout":
        out: list[Any] = [nn.Flatten()]
        dims = (3 * 32 * 32, 512, 256, 256)
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            out += [nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out)]
            out += [nn.ReLU(), nn.Dropout(0.5)]
        return [*out, nn.Linear(256, 10)]
    if name == "cnn_mnist":
        return [
            *(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2)),
            *(nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2)),
            *(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64 * 5 * 5, 10)),
        ]
    if name == "cnn_cifar":
        return [
            *(nn.Conv2d(3, 32, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2)),
            *(nn.Flatten(), nn.Linear(32 * 16 * 16, 100), nn.ReLU()),
            nn.Linear(100, 10),
        ]
    raise ValueError(f"model: expected one of {sorted(MODELS)}; received {name!r}")


def torch_model(name: str) -> tuple[Any, Any, Any]:
    """(model, Adam(1e-3) optimizer, CrossEntropyLoss) for ``name``; outputs logits.

    The glassnet softmax layer is absent here: CrossEntropyLoss applies
    log-softmax itself, as glassnet's fused loss does.
    """
    import torch
    from torch import nn

    model = nn.Sequential(*_torch_layers(name, nn)).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, optimizer, nn.CrossEntropyLoss()


def torch_param_count(model: Any) -> int:
    """Trainable parameters (BatchNorm running statistics are buffers, excluded)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def torch_input_shape(spec: ModelSpec) -> tuple[int, ...]:
    """NCHW per-sample shape for the channels-last ``spec.input_shape``."""
    if len(spec.input_shape) == 3:
        h, w, c = spec.input_shape
        return (c, h, w)
    return spec.input_shape
