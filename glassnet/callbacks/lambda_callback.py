"""``LambdaCallback``: a callback built from plain functions, one per hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet._internal.checks import fail
from glassnet.callbacks.base import Callback, Logs

# Hooks that receive an index (epoch or batch) before ``logs``.
_INDEXED = {
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
}
_PLAIN = {
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
}
# Keras' older names for the training batch hooks.
_ALIASES = {
    "on_batch_begin": "on_train_batch_begin",
    "on_batch_end": "on_train_batch_end",
}


def _indexed(fn: Callable) -> Callable:
    def hook(index: int, logs: Logs | None = None) -> None:
        fn(index, {} if logs is None else logs)

    return hook


def _plain(fn: Callable) -> Callable:
    def hook(logs: Logs | None = None) -> None:
        fn({} if logs is None else logs)

    return hook


class LambdaCallback(Callback):
    """Build a callback from functions, each called with Keras' arguments.

    ``on_epoch_begin``/``on_epoch_end`` get ``(epoch, logs)``, the batch hooks
    ``(batch, logs)`` and ``on_train_begin``/``on_train_end`` ``(logs)``; ``logs``
    is always a dict. Other hooks (``on_test_begin``, ``on_predict_batch_end``
    ...; ``on_batch_begin``/``on_batch_end`` for the training batch hooks) may be
    given as keyword arguments.

    Args:
        on_epoch_begin: called at the start of every epoch. Defaults to `None`.
        on_epoch_end: called at the end of every epoch. Defaults to `None`.
        on_train_begin: called when training begins. Defaults to `None`.
        on_train_end: called when training ends. Defaults to `None`.
        on_train_batch_begin: called before every training batch.
            Defaults to `None`.
        on_train_batch_end: called after every training batch. Defaults to `None`.
        **kwargs: functions for the other hooks, by hook name.

    Raises:
        ValueError: naming the hook when its value is not callable or when a
            keyword is not a hook name.

    Example:

    >>> seen = []
    >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
    ...     (epoch, logs["loss"])))
    >>> callback.on_epoch_end(0, {"loss": 0.5})
    >>> seen
    [(0, 0.5)]
    """

    def __init__(
        self,
        on_epoch_begin: Callable[[int, Logs], Any] | None = None,
        on_epoch_end: Callable[[int, Logs], Any] | None = None,
        on_train_begin: Callable[[Logs], Any] | None = None,
        on_train_end: Callable[[Logs], Any] | None = None,
        on_train_batch_begin: Callable[[int, Logs], Any] | None = None,
        on_train_batch_end: Callable[[int, Logs], Any] | None = None,
        **kwargs: Callable[..., Any] | None,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in kwargs.items():
            hook = _ALIASES.get(name, name)
            if hook not in _INDEXED | _PLAIN:
                valid = sorted(_INDEXED | _PLAIN | set(_ALIASES))
                raise fail(name, f"a callback hook name, one of {valid}", repr(name))
            if hooks.get(hook) is None:
                hooks[hook] = fn
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise fail(name, "a callable or None", repr(fn))
            setattr(self, name, _indexed(fn) if name in _INDEXED else _plain(fn))


__all__ = ["LambdaCallback"]
