"""DREAMER adapter on small files written in the real ``DREAMER.mat`` structure.

Structure of the real file (Zenodo record 546113; field notes section 4),
as :func:`biosig.datasets.writers.write_dreamer_mat` writes it (MATLAB v5):

    DREAMER                          1 x 1 struct
      .Data                          1 x 23 cell, each a 1 x 1 struct:
         .Age, .Gender               char
         .EEG.baseline               18 x 1 cell of 7808 x 14 double (61 s at 128 Hz)
         .EEG.stimuli                18 x 1 cell of n_j x 14 double
         .ECG.baseline / .stimuli    18 x 1 cells of 15616 x 2 / m_j x 2 double (256 Hz)
         .ScoreValence / .ScoreArousal / .ScoreDominance   18 x 1 double, 1..5
      .EEG_SamplingRate 128, .ECG_SamplingRate 256
      .EEG_Electrodes                14 x 1 cell of char (AF3 ... AF4)
      .noOfSubjects 23, .noOfVideoSequences 18
      .Disclaimer, .Provider, .Version, .Acknowledgement   char

Here: 2 subjects x 3 trials with the real 61-s baseline and 5-7 s clips.
Expected values are read back with plain ``scipy.io.loadmat`` and the
indexing from the field notes, independent of the adapter's own parsing.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.io

from biosig.datasets.dreamer import EEG_CHANNELS, load_dreamer
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.datasets.writers import dreamer_struct, random_dreamer_subject, write_dreamer_mat
from biosig.errors import DataError

CLIPS = [5.0, 6.5, 7.0]


def _subjects():
    return [random_dreamer_subject(k, n_trials=3, stimulus_seconds=CLIPS) for k in range(2)]


@pytest.fixture(scope="module")
def dreamer_file(tmp_path_factory):
    return write_dreamer_mat(_subjects(), tmp_path_factory.mktemp("dreamer") / "DREAMER.mat")


def _reference(path, s, modality, part, j):
    m = scipy.io.loadmat(path)
    return m["DREAMER"][0, 0]["Data"][0, s][modality][0, 0][part][0, 0][j, 0]


def test_sessions_hold_the_file_signals_ratings_and_timeline(dreamer_file):
    sessions = list(load_dreamer(dreamer_file))
    assert [s.subject for s in sessions] == ["S01", "S02"]
    s = sessions[1]
    m = scipy.io.loadmat(dreamer_file)["DREAMER"][0, 0]["Data"][0, 1]

    expected = pd.DataFrame(
        {
            "trial": [1, 2, 3],
            "baseline_onset": [0.0, 66.0, 133.5],
            "baseline_duration": [61.0] * 3,
            "stimulus_onset": [61.0, 127.0, 194.5],
            "stimulus_duration": CLIPS,
            "valence": m["ScoreValence"][0, 0][:, 0],
            "arousal": m["ScoreArousal"][0, 0][:, 0],
            "dominance": m["ScoreDominance"][0, 0][:, 0],
        }
    )
    pd.testing.assert_frame_equal(s.trials, expected, check_dtype=False)

    assert tuple(s.eeg.ch_names) == EEG_CHANNELS and s.eeg.info["sfreq"] == 128.0
    assert set(s.eeg.get_channel_types()) == {"eeg"} and s.eeg.get_montage() is not None
    assert s.ecg.ch_names == ["ECG1", "ECG2"] and s.ecg.info["sfreq"] == 256.0
    assert s.eeg.n_times == int(201.5 * 128) and s.ecg.n_times == int(201.5 * 256)
    # Trial 3's clip, in volts, at its onset on the session clock.
    stim = _reference(dreamer_file, 1, "EEG", "stimuli", 2)
    first = int(194.5 * 128)
    np.testing.assert_allclose(s.eeg.get_data()[:, first : first + stim.shape[0]], stim.T * 1e-6, rtol=1e-12)
    base = _reference(dreamer_file, 1, "ECG", "baseline", 1)
    first = int(66.0 * 256)
    np.testing.assert_allclose(s.ecg.get_data()[:, first : first + base.shape[0]], base.T * 1e-6, rtol=1e-12)
    assert not np.isnan(s.ecg.get_data()).any() and s.info["ecg_length_mismatch"] == []

    assert list(s.eeg.annotations.description[:2]) == ["baseline/T01", "stimulus/T01"]
    np.testing.assert_allclose(s.ecg.annotations.onset[-1], 194.5)
    assert s.info["rating_scale"] == (1, 5) and s.info["binary_threshold"] == 3.0
    assert s.info["subject_index"] == 2 and s.info["gender"] in ("male", "female") and s.info["age"].isdigit()


def test_subject_selection_and_laziness(dreamer_file):
    sessions = load_dreamer(dreamer_file, subjects=[2])
    assert not isinstance(sessions, list)
    assert [s.subject for s in sessions] == ["S02"]
    with pytest.raises(DataError, match=r"subjects \[3\] are not in the file, which has subjects 1\.\.2"):
        load_dreamer(dreamer_file, subjects=[1, 3])


def test_round_trip_from_a_synthetic_session(tmp_path):
    cfg = SyntheticConfig(n_subjects=1, n_trials=2, baseline_seconds=61.0, stimulus_seconds=8.0, seed=3)
    original = make_session(0, cfg)
    path = write_dreamer_mat([original], tmp_path / "DREAMER.mat")
    loaded = next(load_dreamer(path))
    for row, new in zip(original.trials.itertuples(), loaded.trials.itertuples()):
        assert (row.valence, row.arousal, row.dominance) == (new.valence, new.arousal, new.dominance)
        for raw_old, raw_new in ((original.eeg, loaded.eeg), (original.ecg, loaded.ecg)):
            sf = raw_old.info["sfreq"]
            n = int(round(row.stimulus_duration * sf))
            old = raw_old.get_data()[:, int(round(row.stimulus_onset * sf)) :][:, :n]
            got = raw_new.get_data()[:, int(round(new.stimulus_onset * sf)) :][:, :n]
            np.testing.assert_allclose(got, old, rtol=1e-12, atol=1e-18)


def test_ecg_shorter_than_its_eeg_segment_is_nan_padded_and_reported(tmp_path):
    subjects = _subjects()
    cell = subjects[0]["ECG"]["stimuli"]
    cell[1, 0] = cell[1, 0][:-256]  # clip 2's ECG one second short
    path = write_dreamer_mat(subjects, tmp_path / "DREAMER.mat")
    s = next(load_dreamer(path))
    assert s.info["ecg_length_mismatch"] == [{"trial": 2, "segment": "stimuli", "eeg_s": 6.5, "ecg_s": 5.5}]
    ecg = s.ecg.get_data()
    end = int((66.0 + 61.0 + 6.5) * 256)
    assert np.isnan(ecg[:, end - 256 : end]).all() and not np.isnan(ecg[:, : end - 256]).any()


def _broken(tmp_path, edit):
    struct = dreamer_struct(_subjects())
    edit(struct)
    path = tmp_path / "DREAMER.mat"
    scipy.io.savemat(path, {"DREAMER": struct})
    return path


def _drop(mapping, key):
    del mapping[key]


def _subject2(struct):
    return struct["Data"][0, 1]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: _drop(_subject2(d), "ScoreArousal"),
            r"subject S02: DREAMER\.Data\{2\} lacks the field 'ScoreArousal'",
        ),
        (
            lambda d: _drop(_subject2(d)["EEG"], "baseline"),
            r"subject S02: DREAMER\.Data\{2\}\.EEG lacks the field 'baseline'",
        ),
        (
            lambda d: _subject2(d)["EEG"]["stimuli"].__setitem__((1, 0), np.zeros((640, 13))),
            r"subject S02: DREAMER\.Data\{2\}\.EEG\.stimuli\{2\} has shape \(640, 13\); expected \(n_samples, 14\)",
        ),
        (
            lambda d: _subject2(d)["ECG"]["baseline"].__setitem__((0, 0), np.zeros((100, 3))),
            r"subject S02: DREAMER\.Data\{2\}\.ECG\.baseline\{1\} has shape \(100, 3\); expected \(n_samples, 2\)",
        ),
        (
            lambda d: _subject2(d).__setitem__("ScoreValence", np.array([[3.0], [4.0]])),
            r"subject S02: DREAMER\.Data\{2\}\.ScoreValence has 2 ratings for 3 trials",
        ),
        (
            lambda d: _subject2(d).__setitem__("ScoreDominance", np.array([[3.0], [np.nan], [6.0]])),
            r"subject S02: DREAMER\.Data\{2\}\.ScoreDominance is missing or outside 1-5 for trials \[2, 3\]",
        ),
        (
            lambda d: _subject2(d)["EEG"].__setitem__("baseline", _subject2(d)["EEG"]["baseline"][:2]),
            r"subject S02: DREAMER\.Data\{2\}\.EEG\.baseline has 2 trials but DREAMER\.Data\{2\}\.EEG\.stimuli has 3",
        ),
    ],
)
def test_wrong_subject_structure_names_file_subject_and_field(tmp_path, edit, message):
    path = _broken(tmp_path, edit)
    sessions = load_dreamer(path)
    assert next(sessions).subject == "S01"  # subject 1 is intact; subject 2's error comes when it is read
    with pytest.raises(DataError, match=rf"DREAMER\.mat: {message}"):
        next(sessions)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: _drop(d, "Data"), r"DREAMER lacks the field 'Data'"),
        (
            lambda d: d.__setitem__("EEG_Electrodes", d["EEG_Electrodes"][:13]),
            r"DREAMER\.EEG_Electrodes has 13 channels",
        ),
        (lambda d: d.__setitem__("EEG_SamplingRate", 0.0), r"DREAMER\.EEG_SamplingRate must be a positive number"),
    ],
)
def test_wrong_top_level_structure_fails_at_once(tmp_path, edit, message):
    with pytest.raises(DataError, match=rf"DREAMER\.mat: {message}"):
        load_dreamer(_broken(tmp_path, edit))


def test_unreadable_files(tmp_path):
    with pytest.raises(DataError, match=r"missing\.mat: file not found"):
        load_dreamer(tmp_path / "missing.mat")
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"x": 1.0})
    with pytest.raises(DataError, match=r"other\.mat: has no variable 'DREAMER'"):
        load_dreamer(other)
    text = tmp_path / "notes.mat"
    text.write_text("not a MAT file at all")
    with pytest.raises(DataError, match=r"notes\.mat: not a readable MATLAB v5 file"):
        load_dreamer(text)
    # A MATLAB v7.3 file is HDF5 behind a 128-byte MAT header (version 0x0200).
    v73 = tmp_path / "v73.mat"
    v73.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116) + bytes(8) + b"\x00\x02IM" + bytes(512))
    with pytest.raises(DataError, match=r"v73\.mat: is a MATLAB v7\.3 \(HDF5\) file"):
        load_dreamer(v73)


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"MATLAB 5.0 MAT-file"], ids=["empty", "zeros", "header-only"])
def test_empty_or_truncated_mat_is_a_data_error(tmp_path, content):
    # scipy raises MatReadError (not a ValueError) for these; it must not escape as a traceback.
    path = tmp_path / "DREAMER.mat"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"DREAMER\.mat: not a readable MATLAB v5 file"):
        load_dreamer(path)
