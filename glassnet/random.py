"""``glassnet.random``: Keras 3's ``keras.random`` over NumPy generators.

Every function takes ``seed=``, as Keras does:

- an int: the same values on every call (the draw is a function of the seed);
- a :class:`SeedGenerator`: fresh values on every call, a reproducible sequence
  (its state ``[seed, counter]`` advances by one per draw, so the first draw of
  ``SeedGenerator(s)`` is the draw of ``seed=s``);
- None (the default): the global generator, :func:`glassnet.backend.rng`, which
  :func:`glassnet.utils.set_random_seed` fixes for the whole run.

Draws are constants for a GradientTape; :func:`dropout` and :func:`shuffle`
are ops on it (by ``dropout_forward``/``dropout_backward`` and indexing).

Example:
    >>> from glassnet import random
    >>> gen = random.SeedGenerator(42)
    >>> a = random.normal((2, 3), seed=gen)
    >>> b = random.normal((2, 3), seed=gen)
    >>> bool((a == b).all()), bool((a == random.normal((2, 3), seed=42)).all())
    (False, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import backend
from glassnet._internal.checks import check_int, check_number, fail
from glassnet.backend import Array, auto_name, floatx, get_array_module
from glassnet.functional.activations import softmax_forward
from glassnet.functional.dropout import dropout_backward, dropout_forward
from glassnet.ops.core import _shape_arg
from glassnet.ops.numpy import _arrays, multiply, take_slice
from glassnet.ops.tape import record

_SEED_LIMIT = 2**32  # a seed is one uint32 word of the state, as Keras' [seed, 0]


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise fail("seed", "an int, a SeedGenerator or None", repr(seed))
    if not 0 <= seed < _SEED_LIMIT:
        raise fail("seed", f"an int in [0, {_SEED_LIMIT})", repr(seed))
    return int(seed)


class SeedGenerator:
    """The state of a sequence of random draws (Keras' ``SeedGenerator``).

    Pass it as ``seed=`` to the functions of :mod:`glassnet.random`: each call
    draws from its current state and advances it, so a layer that keeps one
    (``self.seed_generator = SeedGenerator(1337)``) gets new values every call
    and the same sequence in every run.

    Args:
        seed: an int in [0, 2**32). Defaults to `None`, meaning one drawn from
            the global generator (fixed by ``glassnet.utils.set_random_seed``).
        name: its name. Defaults to `None`, meaning ``"seed_generator"``,
            ``"seed_generator_1"``... per process.
        **kwargs: ``backend=`` is accepted for Keras code and ignored.

    Attributes:
        state: the uint32 array ``[seed, counter]`` that the next draw uses.

    Raises:
        ValueError: for a seed that is not such an int, or another keyword.

    Example:
        >>> gen = SeedGenerator(7)
        >>> gen.next().tolist(), gen.next().tolist()
        ([7, 0], [7, 1])
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        kwargs.pop("backend", None)
        if kwargs:
            raise fail("kwargs", "only seed, name and backend", sorted(kwargs))
        if name is not None and not isinstance(name, str):
            raise fail("name", "a string or None", repr(name))
        self.name = auto_name(type(self).__name__) if name is None else name
        self._initial_seed = seed
        if seed is None:
            seed = int(backend.rng(None).integers(1, 10**9))
        self.state = np.array([_check_seed(seed), 0], dtype=np.uint32)

    def next(self, ordered: bool = True) -> np.ndarray:
        """Return the current state and advance it: by one draw (``ordered``),
        or, as Keras' global generator, to a scrambled next state."""
        current = self.state.copy()
        if ordered:
            self.state[1] += 1
        else:
            scrambled = (self.state.astype(np.int64) + 1) * 5387 % 933199
            self.state = scrambled.astype(np.uint32)
        return current

    def get_config(self) -> dict[str, Any]:
        """``{"seed": ...}``, the seed it was made with (None if drawn)."""
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        """A new generator from :meth:`get_config`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} state={self.state.tolist()}>"


def _generator(seed: Any) -> Any:
    """The generator of one draw, by Keras' three kinds of ``seed``."""
    if seed is None:
        return backend.rng(None)
    if isinstance(seed, SeedGenerator):
        state = seed.next()
    else:
        state = np.array([_check_seed(seed), 0], dtype=np.uint32)
    # One integer from the whole state, so that every [seed, counter] pair
    # starts its own stream.
    words = np.random.SeedSequence([int(s) for s in state]).generate_state(2)
    return backend.rng(int(words[0]) << 32 | int(words[1]))


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    dt = floatx() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise fail(f"{name}: dtype", "a floating-point dtype", repr(dtype))
    return dt


# ---- distributions -------------------------------------------------------------------


def normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> Array:
    """Samples of the normal distribution N(mean, stddev**2).

    Args:
        shape: the output shape.
        mean: the mean. Defaults to `0.0`.
        stddev: the standard deviation. Defaults to `1.0`.
        dtype: a float dtype. Defaults to `None`, meaning ``floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module).
            Defaults to `None`.

    Returns:
        An array of ``shape``.

    Raises:
        ValueError: naming the argument that is not valid.
    """
    dt = _float_dtype("normal", dtype)
    z = _generator(seed).standard_normal(_shape_arg(shape))
    return (z * stddev + mean).astype(dt)


def uniform(
    shape: Any,
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> Array:
    """Samples of the uniform distribution on ``[minval, maxval)``.

    Args and Raises: as :func:`normal`, with ``minval`` (Defaults to `0.0`) and
    ``maxval`` (Defaults to `1.0`) in place of the mean and deviation.
    """
    dt = _float_dtype("uniform", dtype)
    u = _generator(seed).random(_shape_arg(shape))
    return (minval + (maxval - minval) * u).astype(dt)


def truncated_normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> Array:
    """Samples of N(mean, stddev**2) restricted to two deviations of the mean:
    a sample outside is drawn again, as Keras does.

    Args and Raises: as :func:`normal`.
    """
    dt = _float_dtype("truncated_normal", dtype)
    gen = _generator(seed)
    z = gen.standard_normal(_shape_arg(shape))
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = gen.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return (z * stddev + mean).astype(dt)


def randint(
    shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None
) -> Array:
    """Integers drawn uniformly from ``[minval, maxval)``.

    Args:
        shape: the output shape.
        minval: the smallest value.
        maxval: one more than the largest value.
        dtype: an integer dtype. Defaults to `"int32"`.
        seed: as for :func:`normal`. Defaults to `None`.

    Raises:
        ValueError: naming the argument that is not valid.
    """
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise fail("randint: dtype", "an integer dtype", repr(dtype))
    lo, hi = check_int("minval", minval), check_int("maxval", maxval)
    if hi <= lo:
        raise fail("maxval", f"an int > minval = {lo}", repr(maxval))
    return _generator(seed).integers(lo, hi, size=_shape_arg(shape)).astype(dt)


def categorical(
    logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
) -> Array:
    """Class indices drawn from ``softmax(logits)``, row by row.

    Shapes:
        logits: (N, C) unnormalised log-probabilities;  out: (N, num_samples)

    Raises:
        ValueError: for logits that are not 2-D, or a bad ``num_samples``.
    """
    (a,) = _arrays(logits)
    if a.ndim != 2:
        raise fail("logits", "a 2-D array (N, C)", f"shape {tuple(a.shape)}")
    num_samples = check_int("num_samples", num_samples, min_value=0)
    p, _ = softmax_forward(a.astype(np.float64))
    cdf = p.cumsum(axis=1)
    u = _generator(seed).random((a.shape[0], num_samples))
    # The first class whose cumulative probability exceeds u.
    picked = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
    return np.minimum(picked, a.shape[1] - 1).astype(dtype)


# ---- ops on the tape -----------------------------------------------------------------


def dropout(
    inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None
) -> Array:
    """Zero each entry with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)`` (inverted dropout), by ``dropout_forward``.

    Recorded on a GradientTape: the gradient is ``dropout_backward``'s, the
    same mask again.

    Shapes:
        inputs: any;  noise_shape: inputs' rank, each entry its size, 1 (the
        mask is shared along that axis) or None (inputs' size);  out: like inputs

    Args:
        inputs: a float array.
        rate: the probability of dropping an entry, in [0, 1].
        noise_shape: the mask's shape. Defaults to `None`, meaning inputs'.
        seed: as for :func:`normal`. Defaults to `None`.

    Raises:
        ValueError: naming the argument that is not valid.

    Example:
        >>> import numpy as np
        >>> out = dropout(np.ones((2, 4)), rate=0.5, seed=1)
        >>> sorted(set(out.ravel().tolist())) <= [0.0, 2.0]
        True
    """
    rate = check_number("rate", rate, low=0, high=1)
    (a,) = _arrays(inputs)
    if rate == 0:
        return inputs
    if rate == 1:  # Keras: all zeros, and so a zero gradient
        return multiply(inputs, 0.0)
    param = {"p": 1.0 - rate, "mode": "train"}
    gen = _generator(seed)
    if noise_shape is None:
        out, cache = dropout_forward(a, param, rng=gen)
        return record(out, (inputs,), lambda g: (dropout_backward(g, cache),))
    noise = _noise_shape(noise_shape, a.shape)
    xp = get_array_module(a)
    # The kernel draws the mask on ones of the noise shape (as spatial dropout);
    # broadcast, it is the mask of the whole input.
    mask, _ = dropout_forward(xp.ones(noise, dtype=a.dtype), param, rng=gen)
    full = ("train", xp.broadcast_to(mask, a.shape))
    return record(a * mask, (inputs,), lambda g: (dropout_backward(g, full),))


def _noise_shape(noise_shape: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    given = tuple(noise_shape)
    if len(given) == len(shape):
        out = tuple(n if d is None else d for d, n in zip(given, shape, strict=True))
        if all(d in (1, n) for d, n in zip(out, shape, strict=True)):
            return out
    raise fail(
        "noise_shape",
        f"{len(shape)} entries, each 1, None or the size in {shape}",
        repr(noise_shape),
    )


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Array:
    """``x`` with its slices along ``axis`` in a random order (each slice
    intact, as TensorFlow's and JAX's shuffle). Recorded on a GradientTape as
    indexing: each slice's gradient goes back to where it came from.

    Raises:
        ValueError: for an axis that ``x`` does not have.
    """
    (a,) = _arrays(x)
    if not isinstance(axis, int) or not -a.ndim <= axis < a.ndim:
        raise fail("axis", f"an axis of x, in [{-a.ndim}, {a.ndim})", repr(axis))
    order = _generator(seed).permutation(a.shape[axis])
    key = (slice(None),) * (axis % a.ndim) + (order,)
    return take_slice(x, key)


__all__ = [
    "SeedGenerator",
    "categorical",
    "dropout",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
