"""Executor: same ordered results serially, in local processes and on a local Dask cluster;
pool workers die with the process that started them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from biosig.errors import ConfigError, DataError
from biosig.executor import Executor
from tests.helpers import REPO_ROOT

ITEMS = list(range(6))


def _late_first(x: int) -> tuple[int, int]:
    """Square, sleeping longer for earlier items so they finish last; and the worker's pid."""
    time.sleep(0.05 * (len(ITEMS) - x))
    return x * x, os.getpid()


def _blas_threads(_item: int) -> list[int]:
    import numpy  # noqa: F401  (loads OpenBLAS in the worker)
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info()]


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise DataError(f"item {x} is bad")
    return x


@pytest.fixture(scope="module")
def client():
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def pool():
    with Executor(workers=2) as ex:
        yield ex


def test_serial_is_the_builtin_map_in_this_process():
    with Executor() as ex:
        assert ex.kind == "serial"
        assert list(ex.map(_late_first, ITEMS)) == [(x * x, os.getpid()) for x in ITEMS]


def test_process_pool_keeps_order_and_uses_other_processes(pool):
    assert pool.kind == "processes" and pool.describe() == "processes (2 workers)"
    out = list(pool.map(_late_first, ITEMS))
    assert [v for v, _pid in out] == [x * x for x in ITEMS]
    assert len({pid for _v, pid in out}) == 2 and os.getpid() not in {pid for _v, pid in out}


def test_pool_workers_use_one_blas_thread_each(pool):
    (threads,) = pool.map(_blas_threads, [0])
    assert threads and set(threads) == {1}


def test_dask_client_keeps_order_and_is_left_open(client):
    with Executor(scheduler=client) as ex:
        assert ex.kind == "dask"
        out = list(ex.map(_late_first, ITEMS))
    assert [v for v, _pid in out] == [x * x for x in ITEMS]
    assert len({pid for _v, pid in out}) == 2 and os.getpid() not in {pid for _v, pid in out}
    assert client.status == "running"


def test_dask_scheduler_address(client):
    with Executor(scheduler=client.scheduler.address) as ex:
        assert ex.describe() == f"dask (scheduler {client.scheduler.address})"
        assert [v for v, _pid in ex.map(_late_first, ITEMS)] == [x * x for x in ITEMS]


@pytest.mark.parametrize("kind", ["serial", "processes", "dask"])
def test_an_error_is_raised_at_its_item_and_the_executor_stays_usable(kind, request):
    executors = {"serial": lambda: Executor(), "processes": lambda: request.getfixturevalue("pool"),
                 "dask": lambda: Executor(scheduler=request.getfixturevalue("client"))}
    ex = executors[kind]()
    results = ex.map(_fails_on_three, ITEMS)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(DataError, match="item 3 is bad"):
        next(results)
    assert [v for v, _pid in ex.map(_late_first, ITEMS[:2])] == [0, 1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "threads"}, "not one of"),
        ({"workers": 0}, "at least 1"),
        ({"kind": "processes", "scheduler": "tcp://127.0.0.1:1"}, "use kind 'dask'"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Executor(**kwargs)


def test_unreachable_scheduler_is_a_config_error():
    with Executor(scheduler="tcp://127.0.0.1:1", connect_timeout=1) as ex:
        with pytest.raises(ConfigError, match="tcp://127.0.0.1:1"):
            list(ex.map(_late_first, ITEMS))


# The child starts a pool of two workers that each write their pid and then work for 10 minutes.
_POOL_RUN = """
import os, sys, time
from pathlib import Path
from biosig.executor import Executor

def work(i):
    Path(sys.argv[1], f"{os.getpid()}.pid").touch()
    time.sleep(600)

if __name__ == "__main__":
    with Executor(workers=2) as ex:
        list(ex.map(work, range(4)))
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or between the open and the read
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_pool_workers_die_when_their_parent_is_killed(tmp_path):
    script = tmp_path / "pool_run.py"
    script.write_text(_POOL_RUN)
    pids = tmp_path / "pids"
    pids.mkdir()
    child = subprocess.Popen([sys.executable, str(script), str(pids)], cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2:
            assert child.poll() is None, "the pool run ended early"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        workers = [int(p.stem) for p in pids.iterdir()]
        assert all(_running(pid) for pid in workers)
        os.kill(child.pid, signal.SIGKILL)  # only the parent
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert alive == [], f"workers {alive} outlived their parent by 5 s"
