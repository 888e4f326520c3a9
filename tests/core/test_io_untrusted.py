"""Hostile or odd files given to read_session: a DataError naming the file, never a hang, traceback or wrong reading.

Cases from issue 16 (bad input, small inputs, silent wrong readings) and issue 12 (an annotation-only EDF).
EDFs are written here with edfio; BrainVision files with MNE's exporter.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest

from biosig.errors import DataError
from biosig.io import read_session
from biosig.session import Session

SFREQ = 256
WAVE = 50 * np.sin(np.arange(4 * SFREQ) / 10)  # in the file's unit; peak 50


def _edf(path: Path, signals: list[edfio.EdfSignal], annotations: list[edfio.EdfAnnotation] | None = None) -> Path:
    edfio.Edf(signals, annotations=annotations).write(path)
    return path


def _eeg_edf(path: Path, unit: str) -> Path:
    return _edf(
        path,
        [
            edfio.EdfSignal(WAVE, SFREQ, label="Fp1", physical_dimension=unit),
            edfio.EdfSignal(WAVE, SFREQ, label="Cz", physical_dimension="uV"),
        ],
    )


# --------------------------------------------------------------------------- start times out of range


@pytest.mark.parametrize("start", ["1e20", "-1e12", "-5"])
def test_e4_start_time_that_is_no_date(tmp_path: Path, start: str) -> None:
    (tmp_path / "EDA.csv").write_text(f"{start}\n4.0\n" + "0.5\n" * 20)
    with pytest.raises(DataError, match=r"EDA\.csv: start time .* is no unix time between 1970 and 9999"):
        read_session(tmp_path)


def test_e4_ibi_start_time_that_is_no_date(tmp_path: Path) -> None:
    (tmp_path / "EDA.csv").write_text("1600000000\n4.0\n" + "0.5\n" * 20)
    (tmp_path / "IBI.csv").write_text("1e300, IBI\n1.0, 0.8\n")
    with pytest.raises(DataError, match=r"IBI\.csv: start time 1e\+300 in row 1 is no unix time"):
        read_session(tmp_path)


def test_csv_date_time_in_year_9999(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("datetime,ECG\n9999-12-31T00:00:00,1\n9999-12-31T00:00:01,2\n9999-12-31T00:00:02,3\n")
    with pytest.raises(DataError, match=r"rec\.csv: time column 'datetime' has date-times outside the years 1677"):
        read_session(path)


# --------------------------------------------------------------------------- regular files only


def _read_bounded(path: Path, fifo: Path, seconds: float = 20.0) -> object:
    """read_session(path) in a thread: its Session or exception; fails the test if it blocks on ``fifo``."""
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(read_session(path))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    while reader.is_alive():  # give every blocked open() a writer, so the thread ends
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        reader.join(0.2)
    if len(outcome) != 1:
        pytest.fail("read_session did not finish")
    return outcome[0]


def test_named_pipe_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "rec.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    outcome = _read_bounded(fifo, fifo)
    assert time.monotonic() - started < 20, "read_session blocked on the named pipe"
    assert isinstance(outcome, DataError)
    assert str(fifo) in str(outcome) and "not a regular file" in str(outcome)


def test_named_pipe_among_e4_tags_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "EDA.csv").write_text("1600000000\n4.0\n" + "0.5\n" * 20)
    os.mkfifo(tmp_path / "tags.csv")
    started = time.monotonic()
    session = _read_bounded(tmp_path, tmp_path / "tags.csv")
    assert time.monotonic() - started < 20, "read_session blocked on the named pipe"
    assert isinstance(session, Session) and len(session.eda.annotations) == 0


# --------------------------------------------------------------------------- BrainVision files beside the header


@pytest.fixture
def brainvision(tmp_path: Path) -> Path:
    folder = tmp_path / "bv"
    folder.mkdir()
    raw = mne.io.RawArray(np.zeros((2, 500)), mne.create_info(["Fp1", "Cz"], 250.0, "eeg"), verbose="error")
    mne.export.export_raw(folder / "rec.vhdr", raw, fmt="brainvision", verbose="error")
    (tmp_path / "x.eeg").write_bytes(bytes(4000))
    return folder / "rec.vhdr"


@pytest.mark.parametrize(
    ("key", "value"),
    [("DataFile", "/etc/passwd"), ("DataFile", "../x.eeg"), ("DataFile", "sub\\rec.eeg"), ("MarkerFile", "/etc/passwd")],
)
def test_brainvision_files_must_sit_beside_the_header(brainvision: Path, key: str, value: str) -> None:
    assert read_session(brainvision).eeg.n_times == 500  # the untouched export reads
    own = "rec.eeg" if key == "DataFile" else "rec.vmrk"
    header = brainvision.with_name("evil.vhdr")
    header.write_text(brainvision.read_text().replace(f"{key}={own}", f"{key}={value}"))
    with pytest.raises(DataError, match=rf"evil\.vhdr: {key}=.* must name a regular file in the header's own folder"):
        read_session(header)


# --------------------------------------------------------------------------- EDF units, rates, annotation-only files


@pytest.mark.parametrize(("unit", "peak"), [("uV", 50e-6), ("mV", 50e-3), ("nV", 50e-9), ("V", 50.0)])
def test_edf_voltage_units_are_scaled_to_volts(tmp_path: Path, unit: str, peak: float) -> None:
    session = read_session(_eeg_edf(tmp_path / "rec.edf", unit))
    assert np.abs(session.eeg.get_data(picks=["Fp1"])).max() == pytest.approx(peak, rel=1e-3)


@pytest.mark.parametrize("stored", ["µV".encode("latin-1"), "µV".encode(), "μV".encode()], ids=str)
def test_edf_micro_sign_spellings_are_microvolts(tmp_path: Path, stored: bytes) -> None:
    path = _eeg_edf(tmp_path / "rec.edf", "uV")
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256].decode())
    at = 256 + 96 * n_signals  # Fp1's physical dimension: 8 bytes
    data[at : at + 8] = stored.ljust(8)
    path.write_bytes(bytes(data))
    assert np.abs(read_session(path).eeg.get_data(picks=["Fp1"])).max() == pytest.approx(50e-6, rel=1e-3)


@pytest.mark.parametrize("unit", ["kV", "furlong"])
def test_edf_unknown_unit_on_eeg_is_an_error(tmp_path: Path, unit: str) -> None:
    with pytest.raises(DataError, match=rf"rec\.edf: channel 'Fp1' \(EEG\) has physical unit '{unit}'"):
        read_session(_eeg_edf(tmp_path / "rec.edf", unit))


def test_edf_unknown_unit_on_other_channels_is_kept_with_a_warning(tmp_path: Path) -> None:
    signals = [
        edfio.EdfSignal(WAVE, SFREQ, label="Fp1", physical_dimension="uV"),
        edfio.EdfSignal(WAVE, SFREQ, label="Temp", physical_dimension="degC"),
    ]
    session = read_session(_edf(tmp_path / "rec.edf", signals), channel_types={"Temp": "temp"})
    assert np.abs(session.extra["temp"].get_data()).max() == pytest.approx(50, rel=1e-3)
    assert any("Temp (degC)" in w for w in session.info["warnings"])


def test_edf_signals_at_different_rates_are_resampled_with_a_warning(tmp_path: Path) -> None:
    signals = [
        edfio.EdfSignal(WAVE, SFREQ, label="Fp1", physical_dimension="uV"),
        edfio.EdfSignal(WAVE[::2], SFREQ / 2, label="ECG", physical_dimension="mV"),
    ]
    session = read_session(_edf(tmp_path / "rec.edf", signals))
    assert session.ecg.info["sfreq"] == SFREQ
    assert any("Fp1 256 Hz, ECG 128 Hz" in w and "resampled all to 256 Hz" in w for w in session.info["warnings"])


def test_edf_at_one_rate_has_no_rate_warning(tmp_path: Path) -> None:
    session = read_session(_eeg_edf(tmp_path / "rec.edf", "uV"))
    assert not any("sampling rates" in w for w in session.info["warnings"])


def test_annotation_only_edf_is_a_data_error(tmp_path: Path) -> None:
    stages = [edfio.EdfAnnotation(0, 30, "Sleep stage W"), edfio.EdfAnnotation(30, 30, "Sleep stage 1")]
    path = _edf(tmp_path / "SC4001EC-Hypnogram.edf", [], stages)
    with pytest.raises(DataError, match=r"SC4001EC-Hypnogram\.edf: has no signal channels, only \['EDF Annotations'\]"):
        read_session(path)


# --------------------------------------------------------------------------- CSV column names


@pytest.mark.parametrize(
    "text", ["time,ECG,ECG\n0,1,2\n0.5,1,2\n1.0,1,2\n", "time\tECG\tEDA\tECG\n0\t1\t2\t3\n0.5\t1\t2\t3\n"]
)
def test_csv_duplicate_column_names_are_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rec.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=r"rec\.csv: the header row has the column names \['ECG'\]"):
        read_session(path)


def test_duplicate_names_option_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("0,1,2\n0.5,1,2\n1.0,1,2\n")
    with pytest.raises(DataError, match=r"the list of channel names has the column names \['ECG'\] more than once"):
        read_session(path, names=["time", "ECG", "ECG"])
