"""read_session on MNE formats and the package's own files: names, types, montage, events, trials, dispatch.

Real data: PhysioNet EEG During Mental Arithmetic Tasks (eegmat 1.0.0; Zyma et al. 2019, ODC-By 1.0),
Subject00_2.edf, from ../shared/data/physionet-eegmat/.
"""

from __future__ import annotations

import struct
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
from scipy.io import loadmat, savemat

from tests.helpers import SHARED_DATA
from biosig.datasets import SyntheticConfig, make_session
from biosig.errors import BiosigError, ConfigError, DataError
from biosig.io import read_session, read_session_files, write_session_files
from biosig.io.channels import infer_modality, normalise_name
from biosig.io.read import SUPPORTED_FORMATS, detect_format
from biosig.montage import standard_montage

DATA = SHARED_DATA
EEGMAT = DATA / "physionet-eegmat" / "Subject00_2.edf"

# Stored names as other labs write them -> what the session must call them.
NAMES = ["EEG Fp1-REF", "FP2", "EEG AF3", "Cz", "ECG ECG", "GSR"]
WANT_EEG = ["Fp1", "Fp2", "AF3", "Cz"]
SFREQ = 128.0
SECONDS = 8.0


def _source_raw() -> mne.io.RawArray:
    """EEG-typed channels only (as EDF/BrainVision store them): types must come from the names."""
    rng = np.random.default_rng(3)
    n = int(SFREQ * SECONDS)
    data = np.vstack(
        [
            rng.normal(0, 10e-6, (4, n)),  # EEG, V
            rng.normal(0, 1e-3, (1, n)),  # ECG, V
            5e-6 + rng.normal(0, 0.1e-6, (1, n)),  # EDA, S
        ]
    )
    raw = mne.io.RawArray(data, mne.create_info(NAMES, SFREQ, "eeg"), verbose="error")
    raw.set_annotations(
        mne.Annotations([0.5, 2.0, 4.5, 5.0, 7.0], [1.5, 2.0, 0.5, 2.5, 0.0], ["baseline/T01", "stimulus/T01", "baseline/T02", "stimulus/T02", "blink"])
    )
    return raw


def _write_bdf(raw: mne.io.BaseRaw, path: Path) -> Path:
    """A BDF file written by hand from the BioSemi spec: 24-bit samples, 1 s records, 0.001 µV per step."""
    ns, sfreq = len(raw.ch_names), int(raw.info["sfreq"])
    n_records = raw.n_times // sfreq
    field = lambda value, width: str(value).ljust(width)[:width].encode("ascii")  # noqa: E731
    head = b"\xffBIOSEMI" + field("X", 80) + field("X", 80) + field("01.01.24", 8) + field("00.00.00", 8)
    head += field(256 * (ns + 1), 8) + field("24BIT", 44) + field(n_records, 8) + field(1, 8) + field(ns, 4)
    columns = [
        [field(name, 16) for name in raw.ch_names],
        [field("", 80)] * ns,
        [field("uV", 8)] * ns,
        [field(-8000, 8)] * ns,  # physical range in µV over the digital range: exactly 0.001 µV per step
        [field(8000, 8)] * ns,
        [field(-8000000, 8)] * ns,
        [field(8000000, 8)] * ns,
        [field("", 80)] * ns,
        [field(sfreq, 8)] * ns,
        [field("", 32)] * ns,
    ]
    head += b"".join(b"".join(col) for col in columns)
    digital = np.clip(np.round(raw.get_data() * 1e9), -8000000, 8000000).astype("<i4")  # V -> 0.001 µV steps
    body = bytearray()
    for r in range(n_records):
        for ch in range(ns):
            samples = digital[ch, r * sfreq : (r + 1) * sfreq]
            body += b"".join(struct.pack("<i", int(v))[:3] for v in samples)
    path.write_bytes(head + bytes(body))
    return path


def _write(fmt: str, raw: mne.io.BaseRaw, folder: Path) -> Path:
    if fmt == "fif":
        path = folder / "rec_raw.fif"
        raw.save(path, overwrite=True, verbose="error")
        return path
    if fmt == "bdf":
        return _write_bdf(raw, folder / "rec.bdf")
    suffix = {"edf": ".edf", "brainvision": ".vhdr", "eeglab": ".set"}[fmt]
    path = folder / f"rec{suffix}"
    extra = {"physical_range": "channelwise"} if fmt == "edf" else {}  # 16 bit: each channel its own range
    mne.export.export_raw(path, raw, fmt=fmt, overwrite=True, verbose="error", **extra)
    return path


