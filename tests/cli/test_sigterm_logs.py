"""SIGTERM stops the long-running commands cleanly; a prediction log survives SIGTERM and SIGKILL.

A subprocess runs the live commands' wrapper (:func:`biosig.commands._live.live_command`)
around a :class:`~streaming.prediction_log.PredictionLog` that has written rows, then
is killed: after SIGTERM the log is complete (the Parquet file readable), after
SIGKILL the rows written so far are readable from the journal beside it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest

from biosig.signals import sigterm_as_interrupt

WRITER = textwrap.dedent(
    """
    import sys, time
    from biosig.commands._live import live_command
    from streaming.online import WindowResult

    path = sys.argv[1]
    with live_command(None):
        from streaming.prediction_log import PredictionLog

        log = PredictionLog(path, batch=4)
        log.start()
        try:
            for i in range(10):
                values = {"valence": float(i), "arousal": 2.0 * i, "valence_confidence": 0.5, "arousal_confidence": 0.25}
                log.put(WindowResult(i, 0, 10.0 + i, 11.0 + i, values, 1.0))
            while log.written < 10:
                time.sleep(0.01)
            print("ready", flush=True)
            time.sleep(120)
        finally:
            log.close()
    """
)


def run_and_kill(path: Path, sig: signal.Signals) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    # The rows must be written within 90 s (imports on a loaded machine); otherwise the test fails, never hangs.
    watchdog = threading.Timer(90.0, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr.read()
        watchdog.cancel()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sigterm_stops_cleanly_and_the_log_is_complete(tmp_path, suffix):
    path = tmp_path / f"preds{suffix}"
    done = run_and_kill(path, signal.SIGTERM)
    assert done.returncode == 0, done.stderr
    assert "stopped" in done.stdout
    table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert table["window"].tolist() == list(range(10))
    assert table["arousal"].tolist() == [2.0 * i for i in range(10)]
    assert not list(tmp_path.glob("*.partial.csv"))  # the journal is gone once converted


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sigkill_leaves_the_rows_written_so_far_readable(tmp_path, suffix):
    path = tmp_path / f"preds{suffix}"
    done = run_and_kill(path, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    # CSV logs are appended and flushed per batch; Parquet logs journal to NAME.partial.csv until the clean stop.
    readable = path if suffix == ".csv" else path.with_name(path.name + ".partial.csv")
    table = pd.read_csv(readable)
    assert table["window"].tolist() == list(range(10))
    assert table["valence"].tolist() == [float(i) for i in range(10)]


def test_sigterm_as_interrupt_raises_keyboard_interrupt_and_restores_the_handler():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
