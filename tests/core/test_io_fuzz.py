"""Fuzzing the readers: truncated or byte-corrupted small EDF, XDF, CSV and E4 files.

Each corrupted file must either read or raise a :class:`biosig.errors.BiosigError`; nothing else
may escape, and no example may hang (an alarm turns a hang into a failure).
"""

from __future__ import annotations

import signal
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biosig.errors import BiosigError
from biosig.io import read_session
from tests.core.test_io_xdf import XdfStream, xdf_bytes

FUZZ = settings(
    max_examples=60,
    deadline=None,  # the alarm below bounds each example; a deadline would flake on a busy machine
    derandomize=True,  # the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_HANG_SECONDS = 30


@contextmanager
def _no_hang():
    def fail(signum, frame):
        raise TimeoutError(f"reader still running after {_HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(_HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _edf_bytes() -> bytes:
    rng = np.random.default_rng(0)
    info = mne.create_info(["Fp1", "Fp2", "ECG"], 64.0, ["eeg", "eeg", "ecg"])
    raw = mne.io.RawArray(rng.normal(0, 1e-5, (3, 128)), info, verbose="error")
    raw.set_annotations(mne.Annotations([0.5], [0.5], ["blink"]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rec.edf"
        mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")
        return path.read_bytes()


def _xdf_bytes() -> bytes:
    t = 10.0 + np.arange(64) / 32.0
    eeg = XdfStream(1, "Amp", "EEG", "float32", 32.0, t, np.ones((64, 2)), ["Fz", "Cz"], ["microvolts"] * 2,
                    clock_offsets=[(10.0, 0.5), (11.0, 0.5)])
    markers = XdfStream(2, "Ev", "Markers", "string", 0.0, np.array([10.5, 11.0]), [["a"], ["b"]])
    return xdf_bytes([eeg, markers], chunk_size=16)


def _csv_bytes() -> bytes:
    t = np.arange(40) / 20
    rows = "\n".join(f"{a:.3f},{b:.6f},{c:.6f}" for a, b, c in zip(t, np.sin(t), np.cos(t)))
    return ("time,ECG,EDA\n" + rows + "\n").encode()


SOURCES = {"rec.edf": _edf_bytes(), "rec.xdf": _xdf_bytes(), "rec.csv": _csv_bytes()}


@st.composite
def corruptions(draw: st.DrawFn, size: int) -> tuple[int, list[tuple[int, int]]]:
    """A length to cut to and bytes to overwrite (position, value)."""
    cut = draw(st.one_of(st.just(size), st.integers(0, size)))
    flips = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), max_size=6))
    return cut, flips


def _corrupt(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, value in flips:
        out[position] = value
    return bytes(out[:cut])


def _read_or_biosig_error(path: Path) -> None:
    with _no_hang(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_session(path)
        except BiosigError:
            pass


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_valid_sources_read(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(SOURCES[name])
    assert read_session(path).modalities()  # the fuzzing below starts from files that work


@pytest.mark.parametrize("name", sorted(SOURCES))
@FUZZ
@given(data=st.data())
def test_corrupted_files_read_or_raise_a_biosig_error(name: str, data: st.DataObject) -> None:
    cut, flips = data.draw(corruptions(len(SOURCES[name])))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(_corrupt(SOURCES[name], cut, flips))
        _read_or_biosig_error(path)


E4_EDA = b"1644226061.000000\n4.000000\n" + b"\n".join(b"%.6f" % v for v in np.linspace(0.1, 0.2, 30)) + b"\n"
E4_IBI = b"1644226061.000000, IBI\n2.5,0.75\n3.25,0.75\n"


@FUZZ
@given(data=st.data())
def test_corrupted_e4_folder_reads_or_raises_a_biosig_error(data: st.DataObject) -> None:
    eda_cut, eda_flips = data.draw(corruptions(len(E4_EDA)))
    ibi_cut, ibi_flips = data.draw(corruptions(len(E4_IBI)))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "EDA.csv").write_bytes(_corrupt(E4_EDA, eda_cut, eda_flips))
        (Path(folder) / "IBI.csv").write_bytes(_corrupt(E4_IBI, ibi_cut, ibi_flips))
        _read_or_biosig_error(Path(folder))
