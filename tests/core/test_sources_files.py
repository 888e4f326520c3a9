"""``source.kind: files``: pattern fields, subjects of several files joined on one clock, their ratings, errors.

Real recordings: PhysioNet eegmat (Zyma et al. 2019, ODC-By 1.0), Subject00/01,
file 1 = rest (182 s), file 2 = mental arithmetic (62 s), 500 Hz.
"""

import pickle

import mne
import numpy as np
import pytest

from biosig.cohort_sources import sources_from_config
from biosig.config import config_from_dict
from biosig.errors import ConfigError, DataError
from biosig.io import read_session
from biosig.sources import FilesSource, match_files, pattern_glob, pattern_regex

PATTERN = "Subject{subject}_{session}.edf"


def _config(root, pattern=PATTERN, **sections):
    return config_from_dict({"source": {"kind": "files", "root": str(root), "pattern": pattern}, **sections})


def _sources(root, pattern=PATTERN, **sections):
    return sources_from_config(_config(root, pattern, **sections), root)


def test_pattern_fields_become_a_glob_and_named_groups():
    assert pattern_glob("sub-{subject}/**/*_{task}.xdf") == "sub-*/**/*_*.xdf"
    regex = pattern_regex("sub-{subject}/**/sub-{subject}_{task}.xdf")
    assert regex.fullmatch("sub-01/ses-1/eeg/sub-01_rest.xdf").groupdict() == {"subject": "01", "task": "rest"}
    assert regex.fullmatch("sub-01/sub-01_rest.xdf").groupdict() == {"subject": "01", "task": "rest"}
    assert regex.fullmatch("sub-01/x/sub-02_rest.xdf") is None  # a field named twice captures the same text
    assert pattern_regex("S{subject}_?.edf").fullmatch("S1_a.edf")["subject"] == "1"


def test_eegmat_subjects_join_their_files_on_one_clock(shared_data):
    root = shared_data / "physionet-eegmat"
    sources = _sources(
        root,
        trials={"from": "recording"},
        labels={"from_field": "session", "map": {"1": "rest", "2": "arithmetic"}},
    )
    assert [s.name for s in sources] == ["00", "01"]
    assert all(isinstance(s, FilesSource) and len(s.files) == 2 for s in sources)
    assert pickle.loads(pickle.dumps(sources[0])) == sources[0]

    session = sources[0]()
    rest = read_session(root / "Subject00_1.edf")
    task = read_session(root / "Subject00_2.edf")
    for key in ("eeg", "ecg"):
        joined, a, b = session.modalities()[key], rest.modalities()[key], task.modalities()[key]
        assert joined.n_times == a.n_times + b.n_times
        assert joined.ch_names == a.ch_names
        np.testing.assert_array_equal(joined.get_data()[:, a.n_times :], b.get_data())
    assert session.eeg.n_times / session.eeg.info["sfreq"] == pytest.approx(182.0 + 62.0)

    trials = session.trials
    assert trials["trial"].tolist() == [1, 2]
    assert trials["condition"].tolist() == ["rest", "arithmetic"]
    np.testing.assert_allclose(trials["stimulus_onset"], [0.0, 182.0])  # the task's onset shifted by the rest
    np.testing.assert_allclose(trials["stimulus_duration"], [182.0, 62.0])
    boundary = [o for o, d in zip(session.eeg.annotations.onset, session.eeg.annotations.description) if d == "BAD boundary"]
    assert boundary == pytest.approx([182.0])
    recordings = session.info["recordings"]
    assert [r["file"] for r in recordings] == [str(root / "Subject00_1.edf"), str(root / "Subject00_2.edf")]
    assert [r["onset_s"] for r in recordings] == [0.0, 182.0]
    assert recordings[1]["fields"] == {"session": "2", "subject": "00"}


def test_subjects_filter_and_identity_follows_the_trial_sections(shared_data):
    root = shared_data / "physionet-eegmat"
    assert [s.name for s in sources_from_config(
        config_from_dict({"source": {"kind": "files", "root": str(root), "pattern": PATTERN, "subjects": ["01"]}}), root
    )] == ["01"]  # fmt: skip
    plain = _sources(root)[0].identity()
    blocks = _sources(root, trials={"from": "recording", "block_seconds": 30},
                      labels={"from_field": "session"})[0].identity()  # fmt: skip
    assert plain["files"] == blocks["files"] and plain != blocks
    with pytest.raises(ConfigError, match=r"\['07'\]"):
        sources_from_config(
            config_from_dict({"source": {"kind": "files", "root": str(root), "pattern": PATTERN, "subjects": ["07"]}}),
            root,
        )


