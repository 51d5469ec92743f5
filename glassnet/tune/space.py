"""Search spaces: distributions over hyperparameters, grids and seeded samples.

A space is a dict from a hyperparameter's name to a distribution
(:func:`choice`, :func:`uniform`, :func:`loguniform`, :func:`randint`) or to a
fixed value. :func:`random_configs` draws configuration ``i`` from a generator
seeded with ``(seed, i)`` alone, so the configurations never depend on how many
are drawn, in what order, or on how many workers run them.

Example:
    >>> space = {"lr": loguniform(1e-4, 1e-1), "batch_size": choice(32, 64)}
    >>> configs = random_configs(space, 3, seed=0)
    >>> configs[:2] == random_configs(space, 2, seed=0)
    True
    >>> grid_configs({"lr": loguniform(1e-3, 1e-1), "units": 64}, points=3)
    [{'lr': 0.001, 'units': 64}, {'lr': 0.01, 'units': 64}, {'lr': 0.1, 'units': 64}]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._internal.checks import check_int, fail

Config = dict[str, Any]


class Distribution:
    """A distribution of one hyperparameter: random draws and grid points."""

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn with ``rng``."""
        raise NotImplementedError

    def grid(self, points: int) -> list[Any]:
        """At most ``points`` values spread over the distribution's support."""
        raise NotImplementedError


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``, each equally likely; a grid takes them all."""

    values: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)


@dataclass(frozen=True)
class Uniform(Distribution):
    """A float uniform in [low, high]; grid points evenly spaced."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def grid(self, points: int) -> list[float]:
        return [float(v) for v in np.linspace(self.low, self.high, points)]


@dataclass(frozen=True)
class LogUniform(Distribution):
    """A float whose logarithm is uniform: the right prior for a learning rate."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def grid(self, points: int) -> list[float]:
        # Rounded to 12 significant digits so that 10 ** -3 prints as 0.001.
        return [float(f"{v:.12g}") for v in np.geomspace(self.low, self.high, points)]


@dataclass(frozen=True)
class RandInt(Distribution):
    """An integer in [low, high) (``high`` excluded, as ``numpy``'s integers)."""

    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))

    def grid(self, points: int) -> list[int]:
        values = np.linspace(self.low, self.high - 1, points).round().astype(int)
        return sorted({int(v) for v in values})


def choice(*values: Any) -> Choice:
    """One of ``values`` (or of the one list or tuple given), equally likely.

    Raises:
        ValueError: when no value is given.
    """
    if len(values) == 1 and isinstance(values[0], list | tuple):
        values = tuple(values[0])
    if not values:
        raise fail("values", "at least one value to choose from", "none")
    return Choice(tuple(values))


def _bounds(low: Any, high: Any, *, positive: bool = False) -> tuple[float, float]:
    for name, v in (("low", low), ("high", high)):
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not math.isfinite(v)
        ):
            raise fail(name, "a finite number", repr(v))
    if positive and low <= 0:
        raise fail("low", "a number > 0 for a log scale", low)
    if not low < high:
        raise fail("high", f"a number > low = {low}", high)
    return float(low), float(high)


def uniform(low: float, high: float) -> Uniform:
    """A float uniform in [low, high].

    Raises:
        ValueError: unless ``low < high``, both finite.
    """
    return Uniform(*_bounds(low, high))


def loguniform(low: float, high: float) -> LogUniform:
    """A float in [low, high] whose logarithm is uniform.

    Raises:
        ValueError: unless ``0 < low < high``, both finite.
    """
    return LogUniform(*_bounds(low, high, positive=True))


def randint(low: int, high: int) -> RandInt:
    """An integer in [low, high), ``high`` excluded.

    Raises:
        ValueError: unless both are integers and ``low < high``.
    """
    check_int("low", low)
    check_int("high", high, min_value=low + 1)
    return RandInt(int(low), int(high))


def check_space(space: Any) -> dict[str, Any]:
    """``space`` checked: a non-empty dict with string keys.

    Raises:
        ValueError: for anything else.
    """
    if not isinstance(space, dict) or not space:
        raise fail("space", "a non-empty dict of name -> distribution or value", space)
    for key in space:
        if not isinstance(key, str) or not key:
            raise fail("space", "hyperparameter names that are non-empty str", key)
    return space


def random_configs(space: dict[str, Any], n: int, *, seed: int = 0) -> list[Config]:
    """``n`` configurations drawn at random; the i-th depends only on seed and i.

    Args:
        space: name -> distribution or fixed value.
        n: how many configurations.
        seed: the search's seed (>= 0). Defaults to `0`.

    Returns:
        A list of ``n`` dicts with the keys of ``space`` in its order.

    Raises:
        ValueError: for a malformed space, n < 1 or a negative seed.
    """
    check_space(space)
    check_int("n", n, min_value=1)
    check_int("seed", seed, min_value=0)
    configs = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        configs.append(
            {
                k: v.sample(rng) if isinstance(v, Distribution) else v
                for k, v in space.items()
            }
        )
    return configs


