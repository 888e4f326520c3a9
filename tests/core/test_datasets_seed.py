"""SEED adapter on small files written in the real ``Preprocessed_EEG`` structure.

Structure of the real folder (field notes section 4; TorchEEG ``seed.py``),
as :mod:`biosig.datasets.writers` writes it (MATLAB v5):

    Preprocessed_EEG/
      label.mat            variable 'label', 1 x 15: 1 0 -1 -1 0 1 -1 0 1 1 0 -1 0 1 -1
      1_20131027.mat       variables djc_eeg1 ... djc_eeg15, each 62 x n_k double (200 Hz)
      ...                  45 files {subject}_{yyyymmdd}.mat (15 subjects x 3 sessions)

Here: 3 files (subject 1 twice, subject 2 once) with 15 clips of 1-2.5 s
instead of ~4 min, written in shuffled variable order.
"""

import numpy as np
import pytest
import scipy.io

from biosig.config import WindowConfig
from biosig.datasets.seed import CHANNELS, LABELS, load_seed, read_seed_labels, read_seed_mat
from biosig.datasets.writers import random_seed_trials, write_seed_label_mat, write_seed_mat
from biosig.errors import DataError
from biosig.preprocess.windows import window_table

SECONDS = [1.0 + 0.1 * k for k in range(15)]


def _trials(seed):
    return random_seed_trials(seed, seconds=SECONDS)


@pytest.fixture(scope="module")
def seed_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("Preprocessed_EEG")
    write_seed_label_mat(folder / "label.mat")
    for seed, name, initials in ((0, "1_20131027", "djc"), (1, "1_20131103", "djc"), (2, "2_20140404", "jl")):
        arrays = _trials(seed)
        shuffled = {f"{initials}_eeg{k}": arrays[k - 1] for k in (10, 2, 15, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14)}
        write_seed_mat(shuffled, folder / f"{name}.mat")
    return folder


def test_sessions_hold_clips_in_trial_order_with_labels(seed_folder):
    sessions = list(load_seed(seed_folder))
    assert [(s.subject, s.info["session_date"]) for s in sessions] == [
        ("S01", "20131027"), ("S01", "20131103"), ("S02", "20140404"),
    ]  # fmt: skip
    s = sessions[2]
    assert s.eeg.info["sfreq"] == 200.0 and tuple(s.eeg.ch_names) == CHANNELS and len(CHANNELS) == 62
    assert s.info["initials"] == "jl" and s.ecg is None and s.eda is None

    ends = np.cumsum(SECONDS)
    np.testing.assert_allclose(s.trials["stimulus_onset"], np.concatenate([[0.0], ends[:-1]]))
    np.testing.assert_allclose(s.trials["stimulus_duration"], SECONDS)
    np.testing.assert_allclose(s.trials["baseline_onset"], s.trials["stimulus_onset"])
    np.testing.assert_allclose(s.trials["baseline_duration"], 1 / 200)
    np.testing.assert_array_equal(s.trials["valence"], LABELS)
    assert (s.trials[["arousal", "dominance"]] == 0.0).all().all()
    assert s.info["unrated_targets"] == ["arousal", "dominance"] and s.info["rating_scale"] == (-1, 1)
    assert s.info["emotion"][:3] == ["positive", "neutral", "negative"]

    # Clip 10, independent read: variable jl_eeg10 in volts at its onset.
    clip = scipy.io.loadmat(seed_folder / "2_20140404.mat")["jl_eeg10"]
    first = int(round(ends[8] * 200))
    np.testing.assert_allclose(s.eeg.get_data()[:, first : first + clip.shape[1]], clip * 1e-6)
    assert s.eeg.n_times == int(round(ends[-1] * 200))

    positions = {ch["ch_name"]: ch["loc"][:3] for ch in s.eeg.info["chs"]}
    assert np.isfinite(positions["Fp1"]).all() and np.isfinite(positions["POz"]).all()
    assert not np.isfinite(positions["CB1"]).all() and s.info["channels_without_position"] == ["CB1", "CB2"]


