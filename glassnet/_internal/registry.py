"""Name lookup shared by initializers, regularizers and constraints.

Keras resolves these objects from a name (``"he_normal"``), a class name
(``"HeNormal"``), a ``{"class_name": ..., "config": ...}`` dict or an instance.
One explicit registry dict per kind, never ``getattr`` on a module.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail


def serialize(obj: Any) -> dict[str, Any] | None:
    """Return ``{"class_name", "config"}`` for ``obj`` (JSON-safe), or None."""
    if obj is None:
        return None
    config = {
        k: list(v) if isinstance(v, tuple) else v for k, v in obj.get_config().items()
    }
    return {"class_name": type(obj).__name__, "config": config}


def resolve(
    kind: str, identifier: Any, base: type, names: dict[str, type], *, allow_none: bool
) -> Any:
    """Turn ``identifier`` into an instance of ``base`` using the ``names`` registry.

    Args:
        kind: what is being resolved, for the error message (``"initializer"``).
        identifier: a name, a class name, a config dict, an instance (or None).
        base: the base class instances must have.
        names: snake-case names mapped to classes.
        allow_none: whether None is a valid identifier (returned as is).

    Raises:
        ValueError: for anything unknown; the message lists the valid names.
    """
    if isinstance(identifier, base) or (allow_none and identifier is None):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    by_class = {cls.__name__: cls for cls in names.values()}
    if isinstance(identifier, dict) and identifier.get("class_name") in by_class:
        config = dict(identifier.get("config") or {})
        return by_class[identifier["class_name"]].from_config(config)
    if isinstance(identifier, str) and identifier in names | by_class:
        return (names | by_class)[identifier]()
    valid = (
        "None, " if allow_none else ""
    ) + f"one of {sorted(names)} or a {base.__name__}"
    raise fail(kind, valid, repr(identifier))
