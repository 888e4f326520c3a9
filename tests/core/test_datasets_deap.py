"""DEAP adapter on small files written in the real ``sXX.dat`` and ``sXX.bdf`` structures.

``data_preprocessed_python/sXX.dat`` (field notes section 4), as
:func:`biosig.datasets.writers.write_deap_dat` writes it: a Python-2 pickle
(protocol 2, byte-string keys, arrays via ``numpy.core.multiarray._reconstruct``)
of ``{'labels': (40, 4) float64 [valence, arousal, dominance, liking] on 1-9,
'data': (40, 40, 8064) float64}`` = trial x channel x sample at 128 Hz (3 s
baseline + 60 s); channels 1-32 EEG (Geneva order), 33-40 hEOG, vEOG, zEMG,
tEMG, GSR (ohm), respiration, plethysmograph, temperature. Here: 3 trials of
the real length 8064 (40 trials would be 100 MB).

``data_original/sXX.bdf``, as :func:`biosig.datasets.writers.write_deap_bdf`
writes it: BioSemi 24-bit BDF at 512 Hz with the 32 EEG channels, EXG1-8,
GSR1, GSR2, Erg1, Erg2, Resp, Plet, Temp and Status; status codes (low byte)
1 start, 1 baseline recording, 2 sync, then per trial 3 fixation (5 s),
4 video, 5 fixation (3 s), 1 rating; finally 2 and 7. Here: 2 trials with 6-s
videos and a 3-s baseline recording.
"""

import pickle

import edfio
import numpy as np
import pandas as pd
import pytest

from biosig.datasets.deap import CHANNELS, EEG_CHANNELS, load_deap, read_deap_bdf, read_deap_bdf_raw, read_deap_dat
from biosig.datasets.writers import py2_pickle_dumps, random_deap_subject, write_deap_bdf, write_deap_dat
from biosig.errors import DataError

N_TIMES = 8064


@pytest.fixture(scope="module")
def deap_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data_preprocessed_python")
    for k in (1, 2):
        write_deap_dat(random_deap_subject(k, n_trials=3, n_times=N_TIMES), folder / f"s{k:02d}.dat")
    return folder


def _raw_file(path):
    """The file as the stdlib reads it (trusted test data), for independent expected values."""
    return pickle.loads(path.read_bytes(), encoding="latin1")


def test_preprocessed_file_to_session(deap_folder):
    path = deap_folder / "s02.dat"
    assert path.read_bytes().startswith(b"\x80\x02") and b"U\x06labels" in path.read_bytes()
    ref = _raw_file(path)
    s = read_deap_dat(path)
    assert s.subject == "S02" and s.eeg.info["sfreq"] == 128.0
    assert tuple(s.eeg.ch_names) == EEG_CHANNELS and s.eeg.get_montage() is not None

    np.testing.assert_allclose(s.trials["baseline_onset"], [0.0, 63.0, 126.0])
    np.testing.assert_allclose(s.trials["stimulus_onset"], [3.0, 66.0, 129.0])
    np.testing.assert_allclose(s.trials[["baseline_duration", "stimulus_duration"]], [[3.0, 60.0]] * 3)
    np.testing.assert_array_equal(s.trials[["valence", "arousal", "dominance"]], ref["labels"][:, :3])
    assert s.info["liking"] == ref["labels"][:, 3].tolist()
    assert s.info["rating_scale"] == (1, 9) and s.info["binary_threshold"] == 5.0

    # Trial 2 (index 1), EEG channel Cz, in volts at 63 s.
    cz = CHANNELS.index("Cz")
    np.testing.assert_allclose(s.eeg.get_data(picks="Cz")[0, 63 * 128 : 126 * 128], ref["data"][1, cz] * 1e-6)
    gsr = CHANNELS.index("GSR")
    np.testing.assert_allclose(s.eda.get_data()[0, : 2 * N_TIMES], 1.0 / ref["data"][:2, gsr].ravel())
    assert s.eda.get_channel_types() == ["gsr"]
    np.testing.assert_allclose(s.extra["eog"].get_data()[1, :N_TIMES], ref["data"][0, CHANNELS.index("vEOG")] * 1e-6)
    assert s.extra["temp"].get_channel_types() == ["temperature"] and s.extra["bvp"].get_channel_types() == ["bio"]
    assert sorted(s.extra) == ["bvp", "emg", "eog", "resp", "temp"]
    assert list(s.eeg.annotations.description[-2:]) == ["baseline/T03", "stimulus/T03"]


def test_folder_reading_is_lazy_and_checks_files(deap_folder):
    assert [s.subject for s in load_deap(deap_folder)] == ["S01", "S02"]
    assert [s.subject for s in load_deap(deap_folder, subjects=[2])] == ["S02"]
    with pytest.raises(DataError, match=r"DEAP files \['s07\.dat'\] not found"):
        load_deap(deap_folder, subjects=[1, 7])


class _Payload:
    def __reduce__(self):
        return (eval, ("1 + 1",))


def _subject(**edits):
    subject = random_deap_subject(5, n_trials=2, n_times=640)
    subject.update(edits)
    return subject


