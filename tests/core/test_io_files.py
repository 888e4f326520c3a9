"""EDF + CSV session files: exact round trip, atomic writes, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import biosig.io.files as files
from biosig.datasets import SyntheticConfig, make_session
from biosig.errors import DataError
from biosig.io import read_session_files, write_session_files
from biosig.session import Session

# Subject 0 of seed 0 has a flat channel (F8): the EDF export must not lose the others' resolution.
CONFIG = SyntheticConfig(n_subjects=1, n_trials=2, baseline_seconds=6.0, stimulus_seconds=6.0)


@pytest.fixture(scope="module")
def session() -> Session:
    return make_session(0, CONFIG)


@pytest.fixture
def folder(tmp_path: Path, session: Session) -> Path:
    write_session_files(session, tmp_path)
    return tmp_path


def _edit_lines(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _set_cell(lines: list[str], row: int, column: int, value: str) -> list[str]:
    """CSV lines with one cell replaced; ``row`` counts data rows from 0 (line ``row + 2`` of the file)."""
    cells = lines[row + 1].split(",")
    cells[column] = value
    return [*lines[: row + 1], ",".join(cells), *lines[row + 2 :]]


def test_write_returns_the_four_files_and_leaves_no_temporaries(tmp_path: Path, session: Session) -> None:
    paths = write_session_files(session, tmp_path / "new")
    assert {k: p.name for k, p in paths.items()} == {
        "eeg": "S01_eeg.edf",
        "ecg": "S01_ecg.csv",
        "eda": "S01_eda.csv",
        "trials": "S01_trials.csv",
    }
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(p.name for p in paths.values())
    header = (tmp_path / "new" / "S01_ecg.csv").read_text().splitlines()[0]
    assert header == "time,ECG1,ECG2"


def test_round_trip(folder: Path, session: Session) -> None:
    back = read_session_files(folder, "S01")
    assert back.subject == "S01"
    pd.testing.assert_frame_equal(back.trials, session.trials)

    eeg, orig = back.eeg, session.eeg
    assert eeg.ch_names == orig.ch_names and eeg.get_channel_types() == orig.get_channel_types()
    assert eeg.info["sfreq"] == orig.info["sfreq"] and eeg.n_times == orig.n_times
    data, want = eeg.get_data(), orig.get_data()
    span = np.ptp(want, axis=1, keepdims=True)
    assert np.all(np.abs(data - want) < 1e-3 * span)  # 16-bit EDF quantisation, per-channel range
    pos, want_pos = eeg.get_montage().get_positions()["ch_pos"], orig.get_montage().get_positions()["ch_pos"]
    for ch in orig.ch_names:
        np.testing.assert_allclose(pos[ch], want_pos[ch])

    for name in ("ecg", "eda"):
        raw, ref = getattr(back, name), getattr(session, name)
        assert raw.ch_names == ref.ch_names and raw.get_channel_types() == ref.get_channel_types()
        assert raw.info["sfreq"] == ref.info["sfreq"]
        np.testing.assert_allclose(raw.get_data(), ref.get_data(), rtol=1e-9, atol=0)

    for raw in back.modalities().values():
        assert list(raw.annotations.description) == list(orig.annotations.description)
        np.testing.assert_allclose(raw.annotations.onset - raw.first_time, orig.annotations.onset, atol=1e-6)
        np.testing.assert_allclose(raw.annotations.duration, orig.annotations.duration, atol=1e-6)


def test_edf_record_padding_is_cropped(tmp_path: Path, session: Session) -> None:
    # 10 samples short of a whole second: EDF export pads the last data record.
    eeg = session.eeg.copy().crop(tmax=(session.eeg.n_times - 11) / session.eeg.info["sfreq"])
    short = Session(subject="S09", eeg=eeg, trials=session.trials, ecg=session.ecg, eda=session.eda)
    back = read_session_files(write_session_files(short, tmp_path)["eeg"].parent, "S09")
    assert back.eeg.n_times == eeg.n_times
    assert "BAD_ACQ_SKIP" not in back.eeg.annotations.description


@pytest.mark.parametrize("block_rows", [7, 16384])
def test_signal_csv_is_byte_identical_to_savetxt(
    tmp_path: Path, session: Session, monkeypatch: pytest.MonkeyPatch, block_rows: int
) -> None:
    # 7 rows per block: many blocks and a partial last one; 16384: the whole recording in one block.
    monkeypatch.setattr(files, "_CSV_BLOCK_ROWS", block_rows)
    for name in ("ecg", "eda"):
        raw = getattr(session, name)
        files._write_signal_csv(raw, tmp_path / f"{name}.csv")
        table = np.column_stack([np.arange(raw.n_times) / raw.info["sfreq"], raw.get_data().T])
        fmt = ["%.9f"] + ["%.10g"] * len(raw.ch_names)
        header = ",".join(["time", *raw.ch_names])
        np.savetxt(tmp_path / f"{name}_ref.csv", table, fmt=fmt, delimiter=",", header=header, comments="")
        assert (tmp_path / f"{name}.csv").read_bytes() == (tmp_path / f"{name}_ref.csv").read_bytes()


def test_rewrite_replaces_files(folder: Path, session: Session) -> None:
    write_session_files(session, folder)
    assert len(list(folder.iterdir())) == 4
    read_session_files(folder, "S01")


def test_failed_write_keeps_the_old_file(folder: Path, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (folder / "S01_ecg.csv").read_bytes()

    def broken(raw, path: Path) -> None:
        path.write_text("time,ECG1\n0.0,")
        raise OSError("disk full")

    monkeypatch.setattr(files, "_write_signal_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_session_files(session, folder)
    assert (folder / "S01_ecg.csv").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_optional_modalities(folder: Path) -> None:
    (folder / "S01_ecg.csv").unlink()
    back = read_session_files(folder, "S01", modalities=("eda",))
    assert back.ecg is None and back.eda is not None


@pytest.mark.parametrize("name", ["S01_eeg.edf", "S01_ecg.csv", "S01_eda.csv", "S01_trials.csv"])
def test_missing_file(folder: Path, name: str) -> None:
    (folder / name).unlink()
    with pytest.raises(DataError, match=rf"{name}: file is missing"):
        read_session_files(folder, "S01")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda lines: lines[:100] + lines[101:], "irregular"),  # a dropped sample
        (lambda lines: ["t" + lines[0][4:], *lines[1:]], "expected a 'time' column"),
        (lambda lines: _set_cell(lines, 5, 0, ""), "column 'time'"),
        (lambda lines: _set_cell(lines, 7, 2, "abc"), r"column 'ECG2' has 1 empty or non-numeric cells \(lines \[9\]"),
        (lambda lines: [lines[0], *lines[2:]], "must start at 0 s"),
        (lambda lines: lines[:2], "at least 2 samples"),
    ],
    ids=["irregular", "no-time-column", "time-nan", "channel-nan", "late-start", "one-sample"],
)
def test_bad_csv_is_a_data_error_naming_the_file(folder: Path, edit, message: str) -> None:
    _edit_lines(folder / "S01_ecg.csv", edit)
    with pytest.raises(DataError, match=message) as err:
        read_session_files(folder, "S01")
    assert "S01_ecg.csv" in str(err.value)


def test_corrupt_edf_is_a_data_error(folder: Path) -> None:
    (folder / "S01_eeg.edf").write_bytes(b"not an EDF file" * 20)
    with pytest.raises(DataError, match="S01_eeg.edf: cannot read EDF"):
        read_session_files(folder, "S01")


def test_bad_trial_table_is_a_data_error(folder: Path) -> None:
    table = pd.read_csv(folder / "S01_trials.csv").drop(columns="arousal")
    table.to_csv(folder / "S01_trials.csv", index=False)
    with pytest.raises(DataError, match=r"S01_trials.csv: bad trial table .*arousal"):
        read_session_files(folder, "S01")


def test_unknown_modality_is_rejected(folder: Path) -> None:
    with pytest.raises(DataError, match="unknown modalities"):
        read_session_files(folder, "S01", modalities=("ecg", "emg"))
