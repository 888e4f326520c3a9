"""WESAD adapter on small files written in the real ``SX/SX.pkl`` structure.

Structure of the real file (the WESAD readme as quoted in public code), as
:func:`biosig.datasets.writers.write_wesad_pkl` writes it: a Python-2 pickle
(protocol 2, byte-string keys) of

    {'subject': 'S2',
     'signal': {'chest': {'ACC': (n, 3), 'ECG': (n, 1), 'EMG': (n, 1), 'EDA': (n, 1),
                          'Temp': (n, 1), 'Resp': (n, 1)},          # 700 Hz; g, mV, mV, µS, °C, %
                'wrist': {'ACC': (m1, 3), 'BVP': (m2, 1), 'EDA': (m3, 1), 'TEMP': (m3, 1)}},
                                                                     # 32, 64, 4, 4 Hz; 1/64 g, -, µS, °C
     'label': (n,) int}                                             # 700 Hz; 0 transient, 1 baseline,
                                                                     # 2 stress, 3 amusement, 4 meditation,
                                                                     # 5-7 ignore

Here: 16 s of signals (about 2 h in the real files) with a short protocol.
"""

import pickle

import numpy as np
import pandas as pd
import pytest

from biosig.datasets.wesad import condition_table, load_wesad, read_wesad_pkl
from biosig.datasets.writers import py2_pickle_dumps, random_wesad_subject, write_wesad_pkl
from biosig.errors import DataError

SEGMENTS = ((0, 2.0), (1, 6.0), (0, 1.0), (2, 4.0), (3, 3.0))


@pytest.fixture(scope="module")
def wesad_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("WESAD")
    for k, subject in enumerate(("S10", "S2")):
        (folder / subject).mkdir()
        write_wesad_pkl(
            random_wesad_subject(k, subject=subject, segments=SEGMENTS), folder / subject / f"{subject}.pkl"
        )
    return folder


def test_recording_becomes_a_session_without_eeg(wesad_folder):
    path = wesad_folder / "S2" / "S2.pkl"
    assert path.read_bytes().startswith(b"\x80\x02") and b"U\x06signal" in path.read_bytes()
    ref = pickle.loads(path.read_bytes(), encoding="latin1")
    s = read_wesad_pkl(path)
    assert s.subject == "S2" and s.eeg is None and s.n_trials == 0

    assert s.ecg.info["sfreq"] == 700.0 and s.ecg.get_channel_types() == ["ecg"]
    np.testing.assert_allclose(s.ecg.get_data()[0], ref["signal"]["chest"]["ECG"][:, 0] * 1e-3)
    np.testing.assert_allclose(s.eda.get_data()[0], ref["signal"]["chest"]["EDA"][:, 0] * 1e-6)
    assert s.eda.get_channel_types() == ["gsr"]
    np.testing.assert_allclose(s.extra["acc"].get_data(), ref["signal"]["chest"]["ACC"].T * 9.80665)
    np.testing.assert_allclose(s.extra["wrist_acc"].get_data(), ref["signal"]["wrist"]["ACC"].T * 9.80665 / 64)
    np.testing.assert_allclose(s.extra["wrist_eda"].get_data()[0], ref["signal"]["wrist"]["EDA"][:, 0] * 1e-6)
    np.testing.assert_array_equal(s.extra["stim"].get_data()[0], ref["label"])
    rates = {
        k: s.extra[k].info["sfreq"] for k in ("wrist_acc", "bvp", "wrist_eda", "wrist_temp", "temp", "resp", "emg")
    }
    assert rates == {
        "wrist_acc": 32.0,
        "bvp": 64.0,
        "wrist_eda": 4.0,
        "wrist_temp": 4.0,
        "temp": 700.0,
        "resp": 700.0,
        "emg": 700.0,
    }
    assert s.extra["temp"].get_channel_types() == ["temperature"] and s.extra["bvp"].get_channel_types() == ["bio"]

    expected = pd.DataFrame(
        {
            "condition": [1, 2, 3],
            "name": ["baseline", "stress", "amusement"],
            "onset": [2.0, 9.0, 13.0],
            "duration": [6.0, 4.0, 3.0],
        }
    )
    pd.testing.assert_frame_equal(s.info["conditions"], expected)
    for raw in s.modalities().values():
        assert list(raw.annotations.description) == ["baseline", "stress", "amusement"]
        np.testing.assert_allclose(raw.annotations.onset, [2.0, 9.0, 13.0])
    assert s.info["durations_s"]["wrist_eda"] == 16.0


def test_condition_table_skips_transient_and_ignored_codes():
    label = np.array([0, 0, 1, 1, 1, 6, 6, 2, 0, 4, 4, 4, 4, 5, 1])
    table = condition_table(label, sfreq=2.0)
    assert table["condition"].tolist() == [1, 2, 4, 1]
    np.testing.assert_allclose(table["onset"], [1.0, 3.5, 4.5, 7.0])
    np.testing.assert_allclose(table["duration"], [1.5, 0.5, 2.0, 0.5])


def test_folder_order_and_missing_subject(wesad_folder):
    assert [s.subject for s in load_wesad(wesad_folder)] == ["S2", "S10"]
    with pytest.raises(DataError, match=r"WESAD files \['S5/S5\.pkl'\] not found"):
        load_wesad(wesad_folder, subjects=["S2", "S5"])


def _with(edit):
    subject = random_wesad_subject(3, subject="S7", segments=((1, 2.0), (2, 2.0)))
    edit(subject)
    return subject


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("label"), r"lacks the fields \['label'\]"),
        (lambda d: d["signal"].pop("wrist"), r"subject S7: field 'signal' lacks the device dict 'wrist'"),
        (lambda d: d["signal"]["chest"].pop("Resp"), r"subject S7: signal\.chest lacks 'Resp'"),
        (
            lambda d: d["signal"]["chest"].__setitem__("ECG", d["signal"]["chest"]["ECG"][:-7]),
            r"subject S7: signal\.chest\.ECG has 2793 samples but 'label' has 2800",
        ),
        (
            lambda d: d["signal"]["wrist"].__setitem__("ACC", d["signal"]["wrist"]["ACC"][:, :2]),
            r"subject S7: signal\.wrist\.ACC has shape \(128, 2\); expected \(n_samples, 3\)",
        ),
        (lambda d: d["label"].__setitem__(5, 9), r"subject S7: field 'label' has codes \[9\]; WESAD's are 0-7"),
    ],
)
def test_wrong_structure_names_file_subject_and_field(tmp_path, edit, message):
    path = tmp_path / "S7.pkl"
    path.write_bytes(py2_pickle_dumps(_with(edit)))
    with pytest.raises(DataError, match=rf"S7\.pkl: {message}"):
        read_wesad_pkl(path)


class _Payload:
    def __reduce__(self):
        import subprocess

        return (subprocess.call, (["true"],))


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "S8.pkl"
    path.write_bytes(pickle.dumps({"subject": "S8", "signal": _Payload(), "label": np.zeros(3)}, protocol=4))
    with pytest.raises(DataError, match=r"S8\.pkl: refused to unpickle the global 'subprocess\.call'"):
        read_wesad_pkl(path)
