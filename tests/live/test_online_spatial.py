"""Live bad-channel interpolation and ICA cleaning against MNE's own ``interpolate_bads`` and ``ICA.apply``."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import IcaConfig
from biosig.errors import ConfigError, DataError
from biosig.preprocess.eeg import apply_filters
from streaming.model_io import live_metadata, save_live_checkpoint
from streaming.online import OnlinePipeline, QualityConfig
from streaming.spatial import BadChannelInterpolator, fit_live_ica, ica_map, load_ica
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_online import CAUSAL, feed, live_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def filtered_raw(x: np.ndarray) -> mne.io.RawArray:
    """``x`` ``(n_times, 14)`` volts at 128 Hz as an Emotiv Raw with the template montage, causally filtered."""
    raw = emotiv_raw(seconds=1.0)
    out = mne.io.RawArray(x.T.copy(), raw.info, verbose="error")
    apply_filters(out, CAUSAL)
    return out


@pytest.mark.parametrize("bads", [("T7",), ("F3", "O2"), ("AF3", "FC6", "P8")])
def test_the_interpolation_matrix_equals_mne_interpolate_bads(bads):
    raw = emotiv_raw(seconds=2.0, seed=20)  # montage set as users set it: set_montage(standard_montage())
    bad = tuple(EMOTIV.index(ch) for ch in bads)
    got = BadChannelInterpolator(EMOTIV).matrix(bad) @ raw.get_data()
    reference = raw.copy()
    reference.info["bads"] = list(bads)
    reference.interpolate_bads(reset_bads=True, verbose="error")
    expected = reference.get_data()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    assert np.abs(got[list(bad)] - raw.get_data()[list(bad)]).max() > 1e-6  # the bad channels did change


def test_matrices_are_cached_per_set_of_bad_channels_in_a_bounded_lru():
    interpolator = BadChannelInterpolator(EMOTIV, cache_size=2)
    first = interpolator.matrix((1,))
    assert interpolator.matrix((1,)) is first
    interpolator.matrix((2,))
    interpolator.matrix((3,))
    info = interpolator.matrix.cache_info()
    assert (info.hits, info.currsize, info.maxsize) == (1, 2, 2)
    assert interpolator.matrix((1,)) is not first  # evicted, computed again
    with pytest.raises(DataError, match="none is good"):
        interpolator.matrix(tuple(range(len(EMOTIV))))


def test_live_interpolation_equals_mne_on_each_window_and_too_many_bads_still_get_no_prediction():
    raw = emotiv_raw(seconds=8.0, seed=21)
    x = raw.get_data().T
    o2, fc5 = EMOTIV.index("O2"), EMOTIV.index("FC5")
    x[:, o2] = 3e-6  # a flat electrode throughout
    x[5 * 128 : 5 * 128 + 20, fc5] += 5e-3  # an electrode pop: a second bad channel for a while
    stamps = np.arange(len(x)) / 128.0
    # The gate counts the persistently bad O2 as bad (max_interpolated=0), so the FC5 pop still refuses windows.
    quality = QualityConfig(min_quality=0.9, max_interpolated=0.0)
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), quality, max_lag=None, keep_signals=True)
    windows, _ = feed(pipe, x, stamps, 23)

    filtered = filtered_raw(x).get_data()
    predicted = [w for w in windows if w.predicted]
    refused = [w for w in windows if not w.predicted and "filter warm-up" not in w.reasons]
    assert predicted and refused and pipe.stats.interpolated_windows == len(predicted)
    for w in windows:  # the quality index still reports the bad channel
        assert "flat: O2" in w.reasons
    for w in predicted:
        assert w.quality == pytest.approx(13 / 14) and w.reasons == ("flat: O2",)
        start = int(round(w.t_first * 128.0))
        window = mne.io.RawArray(filtered[:, start : start + 128].copy(), raw.info, verbose="error")
        window.info["bads"] = ["O2"]
        window.interpolate_bads(reset_bads=True, verbose="error")
        window.set_eeg_reference("average", projection=False, verbose="error")
        expected = window.get_data()
        np.testing.assert_allclose(w.signal, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    for w in refused:  # 12 of 14 good: below 0.9, no prediction, nothing interpolated
        assert w.quality == pytest.approx(12 / 14) and any(r == "amplitude: FC5" for r in w.reasons)
        assert np.isnan(w.values["arousal"])
        start = int(round(w.t_first * 128.0))
        plain = filtered[:, start : start + 128]
        np.testing.assert_allclose(w.signal, plain - plain.mean(axis=0), rtol=0, atol=1e-12)


def test_channels_without_positions_turn_interpolation_off_unless_it_is_asked_for():
    channels = (*EMOTIV[:13], "X1")
    model = live_model(channels=channels, kinds=("dgcnn",))
    x = emotiv_raw(seconds=4.0, seed=26).get_data().T
    x[:, 2] = 0.0
    pipe = OnlinePipeline(model, QualityConfig(min_quality=0.9), max_lag=None)
    windows, _ = feed(pipe, x, np.arange(len(x)) / 128.0, 64)
    assert any(w.predicted for w in windows) and pipe.stats.interpolated_windows == 0
    with pytest.raises(DataError, match=r"channels \['X1'\] are not in montage"):
        OnlinePipeline(model, interpolate=True)
    off = OnlinePipeline(live_model(kinds=("dgcnn",)), QualityConfig(min_quality=0.9), max_lag=None, interpolate=False)
    feed(off, x, np.arange(len(x)) / 128.0, 64)
    assert off.stats.predictions > 0 and off.stats.interpolated_windows == 0


def full_rank_raw(seconds: float, seed: int) -> mne.io.RawArray:
    """Emotiv EEG plus 2 µV of white noise per channel: the test recording has 8 sources, ICA wants full rank."""
    raw = emotiv_raw(seconds=seconds, seed=seed)
    noise = 2e-6 * np.random.default_rng(seed + 100).standard_normal((len(EMOTIV), raw.n_times))
    return mne.io.RawArray(raw.get_data() + noise, raw.info, verbose="error")


def offset_raw(seconds: float, seed: int) -> mne.io.RawArray:
    """Full-rank Emotiv EEG with a different DC offset per channel, so that the ICA's PCA mean matters."""
    raw = full_rank_raw(seconds, seed)
    data = raw.get_data() + np.linspace(-20e-6, 30e-6, len(EMOTIV))[:, None]
    return mne.io.RawArray(data, raw.info, verbose="error")


