"""Where chunks of work run: in this process, on this machine's cores, or on Dask.

An executor is a small object with one protocol::

    for result in executor.imap(fn, context, tasks):   # results in task order
        ...

``fn(context, task)`` is a module-level function; ``context`` is the large, read-only
state every task shares (the network), sent once per worker; ``tasks`` are small.
At most ``2 * workers`` tasks are in flight, so finished results never pile up in
memory when the consumer is slower than the workers.

- :class:`Serial`: one task after another, here.
- :class:`Processes`: forked worker processes on this machine (the local default); they
  ignore Ctrl-C, which the driver takes (the pool is stopped, the run says how far it got).
- :class:`Dask`: a Dask cluster: an embedded ``LocalCluster`` when no address is given, or
  an existing scheduler (``tcp://HOST:PORT``; a dask-jobqueue or Kubernetes cluster works
  the same way). Nothing assumes a shared filesystem except the output store.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from leosim.errors import ExecutorError, ParameterError, require


class Executor(Protocol):
    name: str
    workers: int
    dashboard_link: str | None

    def imap(self, fn: Callable[[Any, Any], Any], context: Any, tasks: Iterable[Any]) -> Iterator[Any]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class Serial:
    """Run every task in this process, in order."""

    name = "serial"
    workers = 1
    dashboard_link = None

    def imap(self, fn, context, tasks):
        for task in tasks:
            yield fn(context, task)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_FORK_CONTEXT: Any = None
_FORK_FN: Any = None


def _fork_call(task):
    return _FORK_FN(_FORK_CONTEXT, task)


def _ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the driver, which stops the pool and says how far the
    run got (a worker that took the SIGINT its terminal sends every process would print
    its own traceback). The worker was forked with SIGINT blocked (:func:`_forking`), so
    one sent before this ran is discarded here, not taken."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread meanwhile: processes started here inherit the block
    (across exec too) and never take a Ctrl-C, which stays pending for this process and
    arrives once the block is lifted."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _sigint_ignored():
    """SIGINT ignored by this process meanwhile, so that processes it spawns (exec keeps an
    ignored signal ignored, and Python then installs no KeyboardInterrupt) never take a
    Ctrl-C; a Ctrl-C meanwhile is lost (Dask's workers take a few seconds to start)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _pool(n: int):
    """A fork pool of ``n`` workers that never take Ctrl-C: they are forked with SIGINT
    blocked and ignore it (:func:`_ignore_interrupts`); only this process gets it."""
    with _sigint_blocked():
        return mp.get_context("fork").Pool(processes=n, initializer=_ignore_interrupts)


class Processes(Serial):
    """Forked worker processes: the context is inherited, not pickled."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise ParameterError(f"workers {self.workers} is not positive; expected at least 1")

    def imap(self, fn, context, tasks):
        global _FORK_CONTEXT, _FORK_FN
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1 or "fork" not in mp.get_all_start_methods():
            yield from Serial().imap(fn, context, tasks)
            return
        _FORK_CONTEXT, _FORK_FN = context, fn
        try:
            n = min(self.workers, len(tasks))
            with _pool(n) as pool:
                yield from _windowed(lambda t: pool.apply_async(_fork_call, (t,)), lambda f: f.get(), tasks, 2 * n)
        finally:
            _FORK_CONTEXT = _FORK_FN = None


def _windowed(submit, result, tasks, window: int):
    """Submit ``tasks`` keeping at most ``window`` in flight; yield results in order."""
    pending: deque = deque()
    it = iter(tasks)
    for task in it:
        pending.append(submit(task))
        if len(pending) >= window:
            break
    while pending:
        out = result(pending.popleft())
        nxt = next(it, None)
        if nxt is not None:
            pending.append(submit(nxt))
        yield out


class Dask(Serial):
    """A Dask cluster: ``LocalCluster`` here, or an existing scheduler at ``address``."""

    name = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None, timeout_s: float = 10.0):
        distributed = require("distributed", "dask")
        # Futures dropped with tasks in flight (Ctrl-C, an error) make distributed's event
        # loop thread log its own exceptions as they are cancelled (a NameError in
        # distributed.utils.cancel, printed as a traceback before the run's one line, seen
        # once in CI). A task's own error reaches the driver through its future's result,
        # so the event loop's log is kept to critical messages.
        for name in ("tornado.application", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self._cluster = None
        try:
            if address:
                self.client = distributed.Client(address, timeout=f"{timeout_s}s")
            else:
                n = workers or default_workers()
                with _sigint_ignored():  # its workers inherit it (they are spawned): Ctrl-C is the driver's alone
                    self._cluster = distributed.LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
                    )
                self.client = distributed.Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address!r} ({type(exc).__name__}: {exc}); "
                "expected a running scheduler, e.g. started with 'dask scheduler', at tcp://HOST:PORT"
            ) from None
        self.workers = len(self.client.scheduler_info().get("workers", {})) or (workers or 1)
        self.dashboard_link = getattr(self.client, "dashboard_link", None)

    def imap(self, fn, context, tasks):
        # the context goes to every worker once; each task then carries only its own data
        [ctx] = self.client.scatter([context], broadcast=True)
        yield from _windowed(lambda t: self.client.submit(fn, ctx, t, pure=False), lambda f: f.result(), tasks, 2 * self.workers)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


EXECUTORS = {"serial": Serial, "processes": Processes, "dask": Dask}


def make_executor(name: str = "processes", workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor called ``name`` (``serial``, ``processes``, ``dask``)."""
    if name not in EXECUTORS:
        raise ParameterError(f"unknown executor {name!r}; expected one of: {', '.join(EXECUTORS)}")
    if scheduler and name != "dask":
        raise ParameterError(f"--scheduler {scheduler!r} needs --executor dask, not {name!r}")
    if workers is not None and workers < 1:
        raise ParameterError(f"workers {workers} is not positive; expected at least 1")
    if name == "serial":
        return Serial()
    if name == "processes":
        return Processes(workers)
    return Dask(workers, scheduler)
