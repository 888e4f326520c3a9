"""Every test under tests/live runs only inside a private, loopback-only network namespace.

These tests open LSL outlets, whose data servers liblsl binds to every
interface; outside such a namespace (``bash tests/netns.sh ...``) each test
fails with the reason, it never runs exposed and is never skipped.
"""

from __future__ import annotations

import pytest

from tests.live.netns_check import require_loopback_namespace


@pytest.fixture(autouse=True)
def loopback_only_network() -> None:
    """Fail the test unless this process's only network interface is ``lo`` (and it is up)."""
    require_loopback_namespace()
