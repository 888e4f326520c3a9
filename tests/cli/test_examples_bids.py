"""``source.kind: bids`` on real signals: a BIDS copy of the eegmat EDFs gives the ``files`` kind's features.

Real recordings: PhysioNet eegmat (Zyma et al. 2019, ODC-By 1.0), Subject00 under
``../shared/data/physionet-eegmat``: run 1 = 182 s of rest, run 2 = 62 s of mental
arithmetic. The test writes them as a BIDS dataset with :func:`mne_bids.write_raw_bids`
(channel types in ``channels.tsv``: ECG, the A2-A1 derivation as misc), then computes
the features of ``configs/eegmat.yaml`` (20-s blocks, condition from the run, EEG and
ECG features) from both kinds with :func:`biosig.pipeline.session_features`.
"""

from __future__ import annotations

import mne
import mne_bids
import numpy as np
import yaml

from biosig.cohort_sources import sources_from_config
from biosig.config import config_from_dict
from biosig.pipeline import session_features
from tests.helpers import REPO_ROOT


def _eegmat_config(source: dict) -> dict:
    """configs/eegmat.yaml with another source; the condition comes from the ``run`` field of either kind."""
    data = yaml.safe_load((REPO_ROOT / "configs" / "eegmat.yaml").read_text())
    data["source"] = source
    data["labels"]["from_field"] = "run"
    return data


def test_bids_kind_gives_the_features_of_the_files_kind(tmp_path, shared_data):
    eegmat = shared_data / "physionet-eegmat"
    root = tmp_path / "bids"
    for run in (1, 2):
        raw = mne.io.read_raw_edf(eegmat / f"Subject00_{run}.edf", verbose="error")
        raw.set_channel_types({"ECG ECG": "ecg", "EEG A2-A1": "misc"}, verbose="error")
        raw.info["line_freq"] = 50.0
        path = mne_bids.BIDSPath(subject="00", task="arithmetic", run=run, datatype="eeg", root=root)
        mne_bids.write_raw_bids(raw, path, overwrite=True, verbose=False)

    files_cfg = config_from_dict(_eegmat_config({
        "kind": "files", "root": str(eegmat), "pattern": "Subject{subject}_{run}.edf", "subjects": ["00"],
        "read": {"channel_types": {"A2-A1": "misc"}},
    }))  # fmt: skip
    bids_cfg = config_from_dict(_eegmat_config({"kind": "bids", "root": str(root), "task": "arithmetic"}))
    (files_source,) = sources_from_config(files_cfg, tmp_path)
    (bids_source,) = sources_from_config(bids_cfg, tmp_path)
    files = session_features(files_source(), files_cfg).features
    bids = session_features(bids_source(), bids_cfg).features

    assert bids.sizes == files.sizes and bids.sizes["window"] == (9 + 3) * 9  # 20-s blocks, 4-s windows every 2 s
    assert list(bids.data_vars) == list(files.data_vars)
    assert {"de", "faa", "hr_bpm", "hrv_rmssd_ms"} <= set(files.data_vars)  # EEG and ECG features
    assert list(bids["condition"].values) == list(files["condition"].values)
    assert list(files["condition"].values[:: 9]) == ["rest"] * 9 + ["arithmetic"] * 3
    np.testing.assert_array_equal(bids["t_start"].values, files["t_start"].values)
    for name in files.data_vars:
        assert np.allclose(bids[name].values, files[name].values, equal_nan=True), name
