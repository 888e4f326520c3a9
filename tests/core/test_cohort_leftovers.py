"""Leftovers of killed runs: the ``.tmp-*`` session files a run killed while writing the cohort's data files
leaves are removed by the next run once stale, and files still being written are left alone."""

import os
import signal
import subprocess
import sys
import time

from tests.helpers import REPO_ROOT
from biosig.cohort import STALE_TEMPORARY_FILE_S, SyntheticSource, process_cohort, remove_stale_temporary_files
from biosig.config import config_from_dict
from biosig.datasets.synthetic import SyntheticConfig

SYNTH = {"n_subjects": 1, "n_trials": 2, "baseline_seconds": 8, "stimulus_seconds": 10}
TINY = {"source": {"synthetic": SYNTH, "via_files": False}, "features": {"peripheral": False}}


def test_only_stale_temporary_files_are_removed(tmp_path):
    now = time.time()
    stale = tmp_path / ".tmp-0123456789ab-S01_eeg.edf"
    in_use = tmp_path / ".tmp-ba9876543210-S02_eeg.edf"
    finished = tmp_path / "S01_eeg.edf"
    for path in (stale, in_use, finished):
        path.write_bytes(b"x")
    os.utime(stale, (now - 60, now - 60))
    os.utime(finished, (now - 60, now - 60))
    assert remove_stale_temporary_files(tmp_path, before=now - STALE_TEMPORARY_FILE_S) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([in_use.name, finished.name])
    assert remove_stale_temporary_files(tmp_path / "missing", before=now) == []


# The child writes S01's session files and is killed while the EEG file is half written.
_KILLED_WRITE = """
import pathlib, sys, time
import biosig.io.files as files
from biosig.cohort import SyntheticSource
from biosig.datasets.synthetic import SyntheticConfig

folder, marker, synth = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), eval(sys.argv[3])
write_edf = files._write_edf

def write_then_hang(raw, path):
    write_edf(raw, path)
    marker.touch()
    time.sleep(600)

files._write_edf = write_then_hang
SyntheticSource(0, SyntheticConfig(**synth), folder)()
"""


def test_the_next_run_removes_what_a_run_killed_while_writing_session_files_left(tmp_path):
    data, marker = tmp_path / "data", tmp_path / "writing"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITE, str(data), str(marker), repr(SYNTH)], cwd=REPO_ROOT
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the child ended before writing"
            assert time.monotonic() < deadline, "the child never wrote the EEG file"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    (leftover,) = data.glob(".tmp-*")
    assert leftover.name.endswith("S01_eeg.edf")
    # The next run starts later than STALE_TEMPORARY_FILE_S after the kill.
    old = time.time() - 2 * STALE_TEMPORARY_FILE_S
    os.utime(leftover, (old, old))

    source = SyntheticSource(0, SyntheticConfig(**SYNTH), data)
    run = process_cohort([source], config_from_dict(TINY), tmp_path / "cache")
    assert str(leftover) in run.summary()["removed_temporary"]
    assert list(data.glob(".tmp-*")) == [] and (data / "S01_eeg.edf").is_file()
