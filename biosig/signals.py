"""Process signals for long-running commands: SIGTERM stops them as cleanly as Ctrl-C.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`, so ``finally``
blocks and ``with`` exits run: logs are closed, outlets withdrawn, caches
left consistent. SIGTERM (``kill PID``, ``systemctl stop``, a container
stop, a job scheduler's time limit) kills the process at once by default.
:func:`sigterm_as_interrupt` makes SIGTERM raise :class:`KeyboardInterrupt`
in the main thread too, so every command that handles Ctrl-C handles both.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`KeyboardInterrupt` in the main thread, as SIGINT does.

    The previous handler is restored on exit. Outside the main thread (where
    Python cannot install signal handlers) the block runs unchanged.

    Examples
    --------
    >>> with sigterm_as_interrupt():
    ...     pass  # a long loop; `kill PID` now leaves it through its finally blocks
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
