"""The ``Callback`` base, the list that dispatches to callbacks, and ``History``.

Hooks and ``logs`` follow Keras: ``on_train_begin/end``, ``on_epoch_begin/end``,
``on_train_batch_begin/end``, ``on_test_begin/end`` (and the batch hooks of
evaluation and prediction), each receiving a ``logs`` dict of floats.

Beyond Keras, a callback's state can be saved and restored so that an
interrupted ``fit`` resumes exactly (see ``BackupAndRestore``): ``get_state``
returns it as a dict and ``set_state`` puts it back. A callback lists the
attributes that make up its state in ``state_attributes``; the default
methods save and restore those.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail

Logs = dict[str, float]


class Callback:
    """Base class: override the hooks you need; ``self.model`` is set by ``fit``.

    Example:

    >>> class Counter(Callback):
    ...     state_attributes = ("epochs_seen",)
    ...     def on_train_begin(self, logs=None):
    ...         self.epochs_seen = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs_seen += 1
    >>> counter = Counter()
    >>> counter.on_train_begin()
    >>> counter.on_epoch_end(0)
    >>> state = counter.get_state()
    >>> counter.on_train_begin()  # a new fit resets the counter...
    >>> counter.set_state(state)  # ...and a restored backup puts it back
    >>> counter.epochs_seen
    1
    """

    #: The attributes :meth:`get_state` saves and :meth:`set_state` restores. Their
    #: values are JSON-safe, NumPy arrays, or lists of NumPy arrays.
    state_attributes: tuple[str, ...] = ()

    #: ``fit`` calls the hooks of a callback with ``runs_last`` after every other
    #: callback's (``History``'s included), so that at ``on_epoch_end`` it sees
    #: the epoch's final state, and at ``on_train_end`` everyone else is done.
    runs_last: bool = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def get_state(self) -> dict[str, Any]:
        """The callback's state: ``state_attributes`` by name (``{}`` by default).

        Returns:
            A dict of JSON-safe values, NumPy arrays or lists of NumPy arrays.
        """
        return {name: getattr(self, name) for name in self.state_attributes}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (nothing by default).

        ``fit`` calls it after every callback's ``on_train_begin``, which resets
        the state, so the restored state is the one training goes on with.

        Raises:
            ValueError: naming ``state`` when it lacks one of ``state_attributes``.
        """
        names = self.state_attributes
        if not isinstance(state, dict) or not all(n in state for n in names):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise fail("state", f"a dict with the keys {sorted(names)}", got)
        for name in names:
            setattr(self, name, state[name])

    def resume_training(self, callbacks: list[Callback]) -> int | None:
        """Called by ``fit`` after every ``on_train_begin``, with its callbacks.

        A callback that restores a backup (``BackupAndRestore``) returns the
        epoch training goes on at; the others return ``None`` (the default).

        Args:
            callbacks: the callbacks given to ``fit``, in their order.
        """
        return None

    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    # Keras calls the older on_batch_* names from the training-batch hooks.
    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: Logs | None = None) -> None: ...
    def on_test_end(self, logs: Logs | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_begin(self, logs: Logs | None = None) -> None: ...
    def on_predict_end(self, logs: Logs | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is a list per key."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        # Kept across fit calls on the same model, as Keras' model.history is new
        # per fit: a new History is made by each fit, so nothing to reset here.
        pass

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls the same hook on every callback in order."""

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def dispatch(*args: Any) -> None:
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return dispatch


def callback_list(given: Any) -> list[Any]:
    """``callbacks=`` of ``fit``, ``evaluate`` and ``predict`` as a list of
    Callback objects (Keras takes a list), or a ValueError naming the argument.
    """
    if given is None:
        return []
    if not isinstance(given, list | tuple):
        raise fail(
            "callbacks",
            "a list of Callback objects, e.g. callbacks=[cb]",
            f"a {type(given).__name__}",
        )
    for i, cb in enumerate(given):
        if isinstance(cb, type):
            raise fail(
                f"callbacks[{i}]",
                f"a Callback object, e.g. {cb.__name__}()",
                f"the class {cb.__name__}",
            )
        if not callable(getattr(cb, "set_model", None)):
            raise fail(f"callbacks[{i}]", "a Callback object", f"a {type(cb).__name__}")
    return list(given)


__all__ = ["Callback", "CallbackList", "History", "Logs", "callback_list"]