def test_the_ica_map_equals_ica_apply_with_its_mean_term(tmp_path):
    ica = mne.preprocessing.ICA(n_components=8, random_state=0, max_iter="auto", verbose="error")
    ica.fit(offset_raw(30.0, 22), verbose="error")
    ica.exclude = [0, 3]
    path = tmp_path / "rest-ica.fif"
    ica.save(path, verbose="error")
    test = offset_raw(3.0, 23)
    expected = ica.apply(test.copy(), verbose="error").get_data()
    affine = ica_map(load_ica(path), EMOTIV)
    assert np.abs(affine.offset).max() > 1e-7  # the mean term is there and is needed
    np.testing.assert_allclose(affine(test.get_data()), expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    # Model channels in another order than the fit's: the same map, permuted.
    reversed_map = ica_map(ica, EMOTIV[::-1])
    np.testing.assert_allclose(
        reversed_map(test.get_data()[::-1]), expected[::-1], rtol=0, atol=1e-6 * np.abs(expected).max()
    )
    with pytest.raises(ConfigError, match=r"rest-ica.fif: the ICA was fitted on channels \['AF4'\]"):
        ica_map(ica, EMOTIV[:-1], source=str(path))


# The test recordings mix Gaussian (pink and white) noise, which FastICA cannot unmix and says so.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_live_ica_comes_after_the_reference_as_offline(tmp_path):
    raw = full_rank_raw(8.0, 24)
    offline = raw.copy()
    apply_filters(offline, CAUSAL)
    offline.set_eeg_reference("average", projection=False, verbose="error")
    ica = mne.preprocessing.ICA(n_components=8, random_state=0, max_iter="auto", verbose="error")
    ica.fit(offline, verbose="error")
    ica.exclude = [1]
    path = tmp_path / "cal-ica.fif"
    ica.save(path, verbose="error")
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None, keep_signals=True, ica=path)
    windows, _ = feed(pipe, raw.get_data().T, np.arange(raw.n_times) / 128.0, 29)
    cleaned = ica.apply(offline.copy(), verbose="error").get_data()
    plain = offline.get_data()
    scale = np.abs(cleaned).max()
    for w in windows:
        start = int(round(w.t_first * 128.0))
        np.testing.assert_allclose(w.signal, cleaned[:, start : start + 128], rtol=0, atol=1e-6 * scale)
    # The ICA did something (the comparison is not of the referenced data with itself).
    assert np.abs(cleaned - plain).max() > 1e-2 * scale


