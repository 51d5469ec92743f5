"""Custom layers in model files: Keras' ``register_keras_serializable``,
``custom_objects`` and ``custom_object_scope``, without running what a file names.

A file names each layer's class by a string. A built-in layer is named by its
class name (``"Dense"``); a user's layer by the key it was registered under,
``"package>Name"`` (Keras' format), or else by its class name. On loading, that
string is only ever a key into dicts the *caller's process* filled: the
``custom_objects`` passed to the loader, an enclosing :func:`custom_object_scope`,
the registry of :func:`register_serializable` and the built-in layers. Nothing a
file names is imported, evaluated or looked up as an attribute, so files stay
data.

Example:
    >>> from glassnet import layers, saving
    >>> @saving.register_serializable(package="Course")
    ... class Scale(layers.Layer):
    ...     def forward(self, x, training=False):
    ...         return 2 * x
    >>> saving.get_registered_name(Scale)
    'Course>Scale'
    >>> saving.get_registered_object("Course>Scale") is Scale
    True
    >>> saving.registration.unregister(Scale)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from glassnet._internal.checks import fail
from glassnet.layers.base import Layer

L = TypeVar("L", bound=type[Layer])

# The process-wide registry: "package>Name" -> class, and back.
_REGISTERED: dict[str, type[Layer]] = {}
_NAMES: dict[type[Layer], str] = {}
_LOCK = threading.Lock()
# The dicts of the enclosing custom_object_scope blocks, innermost last; a
# ContextVar so that one thread's scope is not seen by another.
_SCOPES: ContextVar[tuple[dict[str, type[Layer]], ...]] = ContextVar(
    "glassnet_custom_object_scopes", default=()
)


def _qualified(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"


def _check_part(what: str, value: Any) -> None:
    if not isinstance(value, str) or not value or ">" in value:
        raise fail(
            f"register_serializable {what}",
            "a non-empty string without '>'",
            repr(value),
        )


def is_model_class(cls: Any) -> bool:
    """Whether ``cls`` is a subclass of ``glassnet.models.Model`` (saving sits
    below the models and never imports them)."""
    return isinstance(cls, type) and any(
        k.__module__ == "glassnet.models.model" and k.__qualname__ == "Model"
        for k in cls.__mro__[1:]
    )


def _is_layer_or_model_class(cls: Any) -> bool:
    """A Layer subclass, or a subclassed model's class."""
    if not isinstance(cls, type) or cls is Layer:
        return False
    return issubclass(cls, Layer) or is_model_class(cls)


def register_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[L], L]:
    """Class decorator: let model files name this Layer subclass (or this
    subclassed model, whose files then load by themselves).

    The class is registered, for the whole process, under ``"package>name"``;
    saving writes that key as the layer's ``class_name`` and loading finds it
    without ``custom_objects``. Keras' ``register_keras_serializable``.
    Redefining the class (the same module and qualified name, as when a notebook
    cell runs again) replaces the registration.

    Args:
        package: the first part of the key. Defaults to `"Custom"`.
        name: the second part of the key. Defaults to `None`, meaning the class
            name.

    Returns:
        A decorator that registers the class and returns it unchanged.

    Raises:
        ValueError: for a ``package`` or ``name`` that is not a non-empty string
            without ``">"``; when decorating something other than a Layer
            subclass, a key registered to another class (both are named), or a
            class already registered under another key.

    Example:
        >>> from glassnet import layers, saving
        >>> @saving.register_serializable()
        ... class Double(layers.Layer):
        ...     def forward(self, x, training=False):
        ...         return 2 * x
        >>> saving.get_registered_name(Double)
        'Custom>Double'
        >>> saving.registration.unregister(Double)
    """
    _check_part("package", package)
    if name is not None:
        _check_part("name", name)

    def decorator(cls: L) -> L:
        if not _is_layer_or_model_class(cls):
            got = _qualified(cls) if isinstance(cls, type) else type(cls).__name__
            raise fail("register_serializable", "a glassnet Layer subclass", got)
        key = f"{package}>{name or cls.__name__}"
        with _LOCK:
            old = _REGISTERED.get(key)
            if old is not None and old is not cls:
                if _qualified(old) != _qualified(cls):
                    raise fail(
                        "register_serializable",
                        f"a key not registered yet; {key!r} is registered to "
                        f"{_qualified(old)} (pass package= or name= for another key)",
                        _qualified(cls),
                    )
                _NAMES.pop(old, None)  # a redefinition of the same class
            if _NAMES.get(cls, key) != key:
                raise fail(
                    "register_serializable",
                    f"one key per class; {_qualified(cls)} is registered as "
                    f"{_NAMES[cls]!r}",
                    repr(key),
                )
            _REGISTERED[key], _NAMES[cls] = cls, key
        return cls

    return decorator


