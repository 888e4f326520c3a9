"""Wearable exports and plain tables: Empatica E4 folders, CSV/TXT/Parquet recordings with documented options.

Real data under ../shared/data/: Stress-Predict (italha-d/Stress-Predict-Dataset, MIT) E4 export of S01;
NeuroKit2 example data (MIT); HeartPy example data (MIT); BioSPPy OpenSignals examples (BSD-3-Clause).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import SHARED_DATA
from biosig.errors import ConfigError, DataError
from biosig.io import read_session

DATA = SHARED_DATA
E4_S01 = DATA / "stress-predict-e4" / "Raw_data" / "S01"
E4_START = 1644226061.0  # row 1 of every S01 sensor file but HR.csv


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def e4_session():
    return read_session(E4_S01)


def test_real_e4_export_rates_units_and_clock(e4_session) -> None:
    s = e4_session
    assert s.subject == "S01" and s.eeg is None and s.ecg is None and s.trials.empty
    assert s.info["source"] == "empatica-e4"
    assert s.info["clock_origin_s"] == E4_START
    assert s.eda.info["meas_date"] == datetime.fromtimestamp(E4_START, tz=timezone.utc)
    rates = {k: raw.info["sfreq"] for k, raw in s.modalities().items()}
    assert rates == {"eda": 4.0, "bvp": 64.0, "temp": 4.0, "hr": 1.0, "acc": 32.0}
    assert s.eda.n_times == 13032 and s.extra["bvp"].n_times == 208703 and s.extra["acc"].n_times == 104310

    eda_file = np.loadtxt(E4_S01 / "EDA.csv")[2:]  # µS
    np.testing.assert_allclose(s.eda.get_data()[0], eda_file * 1e-6)
    assert s.eda.get_channel_types() == ["gsr"]
    acc_file = np.loadtxt(E4_S01 / "ACC.csv", delimiter=",")[2:]  # 1/64 g
    np.testing.assert_allclose(s.extra["acc"].get_data().T, acc_file / 64 * 9.80665)
    assert s.extra["acc"].ch_names == ["ACC_X", "ACC_Y", "ACC_Z"]
    assert s.extra["temp"].get_channel_types() == ["temperature"]


def test_real_e4_heart_rate_starts_ten_seconds_late(e4_session) -> None:
    hr = e4_session.extra["hr"]
    hr_file = np.loadtxt(E4_S01 / "HR.csv")
    assert hr_file[0] == E4_START + 10
    data = hr.get_data()[0]
    assert np.isnan(data[:10]).all()
    np.testing.assert_allclose(data[10:], hr_file[2:])
    skips = [(o, d) for o, d, desc in zip(hr.annotations.onset, hr.annotations.duration, hr.annotations.description) if desc == "BAD_ACQ_SKIP"]
    assert skips == [(0.0, 10.0)]


def test_real_e4_tags_and_inter_beat_intervals(e4_session) -> None:
    eda = e4_session.eda
    ann = eda.annotations
    tags = np.loadtxt(E4_S01 / "tags_S01.csv")
    np.testing.assert_allclose(ann.onset[ann.description == "tag"], tags - E4_START)
    ibi = np.loadtxt(E4_S01 / "IBI.csv", delimiter=",", skiprows=1)  # time after start, interval (s)
    onsets, durations = ann.onset[ann.description == "IBI"], ann.duration[ann.description == "IBI"]
    assert len(onsets) == len(ibi) == 1260
    np.testing.assert_allclose(onsets, ibi[:, 0] - ibi[:, 1])
    np.testing.assert_allclose(durations, ibi[:, 1])


def _e4_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "EDA.csv").write_text("1000.000000\n4.000000\n" + "\n".join(["0.5"] * 40) + "\n")
    (folder / "BVP.csv").write_text("1000\n64\n" + "\n".join(["1.5"] * 640) + "\n")
    (folder / "ACC.csv").write_text("1000.0, 1000.0, 1000.0\n32.0, 32.0, 32.0\n" + "\n".join(["1,2,64"] * 320) + "\n")
    (folder / "IBI.csv").write_text("1000.000000, IBI\n2.5,0.75\n3.25,0.75\n")
    (folder / "tags.csv").write_text("")
    return folder


def test_written_e4_folder(tmp_path: Path) -> None:
    session = read_session(_e4_folder(tmp_path / "P3"))
    assert session.subject == "P3"
    assert session.eda.get_data()[0, 0] == pytest.approx(0.5e-6)
    np.testing.assert_allclose(session.extra["acc"].get_data()[:, 0], np.array([1, 2, 64]) / 64 * 9.80665)
    ibi = session.eda.annotations
    np.testing.assert_allclose(ibi.onset, [1.75, 2.5]) and np.testing.assert_allclose(ibi.duration, [0.75, 0.75])


def test_e4_header_only_file_is_dropped(tmp_path: Path) -> None:
    folder = _e4_folder(tmp_path / "P3")
    (folder / "TEMP.csv").write_text("1000.000000\n4.000000\n")
    session = read_session(folder)
    assert "temp" not in session.extra
    assert any("TEMP.csv: fewer than 2 samples; dropped" in w for w in session.info["warnings"])


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("ACC.csv", "1000, 1000\n32, 32\n1,2\n", r"ACC.csv: 2 columns where an E4 ACC.csv has 3"),
        ("ACC.csv", "1000, 1001, 1000\n32, 32, 32\n1,2,3\n", r"ACC.csv: the columns disagree on the start time"),
        ("EDA.csv", "1000\n4\n0.5\nabc\n0.5\n", r"EDA.csv: 1 empty or non-numeric cells \(first at line 4, column 1: 'abc'\)"),
        ("EDA.csv", "1000\n0\n0.5\n0.5\n", r"EDA.csv: sampling rate 0.0 Hz in row 2 is not positive"),
        ("IBI.csv", "1000, IBI, x\n2.5,0.75,3\n", r"IBI.csv: 3 columns where an E4 IBI.csv has 2"),
        ("IBI.csv", "1000, IBI\n2.5,0.75,3\n", r"IBI.csv: cannot parse CSV"),
        ("IBI.csv", "1000, IBI\n2.5,x\n", r"IBI.csv: line 2 is not numeric"),
    ],
)
def test_bad_e4_files_are_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    folder = _e4_folder(tmp_path / "P3")
    (folder / name).write_text(text)
    with pytest.raises(DataError, match=message):
        read_session(folder)


# --------------------------------------------------------------------------- tables


def test_neurokit_csv_with_sfreq_and_units() -> None:
    path = DATA / "neurokit2" / "bio_eventrelated_100hz.csv"
    session = read_session(path, sfreq=100, units={"EDA": "uS", "ECG": "mV"})
    table = pd.read_csv(path)
    assert session.ecg.info["sfreq"] == 100 and session.ecg.n_times == 15000
    np.testing.assert_allclose(session.ecg.get_data()[0], table["ECG"] * 1e-3)
    np.testing.assert_allclose(session.eda.get_data()[0], table["EDA"] * 1e-6)
    assert session.extra["resp"].ch_names == ["RSP"] and session.extra["resp"].get_channel_types() == ["resp"]
    assert session.extra["misc"].ch_names == ["Photosensor"]


def test_csv_without_time_column_needs_sfreq() -> None:
    with pytest.raises(DataError, match=r"bio_resting_5min_100hz.csv: no time column .* pass time_column= or sfreq="):
        read_session(DATA / "neurokit2" / "bio_resting_5min_100hz.csv")


def test_heartpy_millisecond_timer() -> None:
    path = DATA / "heartpy" / "data2.csv"
    session = read_session(path, time_column="timer", time_unit="ms", channel_types={"hr": "ppg"})
    timer = pd.read_csv(path)["timer"].to_numpy()
    bvp = session.extra["bvp"]
    assert bvp.info["sfreq"] == pytest.approx(1000 * (len(timer) - 1) / (timer[-1] - timer[0]), rel=1e-6)
    assert bvp.get_channel_types() == ["bio"] and bvp.n_times == 15000


def test_heartpy_coarse_clock_needs_dejitter() -> None:
    path = DATA / "heartpy" / "data3.csv"
    with pytest.raises(DataError, match=r"data3.csv: the time column repeats or goes back: .*dejitter=True"):
        read_session(path)
    session = read_session(path, dejitter=True, channel_types={"hr": "bvp"})
    stamps = pd.to_datetime(pd.read_csv(path)["datetime"], format="mixed")
    span = (stamps.iloc[-1] - stamps.iloc[0]).total_seconds()
    # 68476 samples in 681.9 s: ~100 Hz, the clock ticks every 15.6 ms
    assert session.extra["bvp"].info["sfreq"] == pytest.approx((len(stamps) - 1) / span, rel=0.01)
    assert session.extra["bvp"].info["meas_date"].year == 2016


def test_headerless_file_gets_names() -> None:
    path = DATA / "heartpy" / "data.csv"
    session = read_session(path, sfreq=100, names=["PPG"])
    np.testing.assert_allclose(session.extra["bvp"].get_data()[0], np.loadtxt(path))
    raw = read_session(DATA / "neurokit2" / "eeg.txt", sfreq=150).extra["misc"]
    assert raw.ch_names == ["CH1"] and raw.n_times == np.loadtxt(DATA / "neurokit2" / "eeg.txt").size


def test_opensignals_text_gives_rate_and_labels() -> None:
    session = read_session(DATA / "biosppy" / "ecg.txt")
    assert session.ecg.info["sfreq"] == 1000 and session.ecg.ch_names == ["ECG"]
    np.testing.assert_allclose(session.ecg.get_data()[0], np.loadtxt(DATA / "biosppy" / "ecg.txt"))
    acc = read_session(DATA / "biosppy" / "acc.txt").extra["acc"]
    assert acc.ch_names == ["acc_x", "acc_y", "acc_z"] and acc.info["sfreq"] == 100


def test_parquet_with_time_column(tmp_path: Path) -> None:
    t = np.arange(500) / 250
    table = pd.DataFrame({"time": t, "ECG": np.sin(2 * np.pi * t), "EDA": 1e-6 + 0 * t})
    path = tmp_path / "rec.parquet"
    table.to_parquet(path)
    session = read_session(path)
    assert session.ecg.info["sfreq"] == 250
    np.testing.assert_array_equal(session.ecg.get_data()[0], table["ECG"])
    np.testing.assert_array_equal(session.eda.get_data()[0], table["EDA"])


def test_irregular_time_column_is_resampled_only_on_request(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 10, 300))
    path = tmp_path / "rec.csv"
    pd.DataFrame({"time": t, "EDA": 2.0 + 0.5 * t}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"rec.csv: the time column is irregular: step .* at data row \d+ .*pass sfreq="):
        read_session(path)
    eda = read_session(path, sfreq=8).eda
    grid = t[0] + np.arange(eda.n_times) / 8
    np.testing.assert_allclose(eda.get_data()[0], 2.0 + 0.5 * grid, rtol=1e-12)  # a line: exact
    assert grid[-1] <= t[-1] < grid[-1] + 1 / 8


@pytest.mark.parametrize(
    "text, options, error, message",
    [
        ("time,ECG\n0,1\n0.01,2\n0.01,3\n0.03,4\n", {"sfreq": 100}, DataError, r"repeats or goes back at data row 3"),
        ("time,ECG\n0,1\n0.01,x\n0.02,3\n", {}, DataError, r"column 'ECG' has 1 empty or non-numeric cells \(first at data row 2: 'x'\)"),
        ("time,ECG\n0,1\n,2\n0.02,3\n", {}, DataError, r"time column 'time' has empty or non-numeric cells at data rows \[2\]"),
        ("time,ECG\n0,1\n", {}, DataError, r"need at least 2 samples"),
        ("time,ECG\n0,1\n0.01,2\n", {"time_unit": "min"}, ConfigError, r"time_unit='min'"),
        ("time,ECG\n0,1\n0.01,2\n", {"units": {"ECG": "furlong"}}, ConfigError, r"units\['ECG'\] = 'furlong'"),
        ("time,ECG\n0,1\n0.01,2\n", {"sfreq": 50}, DataError, r"regular at 100 Hz but sfreq=50"),
        ("time\n0\n0.01\n", {}, DataError, r"no channel column"),
        ("a,b\n1,2\n3\n4,5,6,7\n", {"sfreq": 10}, DataError, r"cannot parse the table"),
    ],
    ids=["duplicate-times", "bad-cell", "bad-time", "one-sample", "bad-unit", "unknown-unit", "rate-conflict", "no-channel", "ragged"],
)
def test_bad_tables_are_named(tmp_path: Path, text: str, options: dict, error: type, message: str) -> None:
    path = tmp_path / "rec.csv"
    path.write_text(text)
    with pytest.raises(error, match=message) as err:
        read_session(path, **options)
    if error is DataError:
        assert "rec.csv" in str(err.value)
