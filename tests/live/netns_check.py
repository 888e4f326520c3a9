"""Whether this process runs in a private network namespace whose only interface is loopback.

The tests that open LSL must: liblsl's data servers listen on every interface
(``streaming/lsl_api.cfg``), and only such a namespace (``tests/netns.sh``)
keeps them unreachable from other machines. ``tests/live/conftest.py`` fails
every test under ``tests/live`` with :func:`namespace_problem`'s reason; a test
elsewhere that opens LSL calls :func:`require_loopback_namespace` first.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct

import pytest

#: ``ioctl`` request reading an interface's flags, and the flag of an interface that is up (``<linux/sockios.h>``).
SIOCGIFFLAGS, IFF_UP = 0x8913, 0x1
#: How to run the suite inside such a namespace.
HOW = "Run pytest through `bash tests/netns.sh .venv/bin/python -m pytest ...` (as `make test` does)"


def interface_names() -> list[str]:
    """Names of the network interfaces of this process's namespace, sorted (netlink, not /sys, which may be stale)."""
    return sorted(name for _, name in socket.if_nameindex())


def interface_is_up(name: str) -> bool:
    """Whether interface ``name`` of this namespace is administratively up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", name.encode(), 0)
        return bool(struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, request)[:18])[1] & IFF_UP)


def namespace_problem(names: list[str], lo_up: bool, netns_error: str | None) -> str | None:
    """Why a process with interfaces ``names`` (``lo`` up or not) may not open LSL; ``None`` when it may.

    ``netns_error`` is ``$BIOSIG_NETNS_ERROR``, the reason ``tests/netns.sh`` gave
    for making no namespace; it is quoted in the message.
    """
    if names != ["lo"]:
        problem = f"this process sees the network interfaces {names}, so LSL's servers would be reachable through them"
    elif not lo_up:
        problem = "the only interface is lo, but it is down, so LSL cannot reach its own streams"
    else:
        return None
    why = f"; tests/netns.sh said: {netns_error}" if netns_error else ""
    return f"LSL tests must run in a private network namespace whose only interface is lo: {problem}{why}. {HOW}."


def current_problem() -> str | None:
    """:func:`namespace_problem` for this process."""
    names = interface_names()
    return namespace_problem(names, "lo" in names and interface_is_up("lo"), os.environ.get("BIOSIG_NETNS_ERROR"))


def require_loopback_namespace() -> None:
    """Fail the calling test (never skip it) when this process is not in a loopback-only network namespace."""
    problem = current_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
