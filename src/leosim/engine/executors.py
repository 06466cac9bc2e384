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
  A result's large arrays come back through files in ``/dev/shm`` that the driver maps
  (:func:`_export_arrays`), not through the pool's pipe: a chunk of Gen1 x 1,000 cities
  is 300 MB, and pickling it through the pipe cost both processes more CPU than solving
  it.
- :class:`Dask`: a Dask cluster: an embedded ``LocalCluster`` when no address is given, or
  an existing scheduler (``tcp://HOST:PORT``; a dask-jobqueue or Kubernetes cluster works
  the same way). Nothing assumes a shared filesystem except the output store.
"""

from __future__ import annotations

import dataclasses
import glob
import itertools
import logging
import mmap
import multiprocessing as mp
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np

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


_FORK_DRIVER: int = 0
_SHARED_MIN_BYTES = 1 << 20  # smaller arrays go through the pipe: a file costs more than pickling them
_shared_serial = itertools.count()


def _shared_dir() -> str:
    """Where result arrays are handed over: RAM-backed ``/dev/shm`` where there is one."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def _shared_prefix(driver: int) -> str:
    return os.path.join(_shared_dir(), f"leosim-{driver}-")


@dataclasses.dataclass(frozen=True)
class _SharedArray:
    """An array a worker left in a file for the driver: where, and how to read it."""

    path: str
    shape: tuple
    dtype: str


def _export_arrays(result, driver: int):
    """In a worker: write each large array field of a dataclass ``result`` to its own file
    and put a :class:`_SharedArray` in its place. One copy in the worker and none in the
    driver (:func:`_import_arrays` maps the file), where the pipe costs a pickle, two
    kernel copies and an unpickle. An array that cannot be written (a full or missing
    ``/dev/shm``, as in a container with 64 MB of it) stays in the result and goes
    through the pipe as before."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    swapped = {}
    for f in dataclasses.fields(result):
        a = getattr(result, f.name)
        if not isinstance(a, np.ndarray) or a.nbytes < _SHARED_MIN_BYTES or a.dtype.hasobject:
            continue
        a = np.ascontiguousarray(a)
        path = f"{_shared_prefix(driver)}{os.getpid()}-{next(_shared_serial)}"
        try:
            with open(path, "wb") as fh:
                a.tofile(fh)
        except OSError:
            _remove(path)
            continue
        swapped[f.name] = _SharedArray(path, a.shape, a.dtype.str)
    return dataclasses.replace(result, **swapped) if swapped else result


def _import_arrays(result):
    """In the driver: map each array a worker left in a file, and remove the file (the
    mapping keeps its pages until the array is dropped). The arrays are writable: the
    mapping is private, so writing to one copies only the pages written."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    loaded = {}
    for f in dataclasses.fields(result):
        h = getattr(result, f.name)
        if isinstance(h, _SharedArray):
            with open(h.path, "rb") as fh:
                buf = mmap.mmap(fh.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            _remove(h.path)
            loaded[f.name] = np.frombuffer(buf, dtype=np.dtype(h.dtype)).reshape(h.shape)
    return dataclasses.replace(result, **loaded) if loaded else result


def _remove_orphans() -> None:
    """Remove the files of drivers that are gone: one killed outright (SIGKILL, the OOM
    killer) had no chance to, and /dev/shm is memory until the machine restarts."""
    for path in glob.glob(os.path.join(_shared_dir(), "leosim-*-*")):
        try:
            driver = int(os.path.basename(path).split("-")[1])
        except (IndexError, ValueError):
            continue
        if driver == os.getpid():
            continue
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            _remove(path)
        except PermissionError:  # another user's live process
            pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fork_call(task):
    return _export_arrays(_FORK_FN(_FORK_CONTEXT, task), _FORK_DRIVER)


def _find_mallopt():
    """glibc's ``mallopt``, looked up here in the driver before forking (a lookup in a
    child forked from a threaded process could wait on the loader's lock for ever); None
    where malloc is not glibc's."""
    import ctypes

    try:
        return ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return None


_MALLOPT: Any = None


def _keep_freed_memory() -> None:
    """In a worker: let glibc's malloc keep freed memory for the next allocation instead of
    handing it back to the system. A step allocates arrays of tens of MB (one float per
    pair) and frees them again; by default each is a fresh mapping whose every page
    faults on first touch (on Gen1 x 1,000 cities a worker's step took 225 ms with them
    and 211 ms without). The worker's peak memory is unchanged; it is only not returned
    between chunks. Nothing happens where malloc is not glibc's."""
    if _MALLOPT is None:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    _MALLOPT(m_mmap_threshold, 1 << 30)  # allocations up to 1 GiB come from the heap...
    _MALLOPT(m_trim_threshold, (1 << 31) - 1)  # ...which is not trimmed when they are freed


def _worker_init() -> None:
    _ignore_interrupts()
    _keep_freed_memory()


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
    blocked and ignore it (:func:`_ignore_interrupts`); only this process gets it. The
    workers also keep the memory they free (:func:`_keep_freed_memory`)."""
    global _MALLOPT
    if _MALLOPT is None:
        _MALLOPT = _find_mallopt()
    with _sigint_blocked():
        return mp.get_context("fork").Pool(processes=n, initializer=_worker_init)


class Processes(Serial):
    """Forked worker processes: the context is inherited, not pickled."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise ParameterError(f"workers {self.workers} is not positive; expected at least 1")

    def imap(self, fn, context, tasks):
        global _FORK_CONTEXT, _FORK_FN, _FORK_DRIVER
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1 or "fork" not in mp.get_all_start_methods():
            yield from Serial().imap(fn, context, tasks)
            return
        _FORK_CONTEXT, _FORK_FN, _FORK_DRIVER = context, fn, os.getpid()
        _remove_orphans()
        try:
            n = min(self.workers, len(tasks))
            pool = _pool(n)
            try:
                yield from _windowed(lambda t: pool.apply_async(_fork_call, (t,)), lambda f: _import_arrays(f.get()), tasks, 2 * n)
            except BaseException:
                _stop(pool)
                raise
            pool.close()  # every result is in: the workers finish and exit
            pool.join()
        finally:
            _FORK_CONTEXT = _FORK_FN = None
            # results still in flight when the run stopped (Ctrl-C, an error) left their files
            for path in glob.glob(_shared_prefix(os.getpid()) + "*"):
                _remove(path)


def _stop(pool, timeout_s: float = 10.0) -> None:
    """Stop a pool whose run failed or was interrupted, with tasks in flight, without
    hanging: ``Pool.terminate`` kills the workers, then joins the pool's own threads, and
    one of those can wait forever for the result queue's lock when a worker was killed
    while writing a result (seen in a test: a task failed while the others returned). The
    workers are gone by then; the stuck thread is a daemon and does not keep the process."""
    t = threading.Thread(target=pool.terminate, name="leosim-pool-stop", daemon=True)
    t.start()
    t.join(timeout_s)


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