RATINGS = pd.DataFrame({"trial": [2, 1], "valence": [4, 2], "arousal": [3, 5], "dominance": [1, 2]})


@pytest.mark.parametrize(
    "stored, want",
    [
        ("EEG Fp1-REF", "Fp1"),
        ("FP1", "Fp1"),
        ("Fp1", "Fp1"),
        ("EEG AF3", "AF3"),
        ("Fc5.", "FC5"),
        ("EEG T3-LE", "T3"),
        ("fpz", "Fpz"),
        ("ECG ECG", "ECG"),
        ("EEG A2-A1", "A2-A1"),
        ("Photosensor", "Photosensor"),
    ],
)
def test_name_variants_map_to_the_montage_spelling(stored: str, want: str) -> None:
    assert normalise_name(stored) == want


@pytest.mark.parametrize(
    "name, declared, want",
    [
        ("EEG Fp1-REF", None, "eeg"),
        ("O2", None, "eeg"),
        ("ECG ECG", "EEG", "ecg"),
        ("EEG EKG1-REF", "EEG", "ecg"),
        ("GSR", "EEG", "eda"),
        ("vEOG", None, "eog"),
        ("RSP", None, "resp"),
        ("PPG", None, "bvp"),
        ("TRG", "EEG", "stim"),
        ("Status", None, "stim"),
        ("S1", "EEG", "eeg"),  # declared EEG, no montage position: plan_channels demotes it
        ("Fp1", "misc", "misc"),  # the file says misc: believed over the montage
        ("Photosensor", None, "misc"),
        ("ch:00", "misc", "misc"),
    ],
)
def test_modality_inference(name: str, declared: str | None, want: str) -> None:
    assert infer_modality(name, declared) == want


@pytest.mark.parametrize("fmt", ["edf", "bdf", "brainvision", "eeglab", "fif"])
def test_mne_formats_become_a_session(tmp_path: Path, fmt: str) -> None:
    raw = _source_raw()
    path = _write(fmt, raw, tmp_path)
    has_annotations = fmt != "bdf"  # the hand-written BDF has no annotation channel
    session = read_session(path, ratings=RATINGS if has_annotations else None, subject="P07")

    assert session.subject == "P07" and session.info["source"] == "mne"
    assert session.eeg.ch_names == WANT_EEG and set(session.eeg.get_channel_types()) == {"eeg"}
    assert session.ecg.ch_names == ["ECG"] and session.ecg.get_channel_types() == ["ecg"]
    assert session.eda.ch_names == ["GSR"] and session.eda.get_channel_types() == ["gsr"]
    assert session.extra == {}
    for modality, rows in (("eeg", slice(0, 4)), ("ecg", slice(4, 5)), ("eda", slice(5, 6))):
        got = getattr(session, modality)
        assert got.info["sfreq"] == SFREQ and got.n_times == raw.n_times
        want = raw.get_data()[rows]
        tolerance = 1e-3 * np.ptp(want, axis=1, keepdims=True)  # 16-bit EDF / 24-bit BDF / float32 quantisation
        assert np.all(np.abs(got.get_data() - want) <= tolerance)

    reference = mne.io.RawArray(np.zeros((4, 1)), mne.create_info(WANT_EEG, SFREQ, "eeg"), verbose="error")
    reference.set_montage(standard_montage())
    np.testing.assert_allclose(session.eeg._get_channel_positions(), reference._get_channel_positions())

    if has_annotations:
        descriptions = list(session.ecg.annotations.description)
        assert any(d.endswith("blink") for d in descriptions)  # BrainVision stores it as "Comment/blink"  # annotations that are not trials stay as events
        trials = session.trials
        assert trials["trial"].tolist() == [1, 2]
        np.testing.assert_allclose(trials["baseline_onset"], [0.5, 4.5], atol=1 / SFREQ)
        np.testing.assert_allclose(trials["stimulus_duration"], [2.0, 2.5], atol=1 / SFREQ)
        assert trials["valence"].tolist() == [2, 4] and trials["arousal"].tolist() == [5, 3]


