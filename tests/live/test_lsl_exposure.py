"""What LSL exposes: the shipped configuration, this process's listening sockets, and the loopback namespace."""

from __future__ import annotations

import configparser
import errno
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from streaming.exposure import ListeningSocket, _decode_address, describe_listening, listening_sockets
from streaming.lslconfig import LOOPBACK_CONFIG
from tests.helpers import REPO_ROOT
from tests.live.netns_check import interface_names, namespace_problem

#: ``ioctl`` request reading an interface's IPv4 address (``<linux/sockios.h>``).
SIOCGIFADDR = 0x8915
NETNS = REPO_ROOT / "tests" / "netns.sh"


def local_addresses() -> list[str]:
    """Every IP address of every interface of this namespace (IPv4 by ioctl, IPv6 from /proc/net/if_inet6)."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in interface_names():
            try:
                reply = fcntl.ioctl(s, SIOCGIFADDR, struct.pack("256s", name.encode()))
            except OSError as exc:  # an interface without an IPv4 address
                assert exc.errno == errno.EADDRNOTAVAIL
                continue
            found.append(socket.inet_ntoa(reply[20:24]))
    inet6 = Path("/proc/net/if_inet6")
    if inet6.exists():
        for line in inet6.read_text().splitlines():
            found.append(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(line.split()[0])))
    return found


def test_the_only_network_interface_is_loopback():
    assert interface_names() == ["lo"]
    devices = [line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:]]
    assert devices == ["lo"]


def test_a_socket_on_all_interfaces_is_reachable_only_through_loopback():
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        port = server.getsockname()[1]
        assert ListeningSocket("tcp", "0.0.0.0", port) in listening_sockets()
        addresses = local_addresses()
        assert "127.0.0.1" in addresses
        # Every address the socket can be reached on is a loopback address: no other exists here.
        assert all(a.startswith("127.") or a == "::1" for a in addresses), addresses
        for address in (a for a in addresses if "." in a):
            with socket.create_connection((address, port), timeout=2):
                pass
    # And no route leaves the machine (TEST-NET-1 stands for any other host).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, pytest.raises(OSError) as refused:
        probe.connect(("192.0.2.1", 9))
    assert refused.value.errno == errno.ENETUNREACH


def test_outside_a_namespace_the_live_tests_fail_with_the_reason():
    exposed = namespace_problem(["eth0", "lo"], lo_up=True, netns_error="unshare -rn: Operation not permitted")
    assert exposed is not None
    assert "['eth0', 'lo']" in exposed and "unshare -rn: Operation not permitted" in exposed
    assert "tests/netns.sh" in exposed
    lo_down = namespace_problem(["lo"], lo_up=False, netns_error=None)
    assert lo_down is not None and "down" in lo_down
    assert namespace_problem(["lo"], lo_up=True, netns_error=None) is None


def test_netns_wrapper_runs_the_command_in_a_loopback_only_namespace():
    code = "import os, socket; print(sorted(n for _, n in socket.if_nameindex()), os.environ.get('BIOSIG_NETNS_ERROR'))"
    done = subprocess.run(["bash", str(NETNS), sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['lo'] None"


def test_netns_wrapper_without_unshare_still_runs_the_command_and_says_why(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id", "env"):  # everything the wrapper needs but unshare
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = {**os.environ, "PATH": str(bin_dir)}
    env.pop("BIOSIG_NETNS_ERROR", None)
    done = subprocess.run(["/bin/bash", str(NETNS), "env"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    assert "BIOSIG_NETNS_ERROR=unshare (util-linux) is not installed" in done.stdout
    assert "running outside a namespace" in done.stderr


def test_shipped_config_binds_the_discovery_responder_to_loopback():
    cfg = configparser.ConfigParser(comment_prefixes=(";", "#"))
    cfg.read(LOOPBACK_CONFIG)
    assert cfg["multicast"]["ListenAddress"].strip() == "127.0.0.1"


def test_an_outlet_listens_on_loopback_for_discovery_and_on_all_interfaces_for_data():
    import pylsl

    outlet = pylsl.StreamOutlet(pylsl.StreamInfo("biosig-test-exposure", "Test", 1, 10.0, pylsl.cf_float32, "expo"))
    xml = outlet.get_info().as_xml()
    data_port = int(xml.split("<v4data_port>")[1].split("<")[0])
    service_port = int(xml.split("<v4service_port>")[1].split("<")[0])
    sockets = listening_sockets()
    # The multicast responder (port 16571, liblsl's default MulticastPort) honours ListenAddress ...
    assert ListeningSocket("udp", "127.0.0.1", 16571) in sockets
    assert not any(s.port == 16571 and not s.loopback_only for s in sockets)
    # ... the data servers have no bind-address setting in liblsl 1.18: they stay on every interface.
    assert ListeningSocket("tcp", "0.0.0.0", data_port) in sockets
    assert ListeningSocket("udp", "0.0.0.0", service_port) in sockets
    assert "reachable from other machines" in describe_listening(sockets)
    del outlet


def test_listening_sockets_lists_listeners_and_bound_udp_but_not_clients():
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("0.0.0.0", 0))
        tcp_port, udp_port = tcp.getsockname()[1], udp.getsockname()[1]
        with socket.create_connection(("127.0.0.1", tcp_port), timeout=2) as client:
            client_port = client.getsockname()[1]
            sockets = listening_sockets()
        assert ListeningSocket("tcp", "127.0.0.1", tcp_port) in sockets
        assert ListeningSocket("udp", "0.0.0.0", udp_port) in sockets
        assert not any(s.port == client_port for s in sockets)
    assert not any(s.port in (tcp_port, udp_port) for s in listening_sockets())


def test_sockets_read_aloud():
    assert _decode_address("0100007F" if sys.byteorder == "little" else "7F000001") == "127.0.0.1"
    assert _decode_address("00000000000000000000000001000000" if sys.byteorder == "little" else "0" * 31 + "1") == "::1"
    assert str(ListeningSocket("tcp", "0.0.0.0", 16572)) == "tcp 0.0.0.0:16572 (all interfaces)"
    assert str(ListeningSocket("udp", "127.0.0.1", 16571)) == "udp 127.0.0.1:16571 (loopback only)"
    assert str(ListeningSocket("tcp", "::", 5)) == "tcp [::]:5 (all interfaces)"
    assert str(ListeningSocket("tcp", "10.1.2.3", 5)) == "tcp 10.1.2.3:5 (one interface)"
    assert describe_listening([ListeningSocket("udp", "127.0.0.1", 16571)]) == (
        "listening on udp 127.0.0.1:16571 (loopback only)"
    )
    assert describe_listening([]) == "listening on no network address"
