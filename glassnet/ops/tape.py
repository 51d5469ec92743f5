"""The tape: a micrograd-sized reverse-mode engine over plain arrays.

While a :class:`GradientTape` is active, every ``glassnet.ops`` function appends
one record to it: the output, the inputs, and a closure that maps the output's
gradient to the inputs' gradients (each op's closure calls the ``*_backward``
kernel of :mod:`glassnet.functional` where one exists). ``tape.gradient`` walks
the records backwards: the recording order is already a topological order (an
op's inputs exist before it runs), so its reverse visits every output before the
ops that produced its inputs. Gradients of an array used twice are summed.

Arrays are plain NumPy arrays, tracked by identity (``id()``); the tape keeps a
reference to every array it recorded, so no id can be reused while it lives. A
:class:`~glassnet.variables.Variable` stands for its weight's array, so the
Variables of ``model.trainable_weights`` and the arrays the layers compute with
are one source.
Outputs recorded on a tape are :class:`TapedArray` views, so that ``a + b``,
``a * 2`` or ``a @ w`` go through ``glassnet.ops`` too when ``a`` is an op's
output; a NumPy function the tape cannot differentiate raises instead of silently
dropping the gradient. Operators between two plain arrays (two sources, say) are
plain NumPy and are not recorded: combine those with ``ops.multiply(x, w)``.
A layer's ``call`` receives its input as a TapedArray already.

Only one user tape may be active at a time (nested tapes are refused). A layer
that defines ``call`` records on a private tape of its own; called under an outer
tape it appears there as one op (see :mod:`glassnet.layers.base`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from glassnet._internal.checks import fail
from glassnet.backend import Array, get_array_module
from glassnet.functional._sums import unbroadcast  # the one implementation
from glassnet.variables import Variable, storage

Backward = Callable[[Array], Sequence[Array | None]]

_local = threading.local()  # each thread records on its own stack of tapes

#: ufunc -> glassnet.ops function, filled by the op modules: the operators of a
#: TapedArray (``+``, ``*``, ``@``, ``np.exp``...) dispatch through it.
UFUNC_OPS: dict[Any, Callable[..., Array]] = {}
#: ndarray method name -> op, for ``x.sum()``, ``x.reshape(...)``, ``x.T``...
METHOD_OPS: dict[str, Callable[..., Array]] = {}


class _Record(NamedTuple):
    out: Array
    inputs: tuple[Any, ...]  # arrays, or None for arguments without a gradient
    backward: Backward


def _stack() -> list[GradientTape]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def is_recording() -> bool:
    """Whether an op called now is recorded on a tape."""
    stack = _stack()
    return bool(stack) and stack[-1]._recording


def plain(x: Any) -> Any:
    """``x`` as a plain ndarray view (a TapedArray's or a Variable's data),
    anything else as is."""
    if isinstance(x, TapedArray | Variable):
        return np.ndarray.view(x, np.ndarray)
    return x


def _id(x: Any) -> int:
    """The identity of a source: a Variable's is its weight array's."""
    return id(storage(x))


def record(out: Array, inputs: Sequence[Any], backward: Backward) -> Array:
    """Record one op on the active tape and return its output.

    Args:
        out: the op's output (a plain array).
        inputs: the op's array arguments, in the order ``backward`` returns
            their gradients; anything that is not an array gets no gradient.
        backward: maps the output's gradient to one gradient (or None) per input.

    Returns:
        ``out``: a :class:`TapedArray` view when a tape records, else as is.
    """
    if not is_recording():
        return out
    if isinstance(out, np.generic):  # a full reduction: keep an identity
        out = np.asarray(out)
    if isinstance(out, np.ndarray):
        out = out.view(TapedArray)
    kept = tuple(a if hasattr(a, "shape") else None for a in inputs)
    _stack()[-1]._records.append(_Record(out, kept, backward))
    return out


class GradientTape:
    """Record ops in a ``with`` block; then ask for gradients (TensorFlow's name).

    Every ``glassnet.ops`` function called inside the block is recorded, whatever
    its inputs, so there is nothing to ``watch``: any array that went into a
    recorded op can be a source.

    Args:
        persistent: allow more than one ``gradient`` call; a non-persistent tape
            frees its records after the first, as TensorFlow's does.
            Defaults to `False`.

    Example:
        >>> import numpy as np
        >>> from glassnet import ops
        >>> w = np.array([1.0, 2.0, 3.0])
        >>> with ops.GradientTape() as tape:
        ...     loss = ops.sum(ops.square(w))
        >>> tape.gradient(loss, [w])[0]
        array([2., 4., 6.])
    """

    def __init__(self, persistent: bool = False) -> None:
        if not isinstance(persistent, bool):
            raise fail("persistent", "True or False", repr(persistent))
        self.persistent = persistent
        self._records: list[_Record] = []
        self._recording = False
        self._used = False

    # -- recording --

    def __enter__(self) -> GradientTape:
        if _stack():
            raise RuntimeError(
                "GradientTape: another tape is already recording in this thread; "
                "nested tapes are not supported. Compute the inner gradient after "
                "the outer block, or use one persistent tape "
                "(GradientTape(persistent=True))."
            )
        return self._push()

    def __exit__(self, *exc: Any) -> None:
        self._pop()

    def _push(self) -> GradientTape:
        """Start recording, under whatever tape records now (for layers)."""
        if self._recording:
            raise RuntimeError("GradientTape: this tape is already recording")
        self._recording = True
        _stack().append(self)
        return self

    def _pop(self) -> None:
        stack = _stack()
        if not stack or stack[-1] is not self:
            raise RuntimeError("GradientTape: tapes must stop in reverse order")
        stack.pop()
        self._recording = False

    def watch(self, tensor: Any) -> None:
        """Accepted for TensorFlow code; every op input is tracked already."""

    def stop_recording(self) -> _StopRecording:
        """A context in which ops are not recorded (TensorFlow's name)."""
        return _StopRecording(self)

    # -- replaying --

    def gradient(
        self,
        target: Array,
        sources: Any,
        output_gradients: Array | None = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """The gradient of ``target`` with respect to each source.

        Shapes:
            target: any shape;  output_gradients: like target;
            each returned gradient: like its source

        Args:
            target: an array computed by recorded ops (a non-scalar target is
                differentiated as its sum, as in TensorFlow).
            sources: an array or a list/tuple of arrays, matched by identity.
            output_gradients: the gradient to start from, shaped like
                ``target``. Defaults to `None`, meaning ones.
            unconnected_gradients: ``"none"`` (TensorFlow's default) returns None
                for a source that ``target`` does not depend on; ``"zero"``
                returns zeros shaped like it. Defaults to `"none"`.

        Returns:
            One gradient per source (a list for a list/tuple, else one array).

        Raises:
            RuntimeError: on a second call to a non-persistent tape.
            ValueError: for bad ``sources``, ``output_gradients`` or
                ``unconnected_gradients``.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise fail(
                "unconnected_gradients", "'none' or 'zero'", repr(unconnected_gradients)
            )
        if self._used:
            raise RuntimeError(
                "GradientTape.gradient: a non-persistent tape can compute one set "
                "of gradients only; use GradientTape(persistent=True)"
            )
        single = not isinstance(sources, list | tuple)
        wanted = [sources] if single else list(sources)
        for i, s in enumerate(wanted):
            if not hasattr(s, "shape"):
                raise fail(f"sources[{i}]", "an array", type(s).__name__)
        grads = self._backprop(target, output_gradients)
        if not self.persistent:
            self._records, self._used = [], True
        out = []
        for s in wanted:
            g = grads.get(_id(s))
            if g is None and unconnected_gradients == "zero":
                g = get_array_module(s).zeros(s.shape, dtype=s.dtype)
            out.append(None if g is None else plain(g))
        return out[0] if single else out

    def _backprop(self, target: Array, output_gradients: Array | None) -> dict:
        xp = get_array_module(target)
        if output_gradients is None:
            seed = xp.ones(np.shape(target), dtype=getattr(target, "dtype", float))
        else:
            seed = plain(output_gradients)
            if np.shape(seed) != np.shape(target):
                raise fail(
                    "output_gradients",
                    f"shape {np.shape(target)} like target",
                    f"shape {np.shape(seed)}",
                )
        grads: dict[int, Array] = {_id(target): seed}
        for rec in reversed(self._records):
            g = grads.get(id(rec.out))
            if g is None:
                continue
            for x, gx in zip(rec.inputs, rec.backward(g), strict=True):
                if x is None or gx is None:
                    continue
                gx = plain(gx)
                # A new array, never +=: the first gradient may be a view of g.
                key = _id(x)
                grads[key] = gx if key not in grads else grads[key] + gx
        return grads


class _StopRecording:
    def __init__(self, tape: GradientTape) -> None:
        self.tape = tape

    def __enter__(self) -> None:
        self.tape._recording = False

    def __exit__(self, *exc: Any) -> None:
        self.tape._recording = True


class TapedArray(np.ndarray):
    """An op's output while a tape records: a plain ndarray whose operators and
    NumPy ufuncs run through ``glassnet.ops``, so that they are recorded too.

    A ufunc without a ``glassnet.ops`` twin raises while recording rather than
    returning an array the tape knows nothing about.
    """

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any):
        op = UFUNC_OPS.get(ufunc) if method == "__call__" else None
        if is_recording():
            if op is None or kwargs:
                raise TypeError(
                    f"np.{ufunc.__name__} ({method}) has no gradient on the tape; "
                    "use the glassnet.ops function instead"
                )
            return op(*args)
        return getattr(ufunc, method)(*(plain(a) for a in args), **kwargs)

    def __getattribute__(self, name: str) -> Any:
        op = METHOD_OPS.get(name)
        if op is not None and is_recording():
            if name == "T":
                return op(self)
            return lambda *args, **kwargs: op(self, *args, **kwargs)
        return super().__getattribute__(name)

    def __getitem__(self, key: Any) -> Any:
        if is_recording():
            return METHOD_OPS["__getitem__"](self, key)
        return plain(self)[key]


__all__ = [
    "GradientTape",
    "TapedArray",
    "is_recording",
    "plain",
    "record",
    "unbroadcast",
]
