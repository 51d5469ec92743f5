"""Weight initialisers with Keras' names, defaults and fan conventions.

Every initialiser is called as ``init(shape, dtype=None, rng=None)``. The
Glorot, He and LeCun families are instances of one :class:`VarianceScaling`
formula, as in Keras, so each is a line, not a copy. Fans follow Keras: for a
Dense kernel (in, out) ``fan_in = in``; for a conv kernel (kh, kw, in, out)
``fan_in = kh * kw * in`` and ``fan_out = kh * kw * out``.

Randomness: an initialiser built with ``seed=`` always draws the same values;
otherwise it draws from the ``rng`` it is given (the model's generator), or from
fresh entropy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._internal import registry as _registry
from glassnet._internal.checks import check_choice, check_number
from glassnet.backend import Array, backend_name, floatx, xp
from glassnet.backend import rng as make_rng

# The standard deviation of a unit normal truncated to [-2, 2]; dividing by it
# restores the intended variance after truncation (Keras uses the same constant).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Return ``(fan_in, fan_out)`` of a weight of ``shape`` (Keras' convention)."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def creation_bytes(shape: tuple[int, ...], dtype: Any = None) -> int:
    """The peak host bytes of creating a weight of ``shape`` with an initializer.

    Every initializer draws its values in float64 (``_sample``), then casts them
    to ``dtype``: both arrays are alive at once, unless the dtype is float64 (no
    copy) or the weight goes to a GPU (only the draw is on the host).
    """
    size = math.prod(int(s) for s in shape)
    itemsize = np.dtype(dtype if dtype else floatx()).itemsize
    on_host = backend_name() == "numpy" and itemsize != 8
    return size * 8 + (size * itemsize if on_host else 0)


class Initializer:
    """Base class: subclasses implement ``_sample(shape, gen)`` returning float64."""

    seed: int | None = None

    def __call__(
        self,
        shape: tuple[int, ...],
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> Array:
        shape = tuple(int(s) for s in shape)
        gen = make_rng(self.seed) if self.seed is not None or rng is None else rng
        values = self._sample(shape, gen)
        return xp().asarray(values, dtype=np.dtype(dtype) if dtype else floatx())

    def _sample(self, shape: tuple[int, ...], gen: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def _sample(self, shape, gen):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def _sample(self, shape, gen):
        return np.ones(shape)


class Constant(Initializer):
    """Every entry equal to ``value``. Defaults to `0.0`."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = check_number("value", value)

    def _sample(self, shape, gen):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal with ``mean`` (0.0) and ``stddev`` (0.05), as Keras."""

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None
    ):
        self.mean = check_number("mean", mean)
        self.stddev = check_number("stddev", stddev, low=0)
        self.seed = seed

    def _sample(self, shape, gen):
        return gen.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform on [``minval``, ``maxval``) = [-0.05, 0.05) by default, as Keras."""

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ):
        self.minval = check_number("minval", minval)
        self.maxval = check_number("maxval", maxval, low=self.minval)
        self.seed = seed

    def _sample(self, shape, gen):
        return gen.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(shape: tuple[int, ...], stddev: float, gen: np.random.Generator):
    """Normal(0, stddev) redrawn until every sample lies within two stddevs."""
    out = gen.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * stddev


class TruncatedNormal(RandomNormal):
    """Normal with ``mean`` and ``stddev``, redrawn beyond two standard deviations."""

    def _sample(self, shape, gen):
        return self.mean + _truncated_normal(shape, self.stddev, gen)


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, n the fan chosen by ``mode``.

    Args:
        scale: the variance numerator, > 0. Defaults to `1.0`.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``. Defaults to `"fan_in"`.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or
            ``"uniform"``. Defaults to `"truncated_normal"`.
        seed: fixes the values drawn. Defaults to `None`.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        self.scale = check_number("scale", scale, low=0, low_open=True)
        self.mode = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
        dists = ("truncated_normal", "untruncated_normal", "uniform", "normal")
        self.distribution = check_choice("distribution", distribution, dists)
        self.seed = seed

    def _sample(self, shape, gen):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        variance = self.scale / max(1.0, n[self.mode])
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return gen.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return gen.normal(0.0, math.sqrt(variance), size=shape)
        return _truncated_normal(shape, math.sqrt(variance) / _TRUNCATED_STD, gen)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


def _variance_scaling_family(cls_name: str, scale: float, mode: str, distribution: str):
    def __init__(self, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    doc = (
        f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    )
    return type(
        cls_name,
        (VarianceScaling,),
        {"__init__": __init__, "get_config": get_config, "__doc__": doc},
    )


GlorotUniform = _variance_scaling_family("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling_family(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal"
)
HeNormal = _variance_scaling_family("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _variance_scaling_family("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _variance_scaling_family("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling_family("LecunUniform", 1.0, "fan_in", "uniform")

_REGISTRY: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
}


def serialize(initializer: Initializer | None) -> dict[str, Any] | None:
    """Return ``{"class_name": ..., "config": ...}`` (JSON-safe), or None."""
    return _registry.serialize(initializer)


def get(identifier: Any) -> Initializer:
    """Resolve a name, a class name, a config dict or an instance.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _registry.resolve(
        "initializer", identifier, Initializer, _REGISTRY, allow_none=False
    )


# Keras' lower-case aliases, usable as ``initializers.he_normal(seed=1)``.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = (
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
)
glorot_uniform, glorot_normal, he_normal, he_uniform = (
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
)
lecun_normal, lecun_uniform = LecunNormal, LecunUniform

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "creation_bytes",
    "get",
    "serialize",
]