@pytest.mark.parametrize(
    "content, message",
    [
        (_subject(data=np.zeros((2, 39, 640))), r"field 'data' has 39 channels"),
        ({"labels": np.ones((2, 4))}, r"lacks the field 'data'"),
        (_subject(labels=np.full((2, 3), 5.0)), r"field 'labels' has shape \(2, 3\); expected \(2, 4\)"),
        (
            _subject(labels=np.array([[5.0, 5, 5, 5], [np.nan, 5, 5, 5]])),
            r"field 'labels' has ratings missing or outside 1-9 for trials \[2\]",
        ),
        (
            _subject(labels=np.array([[5.0, 9.5, 5, 5], [5, 5, 5, 5]])),
            r"field 'labels' has ratings missing or outside 1-9 for trials \[1\]",
        ),
        (_subject(data=np.zeros((2, 40))), r"field 'data' must be a numeric \(trial, channel, sample\) array"),
        (
            _subject(data=np.zeros((2, 40, 384))),
            r"field 'data' has 384 samples per trial, not more than the 3-s baseline",
        ),
        (
            _subject(data=np.ones((2, 40, 640)) * np.array([1.0, -1.0])[:, None, None]),
            r"channel 'GSR' \(resistance, ohm\) is non-positive or non-finite in trials \[2\]",
        ),
        ([1, 2, 3], r"expected a dict with 'data' and 'labels', got list"),
    ],
)
def test_wrong_structure_names_file_subject_and_field(tmp_path, content, message):
    path = tmp_path / "s09.dat"
    path.write_bytes(py2_pickle_dumps(content))
    with pytest.raises(DataError, match=rf"s09\.dat: subject S09: {message}"):
        read_deap_dat(path)


def test_malicious_dat_is_refused(tmp_path):
    path = tmp_path / "s03.dat"
    path.write_bytes(pickle.dumps({"data": _Payload(), "labels": np.ones((1, 4))}, protocol=2))
    with pytest.raises(DataError, match=r"s03\.dat: refused to unpickle the global '(__builtin__|builtins)\.eval'"):
        read_deap_dat(path)


@pytest.fixture(scope="module")
def bdf_file(tmp_path_factory):
    return write_deap_bdf(
        tmp_path_factory.mktemp("data_original") / "s04.bdf",
        n_trials=2, video_seconds=6.0, baseline_recording_seconds=3.0, status_high_bits=0x100000,
    )  # fmt: skip


def test_bdf_channels_and_status_annotations(bdf_file):
    raw = read_deap_bdf_raw(bdf_file)
    assert raw.info["sfreq"] == 512.0
    types = dict(zip(raw.ch_names, raw.get_channel_types()))
    assert types["Cz"] == "eeg" and types["EXG1"] == "eog" and types["EXG8"] == "emg"
    assert types["Temp"] == "temperature" and types["Plet"] == "bio" and types["Status"] == "stim"
    # The written protocol: 1 @1 s, 1 @2 s, 2 @5 s, then (3, 4, 5, 1) every 5 + 6 + 3 + 5 s from 6 s.
    expected = ["experiment_start", "baseline_recording", "sync_screen"]
    expected += ["fixation", "video", "post_video_fixation", "rating_screen"] * 2 + ["sync_screen", "end"]
    assert list(raw.annotations.description) == expected
    np.testing.assert_allclose(raw.annotations.onset, [1, 2, 5, 6, 11, 17, 20, 25, 30, 36, 39, 44, 45])
    np.testing.assert_allclose(raw.annotations.duration[3:6], [5.0, 6.0, 3.0])


def test_bdf_session_takes_trials_from_triggers_and_ratings_by_presentation_order(bdf_file):
    ratings = pd.DataFrame(
        {
            "Participant_id": [4, 3, 4],
            "Trial": [2, 1, 1],
            "Experiment_id": [17, 5, 9],
            "Valence": [2.5, 9.0, 7.0],
            "Arousal": [3.0, 1.0, 6.5],
            "Dominance": [5.0, 5.0, 4.0],
            "Liking": [1.0, 2.0, 8.0],
        }
    )
    s = read_deap_bdf(bdf_file, ratings)
    np.testing.assert_allclose(s.trials[["baseline_onset", "baseline_duration"]], [[6.0, 5.0], [25.0, 5.0]])
    np.testing.assert_allclose(s.trials[["stimulus_onset", "stimulus_duration"]], [[11.0, 6.0], [30.0, 6.0]])
    np.testing.assert_allclose(s.trials[["valence", "arousal", "dominance"]], [[7.0, 6.5, 4.0], [2.5, 3.0, 5.0]])
    assert s.info["experiment_id"] == [9, 17] and s.info["liking"] == [8.0, 1.0]
    assert tuple(s.eeg.ch_names) == EEG_CHANNELS and s.eda.get_channel_types() == ["gsr"]
    raw = read_deap_bdf_raw(bdf_file)
    np.testing.assert_allclose(s.eda.get_data(), 1.0 / raw.get_data(picks="GSR1"))
    np.testing.assert_allclose(s.eeg.get_data(picks="Fp1"), raw.get_data(picks="Fp1"))
    assert sorted(s.extra) == ["bvp", "emg", "eog", "misc", "resp", "stim", "temp"]
    assert "video" in s.extra["stim"].annotations.description

    with pytest.raises(DataError, match=r"s04\.bdf: subject S04: the ratings table has 1 rows for participant 4"):
        read_deap_bdf(bdf_file, ratings.iloc[1:])
    with pytest.raises(DataError, match=r"s04\.bdf: subject S04: the ratings table lacks columns \['Liking'\]"):
        read_deap_bdf(bdf_file, ratings.drop(columns="Liking"))


def test_bdf_without_status_channel(tmp_path):
    signals = [edfio.BdfSignal(np.zeros(512), 512.0, label=ch, physical_range=(-1.0, 1.0)) for ch in EEG_CHANNELS]
    path = tmp_path / "s05.bdf"
    edfio.Bdf(signals, data_record_duration=1.0).write(path)
    with pytest.raises(DataError, match=r"s05\.bdf: no 'Status' trigger channel; channels are \['Fp1'"):
        read_deap_bdf_raw(path)