def test_bdf_values_match_the_hand_encoded_samples(tmp_path: Path) -> None:
    raw = _source_raw()
    session = read_session(_write_bdf(raw, tmp_path / "rec.bdf"))
    # one digital step is 1 nV: the independent encoder above rounds to it
    np.testing.assert_allclose(session.eeg.get_data(), raw.get_data()[:4], atol=0.51e-9, rtol=0)
    assert session.trials.empty


def test_channel_types_override(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    session = read_session(path, channel_types={"GSR": "misc", "Cz": "eog"})
    assert session.eda is None and session.extra["misc"].ch_names == ["GSR"]
    assert session.extra["eog"].ch_names == ["Cz"] and session.extra["eog"].get_channel_types() == ["eog"]
    assert session.eeg.ch_names == ["Fp1", "Fp2", "AF3"]
    # the stored name works as a key too
    assert read_session(path, channel_types={"EEG AF3": "misc"}).extra["misc"].ch_names == ["AF3"]


def test_bad_channel_types_are_named(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    with pytest.raises(DataError, match=r"rec.edf: channel_types names channels \['X9'\]"):
        read_session(path, channel_types={"X9": "ecg"})
    with pytest.raises(ConfigError, match=r"channel_types\['GSR'\] = 'skin'"):
        read_session(path, channel_types={"GSR": "skin"})


def test_trials_need_ratings(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    session = read_session(path)
    assert session.trials.empty and list(session.trials.columns) == list(RATINGS.columns[:1]) + [
        "baseline_onset", "baseline_duration", "stimulus_onset", "stimulus_duration", "valence", "arousal", "dominance"
    ]
    assert any("describe 2 trials but no ratings" in w for w in session.info["warnings"])

    csv = tmp_path / "ratings.csv"
    RATINGS.to_csv(csv, index=False)
    assert read_session(path, ratings=csv).trials["dominance"].tolist() == [2, 1]
    with pytest.raises(DataError, match=r"no ratings for trials \[2\]"):
        read_session(path, ratings=RATINGS[RATINGS["trial"] == 1])
    with pytest.raises(DataError, match=r"lack columns \['dominance'\]"):
        read_session(path, ratings=RATINGS.drop(columns="dominance"))


def test_ratings_without_trial_annotations_are_an_error(tmp_path: Path) -> None:
    raw = _source_raw()
    raw.set_annotations(None)
    with pytest.raises(DataError, match="no baseline/Tnn"):
        read_session(_write("fif", raw, tmp_path), ratings=RATINGS)


def test_half_a_trial_is_an_error(tmp_path: Path) -> None:
    raw = _source_raw()
    raw.set_annotations(mne.Annotations([1.0], [1.0], ["stimulus/T03"]))
    with pytest.raises(DataError, match=r"trials \[3\] have a baseline or a stimulus annotation but not both"):
        read_session(_write("fif", raw, tmp_path))


def test_real_edf_from_physionet() -> None:
    session = read_session(EEGMAT)
    eeg = session.eeg
    assert eeg.info["sfreq"] == 500 and eeg.n_times == 31000
    assert eeg.ch_names == [
        "Fp1", "Fp2", "F3", "F4", "F7", "F8", "T3", "T4", "C3", "C4", "T5", "T6", "P3", "P4", "O1", "O2", "Fz", "Cz", "Pz"
    ]
    assert not np.isnan(eeg._get_channel_positions()).any()
    assert session.ecg.ch_names == ["ECG"]
    assert session.extra["misc"].ch_names == ["A2-A1"]  # a reference derivation, no electrode position
    std = eeg.get_data().std(axis=1)
    assert np.all((std > 2e-6) & (std < 100e-6))  # volts: the dataset's 9-16 µV, not µV read as V
    assert session.subject == "Subject00_2"


def test_truncated_and_lying_edf_headers(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.edf").write_bytes(data[:-1000])
    with pytest.raises(DataError, match=r"cut.edf: the header declares \d+ data records .* truncated"):
        read_session(tmp_path / "cut.edf")
    records = int(data[236:244].decode())
    (tmp_path / "lie.edf").write_bytes(data[:236] + str(records + 5).ljust(8).encode() + data[244:])
    with pytest.raises(DataError, match=f"lie.edf: the header declares {records + 5} data records"):
        read_session(tmp_path / "lie.edf")
    (tmp_path / "junk.edf").write_bytes(b"0       " + b"\x00" * 400)
    with pytest.raises(DataError, match="junk.edf: cannot read EDF/BDF header"):
        read_session(tmp_path / "junk.edf")


def test_unreadable_mne_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.gdf"
    path.write_bytes(b"GDF 2.20" + bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"rec.gdf: cannot read GDF"):
        read_session(path)
    vhdr = tmp_path / "bad.vhdr"
    vhdr.write_text("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile=missing.eeg\n")
    with pytest.raises(DataError, match="bad.vhdr: cannot read BrainVision"):
        read_session(vhdr)


def test_project_session_files_are_dispatched(tmp_path: Path) -> None:
    config = SyntheticConfig(n_subjects=2, n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0)
    original = make_session(0, config)
    write_session_files(original, tmp_path)
    session = read_session(tmp_path)
    reference = read_session_files(tmp_path, original.subject)
    assert session.info["source"] == "session-files"
    pd.testing.assert_frame_equal(session.trials, reference.trials)
    np.testing.assert_array_equal(session.eeg.get_data(), reference.eeg.get_data())
    np.testing.assert_array_equal(session.eda.get_data(), reference.eda.get_data())

    write_session_files(make_session(1, config), tmp_path)
    with pytest.raises(DataError, match=r"holds subjects \['S01', 'S02'\]; pass subject="):
        read_session(tmp_path)
    assert read_session(tmp_path, subject="S02").subject == "S02"
    with pytest.raises(DataError, match="no session files for subject 'S07'"):
        read_session(tmp_path, subject="S07")


def test_unsupported_input_lists_the_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 something")
    with pytest.raises(DataError, match="notes.docx: neither its content nor its name") as err:
        read_session(path)
    for fmt in SUPPORTED_FORMATS:
        assert fmt in str(err.value)
    assert "BrainVision" in str(err.value) and "XDF" in str(err.value)
    with pytest.raises(DataError, match="a folder in no supported format"):
        read_session(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        read_session(tmp_path / "missing.edf")


def test_options_are_checked_against_the_format(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    with pytest.raises(ConfigError, match=r"options \['time_column'\] do not apply .* \(format 'mne'\)"):
        read_session(path, time_column="t")
    with pytest.raises(ConfigError, match="format='hdf5'"):
        read_session(path, format="hdf5")


def test_content_wins_over_the_name(tmp_path: Path) -> None:
    path = _write("edf", _source_raw(), tmp_path)
    renamed = tmp_path / "recording.dat"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == "mne"
    fif = _write("fif", _source_raw(), tmp_path)
    assert detect_format(fif) == "mne"


def test_every_failure_is_a_biosig_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.fif"
    path.write_bytes(b"\x00\x00\x00\x64" + b"\x00" * 64)
    with pytest.raises(BiosigError, match="rec.fif"):
        read_session(path)


def test_header_claiming_more_samples_than_the_data_file_holds(tmp_path: Path) -> None:
    raw = _source_raw()
    embedded = _write("eeglab", raw, tmp_path)
    fields = {k: v for k, v in loadmat(embedded, appendmat=False).items() if not k.startswith("__")}
    # the same recording with its samples in a separate .fdt (float32, channels fastest), as EEGLAB saves it
    fields["data"].astype("<f4").T.tofile(tmp_path / "rec.fdt")
    fields["data"] = "rec.fdt"
    savemat(tmp_path / "split.set", fields, appendmat=False)
    assert read_session(tmp_path / "split.set").eeg.n_times == raw.n_times

    fields["pnts"] = np.array([[raw.n_times * 1000]])
    savemat(tmp_path / "lying.set", fields, appendmat=False)
    with pytest.raises(DataError, match=rf"lying.set: the EEGLAB header claims {raw.n_times * 1000} samples x 6 channels"):
        read_session(tmp_path / "lying.set")


def test_table_without_units_says_which_columns_were_taken_as_si(shared_data):
    """A physiological column without a unit is read as SI, and the session's warnings say so (never silently)."""
    path = shared_data / "neurokit2" / "bio_eventrelated_100hz.csv"
    warnings = read_session(path, sfreq=100).info["warnings"]
    assert any("no unit given for the ecg column(s) ['ECG']: taken as V" in w for w in warnings)
    assert any("no unit given for the eda column(s) ['EDA']: taken as S" in w for w in warnings)
    given = read_session(path, sfreq=100, units={"ECG": "mV", "EDA": "uS"}).info["warnings"]
    assert not any("no unit given" in w for w in given)
