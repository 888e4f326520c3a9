"""What this process exposes on the network: its own listening TCP and bound UDP sockets.

liblsl binds its data servers to every interface (see :mod:`streaming.lslconfig`
and ``streaming/lsl_api.cfg``); ``biosig stream`` and ``biosig replay`` print
:func:`describe_listening` once their outlets exist, so a user sees which
addresses they listen on. Linux only: the sockets are read from ``/proc``
(``/proc/self/fd`` for this process's socket inodes, ``/proc/self/net/{tcp,tcp6,udp,udp6}``
for their addresses, as seen from the process's own network namespace).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: ``/proc/net/tcp`` state of a listening socket (``TCP_LISTEN``).
_TCP_LISTEN = "0A"
#: ``/proc/net/udp`` state of a bound, unconnected socket (``TCP_CLOSE``, shown by ``ss`` as UNCONN).
_UDP_UNCONNECTED = "07"
#: The socket tables read, with the state that marks a socket others can reach.
_TABLES = {"tcp": _TCP_LISTEN, "tcp6": _TCP_LISTEN, "udp": _UDP_UNCONNECTED, "udp6": _UDP_UNCONNECTED}


@dataclass(frozen=True, order=True)
class ListeningSocket:
    """One socket of a process that accepts traffic: a listening TCP or a bound, unconnected UDP socket.

    ``protocol`` is ``"tcp"`` or ``"udp"``; ``address`` the bound IP address as text
    (``"0.0.0.0"`` or ``"::"`` for every interface); ``port`` the bound port.
    """

    protocol: str
    address: str
    port: int

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the socket (bound to 127.0.0.0/8 or ::1)."""
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def scope(self) -> str:
        """Who can reach the socket: ``"loopback only"``, ``"all interfaces"`` or ``"one interface"``."""
        address = ipaddress.ip_address(self.address)
        if address.is_loopback:
            return "loopback only"
        return "all interfaces" if address.is_unspecified else "one interface"

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.protocol} {host}:{self.port} ({self.scope})"


def _decode_address(hex_address: str) -> str:
    """The text form of a ``/proc/net`` address: 8 (IPv4) or 32 (IPv6) hex digits, 32-bit words in host order."""
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(raw))


def _socket_inodes(pid: int | str) -> set[int]:
    """Inode numbers of the sockets open in process ``pid`` (fds closed meanwhile are skipped)."""
    inodes: set[int] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def listening_sockets(pid: int | str = "self") -> list[ListeningSocket]:
    """The listening TCP and bound, unconnected UDP sockets of process ``pid`` (default: this one), sorted.

    Reads ``/proc/<pid>/fd`` and ``/proc/<pid>/net/{tcp,tcp6,udp,udp6}``; raises
    ``OSError`` where ``/proc`` is missing (not Linux). Client sockets (connected
    TCP/UDP) are left out: nobody else can open a connection to them.
    """
    inodes = _socket_inodes(pid)
    found: set[ListeningSocket] = set()
    for table, state in _TABLES.items():
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():  # a kernel without IPv6 has no tcp6/udp6 table
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != state or int(fields[9]) not in inodes:
                continue
            hex_address, hex_port = fields[1].split(":")
            found.add(ListeningSocket(table.rstrip("6"), _decode_address(hex_address), int(hex_port, 16)))
    return sorted(found)


def describe_listening(sockets: list[ListeningSocket]) -> str:
    """One line for a console: every socket with its reach, or that nothing listens."""
    if not sockets:
        return "listening on no network address"
    exposed = sum(not s.loopback_only for s in sockets)
    note = f" — {exposed} reachable from other machines unless a firewall or network namespace confines them"
    return "listening on " + ", ".join(map(str, sockets)) + (note if exposed else "")