#: Keras' name, for code written for Keras.
register_keras_serializable = register_serializable


def unregister(cls: type[Layer]) -> None:
    """Forget ``cls``'s registration (for tests and notebooks); no-op if none."""
    with _LOCK:
        key = _NAMES.pop(cls, None)
        if key is not None:
            _REGISTERED.pop(key, None)


def get_registered_name(cls: type) -> str:
    """The ``class_name`` files give ``cls``: its registered key, else its name."""
    return _NAMES.get(cls, cls.__name__)  # type: ignore[arg-type]


def check_custom_objects(custom_objects: Any) -> dict[str, type[Layer]]:
    """``custom_objects`` as a dict, checked: string keys, Layer subclass values.

    Raises:
        ValueError: for something other than a dict or None, a key that is not a
            non-empty string, or a value that is not a Layer subclass (naming
            the key).
    """
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping):
        raise fail(
            "custom_objects",
            "a dict {name: Layer subclass} or None",
            type(custom_objects).__name__,
        )
    for key, value in custom_objects.items():
        if not isinstance(key, str) or not key:
            raise fail("custom_objects", "non-empty string keys", repr(key)[:100])
        if not _is_layer_or_model_class(value):
            got = _qualified(value) if isinstance(value, type) else repr(value)[:100]
            raise fail(f"custom_objects[{key!r}]", "a glassnet Layer subclass", got)
    return dict(custom_objects)


@contextmanager
def custom_object_scope(custom_objects: Mapping[str, type[Layer]]) -> Iterator[None]:
    """Within the block, loaders and ``Sequential.from_config`` also find the
    classes of ``custom_objects`` (Keras' ``custom_object_scope``).

    Raises:
        ValueError: for ``custom_objects`` as :func:`check_custom_objects` says.
    """
    token = _SCOPES.set((*_SCOPES.get(), check_custom_objects(custom_objects)))
    try:
        yield
    finally:
        _SCOPES.reset(token)


def _in(objects: dict[str, type[Layer]], name: str) -> type[Layer] | None:
    # A file's "package>Name" also matches a custom_objects key "Name", as the
    # user of a class that was registered elsewhere would write it.
    return objects.get(name) or objects.get(name.rpartition(">")[2])


def get_registered_object(
    name: str, custom_objects: Mapping[str, type[Layer]] | None = None
) -> type[Layer] | None:
    """The class a file's ``name`` means, among the caller's: ``custom_objects``
    (checked), then the enclosing scopes (innermost first), then the registry;
    None when none has it. Built-in layers are not looked at."""
    for objects in (check_custom_objects(custom_objects), *_SCOPES.get()[::-1]):
        found = _in(objects, name)
        if found is not None:
            return found
    return _REGISTERED.get(name)


def registered_by_class_name(name: str) -> type[Layer] | None:
    """The one registered class named ``name`` (a file saved before its class was
    registered names it so); None when there is none, or several."""
    found = [cls for cls in _REGISTERED.values() if cls.__name__ == name]
    return found[0] if len(found) == 1 else None


__all__ = [
    "check_custom_objects",
    "custom_object_scope",
    "get_registered_name",
    "get_registered_object",
    "is_model_class",
    "register_keras_serializable",
    "register_serializable",
    "registered_by_class_name",
    "unregister",
]
