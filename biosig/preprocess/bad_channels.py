"""Bad-channel detectors of ``preprocess.bad_channels.method``: ours, MNE's LOF and pyprep's.

Each detector takes band-passed EEG and returns the channels it finds bad with
the reason for each (``{name: reason}``); :func:`biosig.preprocess.eeg.detect_bad_channels`
dispatches on the method, logs the reasons and marks the channels in
``raw.info["bads"]``. The three are compared on real and synthetic EEG in
``benchmarks/compare_bad_channels.py`` (table in ``docs/cleaning.rst``).

* ``robust_amplitude`` (:func:`robust_amplitude_bads`): a channel's robust
  amplitude is its interquartile range / 1.349 (insensitive to intermittent
  blinks); flat below ``flat_threshold`` volts, noisy when the robust z-score
  of its log amplitude across channels exceeds ``noisy_z`` (PREP's deviation
  criterion, written here).
* ``lof`` (:func:`lof_bads`): MNE's ``find_bad_channels_lof`` (local outlier
  factor of each channel's time series among the others, Kumaravel et al. 2022).
* ``pyprep`` (:func:`pyprep_bads`): pyprep's ``NoisyChannels.find_all_bads``
  without RANSAC (NaN, flat, deviation, high-frequency noise, correlation,
  low SNR, dropout); RANSAC is left out because it needs many more channels
  than the 14 of the Emotiv layout for its random subsets to predict a
  channel, and costs most of the method's time.
"""

from __future__ import annotations

import mne
import numpy as np

from biosig.config import BadChannelConfig
from biosig.optional import require


def robust_amplitude_bads(raw: mne.io.BaseRaw, cfg: BadChannelConfig) -> dict[str, str]:
    """Flat and noisy EEG channels by robust amplitude; ``{name: reason}``.

    ``raw``: band-passed, finite EEG in volts ``(n_channels, n_times)`` (``preprocess_eeg`` zeroes non-finite
    samples first); not modified. The quartiles are ``np.percentile``'s, bit for bit (:func:`percentiles_in_place`).
    """
    data = raw.get_data(picks="eeg")  # a copy, which the partition below reorders
    names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude=[])]
    q75, q25 = percentiles_in_place(data, (75.0, 25.0))
    amplitude = (q75 - q25) / 1.349
    flat = amplitude < cfg.flat_threshold
    bads = {names[idx]: f"flat (robust amplitude {amplitude[idx]:.2e} V)" for idx in np.flatnonzero(flat)}
    live = ~flat
    if live.sum() >= 3:
        log_amp = np.log(amplitude[live])
        med = np.median(log_amp)
        mad = 1.4826 * np.median(np.abs(log_amp - med))
        if mad > 0:
            z = (log_amp - med) / mad
            for idx, zi in zip(np.flatnonzero(live), z):
                if zi > cfg.noisy_z:
                    bads[names[idx]] = f"noisy (robust amplitude z = {zi:.1f})"
    return bads


def percentiles_in_place(data: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    """``np.percentile(data, q, axis=1)`` (linear interpolation) of finite ``data`` ``(n_rows, n_times)``, bit for bit.

    One ``np.partition`` of each row, in place (``data`` is reordered), at the
    order statistics the percentiles need; ``np.percentile`` also selects the
    first and last samples to look for NaN, which finite data cannot hold.
    Returns ``(len(q), n_rows)``.
    """
    n_times = data.shape[1]
    virtual = np.asarray(q, dtype=float) / 100.0 * (n_times - 1)
    below = np.floor(virtual).astype(int)
    above = np.minimum(below + 1, n_times - 1)
    data.partition(np.unique(np.concatenate([below, above])), axis=1)
    low, high = data[:, below].T, data[:, above].T
    weight = (virtual - below)[:, np.newaxis]
    step = high - low
    # numpy's lerp: from the nearer end, so that the result is exact at both ends.
    return np.where(weight >= 0.5, high - step * (1 - weight), low + step * weight)


def lof_bads(raw: mne.io.BaseRaw, cfg: BadChannelConfig) -> dict[str, str]:
    """EEG channels whose local outlier factor reaches ``cfg.lof_threshold``; ``{name: reason}``.

    MNE's ``find_bad_channels_lof`` on the EEG channels not already in
    ``raw.info["bads"]``, with ``cfg.lof_n_neighbors`` neighbours capped at
    half the other channels: with every other channel as a neighbour each
    channel's score is 1 and nothing is ever found (MNE's default of 20 is
    meant for high-density caps; the Emotiv layout has 14 channels).
    """
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) < 3:
        return {}
    n_neighbors = max(1, min(cfg.lof_n_neighbors, (len(picks) - 1) // 2))
    names = [raw.ch_names[i] for i in picks]
    found, scores = mne.preprocessing.find_bad_channels_lof(
        raw, n_neighbors=n_neighbors, picks=picks, threshold=cfg.lof_threshold, return_scores=True, verbose="error"
    )
    score = dict(zip(names, np.abs(scores)))
    return {name: f"outlier (local outlier factor {score[name]:.2f} >= {cfg.lof_threshold})" for name in found}


#: pyprep's ``get_bads(as_dict=True)`` keys and the reason each gives.
_PYPREP_REASONS = {
    "bad_by_nan": "NaN samples",
    "bad_by_flat": "flat",
    "bad_by_deviation": "deviation (robust amplitude z > 5)",
    "bad_by_hf_noise": "high-frequency noise (z > 5)",
    "bad_by_correlation": "low correlation with other channels",
    "bad_by_SNR": "low signal-to-noise ratio",
    "bad_by_dropout": "dropouts (intermittently flat)",
}


def pyprep_bads(raw: mne.io.BaseRaw, cfg: BadChannelConfig) -> dict[str, str]:
    """EEG channels pyprep's ``NoisyChannels`` finds bad (without RANSAC); ``{name: reason}``.

    The reasons of a channel found by several criteria are joined with ``"; "``.
    ``cfg`` is accepted for the detectors' common signature: pyprep uses its own
    thresholds (those of PREP). Without RANSAC the result is deterministic.

    Raises
    ------
    biosig.optional.MissingExtraError
        pyprep is not installed (the ``cleaning`` extra).
    """
    pyprep = require("pyprep", "cleaning", "preprocess.bad_channels.method: pyprep")
    eeg = raw.copy().pick("eeg", exclude="bads")
    with mne.utils.use_log_level("error"):  # pyprep logs each filter design through MNE
        noisy = pyprep.NoisyChannels(eeg, do_detrend=True, ransac=False)
        noisy.find_all_bads(ransac=False)
    reasons: dict[str, list[str]] = {}
    for key, names in noisy.get_bads(as_dict=True).items():
        for name in names if key in _PYPREP_REASONS else ():
            reasons.setdefault(name, []).append(_PYPREP_REASONS[key])
    order = eeg.ch_names
    return {name: "; ".join(reasons[name]) for name in sorted(reasons, key=order.index)}
