"""The array switchboard: array module, default float dtype and random generators.

Every kernel asks this module for its array module instead of importing NumPy's
array-creation functions directly, so that CuPy can stand in for NumPy without
touching kernel code::

    xp = backend.get_array_module(x)
    out = xp.zeros_like(x)

The default float dtype (``floatx``) is the one documented global of glassnet:
float32 unless changed with :func:`set_floatx`. Gradient checks use float64.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any, TypeAlias

import numpy as np

Array: TypeAlias = Any
"""A NumPy (or CuPy) ndarray. Shapes are documented in docstrings, not in types."""

Cache: TypeAlias = Any
"""Whatever a ``*_forward`` kernel hands to its own ``*_backward``; opaque to others."""

_BACKENDS = ("numpy", "cupy")
_FLOAT_DTYPES = ("float16", "float32", "float64")

_state: dict[str, Any] = {
    "name": "numpy",
    "xp": np,
    "floatx": np.dtype(np.float32),
    # Set by seed_generators: hands out the seeds of the generators made without one.
    "seeder": None,
}


def get_array_module(*arrays: Any) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that owns ``arrays``.

    With no CuPy array among the arguments this is NumPy; CuPy is never imported
    here, only recognised when the caller already uses it.

    Args:
        *arrays: arrays (or scalars) to inspect.

    Returns:
        The module whose functions operate on these arrays.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def xp() -> ModuleType:
    """Return the default array module used to create arrays from scratch."""
    return _state["xp"]


def backend_name() -> str:
    """Return the name of the default array module: ``"numpy"`` or ``"cupy"``."""
    return _state["name"]


def set_backend(name: str) -> None:
    """Choose the default array module.

    Args:
        name: ``"numpy"`` or ``"cupy"``.

    Raises:
        ValueError: for any other name.
        ImportError: when ``"cupy"`` is asked for but is not installed.
    """
    if name not in _BACKENDS:
        raise ValueError(f"name: expected one of {_BACKENDS}; received {name!r}")
    if name == "cupy":
        import cupy  # noqa: PLC0415  (optional dependency, imported on demand)

        _state.update(name="cupy", xp=cupy)
    else:
        _state.update(name="numpy", xp=np)


def floatx() -> np.dtype:
    """Return the default float dtype (float32 unless changed)."""
    return _state["floatx"]


def set_floatx(dtype: Any) -> None:
    """Set the default float dtype.

    Args:
        dtype: ``"float16"``, ``"float32"`` or ``"float64"`` (or the NumPy type).

    Raises:
        ValueError: for any other dtype.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in _FLOAT_DTYPES:
        raise ValueError(f"dtype: expected one of {_FLOAT_DTYPES}; received {dtype!r}")
    _state["floatx"] = dt


def rng(seed: int | None | np.random.Generator = None) -> np.random.Generator:
    """Return a random generator: a new one seeded with ``seed``, or ``seed`` itself.

    Passing generators explicitly keeps runs reproducible. Without a seed the
    generator draws fresh entropy, unless :func:`seed_generators` (which
    ``glassnet.utils.set_random_seed`` calls) fixed the seeds handed out.

    Args:
        seed: an int, None (fresh entropy, or the next seed of
            :func:`seed_generators`) or an existing ``Generator``.
            Defaults to `None`.

    Returns:
        A ``numpy.random.Generator`` (``cupy.random.Generator`` on the CuPy backend).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer)
    ):
        raise ValueError(
            f"seed: expected an int, None or a Generator; received {seed!r}"
        )
    if seed is None and _state["seeder"] is not None:
        seed = int(_state["seeder"].integers(2**63))
    return _state["xp"].random.default_rng(seed)


def seed_generators(seed: int | None) -> None:
    """Make every later ``rng(None)`` a generator seeded from ``seed``, in order.

    The n-th generator made without a seed after ``seed_generators(s)`` is the
    same in every run; ``None`` goes back to fresh entropy.

    Args:
        seed: an int >= 0, or None.

    Raises:
        ValueError: for anything else.
    """
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise ValueError(f"seed: expected an int >= 0 or None; received {seed!r}")
    _state["seeder"] = None if seed is None else np.random.default_rng(seed)


_uids: dict[str, int] = {}  # the automatic names handed out, per prefix


def get_uid(prefix: str = "") -> int:
    """How many times ``prefix`` has been asked for in this process, counting
    this call (Keras' ``backend.get_uid``): 1, 2, 3...; see :func:`clear_session`.
    """
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def to_snake_case(name: str) -> str:
    """Keras' rule: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(name: str) -> str:
    """``name`` the first time it is asked for in this process, then
    ``name_1``, ``name_2``... (Keras' ``naming.uniquify``, on :func:`get_uid`'s
    counters, so :func:`clear_session` starts them again)."""
    uid = get_uid(name)
    return name if uid == 1 else f"{name}_{uid - 1}"


def auto_name(prefix: str) -> str:
    """The automatic name of an object of class ``prefix`` (Keras' ``auto_name``):
    ``auto_name("Dense")`` is ``"dense"``, then ``"dense_1"``... per process.

    Example:
        >>> from glassnet import backend
        >>> backend.clear_session()
        >>> [backend.auto_name("Dense") for _ in range(3)]
        ['dense', 'dense_1', 'dense_2']
    """
    return uniquify(to_snake_case(prefix))


def clear_session() -> None:
    """Reset the :func:`get_uid` counters (Keras' ``backend.clear_session``), so
    that the next automatic names are ``dense``, ``sequential``... again.

    glassnet holds no graph or device state to free. As in Keras 3, layers and
    models are named from these counters when they are created: two models
    built in one process have differently named layers; weight files and
    backups are matched to a model by layer order, so a twin still loads them.
    """
    _uids.clear()


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array (copying from the GPU when needed)."""
    if hasattr(x, "get") and not isinstance(x, np.ndarray):
        return x.get()
    return np.asarray(x)


__all__ = [
    "Array",
    "Cache",
    "backend_name",
    "auto_name",
    "clear_session",
    "floatx",
    "get_array_module",
    "get_uid",
    "rng",
    "seed_generators",
    "set_backend",
    "set_floatx",
    "to_numpy",
    "to_snake_case",
    "uniquify",
    "xp",
]
