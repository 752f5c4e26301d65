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

Every executor here says how many tasks it runs at once (``workers``), so a caller can keep
exactly that many in flight and know which are running. With ``isolated=True`` the local
executor is one single-worker pool per slot: a worker that dies (a signal, the out-of-memory
killer) fails only the task it was running, and its slot gets a fresh process. On Dask, a
task whose worker died is rescheduled on another worker by Dask itself; only a task that
killed several workers fails, with Dask's ``KilledWorker``. ``worker_lost`` recognises both.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from gradcheck.engine_plugins import load_engine_modules
from gradcheck.errors import GradcheckError

T = TypeVar("T")

__all__ = [
    "DASK_EXTRA",
    "EXECUTORS",
    "SCHEDULER_VARIABLE",
    "SizedExecutor",
    "Tasks",
    "engine_executor",
    "open_executor",
    "run_in_flight",
    "scheduler_address",
    "start_method",
    "start_worker",
    "worker_lost",
]

EXECUTORS = ("local", "dask")
SCHEDULER_VARIABLE = "GRADCHECK_DASK_SCHEDULER"
DASK_EXTRA = "pip install 'gradcheck[dask]'"
CONNECT_TIMEOUT_S = 10
# A LocalCluster's workers without Dask's sampling profiler and with its housekeeping timers
# slowed: on a worker thread that runs many short NumPy and JAX calls, their wake-ups take
# the GIL often, and a sweep ran up to 20% slower than on the local pool. Workers of a cluster
# started elsewhere take these from their own config (DASK_DISTRIBUTED__WORKER__PROFILE__...).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "5s",
}


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: the option, else ``GRADCHECK_DASK_SCHEDULER``, else None (a
    LocalCluster on this machine)."""
    return scheduler or os.environ.get(SCHEDULER_VARIABLE) or None


@dataclass(frozen=True)
class Tasks:
    """How a run's tasks stand, for a progress line: finished, running (submitted and not
    finished), and failed (their worker died, or they raised) out of ``total``."""

    total: int
    done: int
    running: int
    failed: int


def start_method() -> str:
    """fork is cheap and keeps engines registered at run time, but is unsafe once torch or
    jax have started their thread pools in this process; then workers are spawned fresh.
    ``GRADCHECK_START_METHOD`` (fork, spawn or forkserver) overrides the choice."""
    chosen = os.environ.get("GRADCHECK_START_METHOD", "")
    if chosen:
        if chosen not in multiprocessing.get_all_start_methods():
            methods = ", ".join(multiprocessing.get_all_start_methods())
            raise GradcheckError(f"GRADCHECK_START_METHOD={chosen!r}: use one of {methods}")
        return chosen
    started = any(module in sys.modules for module in ("torch", "jax"))
    return "spawn" if started or sys.platform != "linux" else "fork"


def start_worker(engine_modules: tuple[str, ...]) -> None:
    """A worker's set-up: one thread, then the engine modules, so that a spawned worker
    knows a user's engines as a forked one does."""
    _one_thread_per_worker()
    load_engine_modules(engine_modules)


