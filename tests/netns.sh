#!/usr/bin/env bash
# Run a command in a private network namespace whose only interface is loopback.
#
#   bash tests/netns.sh CMD [ARGS...]
#
# liblsl's data servers listen on every interface (see streaming/lsl_api.cfg); inside a fresh
# network namespace the only interface is `lo`, so nothing the command opens is reachable from
# another machine. The namespace is made with `unshare --net` when running as root (as CI does),
# else with `unshare -rn` (an unprivileged user namespace) where the kernel allows it; `lo` is
# brought up with `ip link set lo up`, or a Python ioctl where `ip` is missing.
# When no namespace can be made, CMD still runs (outside one) with BIOSIG_NETNS_ERROR set to the
# reason: the LSL tests (tests/live/conftest.py) then fail with that reason instead of running exposed.
set -u

if [ $# -eq 0 ]; then
    echo "usage: bash tests/netns.sh CMD [ARGS...]" >&2
    exit 2
fi

lo_up() {
    # Bring the loopback interface of the current namespace up; print why on failure.
    local why
    if command -v ip >/dev/null 2>&1; then
        why=$(ip link set lo up 2>&1) && return 0
    else
        why="ip not found"
    fi
    why="$why; $(python3 - 2>&1 <<'EOF'
import fcntl, socket, struct
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))[:18])[1]
    fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
EOF
)" && return 0
    echo "$why"
    return 1
}

if [ "${BIOSIG_NETNS_INNER:-}" = 1 ]; then
    # Second stage, inside the new namespace.
    unset BIOSIG_NETNS_INNER
    if ! why=$(lo_up); then
        export BIOSIG_NETNS_ERROR="in the new network namespace, lo could not be brought up: $why"
        echo "tests/netns.sh: $BIOSIG_NETNS_ERROR" >&2
    fi
    exec "$@"
fi

if ! command -v unshare >/dev/null 2>&1; then
    export BIOSIG_NETNS_ERROR="unshare (util-linux) is not installed, so no private network namespace can be made"
else
    if [ "$(id -u)" = 0 ]; then
        modes=("--net" "-rn")
    else
        modes=("-rn")
    fi
    reasons=""
    for mode in "${modes[@]}"; do
        if why=$(unshare "$mode" "$BASH" -c : 2>&1); then
            export BIOSIG_NETNS_INNER=1
            exec unshare "$mode" -- "$BASH" "$0" "$@"
        fi
        reasons="${reasons:+$reasons; }unshare $mode: ${why:-failed}"
    done
    export BIOSIG_NETNS_ERROR="no private network namespace could be made as uid $(id -u) ($reasons)"
fi
echo "tests/netns.sh: $BIOSIG_NETNS_ERROR; running outside a namespace" >&2
exec "$@"
