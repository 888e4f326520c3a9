"""The loopback-only liblsl configuration and how a process puts it in force.

liblsl reads its configuration once, at its first call, from the file named by
the ``LSLAPICFG`` environment variable. Every process of this project that
touches LSL (tests, benchmarks, examples, the CLI) calls
:func:`use_lsl_config` before importing or calling pylsl.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The configuration shipped with the package: machine-scoped discovery, its responder bound to
#: 127.0.0.1, loopback peers, no IPv6. liblsl still binds every outlet's data servers to all interfaces
#: (the file says why); :func:`streaming.exposure.listening_sockets` shows what a process listens on.
LOOPBACK_CONFIG: Path = Path(__file__).with_name("lsl_api.cfg")


def use_lsl_config(path: str | Path | None = None) -> Path:
    """Point liblsl at ``path`` (default: :data:`LOOPBACK_CONFIG`) via ``LSLAPICFG``.

    Must run before the process's first LSL call; raises ``FileNotFoundError``
    naming the file when it does not exist.
    """
    cfg = Path(path) if path is not None else LOOPBACK_CONFIG
    if not cfg.is_file():
        raise FileNotFoundError(f"LSL configuration file {cfg} does not exist")
    os.environ["LSLAPICFG"] = str(cfg.resolve())
    return cfg
