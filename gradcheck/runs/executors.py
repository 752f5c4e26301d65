"""Where parallel work runs: this machine's process pool, or a Dask cluster.

Both are ``concurrent.futures`` executors, so a caller submits tasks and collects futures the
same way whichever runs them (one code path): ``local`` is a ``ProcessPoolExecutor``;
``dask`` is the executor of a ``dask.distributed`` client (``Client.get_executor``), on the
scheduler named by ``--scheduler`` or ``GRADCHECK_DASK_SCHEDULER``, or on a ``LocalCluster``
started here when neither names one. Dask comes with the ``dask`` extra
(``pip install 'gradcheck[dask]'``).

A task's set-up (``initializer``) runs in each local worker once, when it starts; on Dask it
runs before every task, so it must be idempotent, as ``runs.sweep``'s is (one thread per
worker, the user's engine modules imported once).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

from gradcheck.errors import GradcheckError

__all__ = ["DASK_EXTRA", "EXECUTORS", "SCHEDULER_VARIABLE", "open_executor", "scheduler_address"]

EXECUTORS = ("local", "dask")
SCHEDULER_VARIABLE = "GRADCHECK_DASK_SCHEDULER"
DASK_EXTRA = "pip install 'gradcheck[dask]'"
CONNECT_TIMEOUT_S = 10


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: the option, else ``GRADCHECK_DASK_SCHEDULER``, else None (a
    LocalCluster on this machine)."""
    return scheduler or os.environ.get(SCHEDULER_VARIABLE) or None


@contextmanager
def open_executor(
    kind: str,
    *,
    workers: int,
    scheduler: str | None = None,
    start_method: str = "spawn",
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[Executor]:
    """An executor of ``kind`` with ``workers`` worker processes (a LocalCluster's size; a
    remote cluster has the workers it has), shut down on exit."""
    if kind == "local":
        context = multiprocessing.get_context(start_method)
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs
        ) as pool:
            yield pool
    elif kind == "dask":
        with _dask_executor(workers, scheduler, initializer, initargs) as executor:
            yield executor
    else:
        raise GradcheckError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")


class _SetUpFirst(Executor):
    """A Dask executor whose every task runs the set-up first (Dask has no per-worker
    initializer that a pickled function can carry)."""

    def __init__(self, inner: Executor, initializer: Callable[..., None] | None, initargs: Any):
        self._inner, self._initializer, self._initargs = inner, initializer, initargs

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        task = partial(_set_up_then, self._initializer, self._initargs, fn)
        return self._inner.submit(task, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)  # Dask's executor has no cancel_futures


def _set_up_then(
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    if initializer is not None:
        initializer(*initargs)
    return fn(*args, **kwargs)


@contextmanager
def _dask_executor(
    workers: int,
    scheduler: str | None,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise GradcheckError(
            f"--executor dask needs Dask, which is not installed: {DASK_EXTRA}"
        ) from None
    address = scheduler_address(scheduler)
    cluster = None
    try:
        if address is None:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
        target = cluster if cluster is not None else address
        client = Client(target, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]
        where = address or "a LocalCluster on this machine"
        raise GradcheckError(f"cannot reach the Dask scheduler at {where}: {error}") from None
    try:
        # pure=False: a task is never served from another's result; retries: a task whose
        # worker died is run again elsewhere (Dask also reschedules it on worker loss).
        inner = client.get_executor(pure=False, retries=2)  # type: ignore[no-untyped-call]
        executor = _SetUpFirst(inner, initializer, initargs)
        try:
            yield executor
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]
