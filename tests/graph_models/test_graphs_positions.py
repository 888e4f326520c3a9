"""Electrode positions and their projection, checked against MNE's own set_montage and a hand formula."""

import mne
import numpy as np
import pytest

from biosig.errors import ConfigError, DataError
from biosig.montage import standard_montage
from graphs.positions import (
    DEAP32,
    EMOTIV14,
    SEED62,
    canonical_name,
    electrode_positions,
    montage_channels,
    project_positions,
    projected_positions,
)


def _mne_locs(ch_names, montage):
    """Positions MNE itself assigns to an Info's channels (the reference)."""
    info = mne.create_info(list(ch_names), 128.0, "eeg")
    info.set_montage(montage, match_case=False)
    return np.array([ch["loc"][:3] for ch in info["chs"]])


def test_channel_lists():
    assert (len(EMOTIV14), len(DEAP32), len(SEED62)) == (14, 32, 62)
    for chs in (EMOTIV14, DEAP32, SEED62):
        assert len({canonical_name(c) for c in chs}) == len(chs)
    assert DEAP32[:4] == ("FP1", "AF3", "F3", "F7") and DEAP32[-2:] == ("PO4", "O2")
    assert SEED62[57] == "CB1" and SEED62[-1] == "CB2"


def test_positions_equal_mne_set_montage():
    np.testing.assert_allclose(electrode_positions(EMOTIV14), _mne_locs(EMOTIV14, standard_montage()), atol=1e-12)
    biosemi = mne.channels.make_standard_montage("biosemi32")
    np.testing.assert_allclose(electrode_positions(DEAP32, "biosemi32"), _mne_locs(DEAP32, biosemi), atol=1e-12)
    egi = mne.channels.make_standard_montage("GSN-HydroCel-64_1.0")
    names = montage_channels("GSN-HydroCel-64_1.0")
    pos = electrode_positions(names, "GSN-HydroCel-64_1.0")
    np.testing.assert_allclose(pos, _mne_locs(names, egi), atol=1e-12)
    # head-sized: every electrode 5-15 cm from the head origin
    radius = np.linalg.norm(pos, axis=1)
    assert pos.shape == (64, 3) and (radius > 0.05).all() and (radius < 0.15).all()


def test_name_variants_are_one_electrode():
    ref = electrode_positions(["Fp1"])
    for variant in ("FP1", "fp1", "EEG Fp1-REF", "EEG FP1-LE", " Fp1 "):
        np.testing.assert_array_equal(electrode_positions([variant]), ref)
    assert canonical_name("EEG Fp1-REF") == "fp1"


def test_unknown_and_bipolar_channels_are_named():
    with pytest.raises(DataError, match="'XYZ'"):
        electrode_positions(["Fp1", "XYZ"])
    with pytest.raises(DataError, match="'Fp1-F7'"):  # a bipolar derivation is not Fp1
        electrode_positions(["Fp1-F7"])
    with pytest.raises(DataError, match="same electrode"):
        electrode_positions(["Fp1", "FP1"])
    with pytest.raises(ConfigError, match="nosuchcap"):
        electrode_positions(["Fp1"], "nosuchcap")


def test_seed_cerebellar_sites_approximated_or_given():
    pos = electrode_positions(SEED62)
    np.testing.assert_array_equal(pos[SEED62.index("CB1")], electrode_positions(["I1"])[0])
    np.testing.assert_array_equal(pos[SEED62.index("CB2")], electrode_positions(["I2"])[0])
    # below O1/O2: lower and further back
    o1 = electrode_positions(["O1"])[0]
    assert pos[SEED62.index("CB1")][2] < o1[2] and pos[SEED62.index("CB1")][1] < o1[1]
    given = electrode_positions(["CB1"], extra_positions={"cb1": (0.0, -0.1, 0.0)})
    np.testing.assert_array_equal(given, [[0.0, -0.1, 0.0]])
    with pytest.raises(DataError, match="PO5.*CB1"):  # biosemi64 has neither PO5 nor I1 to stand in for CB1
        electrode_positions(SEED62, "biosemi64")
    with pytest.raises(DataError, match="extra_positions"):
        electrode_positions(["CB1"], extra_positions={"CB1": (0.0, 1.0)})


def test_projection_matches_hand_formula():
    sphere = np.array([0.01, 0.02, 0.03, 0.09])
    rng = np.random.default_rng(0)
    v = rng.normal(size=(20, 3))
    v[:, 2] = np.abs(v[:, 2]) - 0.3  # some below the equator
    v *= 0.09 / np.linalg.norm(v, axis=1, keepdims=True) * rng.uniform(0.9, 1.1, (20, 1))
    r = np.linalg.norm(v, axis=1)
    theta, phi = np.arccos(v[:, 2] / r), np.arctan2(v[:, 1], v[:, 0])
    expected = (r * theta / (np.pi / 2))[:, None] * np.c_[np.cos(phi), np.sin(phi)]
    np.testing.assert_allclose(project_positions(v + sphere[:3], sphere), expected, atol=1e-12)


def test_projected_layout_is_anatomical():
    xy = dict(zip(DEAP32, projected_positions(DEAP32)))
    assert abs(xy["CZ"]).max() < 0.01  # vertex near the centre
    assert xy["FP1"][1] > xy["CZ"][1] > xy["OZ"][1]  # nose up
    assert xy["T7"][0] < xy["CZ"][0] < xy["T8"][0]  # left to right
    with pytest.raises(ConfigError, match="sphere"):
        project_positions(np.zeros((2, 3)) + [0, 0, 0.09], [0, 0, 0, -1])
