"""The cs231n ``Solver``: minibatch training of a ``params``/``loss`` model.

A model is anything with a ``params`` dict of float arrays and a method
``loss(X, y=None)`` returning class scores of shape (N, C) when ``y`` is None and
``(loss, grads)`` otherwise, ``grads`` holding one gradient per key of ``params``.
A model with batch normalisation also has ``bn_params``, a list of dicts whose
``running_mean``/``running_var`` arrays the Solver snapshots with the best
parameters and writes into its checkpoints.

Checkpoints are single ``.npz`` files (never pickles) written atomically; see
:meth:`Solver.load_checkpoint` and :meth:`Solver.resume`. They hold the
iteration, the Solver's generator and the model's ``dropout_rng`` (or NumPy's
global state, when the run draws from it), so a resumed run is bitwise
identical to an uninterrupted one. With a ``checkpoint_name``,
Ctrl-C lets the current iteration finish, writes
``<checkpoint_name>_iteration_<t>.ckpt`` and raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from glassnet import backend
from glassnet._internal.checks import (
    check_array,
    check_finite,
    check_int,
    check_labels,
    check_number,
    check_param_dict,
    check_same_length,
    fail,
)
from glassnet._internal.malloc import keep_freed_memory
from glassnet.backend import Array
from glassnet.optim import RULES, check_config, get_rule
from glassnet.solver.checkpoint import (
    apply_checkpoint,
    bn_params,
    bn_stats,
    read_checkpoint,
    save_checkpoint,
)
from glassnet.utils import defer_sigint

_DEFAULTS: dict[str, Any] = {
    "update_rule": "sgd",
    "optim_config": {},
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
}


class Solver:
    """Train a classification model with minibatch gradient descent (cs231n API).

    Example::

        solver = Solver(model, data, update_rule="adam",
                        optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
                        num_epochs=10, batch_size=100, seed=0)
        solver.train()          # model.params now holds the best parameters

    How this differs from Keras ``fit``:

    * each iteration draws ``batch_size`` samples uniformly *with replacement*;
      an "epoch" is ``max(num_train // batch_size, 1)`` iterations, not a
      shuffled pass over every sample without replacement;
    * the learning rate is multiplied by ``lr_decay`` once per epoch, with no
      scheduler callback;
    * training accuracy is measured on a random subsample of
      ``num_train_samples`` points (validation on all of it, or on
      ``num_val_samples``), at the first iteration and at each epoch's end;
    * the parameters (and batchnorm running statistics) with the best validation
      accuracy are copied back into the model when training ends, whereas Keras
      keeps the last weights unless ``EarlyStopping(restore_best_weights=True)``
      or ``ModelCheckpoint(save_best_only=True)`` is used.

    Args:
        model: an object with ``params`` (dict of float arrays) and
            ``loss(X, y=None)``; optionally ``bn_params``.
        data: a dict with ``X_train``, ``y_train``, ``X_val``, ``y_val``;
            labels are integer arrays of shape (N,).
        update_rule: a name in :data:`glassnet.optim.RULES` or a callable
            ``rule(w, dw, config) -> (next_w, config)``. Defaults to `"sgd"`.
        optim_config: hyperparameters for the rule, copied into a separate dict
            for each parameter; for a built-in rule, a key it does not read
            (see :data:`glassnet.optim.CONFIG_KEYS`) is refused. Defaults to `{}`.
        lr_decay: factor applied to each config's ``learning_rate`` at every
            epoch's end (a config without one, from a custom rule, is left
            alone). Defaults to `1.0`.
        batch_size: samples per iteration. Defaults to `100`.
        num_epochs: epochs to train. Defaults to `10`.
        num_train_samples: training points used to measure training accuracy
            (None: all). Defaults to `1000`.
        num_val_samples: validation points used (None: all). Defaults to `None`.
        checkpoint_name: if given, ``'%s_epoch_%d.ckpt' % (checkpoint_name,
            epoch)`` is written at every epoch's end. Defaults to `None`.
        print_every: print the loss every this many iterations. Defaults to `10`.
        verbose: print progress at all. Defaults to `True`.
        seed: seed of glassnet's own generator for minibatches and accuracy
            subsamples (keyword-only); NumPy's global state is then left alone.
            None draws them as the course does, ``np.random.choice(num_train,
            batch_size)`` and ``np.random.choice(N, num_samples)`` from NumPy's
            global generator, so that ``np.random.seed`` fixes a run and the
            notebooks' numbers come out. Defaults to `None`.

    Attributes:
        loss_history, train_acc_history, val_acc_history: lists of floats.
        best_val_acc, best_params, best_bn_stats: the best validation accuracy
            and copies of the parameters and running statistics that reached it.
        epoch: epochs completed. optim_configs: one config dict per parameter.

    Raises:
        ValueError: for a malformed model or data, an out-of-range argument,
            an unknown update rule, an ``optim_config`` key the rule does not
            read or any unrecognised keyword argument.
    """

    def __init__(
        self,
        model: Any,
        data: dict[str, Array],
        *,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(kwargs) - set(_DEFAULTS))
        if unknown:
            raise fail("kwargs", f"only {tuple(_DEFAULTS)}", f"unrecognised {unknown}")
        _check_model(model)
        _check_data(data)
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        opts = {**_DEFAULTS, **kwargs}
        self.update_rule = _resolve_rule(opts["update_rule"])
        self._rule_given = "update_rule" in kwargs
        self._rule_name = _rule_name(self.update_rule)
        check_param_dict("optim_config", opts["optim_config"], ())
        if self._rule_name is not None:  # a custom rule's keys are its own affair
            check_config("optim_config", self._rule_name, opts["optim_config"])
        self.optim_config = dict(opts["optim_config"])
        self.lr_decay = check_number(
            "lr_decay", opts["lr_decay"], low=0.0, low_open=True
        )
        self.batch_size = check_int("batch_size", opts["batch_size"], min_value=1)
        self.num_epochs = check_int("num_epochs", opts["num_epochs"], min_value=1)
        self.num_train_samples = _optional_count(
            "num_train_samples", opts["num_train_samples"]
        )
        self.num_val_samples = _optional_count(
            "num_val_samples", opts["num_val_samples"]
        )
        name = opts["checkpoint_name"]
        if name is not None and not isinstance(name, str | os.PathLike):
            raise fail("checkpoint_name", "a path or None", repr(name))
        self.checkpoint_name = None if name is None else os.fspath(name)
        self.print_every = check_int("print_every", opts["print_every"], min_value=1)
        if not isinstance(opts["verbose"], bool):
            raise fail("verbose", "True or False", repr(opts["verbose"]))
        self.verbose = opts["verbose"]
        # None: NumPy's global generator, the course's (np.random.seed).
        self._rng = None if seed is None else backend.rng(seed)
        self._reset()

    def _reset(self) -> None:
        """Set up the bookkeeping variables; called by ``__init__`` only."""
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc: float = 0
        self.best_params: dict[str, Array] = {}
        self.best_bn_stats: list[dict[str, Array]] = []
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}
        # Set by load_checkpoint: the next train() continues from self.epoch.
        self._resuming = False

    def _step(self) -> None:
        """One gradient update on a minibatch drawn with replacement."""
        keep_freed_memory()
        num_train = self.X_train.shape[0]
        batch_mask = self._choice(num_train, self.batch_size, self.X_train)
        loss, grads = self.model.loss(
            self.X_train[batch_mask], self.y_train[batch_mask]
        )
        if not math.isfinite(float(loss)):
            raise RuntimeError(
                f"the loss became {float(loss)} at epoch {self.epoch + 1}, "
                f"iteration {self.iteration + 1}; training stopped. Try a lower "
                "learning rate (optim_config['learning_rate'])"
            )
        self.loss_history.append(float(loss))
        missing = [p for p in self.model.params if p not in grads]
        if missing:
            raise fail(
                "model.loss(X, y)",
                f"a gradient for every parameter; missing {missing}",
                f"keys {tuple(grads)}",
            )
        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def _choice(self, n: int, size: int, like: Array) -> Array:
        """``size`` indices drawn uniformly from [0, n), with replacement."""
        if self._rng is None:
            # The course's call, so that np.random.seed(...) reproduces its runs.
            idx = np.random.choice(n, size)  # noqa: NPY002  (the course's generator)
            return backend.get_array_module(like).asarray(idx)
        return self._rng.integers(0, n, size=size)

    def check_accuracy(
        self, X: Array, y: Array, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of samples whose highest score is the true label.

        Shapes:
            X: (N, d1, ..., dk);  y: (N,)

        Args:
            X: the inputs.
            y: the integer labels.
            num_samples: if smaller than N, score only this many samples drawn
                with replacement from the solver's generator (NumPy's global
                one for a Solver without seed). Defaults to `None`.
            batch_size: samples per call of ``model.loss``. Defaults to `100`.

        Returns:
            The accuracy, a Python float in [0, 1].

        Raises:
            ValueError: for mismatched inputs or scores of the wrong shape.
        """
        _check_xy("X", X, "y", y)
        num_samples = _optional_count("num_samples", num_samples)
        batch_size = check_int("batch_size", batch_size, min_value=1)
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = self._choice(N, num_samples, X)
            N, X, y = num_samples, X[mask], y[mask]
        xp = backend.get_array_module(X)
        y_pred = []
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start : start + batch_size])
            rows = min(batch_size, N - start)
            check_array("model.loss(X)", scores, shape=(rows, None))
            if start == 0:
                check_labels("y", y, num_classes=scores.shape[1])
            y_pred.append(xp.argmax(scores, axis=1))
        return float(xp.mean(xp.concatenate(y_pred) == y))

    def train(self) -> None:
        """Run the optimisation, then copy the best parameters into the model.

        After :meth:`load_checkpoint`, training continues from the saved
        iteration.

        Raises:
            ValueError: for labels outside the model's class range.
            RuntimeError: when the loss becomes NaN or infinite.
            KeyboardInterrupt: on Ctrl-C, after writing a checkpoint when there
                is a ``checkpoint_name``.
        """
        if not bn_params(self.model):
            self._check_labels()
        with defer_sigint(enabled=self.checkpoint_name is not None) as sigint:
            self._train_loop(sigint)
        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
            for bn_param, stats in zip(
                bn_params(self.model), self.best_bn_stats, strict=False
            ):
                bn_param.update({k: v.copy() for k, v in stats.items()})

    def _check_labels(self) -> None:
        """Every label must be in [0, C), C the width of the model's scores.

        Checked before training; with batch normalisation, whose test-mode
        scores need running statistics, at the first accuracy check instead."""
        num_classes = self.model.loss(self.X_val[:1]).shape[1]
        check_labels("data['y_train']", self.y_train, num_classes)
        check_labels("data['y_val']", self.y_val, num_classes)

    def _train_loop(self, sigint: Any) -> None:
        iterations_per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        if not self._resuming:
            self.iteration = 0
        self._resuming = False
        for t in range(self.iteration, num_iterations):
            self._step()
            self.iteration = t + 1
            if self.verbose and t % self.print_every == 0:
                loss = self.loss_history[-1]
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {loss:f}")
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
            if t == 0 or t == num_iterations - 1 or epoch_end:
                self._record_accuracy()
                if epoch_end and self.checkpoint_name is not None:
                    self._save_checkpoint()
            if sigint.requested:
                raise self._interrupted(num_iterations)

    def _interrupted(self, num_iterations: int) -> KeyboardInterrupt:
        """Save a checkpoint after the iteration Ctrl-C was deferred to."""
        path = f"{self.checkpoint_name}_iteration_{self.iteration:d}.ckpt"
        save_checkpoint(self, path)
        return KeyboardInterrupt(
            f"training interrupted after iteration {self.iteration} of "
            f"{num_iterations}; {path} holds it: Solver.resume({path!r}) goes on"
        )

    def _record_accuracy(self) -> None:
        if not self.train_acc_history:
            self._check_labels()
        train_acc = self.check_accuracy(
            self.X_train, self.y_train, num_samples=self.num_train_samples
        )
        val_acc = self.check_accuracy(
            self.X_val, self.y_val, num_samples=self.num_val_samples
        )
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            print(
                f"(Epoch {self.epoch} / {self.num_epochs}) "
                f"train acc: {train_acc:f}; val_acc: {val_acc:f}"
            )
        # The first check always takes a snapshot, so best_params is never empty
        # after training (cs231n's keeps {} if no accuracy beats 0).
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            self.best_bn_stats = bn_stats(self.model)

    def checkpoint_path(self, epoch: int) -> str:
        """The file written at the end of ``epoch``: ``<name>_epoch_<epoch>.ckpt``."""
        if self.checkpoint_name is None:
            raise fail("checkpoint_name", "a path", "None")
        return f"{self.checkpoint_name}_epoch_{epoch:d}.ckpt"

    def _save_checkpoint(self) -> None:
        save_checkpoint(self, self.checkpoint_path(self.epoch))

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore the solver, model and generator from a checkpoint file.

        Every field is validated before anything is changed. A file written by
        a run that drew from NumPy's global generator (a Solver without seed,
        or a model's seedless dropout) sets ``np.random``'s state to the one
        saved, so that the run goes on as if never interrupted. The solver's own
        arguments (num_epochs, batch_size, ...) govern any further training; the
        optimizer configs, histories, best parameters and epoch come from the file.

        Args:
            path: a file written by this class.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: for a corrupt, truncated, pickled or foreign file, a file
                from a model with other parameter names, shapes or dtypes, or a
                different update rule, or a file of a Solver with seed= loaded
                into one without (or the other way round).
        """
        apply_checkpoint(self, read_checkpoint(os.fspath(path)), os.fspath(path))
        self._resuming = True

    def resume(self, path: str | os.PathLike[str]) -> None:
        """Load a checkpoint and train from its epoch up to ``num_epochs``.

        With the same data, arguments and seed (or no seed, on both sides), the
        result is bitwise identical to a run that was never interrupted.

        Args:
            path: a file written by this class.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: as :meth:`load_checkpoint`.
        """
        self.load_checkpoint(path)
        self.train()


def _resolve_rule(rule: Any) -> Any:
    try:
        return get_rule(rule)
    except ValueError:
        names = ", ".join(repr(n) for n in RULES)
        raise fail("update_rule", f"one of {names} or a callable", repr(rule)) from None


def _rule_name(rule: Any) -> str | None:
    """The registry name of ``rule``, or None for a callable outside the registry."""
    name = getattr(rule, "__name__", None)
    return name if RULES.get(name) is rule else None


def _optional_count(name: str, value: Any) -> int | None:
    return None if value is None else check_int(name, value, min_value=1)


def _check_model(model: Any) -> None:
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params:
        raise fail("model.params", "a non-empty dict of arrays", repr(type(params)))
    for k, v in params.items():
        check_array(f"model.params[{k!r}]", v, floating=True)
    if not callable(getattr(model, "loss", None)):
        raise fail("model.loss", "a method loss(X, y=None)", "nothing callable")


def _check_xy(name_x: str, X: Any, name_y: str, y: Any) -> None:
    check_array(name_x, X, min_ndim=1)
    check_array(name_y, y, ndim=1)
    if y.dtype.kind not in "iu":
        raise fail(name_y, "integer class labels", f"dtype {y.dtype}")
    check_same_length(name_x, X, name_y, y)


def _check_data(data: Any) -> None:
    keys = ("X_train", "y_train", "X_val", "y_val")
    check_param_dict("data", data, keys)
    for split in ("train", "val"):
        nx, ny = f"data['X_{split}']", f"data['y_{split}']"
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        _check_xy(nx, X, ny, y)
        if X.shape[0] == 0:
            raise fail(nx, "at least one sample", f"shape {tuple(X.shape)}")
        check_finite(nx, X)
        if y.min() < 0:
            raise fail(ny, "labels >= 0", f"minimum {y.min()}")
    if data["X_train"].shape[1:] != data["X_val"].shape[1:]:
        raise fail(
            "data['X_val']",
            f"samples of shape {data['X_train'].shape[1:]} as in data['X_train']",
            f"shape {data['X_val'].shape[1:]}",
        )


__all__ = ["Solver"]
