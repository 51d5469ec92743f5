"""Where trials run: in this process, or on the workers of a Dask cluster.

An executor has two methods: ``put(data)`` sends the data once and returns a
handle, and ``map(fn, tasks, handle)`` runs ``fn(config, data)`` for each
``(key, config)`` task and yields ``(key, outcome)`` as each one finishes, in
any order. An outcome is a dict ``{"status": "ok" | "failed", "metrics",
"error", "wall_time"}``: a trial that raises becomes a failed outcome and never
stops the others.

:class:`DaskExecutor` imports ``dask.distributed`` only when it starts, so the
rest of glassnet works without Dask (``pip install glassnet[tune]``).
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from glassnet._internal.checks import check_int, fail
from glassnet._internal.threads import limit_threads

SCHEDULER_ENV = "GLASSNET_SCHEDULER"
Task = tuple[Any, dict[str, Any]]
TrialFn = Callable[[dict[str, Any], Any], dict[str, Any]]
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_trial(
    fn: TrialFn, config: dict[str, Any], data: Any, blas_threads: int | None = None
) -> dict[str, Any]:
    """Run ``fn(config, data)`` and return its outcome; never raises an Exception.

    Args:
        fn: the trial, returning a dict of metrics.
        config: the trial's hyperparameters.
        data: whatever the trial needs besides its config.
        blas_threads: limit BLAS (threadpoolctl, when installed) and glassnet's
            element-wise kernels to this many threads while the trial runs.
            Defaults to `None` (no limit).

    Returns:
        ``{"status", "metrics", "error", "wall_time"}``; ``error`` holds the
        exception's type and message and ``traceback`` its traceback.
    """
    start = time.perf_counter()
    try:
        with _blas_limit(blas_threads), limit_threads(blas_threads):
            metrics = fn(dict(config), data)
        if not isinstance(metrics, dict):
            raise TypeError(
                f"a trial returns a dict of metrics; received {type(metrics).__name__}"
            )
        outcome = {"status": "ok", "metrics": metrics, "error": None}
    except Exception as e:  # noqa: BLE001  (a failing trial is data, not a crash)
        outcome = {
            "status": "failed",
            "metrics": {},
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
    outcome["wall_time"] = time.perf_counter() - start
    return outcome


class _NoLimit:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _blas_limit(threads: int | None) -> Any:
    if threads is None:
        return _NoLimit()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the workers' environment variables still apply
        return _NoLimit()
    return threadpool_limits(threads)


class SerialExecutor:
    """Run the trials one after the other in this process: for debugging.

    Args:
        blas_threads: BLAS threads during each trial. Defaults to `None`
            (whatever BLAS uses already).
    """

    def __init__(self, blas_threads: int | None = None) -> None:
        self.blas_threads = blas_threads

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @property
    def workers(self) -> int:
        """Trials that run at the same time: one."""
        return 1

    def put(self, data: Any) -> Any:
        """The data itself: nothing to send."""
        return data

    def map(self, fn: TrialFn, tasks: Iterable[Task], data: Any) -> Iterator[Any]:
        """Yield ``(key, outcome)`` for each task, in order."""
        for key, config in tasks:
            yield key, run_trial(fn, config, data, self.blas_threads)


class DaskExecutor:
    """Run trials on a Dask cluster: a new ``LocalCluster``, or an existing one.

    With no ``scheduler`` (and ``$GLASSNET_SCHEDULER`` unset) it starts a
    ``LocalCluster`` of ``workers`` processes with one thread each, BLAS limited
    to one thread in each so that the workers do not fight over the cores, and
    closes it on exit. A worker process that dies is restarted by its nanny and
    the scheduler runs its trial again, up to ``retries`` times, after which
    the trial is recorded as failed. Use it as a context manager.

    Args:
        workers: worker processes of the local cluster. Defaults to `None`
            (one per core).
        scheduler: the address of a running scheduler, e.g.
            ``"tcp://host:8786"``. Defaults to `None` (``$GLASSNET_SCHEDULER``,
            else a local cluster).
        retries: re-runs of a trial whose worker died (the local scheduler's
            ``allowed-failures``; an external cluster keeps its own setting),
            also passed as ``retries`` to ``client.submit``. Defaults to `2`.
        client: a ``distributed.Client`` to use as it is (not closed on exit).
            Defaults to `None`.
        blas_threads: BLAS threads inside each trial. Defaults to `1`.

    Raises:
        ValueError: for a bad ``workers`` or ``retries``.
        ImportError: on entering, when dask.distributed is not installed.
    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        *,
        retries: int = 2,
        client: Any = None,
        blas_threads: int | None = 1,
    ) -> None:
        if workers is not None:
            check_int("workers", workers, min_value=1)
        self.n_workers = workers
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self.retries = check_int("retries", retries, min_value=0)
        self.blas_threads = blas_threads
        self.client = client
        self._own_client = False
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        if self.client is None:
            self.client = self._connect()
            self._own_client = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and the local cluster this executor started."""
        if self._own_client and self.client is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _connect(self) -> Any:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise ImportError(
                "running trials on Dask needs dask.distributed: "
                "pip install glassnet[tune]  (or use the serial executor)"
            ) from e
        if self.scheduler is not None:
            return Client(self.scheduler, set_as_default=False)
        config = {f"distributed.nanny.pre-spawn-environ.{v}": 1 for v in _THREAD_VARS}
        config["distributed.scheduler.allowed-failures"] = self.retries
        # One trial per worker thread at a time: a trial queued on a worker that
        # dies would count that death against its own retries.
        config["distributed.scheduler.worker-saturation"] = 1.0
        with dask.config.set(config):
            self._cluster = LocalCluster(
                n_workers=self.n_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # never a clash with a running dashboard
                silence_logs=logging.ERROR,
            )
        return Client(self._cluster, set_as_default=False)

    @property
    def workers(self) -> int:
        """Trials that can run at the same time: the cluster's worker threads."""
        self._require_client()
        return max(sum(self.client.nthreads().values()), 1)

    def _require_client(self) -> None:
        if self.client is None:
            raise fail(
                "DaskExecutor", "to be entered (`with DaskExecutor() as ex`)", None
            )

    def put(self, data: Any) -> Any:
        """Send ``data`` to the workers once; returns its future for :meth:`map`.

        Unlike ``client.scatter``, whose data is lost for good when every
        worker holding it dies (cancelling the trials that need it), the data
        is the result of a task, which the scheduler recomputes from its own
        copy after such a loss. Each worker holds one copy while the search
        runs.
        """
        self._require_client()
        future = self.client.submit(_identity, data, pure=False)
        self.client.replicate([future])
        return future

    def map(self, fn: TrialFn, tasks: Iterable[Task], data: Any) -> Iterator[Any]:
        """Submit every task, then yield ``(key, outcome)`` as each finishes."""
        from distributed import as_completed

        self._require_client()
        keys = {}
        for key, config in tasks:
            future = self.client.submit(
                run_trial,
                fn,
                config,
                data,
                self.blas_threads,
                pure=False,
                retries=self.retries,
            )
            keys[future] = key
        for future in as_completed(list(keys), loop=self.client.loop):
            yield keys.pop(future), _outcome(future)


def _identity(data: Any) -> Any:
    return data


def _outcome(future: Any) -> dict[str, Any]:
    """The trial's own outcome, or a failed one when Dask could not run it."""
    try:
        return future.result()
    except Exception as e:  # noqa: BLE001  (KilledWorker, lost data, pickling)
        name = type(e).__name__
        why = "its worker died too often" if name == "KilledWorker" else "Dask failed"
        return {
            "status": "failed",
            "metrics": {},
            "error": f"{name}: {why}: {e}",
            "wall_time": float("nan"),
        }
    finally:
        future.release()


__all__ = ["SCHEDULER_ENV", "DaskExecutor", "SerialExecutor", "run_trial"]
