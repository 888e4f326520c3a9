"""``source.kind: dreamer | deap | seed | wesad`` on small files written in each dataset's exact structure."""

import pickle

import numpy as np
import pandas as pd
import pytest

from biosig.cohort_sources import sources_from_config
from biosig.config import config_from_dict
from biosig.datasets import load_dreamer
from biosig.datasets.writers import (
    random_deap_subject,
    random_dreamer_subject,
    random_seed_trials,
    random_wesad_subject,
    write_deap_dat,
    write_dreamer_mat,
    write_seed_label_mat,
    write_seed_mat,
    write_wesad_pkl,
)
from biosig.errors import ConfigError
from biosig.sources import DatasetSource


def _sources(kind, root, **source):
    return sources_from_config(config_from_dict({"source": {"kind": kind, "root": str(root), **source}}), root)


@pytest.fixture(scope="module")
def dreamer_file(tmp_path_factory):
    subjects = [random_dreamer_subject(k, n_trials=3, stimulus_seconds=[5.0, 6.5, 7.0]) for k in range(3)]
    return write_dreamer_mat(subjects, tmp_path_factory.mktemp("dreamer") / "DREAMER.mat")


def test_dreamer_sources_load_their_subject_as_the_adapter_does(dreamer_file):
    sources = _sources("dreamer", dreamer_file)
    assert [s.name for s in sources] == ["S01", "S02", "S03"]
    assert all(isinstance(s, DatasetSource) for s in sources)
    source = pickle.loads(pickle.dumps(sources[1]))
    session = source()
    (expected,) = load_dreamer(dreamer_file, [2])
    assert session.subject == "S02"
    pd.testing.assert_frame_equal(session.trials, expected.trials)
    np.testing.assert_array_equal(session.eeg.get_data(), expected.eeg.get_data())
    np.testing.assert_array_equal(session.ecg.get_data(), expected.ecg.get_data())
    assert source.identity()["files"] == sources[0].identity()["files"] and source.identity() != sources[0].identity()
    assert [s.name for s in _sources("dreamer", dreamer_file, subjects=["S03"])] == ["S03"]
    with pytest.raises(ConfigError, match="S09"):
        _sources("dreamer", dreamer_file, subjects=["S09"])


def test_dreamer_compressed_file_is_counted_by_reading_it(tmp_path):
    subjects = [random_dreamer_subject(k, n_trials=1, stimulus_seconds=[2.0]) for k in range(2)]
    path = write_dreamer_mat(subjects, tmp_path / "DREAMER.mat", compress=True)
    sources = _sources("dreamer", path)
    assert [s.name for s in sources] == ["S01", "S02"]
    assert sources[1]().subject == "S02"


def test_seed_sessions_of_a_subject_join_in_date_order(tmp_path):
    write_seed_label_mat(tmp_path / "label.mat")
    write_seed_mat(random_seed_trials(1, seconds=1.0), tmp_path / "1_20131107.mat")
    write_seed_mat(random_seed_trials(2, seconds=2.0), tmp_path / "1_20131027.mat")
    write_seed_mat(random_seed_trials(3, seconds=1.0), tmp_path / "2_20140404.mat")
    sources = _sources("seed", tmp_path)
    assert [s.name for s in sources] == ["S01", "S02"]
    assert [p.name for p in sources[0].files] == ["label.mat", "1_20131027.mat", "1_20131107.mat"]
    session = sources[0]()
    assert session.trials["trial"].tolist() == list(range(1, 31))
    assert session.trials["stimulus_onset"].iloc[15] == pytest.approx(15 * 2.0)  # after the 2-s clips of 27 Oct
    assert [r["onset_s"] for r in session.info["recordings"]] == [0.0, pytest.approx(30.0)]


def test_deap_and_wesad_one_file_per_subject(tmp_path):
    deap = tmp_path / "deap"
    deap.mkdir()
    write_deap_dat(random_deap_subject(0, n_trials=2, n_times=640), deap / "s03.dat")
    (source,) = _sources("deap", deap)
    assert source.name == "S03" and source().n_trials == 2
    wesad = tmp_path / "WESAD"
    (wesad / "S2").mkdir(parents=True)
    write_wesad_pkl(random_wesad_subject(0), wesad / "S2" / "S2.pkl")
    (source,) = _sources("wesad", wesad)
    session = source()
    assert source.name == "S2" and session.eeg is None and session.ecg is not None
    with pytest.raises(ConfigError, match="no wesad subject"):
        _sources("wesad", deap)