def grid_configs(space: dict[str, Any], points: int = 3) -> list[Config]:
    """Every combination of the grid values, the last key varying fastest.

    Args:
        space: name -> distribution or fixed value.
        points: values per continuous (or integer) hyperparameter; a choice
            contributes all its values. Defaults to `3`.

    Returns:
        The list of configurations.

    Raises:
        ValueError: for a malformed space or points < 1.
    """
    check_space(space)
    check_int("points", points, min_value=1)
    axes = [
        v.grid(points) if isinstance(v, Distribution) else [v] for v in space.values()
    ]
    return [dict(zip(space, combo, strict=True)) for combo in itertools.product(*axes)]


def grid_points_for(space: dict[str, Any], budget: int) -> int:
    """The most points per continuous hyperparameter whose grid fits ``budget``.

    Raises:
        ValueError: when even one point each gives more than ``budget`` trials.
    """
    check_int("budget", budget, min_value=1)
    smallest = len(grid_configs(space, 1))
    if smallest > budget:
        raise fail("trials", f"at least {smallest} for this grid", budget)
    points = 1
    while points < budget:
        size = len(grid_configs(space, points + 1))
        if size > budget or size == len(grid_configs(space, points)):
            break
        points += 1
    return points


def _scalar(text: str) -> Any:
    """``"64"`` -> 64, ``"1e-3"`` -> 0.001, ``"adam"`` -> "adam"."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


_KINDS = {"uniform": uniform, "loguniform": loguniform, "randint": randint}


def parse_params(texts: Any) -> dict[str, Any]:
    """Parse every ``NAME=SPEC`` of ``glassnet sweep --param`` into a space.

    Example:
        >>> parse_params(["lr=loguniform:1e-4:1e-1", "units=64"])
        {'lr': LogUniform(low=0.0001, high=0.1), 'units': 64}

    Raises:
        ValueError: as :func:`parse_param`, or naming a hyperparameter given
            twice and both of its specs (the second would silently win).
    """
    space: dict[str, Any] = {}
    first: dict[str, str] = {}
    for text in texts:
        name, value = parse_param(text)
        if name in space:
            raise fail(
                f"--param {name}",
                "one spec per hyperparameter",
                f"two: {first[name]!r} and {text!r}",
            )
        space[name], first[name] = value, text
    return space


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``NAME=SPEC`` as given to ``glassnet sweep --param``.

    SPEC is ``loguniform:LOW:HIGH``, ``uniform:LOW:HIGH``, ``randint:LOW:HIGH``,
    ``choice:A,B,...`` or one fixed value.

    Example:
        >>> parse_param("lr=loguniform:1e-4:1e-1")
        ('lr', LogUniform(low=0.0001, high=0.1))
        >>> parse_param("optimizer=choice:adam,sgd")
        ('optimizer', Choice(values=('adam', 'sgd')))

    Raises:
        ValueError: naming ``--param`` and the text, when it does not parse.
    """
    name, sep, spec = text.partition("=")
    if not sep or not name.strip() or not spec.strip():
        raise fail("--param", "NAME=SPEC, e.g. lr=loguniform:1e-4:1e-1", repr(text))
    kind, sep, rest = spec.partition(":")
    if not sep:
        return name.strip(), _scalar(spec.strip())
    if kind == "choice":
        values = [v.strip() for v in rest.split(",")]
        if not all(values):  # "choice:", "choice:a,,b": every trial would fail
            expected = "choice:A,B,... with a value between every two commas"
            raise fail("--param", expected, repr(text))
        return name.strip(), choice(*[_scalar(v) for v in values])
    if kind not in _KINDS:
        expected = f"a kind in {['choice', *_KINDS]} or a plain value"
        raise fail("--param", expected, repr(text))
    bounds = [_scalar(v) for v in rest.split(":")]
    if len(bounds) != 2 or any(isinstance(b, str) for b in bounds):
        raise fail("--param", f"{kind}:LOW:HIGH with two numbers", repr(text))
    try:
        return name.strip(), _KINDS[kind](*bounds)
    except ValueError as e:
        raise fail("--param", f"valid bounds for {kind} ({e})", repr(text)) from e


__all__ = [
    "Choice",
    "Distribution",
    "LogUniform",
    "RandInt",
    "Uniform",
    "check_space",
    "choice",
    "grid_configs",
    "grid_points_for",
    "loguniform",
    "parse_param",
    "parse_params",
    "random_configs",
    "randint",
    "uniform",
]
