"""Run one function over many items: serially, in local processes, or on a Dask cluster.

:class:`Executor` is the package's single way to fan work out (per-subject
preprocessing now, cross-validation folds later). Whatever the kind,
:meth:`Executor.map` yields results in the order of the items, and an
exception raised by the function is raised again when its result is reached.

* ``serial``: in this process, one item after another (the reference).
* ``processes``: a :class:`concurrent.futures.ProcessPoolExecutor` of
  ``workers`` processes forked from a clean ``forkserver`` process: forking
  the main process itself could copy locks held by its threads (rich's
  progress bar, BLAS) and deadlock. Each worker gets one BLAS thread, and
  dies with the process that started the pool (see :func:`_die_with_parent`):
  a main process killed by SIGKILL leaves no worker behind.
* ``dask``: a :class:`dask.distributed.Client`: the one given, one connected to
  a ``scheduler`` address (``tcp://host:8786``), or a
  :class:`~dask.distributed.LocalCluster` of ``workers`` single-threaded
  processes bound to 127.0.0.1. Workers of a remote cluster need this
  package installed and the cache folder mounted at the same path.

Functions and items must be picklable (module-level functions, small
objects) for every kind but ``serial``, and a script that uses ``processes``
or ``dask`` must guard its entry point with ``if __name__ == "__main__":``
(new worker processes import the script's main module).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from biosig.errors import ConfigError
from biosig.optional import require

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")
Kind = Literal["serial", "processes", "dask"]
KINDS: tuple[str, ...] = ("serial", "processes", "dask")


class Executor:
    """Map a function over items with the chosen kind of parallelism (see module docstring).

    Parameters
    ----------
    kind
        ``"serial"``, ``"processes"`` or ``"dask"``. Default: ``"dask"`` when
        a scheduler is given, else ``"processes"`` when ``workers > 1``, else
        ``"serial"``.
    workers
        Processes of the local pool or of the local Dask cluster (ignored when
        connecting to an existing scheduler).
    scheduler
        A Dask scheduler address or an existing ``distributed.Client`` (which
        the executor uses but never closes).
    connect_timeout
        Seconds to wait for a scheduler given by address.

    The pool or cluster starts at the first :meth:`map` and is reused by later
    calls until :meth:`close` (or the end of a ``with`` block).
    """

    def __init__(
        self,
        kind: Kind | None = None,
        workers: int = 1,
        scheduler: str | Client | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        if kind is None:
            kind = "dask" if scheduler is not None else "processes" if workers > 1 else "serial"
        if kind not in KINDS:
            raise ConfigError(f"executor kind {kind!r} is not one of {list(KINDS)}")
        if workers < 1:
            raise ConfigError(f"executor workers must be at least 1, got {workers}")
        if scheduler is not None and kind != "dask":
            raise ConfigError(f"a Dask scheduler was given but the executor kind is {kind!r}; use kind 'dask'")
        self.kind: Kind = kind
        self.workers = workers
        self._scheduler = scheduler
        self._connect_timeout = connect_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._client: Client | None = None
        self._owned: list[Any] = []  # cluster and client this executor started, closed by close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """Short human-readable description, e.g. ``"processes (2 workers)"``."""
        if self.kind == "dask" and self._scheduler is not None:
            address = self._scheduler if isinstance(self._scheduler, str) else self._scheduler.scheduler.address
            return f"dask (scheduler {address})"
        if self.kind == "serial":
            return "serial"
        return f"{self.kind} ({self.workers} workers)"

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` to every item; yield the results in the items' order.

        All items are submitted at once; results stream back as they are
        reached in order. An exception raised by ``fn`` is raised again here,
        at its item.
        """
        if self.kind == "serial":
            return map(fn, items)
        if self.kind == "processes":
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
                )
            return self._pool.map(fn, items)
        return self._dask_map(fn, list(items))

    def _dask_map(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        client = self._dask_client()
        # pure=False: items that hash alike (equal sources) must still each run and return.
        futures = client.map(fn, items, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            client.cancel(futures)

    def _dask_client(self) -> Client:
        if self._client is not None:
            return self._client
        require("distributed", "dask", "the 'dask' executor")
        from distributed import Client, LocalCluster

        if isinstance(self._scheduler, Client):
            self._client = self._scheduler
        elif isinstance(self._scheduler, str):
            try:
                self._client = Client(self._scheduler, timeout=f"{self._connect_timeout}s")
            except OSError as exc:
                raise ConfigError(f"cannot connect to the Dask scheduler {self._scheduler}: {exc}") from None
            self._owned.append(self._client)
        else:
            cluster = LocalCluster(
                n_workers=self.workers,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._owned.append(cluster)
            self._client = Client(cluster)
            self._owned.append(self._client)
        return self._client

    def close(self) -> None:
        """Stop the pool, or the Dask client and cluster this executor started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        for thing in reversed(self._owned):
            thing.close()
        self._owned.clear()
        self._client = None


#: Seconds between two checks of the parent's liveness where it cannot be waited for (no pidfd).
PARENT_POLL_S = 0.5


def _init_worker(parent_pid: int) -> None:
    """Pool worker initializer: one BLAS thread, and exit when process ``parent_pid`` does."""
    _one_blas_thread()
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """Exit this process as soon as process ``parent_pid`` ends, however it ends.

    Neither a parent-death signal (``prctl(PR_SET_PDEATHSIG)``) nor watching
    ``os.getppid()`` can do it here: a pool worker's parent is the forkserver,
    not the main process, and the forkserver lives as long as any worker does
    (every worker holds its "alive" pipe), so after a SIGKILL of the main
    process workers and forkserver would wait for each other forever. A
    daemon thread watches the main process itself instead: it waits on a
    pidfd where the OS has them (Linux 5.3+; the wait ends the moment the
    process exits, even before it is reaped), and otherwise polls every
    :data:`PARENT_POLL_S` s, counting a zombie as dead. Then it ends the worker
    with ``os._exit``, which needs no lock a busy worker thread might hold.
    """
    try:
        pidfd = os.pidfd_open(parent_pid)
    except (AttributeError, OSError):  # no pidfd on this OS, or the parent is already gone
        pidfd = None
    threading.Thread(target=_watch_parent, args=(parent_pid, pidfd), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has exited
    else:
        while _alive(parent_pid):
            time.sleep(PARENT_POLL_S)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (exists and, where /proc tells, is no zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] != b"Z"
    except ProcessLookupError:  # it ended between the open and the read
        return False
    except OSError:  # no /proc here (or it ended before the open: the next check sees that)
        return True


def _one_blas_thread() -> None:
    """One BLAS/OpenMP thread per worker process, as Dask's nanny sets for its workers: ``workers``
    processes with a BLAS pool each would oversubscribe the cores. Environment variables, because
    no numeric library is loaded yet in a fresh forkserver child, and they are read at load time."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