def blinking_raw(seconds: float, seed: int) -> tuple[mne.io.RawArray, np.ndarray]:
    """Full-rank Emotiv EEG with 150 µV blinks every 2-4 s, strongest at AF3/AF4; the blinks' spatial pattern."""
    raw = full_rank_raw(seconds, seed)
    rng = np.random.default_rng(seed)
    weights = {"AF3": 1.0, "AF4": 1.0, "F7": 0.6, "F8": 0.6, "F3": 0.5, "F4": 0.5}
    pattern = np.array([weights.get(ch, 0.05) for ch in EMOTIV])
    blink = np.zeros(raw.n_times)
    bump = np.hanning(int(0.3 * 128))
    t = 1.0
    while t < seconds - 1.0:
        i = int(t * 128)
        blink[i : i + len(bump)] += 150e-6 * bump
        t += rng.uniform(2.0, 4.0)
    data = raw.get_data() + pattern[:, None] * blink[None, :]
    return mne.io.RawArray(data, raw.info, verbose="error"), pattern


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_live_ica_finds_the_blinks_and_round_trips_through_mne_fif(tmp_path):
    raw, pattern = blinking_raw(60.0, 25)
    spec = live_model(kinds=("dgcnn",)).spec
    path = tmp_path / "rest-ica.fif"
    ica = fit_live_ica(raw, spec, path, IcaConfig(seed=0))
    assert ica.exclude
    back = load_ica(path)
    assert back.exclude == ica.exclude and back.ch_names == list(EMOTIV)
    np.testing.assert_allclose(back.unmixing_matrix_, ica.unmixing_matrix_)
    # The live map removes most of the (average-referenced) blink pattern.
    referenced = pattern - pattern.mean()
    cleaned = ica_map(back, EMOTIV).matrix @ referenced
    assert np.linalg.norm(cleaned) < 0.3 * np.linalg.norm(referenced)


def test_ica_files_that_are_missing_or_not_mne_ica_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="ICA file .*missing-ica.fif does not exist"):
        load_ica(tmp_path / "missing-ica.fif")
    garbage = tmp_path / "garbage-ica.fif"
    garbage.write_bytes(b"not a fif file at all" * 10)
    with pytest.raises(DataError, match="garbage-ica.fif: not an ICA saved by MNE"):
        load_ica(garbage)


def test_biosig_stream_reports_a_missing_ica_file_before_looking_for_streams(tmp_path):
    model = live_model(kinds=("dgcnn",))
    entry = model.models[0]
    meta = live_metadata("dgcnn", {"n_outputs": 5, "n_channels": 14}, model.spec, target="valence",
                         scale=[1, 2, 3, 4, 5])  # fmt: skip
    checkpoint = save_live_checkpoint(tmp_path / "dgcnn.pt", entry.model, meta)
    missing = tmp_path / "none-ica.fif"
    result = CliRunner().invoke(app, ["stream", "--model", str(checkpoint), "--ica", str(missing), "--no-interpolate"])
    assert result.exit_code == 2, result.output
    assert "none-ica.fif does not exist" in result.output


def test_reference_picks_and_the_channel_map_by_hand():
    from biosig.errors import ConfigError
    from streaming.spatial import channel_map, reference_picks

    assert reference_picks(["Fz", "Cz", "Pz"], None) is None
    assert reference_picks(["Fz", "Cz", "Pz"], "average") == [0, 1, 2]
    assert reference_picks(["Fz", "Cz", "Pz"], ["Pz"]) == [2]
    with pytest.raises(ConfigError, match=r"reference channels \['M1'\] are not among"):
        reference_picks(["Fz", "Cz", "Pz"], ["M1", "Pz"])
    assert channel_map(3) is None
    # Average reference after interpolating channel 0 from the mean of 1 and 2.
    interpolation = np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    mapped = channel_map(3, interpolation, [0, 1, 2])
    x = np.array([[9.0], [2.0], [4.0]])
    np.testing.assert_allclose(mapped(x), np.array([[3.0], [2.0], [4.0]]) - 3.0)


def test_an_affine_map_applies_to_one_window_or_a_stack():
    from streaming.spatial import AffineMap

    rng = np.random.default_rng(0)
    affine = AffineMap(rng.standard_normal((5, 5)), rng.standard_normal(5))
    windows = rng.standard_normal((3, 5, 40))
    expected = np.einsum("ij,wjt->wit", affine.matrix, windows) + affine.offset[None, :, None]
    np.testing.assert_allclose(affine(windows), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(affine(windows[1]), expected[1], rtol=1e-12, atol=1e-12)
    assert affine(windows[:, :, ::2]).shape == (3, 5, 20)  # a strided view is fine
    np.testing.assert_allclose(affine(windows[:, :, ::2]), expected[:, :, ::2], rtol=1e-12, atol=1e-12)
