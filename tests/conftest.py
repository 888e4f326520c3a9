"""Test set-up shared by every test process."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming.lslconfig import use_lsl_config
from tests.helpers import SHARED_DATA

# Before any test can touch LSL: keep liblsl's discovery on this machine (see streaming/lsl_api.cfg).
use_lsl_config()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One intra-op torch thread for the test, restored afterwards.

    Tiny tensors and single live windows only gain synchronisation stalls from
    more threads on a shared 2-core machine (as the live pipeline runs too).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recordings under ``../shared/data`` (sources and licences in its README).

    Missing data is a failure, never a skip: the tests of real files must run.
    """
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared recordings are missing: {SHARED_DATA} (clone the project beside shared/)")
    return SHARED_DATA


#: Test modules that open LSL outlets or run commands that do. With ``pytest -n 2 --dist loadgroup``
#: (make test) they all run in one worker, one after another, so no test resolves another's stream.
LSL_MODULES = ("tests/live/", "tests/cli/test_live_listening.py", "tests/cli/test_readme_live.py",
               "tests/cli/test_sigterm_logs.py", "tests/test_docs.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put every LSL test in the ``lsl`` xdist group (see :data:`LSL_MODULES`)."""
    root = Path(__file__).resolve().parent.parent
    for item in items:
        where = item.path.resolve().relative_to(root).as_posix()
        if where.startswith(LSL_MODULES):
            item.add_marker(pytest.mark.xdist_group("lsl"))