def test_without_a_subject_field_each_file_is_a_subject(shared_data):
    sources = _sources(shared_data / "physionet-eegmat", "Subject00_{session}.edf")
    assert [s.name for s in sources] == ["Subject00_1", "Subject00_2"]


def _fif(path, names, sfreq=100.0, seconds=2.0):
    info = mne.create_info(list(names), sfreq, "eeg")
    data = np.random.default_rng(0).normal(0, 1e-5, (len(names), int(seconds * sfreq)))
    mne.io.RawArray(data, info, verbose="error").save(path, overwrite=True, verbose="error")
    return path


def test_no_match_and_uncapturable_fields_name_root_pattern_and_path(tmp_path):
    with pytest.raises(ConfigError, match=rf"'nothing_{{subject}}\.edf'.*{tmp_path}"):
        _sources(tmp_path, "nothing_{subject}.edf")
    bad = _fif(tmp_path / "S_a_raw.fif", ["Cz", "Pz"])
    with pytest.raises(ConfigError) as caught:
        _sources(tmp_path, "S{subject}_{run}_raw.fif")  # the glob S*_*_raw.fif matches, {subject} would be empty
    assert str(bad) in str(caught.value) and "S{subject}_{run}_raw.fif" in str(caught.value)
    assert match_files(tmp_path, "S*_{run}_raw.fif") == [(bad, {"run": "a"})]


def test_a_subject_whose_files_differ_in_channels_or_rate_is_an_error_naming_them(tmp_path):
    first = _fif(tmp_path / "S1_a_raw.fif", ["Cz", "Pz"])
    second = _fif(tmp_path / "S1_b_raw.fif", ["Cz", "Oz"])
    (source,) = _sources(tmp_path, "S{subject}_{run}_raw.fif")
    with pytest.raises(DataError, match="channels") as caught:
        source()
    assert str(first) in str(caught.value) and str(second) in str(caught.value)
    _fif(second, ["Cz", "Pz"], sfreq=200.0)
    with pytest.raises(DataError, match="200 Hz"):
        source()
    _fif(second, ["Cz", "Pz"])
    session = source()
    assert session.eeg.n_times == 400 and session.eeg.ch_names == ["Cz", "Pz"]


def test_ratings_number_a_subjects_trials_over_its_files_or_per_file_with_match(shared_data, tmp_path):
    root = shared_data / "physionet-eegmat"
    sections = {"trials": {"from": "recording"}, "labels": {"from_field": "session"}}
    joined = tmp_path / "joined.csv"
    joined.write_text("subject,trial,valence\n00,1,3\n00,2,7\n01,1,4\n01,2,6\n")
    sections["labels"]["ratings"] = {"path": str(joined), "columns": ["valence"]}
    first, second = (source() for source in _sources(root, **sections))
    assert first.trials["valence"].tolist() == [3.0, 7.0]  # the arithmetic file's trial is the subject's trial 2
    assert second.trials["valence"].tolist() == [4.0, 6.0]

    per_file = tmp_path / "per_file.csv"
    per_file.write_text("subject,Session,trial,valence\n0,1,1,2\n0,02,1,8\n1,1,1,5\n1,2,1,9\n")
    sections["labels"]["ratings"] = {"path": str(per_file), "columns": ["valence"], "match": {"session": "Session"}}
    assert _sources(root, **sections)[0]().trials["valence"].tolist() == [2.0, 8.0]  # "02" is session 2

    per_file.write_text("subject,Session,trial,valence\n0,1,1,2\n0,3,1,8\n")
    with pytest.raises(DataError, match=r"no rows with Session = '2'.*\['1', '3'\]") as caught:
        _sources(root, **sections)[0]()
    assert "Subject00_2.edf" in str(caught.value)
    sections["labels"]["ratings"]["match"] = {"run": "Session"}
    with pytest.raises(ConfigError, match=r"no field 'run' was captured from .*Subject00_1\.edf"):
        _sources(root, **sections)[0]()