def test_subject_selection(seed_folder):
    assert [s.info["session_date"] for s in load_seed(seed_folder, subjects=[2])] == ["20140404"]
    with pytest.raises(DataError, match=r"no session files for subjects \[9\]"):
        load_seed(seed_folder, subjects=[9])


def test_placeholder_baseline_makes_baseline_windows_fail_loudly(seed_folder):
    s = next(load_seed(seed_folder))
    with pytest.raises(DataError, match=r"trial 1 baseline segment lasts 0\.01 s, shorter than one 1\.0 s window"):
        window_table(s.trials, WindowConfig(length=1.0, hop=1.0), segment="baseline")


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.__setitem__("djc_eeg4", t["djc_eeg4"][:61]),
            r"variable 'djc_eeg4' has shape \(61, 260\); expected \(62, n_times\)",
        ),
        (
            lambda t: t.__setitem__("djc_eeg16", t.pop("djc_eeg15")),
            r"trial variables are numbered \[1, 2, .*14, 16\], not 1\.\.15",
        ),
        (lambda t: t.__setitem__("djc_eeg16", t["djc_eeg15"]), r"trials \[16\] have no label \(label\.mat has 15\)"),
        (lambda t: t.__setitem__("xy_eeg16", t["djc_eeg15"]), r"trial variables of several subjects \['djc', 'xy'\]"),
        (
            lambda t: t.clear() or t.__setitem__("data", np.zeros(3)),
            r"no trial variables <initials>_eeg<k> \(variables: \['data'\]\)",
        ),
    ],
)
def test_wrong_structure_names_file_subject_and_variable(tmp_path, edit, message):
    write_seed_label_mat(tmp_path / "label.mat")
    trials = {f"djc_eeg{k + 1}": a for k, a in enumerate(_trials(4))}
    edit(trials)
    path = write_seed_mat(trials, tmp_path / "3_20140101.mat")
    with pytest.raises(DataError, match=rf"3_20140101\.mat: subject S03: {message}"):
        read_seed_mat(path)


def test_bad_label_files_and_names(tmp_path):
    write_seed_label_mat(tmp_path / "label.mat", labels=[1, 0, 2])
    with pytest.raises(DataError, match=r"label\.mat: variable 'label' has values \[0, 1, 2\]; SEED's are -1, 0, 1"):
        read_seed_labels(tmp_path / "label.mat")
    scipy.io.savemat(tmp_path / "label.mat", {"labels": np.ones((1, 15))})
    with pytest.raises(DataError, match=r"label\.mat: has no variable 'label' \(variables: \['labels'\]\)"):
        load_seed(tmp_path)
    with pytest.raises(DataError, match=r"session\.mat: SEED session files are named <subject>_<yyyymmdd>\.mat"):
        read_seed_mat(tmp_path / "session.mat", labels=np.array(LABELS))
    with pytest.raises(DataError, match=r"nowhere: SEED folder not found"):
        load_seed(tmp_path / "nowhere")


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"MATLAB 5.0 MAT-file"], ids=["empty", "zeros", "header-only"])
def test_empty_or_truncated_mat_is_a_data_error(tmp_path, content):
    # scipy raises MatReadError (not a ValueError) for these; it must not escape as a traceback.
    session = tmp_path / "1_20131027.mat"
    session.write_bytes(content)
    with pytest.raises(DataError, match=r"1_20131027\.mat: not a readable MATLAB v5 file"):
        read_seed_mat(session, labels=np.array(LABELS))
    (tmp_path / "label.mat").write_bytes(content)
    with pytest.raises(DataError, match=r"label\.mat: not a readable MATLAB v5 file"):
        read_seed_labels(tmp_path / "label.mat")
    with pytest.raises(DataError, match=r"label\.mat: not a readable MATLAB v5 file"):
        load_seed(tmp_path)
