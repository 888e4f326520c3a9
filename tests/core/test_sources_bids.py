"""``source.kind: bids``: a BIDS dataset written with mne-bids from the eegmat EDFs reads as the files kind does.

Real recordings: PhysioNet eegmat (Zyma et al. 2019, ODC-By 1.0), Subject00/01,
run 1 = rest (182 s), run 2 = mental arithmetic (62 s).
"""

import mne
import mne_bids
import numpy as np
import pytest

from biosig.cohort_sources import sources_from_config
from biosig.config import config_from_dict
from biosig.errors import ConfigError
from biosig.sources import BidsSource

EVENT_ID = {"cue": 1, "mark": 2}


@pytest.fixture(scope="module")
def bids_root(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("bids")
    for subject in ("00", "01"):
        for run in (1, 2):
            raw = mne.io.read_raw_edf(shared_data / "physionet-eegmat" / f"Subject{subject}_{run}.edf", verbose="error")
            raw.info["line_freq"] = 50.0
            events = np.array([[1000, 0, 1], [6000, 0, 2]])  # samples at 500 Hz: 2 s and 12 s
            path = mne_bids.BIDSPath(subject=subject, task="arithmetic", run=run, datatype="eeg", root=root)
            stored = {d: 100 + k for k, d in enumerate(sorted(set(raw.annotations.description)))}  # "[Total time]..."
            mne_bids.write_raw_bids(raw, path, events=events, event_id={**stored, **EVENT_ID}, overwrite=True, verbose=False)
    return root


def _config(root, **sections):
    source = {"kind": "bids", "root": str(root), "task": "arithmetic", **sections.pop("source", {})}
    return config_from_dict({"source": source, **sections})


def test_bids_gives_the_signals_and_channels_of_the_files_kind(bids_root, shared_data):
    sources = sources_from_config(_config(bids_root), bids_root)
    assert [s.name for s in sources] == ["00", "01"]
    assert isinstance(sources[0], BidsSource) and len(sources[0].recordings) == 2
    files = sources_from_config(
        config_from_dict({"source": {"kind": "files", "root": str(shared_data / "physionet-eegmat"),
                                     "pattern": "Subject{subject}_{run}.edf", "subjects": ["00"]}}), bids_root
    )[0]()  # fmt: skip
    bids = sources[0]()
    assert list(bids.modalities()) == list(files.modalities())
    for key, raw in files.modalities().items():
        assert bids.modalities()[key].ch_names == raw.ch_names, key
        assert bids.modalities()[key].info["sfreq"] == raw.info["sfreq"]
        assert np.allclose(bids.modalities()[key].get_data(), raw.get_data()), key
    assert bids.info["participant"] is not None and "age" in bids.info["participant"]
    assert [r["onset_s"] for r in bids.info["recordings"]] == [0.0, 182.0]


def test_events_tsv_gives_event_locked_trials_across_runs(bids_root):
    config = _config(bids_root, source={"subjects": ["01"]}, trials={"from": "events", "event_id": {"mark": "mark"}, "tmax": 2.0})
    (source,) = sources_from_config(config, bids_root)
    session = source()
    assert session.trials["trial"].tolist() == [1, 2]
    np.testing.assert_allclose(session.trials["stimulus_onset"], [12.0, 182.0 + 12.0])
    assert session.trials["condition"].tolist() == ["mark", "mark"]


def test_runs_filter_identity_and_no_match(bids_root):
    (source,) = sources_from_config(_config(bids_root, source={"subjects": ["00"], "runs": ["2"]}), bids_root)
    assert [p.name for p in source.recordings] == ["sub-00_task-arithmetic_run-2_eeg.edf"]
    names = {f["at"] for f in source.identity()["files"]}
    assert {"participants.tsv", "sub-00/eeg/sub-00_task-arithmetic_run-2_events.tsv"} <= names
    with pytest.raises(ConfigError, match="task=nothing"):
        sources_from_config(_config(bids_root, source={"task": "nothing"}), bids_root)


def test_ratings_follow_the_trials_of_the_joined_runs(bids_root, tmp_path):
    table = tmp_path / "ratings.tsv"
    table.write_text("participant\ttrial\tarousal\nsub-01\t1\t2.5\nsub-01\t2\t6.5\n")
    ratings = {"path": str(table), "subject_column": "participant", "columns": ["arousal"]}
    config = _config(bids_root, source={"subjects": ["01"]}, trials={"from": "events", "event_id": {"mark": "mark"}, "tmax": 2.0},
                     labels={"ratings": ratings})  # fmt: skip
    (source,) = sources_from_config(config, bids_root)
    assert source().trials["arousal"].tolist() == [2.5, 6.5]  # run 2's event is the subject's trial 2


def test_edf_export_padding_is_cropped_as_the_files_kind_does(tmp_path):
    # 37 samples short of a whole second: MNE's EDF export pads the last record (BAD_ACQ_SKIP), which
    # mne-bids copies into events.tsv and reads back twice.
    info = mne.create_info(["Fz", "Cz", "Pz"], 256.0, "eeg")
    data = np.random.default_rng(3).normal(0, 1e-5, (3, 256 * 10 - 37))
    mne.io.RawArray(data, info, verbose="error").export(tmp_path / "x_raw.edf", fmt="edf", verbose="error")
    edf = mne.io.read_raw_edf(tmp_path / "x_raw.edf", verbose="error")
    assert edf.n_times == 2560 and list(edf.annotations.description) == ["BAD_ACQ_SKIP"]
    edf.info["line_freq"] = 50.0
    root = tmp_path / "bids"
    mne_bids.write_raw_bids(edf, mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=root), verbose=False)
    (source,) = sources_from_config(_config(root, source={"task": "rest"}), root)
    session = source()
    assert session.eeg.n_times == data.shape[1] and "BAD_ACQ_SKIP" not in session.eeg.annotations.description
    np.testing.assert_allclose(session.eeg.get_data(), data, atol=1e-8)  # EDF's 16-bit resolution