def _one_thread_per_worker() -> None:
    """Workers already use every core between them; BLAS, torch or XLA threads on top would
    oversubscribe them (torch's small matmuls were seen 30× slower with 2 threads than 1)."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if "torch" in sys.modules:  # already imported before a fork: set it directly
        sys.modules["torch"].set_num_threads(1)


@contextmanager
def engine_executor(
    kind: str, *, workers: int, scheduler: str | None, engine_modules: tuple[str, ...]
) -> Iterator[SizedExecutor]:
    """An executor for engine work (sweeps, compare): workers set up by ``start_worker``,
    started by ``start_method``."""
    with open_executor(
        kind,
        workers=workers,
        scheduler=scheduler,
        start_method=start_method(),
        initializer=start_worker,
        initargs=(engine_modules,),
    ) as pool:
        yield pool


class SizedExecutor(Executor):
    """An executor that says how many tasks it runs at once."""

    @property
    def workers(self) -> int:
        raise NotImplementedError


def run_in_flight(
    executor: SizedExecutor,
    items: Iterable[T],
    submit: Callable[[T], Future[Any] | None],
    finished: Callable[[T, Future[Any]], None],
    on_tasks: Callable[[Tasks], None] | None = None,
) -> None:
    """Run ``items`` as tasks on ``executor``, as many in flight as it has workers, so that
    ``on_tasks`` knows which are running. ``submit`` starts an item's task, or returns None
    for an item settled without one (it counts as done); ``finished`` hears each task, in
    the order they complete. A task whose future holds an exception counts as failed."""
    queue = deque(items)
    total = len(queue)
    running: dict[Future[Any], T] = {}
    done = failed = 0

    def moved() -> None:
        if on_tasks is not None:
            on_tasks(Tasks(total, done, len(running), failed))

    while queue or running:
        while queue and len(running) < executor.workers:
            item = queue.popleft()
            future = submit(item)
            if future is None:
                done += 1
            else:
                running[future] = item
        moved()
        if not running:
            continue
        completed, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in completed:
            finished(running.pop(future), future)
            done, failed = done + 1, failed + (future.exception() is not None)
        moved()


def worker_lost(error: BaseException) -> bool:
    """Whether a task failed because the process running it died, not because it raised:
    a broken local pool, or Dask's ``KilledWorker`` (the task killed every worker it was
    given)."""
    return isinstance(error, BrokenProcessPool) or type(error).__name__ == "KilledWorker"


@contextmanager
def open_executor(
    kind: str,
    *,
    workers: int,
    scheduler: str | None = None,
    start_method: str = "spawn",
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    isolated: bool = False,
) -> Iterator[SizedExecutor]:
    """An executor of ``kind`` with ``workers`` worker processes (a LocalCluster's size; a
    remote cluster has the workers it has), shut down on exit. ``isolated``: locally, one
    single-worker pool per slot (see the module's text); Dask isolates tasks by itself."""
    if kind == "local":
        context = multiprocessing.get_context(start_method)
        local: SizedExecutor
        if isolated:
            make = partial(ProcessPoolExecutor, 1, context, initializer, initargs)
            local = _IsolatedPools(workers, make)
        else:
            local = _LocalPool(workers, context, initializer, initargs)
        try:
            yield local
        finally:
            local.shutdown(wait=True, cancel_futures=True)
    elif kind == "dask":
        with _dask_executor(workers, scheduler, initializer, initargs) as executor:
            yield executor
    else:
        raise GradcheckError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")


class _LocalPool(ProcessPoolExecutor, SizedExecutor):
    def __init__(
        self,
        workers: int,
        context: Any,
        initializer: Callable[..., None] | None,
        initargs: tuple[Any, ...],
    ) -> None:
        super().__init__(workers, context, initializer, initargs)
        self._size = workers

    @property
    def workers(self) -> int:
        return self._size


class _IsolatedPools(SizedExecutor):
    """``workers`` pools of one process each. A task goes to a free slot (the caller keeps at
    most ``workers`` in flight); a slot whose process died gets a fresh pool before its next
    task, so the death fails that one task and no other."""

    def __init__(self, workers: int, make: Callable[[], ProcessPoolExecutor]) -> None:
        self._make = make
        self._pools: list[ProcessPoolExecutor | None] = [None] * max(1, workers)
        self._last: list[Future[Any] | None] = [None] * max(1, workers)

    @property
    def workers(self) -> int:
        return len(self._pools)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        slot = next((i for i, f in enumerate(self._last) if f is None or f.done()), None)
        if slot is None:
            raise RuntimeError(f"all {self.workers} isolated workers are busy")
        pool, last = self._pools[slot], self._last[slot]
        if (
            pool is not None
            and last is not None
            and isinstance(last.exception(), BrokenProcessPool)
        ):
            pool.shutdown(wait=True)
            pool = None
        if pool is None:
            pool = self._pools[slot] = self._make()
        try:
            future = pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # its process died while idle
            pool.shutdown(wait=True)
            pool = self._pools[slot] = self._make()
            future = pool.submit(fn, *args, **kwargs)
        self._last[slot] = future
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self._pools:
            if pool is not None:
                pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class _SetUpFirst(SizedExecutor):
    """A Dask executor whose every task runs the set-up first (Dask has no per-worker
    initializer that a pickled function can carry). Its size is the cluster's threads when
    it was opened."""

    def __init__(
        self,
        inner: Executor,
        initializer: Callable[..., None] | None,
        initargs: Any,
        threads: int,
    ):
        self._inner, self._initializer, self._initargs = inner, initializer, initargs
        self._threads = max(1, threads)

    @property
    def workers(self) -> int:
        return self._threads

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
) -> Iterator[SizedExecutor]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise GradcheckError(
            f"--executor dask needs Dask, which is not installed: {DASK_EXTRA}"
        ) from None
    address = scheduler_address(scheduler)
    cluster = None
    try:
        if address is None:
            with dask.config.set(QUIET_WORKERS):  # the workers take the config they start with
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
        threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
        executor = _SetUpFirst(inner, initializer, initargs, threads)
        try:
            yield executor
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]
