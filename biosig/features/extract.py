"""Assemble per-window features of all modalities into one labelled xarray Dataset.

Dimensions: ``window`` (one row per window), ``channel``, ``band``, ``pair``
(asymmetry pairs). Variables and units:

* ``band_power`` (window, channel, band): absolute band power, V² (or
  baseline-z² when the EEG was z-scored against its baseline);
* ``de`` (window, channel, band): differential entropy, nats;
* ``faa`` (window, pair): ``ln P_right - ln P_left`` in the asymmetry band;
* ``hr_bpm``, ``hrv_meannn_ms``, ``hrv_sdnn_ms``, ``hrv_rmssd_ms`` (window):
  from the R-peaks of the first ECG lead, detected once per recording;
* ``eda_tonic_us``, ``scr_count``, ``scr_amplitude_us`` (window): from the
  EDA responses and tonic level, detected once per recording.

The peripheral variables carry a ``nan_reasons`` attribute, e.g.
``"fewer than 3 beats: 4; flat ECG: 1"`` (empty when none is NaN), so that a
NaN is never silent (:mod:`biosig.features.peripheral_windows`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from biosig.config import FeatureConfig
from biosig.errors import DataError
from biosig.features.eeg import band_power, differential_entropy, frontal_asymmetry
from biosig.features.peripheral_events import BeatEvents, EdaEvents
from biosig.features.peripheral_windows import WindowFeatures, ecg_features_from_beats, eda_features_from_events

#: Feature variables that are log-domain or level-like, so that subtracting
#: the baseline gives a change relative to rest (band_power is left absolute).
BASELINE_SUBTRACTED: tuple[str, ...] = (
    "de",
    "faa",
    "hr_bpm",
    "hrv_meannn_ms",
    "hrv_sdnn_ms",
    "hrv_rmssd_ms",
    "eda_tonic_us",
    "scr_count",
    "scr_amplitude_us",
)

_UNITS = {
    "de": "nat",
    "faa": "ln ratio (right/left)",
    "hr_bpm": "bpm",
    "hrv_meannn_ms": "ms",
    "hrv_sdnn_ms": "ms",
    "hrv_rmssd_ms": "ms",
    "eda_tonic_us": "µS",
    "scr_count": "count per window",
    "scr_amplitude_us": "µS",
}


def eeg_features(data: np.ndarray, sfreq: float, ch_names: Sequence[str], cfg: FeatureConfig, power_units: str = "V²") -> xr.Dataset:
    """Band power, DE and frontal asymmetry of EEG windows.

    Asymmetry uses the pairs of ``cfg.asymmetry_pairs`` whose two channels
    are in ``ch_names`` (:func:`asymmetry_pairs_present`); without any (an
    empty ``asymmetry_pairs`` or a montage lacking them) the dataset has no
    ``faa`` variable and no ``pair`` coordinate.

    Parameters
    ----------
    data
        ``(n_windows, n_channels, n_times)`` in volts (or z units).
    sfreq
        Sampling rate in Hz.
    ch_names
        Channel names, length ``n_channels``.
    """
    bands = dict(cfg.bands)
    power = band_power(data, sfreq, bands)
    band_names = list(bands)
    variables = {
        "band_power": (("window", "channel", "band"), power, {"units": power_units}),
        "de": (("window", "channel", "band"), differential_entropy(power), {"units": _UNITS["de"]}),
    }
    coords = {
        "channel": list(ch_names),
        "band": band_names,
        "band_fmin": ("band", [bands[b][0] for b in band_names], {"units": "Hz"}),
        "band_fmax": ("band", [bands[b][1] for b in band_names], {"units": "Hz"}),
    }
    pairs = asymmetry_pairs_present(cfg.asymmetry_pairs, ch_names)
    if pairs:
        faa = frontal_asymmetry(power, list(ch_names), band_names.index(cfg.asymmetry_band), pairs)
        variables["faa"] = (("window", "pair"), faa, {"units": _UNITS["faa"], "band": cfg.asymmetry_band})
        coords["pair"] = [f"{r}-{l}" for r, l in pairs]
    return xr.Dataset(variables, coords=coords)


def asymmetry_pairs_present(pairs: Sequence[tuple[str, str]], ch_names: Sequence[str]) -> list[tuple[str, str]]:
    """The ``(right, left)`` pairs whose two channels are both in ``ch_names``, in the given order."""
    names = set(ch_names)
    return [(r, left) for r, left in pairs if r in names and left in names]


def asymmetry_note(pairs: Sequence[tuple[str, str]], ch_names: Sequence[str]) -> str | None:
    """A sentence on the configured asymmetry pairs the montage lacks (None when it has them all)."""
    if not pairs:
        return "frontal asymmetry is off (features.asymmetry_pairs is empty)"
    present = asymmetry_pairs_present(pairs, ch_names)
    lacking = [f"{r}-{left}" for r, left in pairs if (r, left) not in present]
    if not lacking:
        return None
    if not present:
        return (
            f"no frontal asymmetry feature: the montage has none of the pairs {lacking} "
            "(features.asymmetry_pairs)"
        )
    return f"frontal asymmetry pairs {lacking} skipped: the montage lacks their channels"


def nan_counts(features: xr.Dataset) -> dict[str, dict[str, object]]:
    """Per feature variable with NaN values: how many windows hold one, of how many, and why.

    Returns ``{name: {"n_nan": int, "n_windows": int, "reasons": str}}``;
    ``reasons`` is the variable's ``nan_reasons`` attribute (e.g.
    ``"fewer than 3 beats: 4"``), plus ``"no baseline value to subtract: k"``
    for windows NaN only because their trial's baseline mean is. Variables
    without NaN are left out. Works on lazy (dask) data.
    """
    out: dict[str, dict[str, object]] = {}
    for name, var in features.data_vars.items():
        if "window" not in var.dims or not np.issubdtype(var.dtype, np.floating):
            continue
        other = [d for d in var.dims if d != "window"]
        nan = var.isnull().any(other) if other else var.isnull()
        n_nan = int(nan.sum().compute() if hasattr(nan.data, "compute") else nan.sum())
        if not n_nan:
            continue
        reasons = str(var.attrs.get("nan_reasons", ""))
        explained = sum(int(part.rpartition(": ")[2]) for part in reasons.split("; ") if part)
        if n_nan > explained and var.attrs.get("baseline") == "subtracted":
            extra = f"no baseline value to subtract: {n_nan - explained}"
            reasons = f"{reasons}; {extra}" if reasons else extra
        out[name] = {"n_nan": n_nan, "n_windows": int(var.sizes["window"]), "reasons": reasons}
    return out


def peripheral_features(
    ecg: BeatEvents | None, eda: EdaEvents | None, starts: np.ndarray, stops: np.ndarray
) -> xr.Dataset:
    """ECG and EDA features of the windows ``[start, stop)`` (s, the recordings' clock).

    Parameters
    ----------
    ecg, eda
        Events of the whole session's ECG and EDA
        (:func:`~biosig.features.peripheral_events.detect_ecg_events`,
        :func:`~biosig.features.peripheral_events.detect_eda_events`), or None
        when the session has no such recording.
    starts, stops
        ``(n_windows,)`` window bounds, s.

    Returns
    -------
    xarray.Dataset
        One ``(window,)`` variable per feature, with ``units`` and
        ``nan_reasons`` attributes.
    """
    variables: dict[str, tuple] = {}
    parts: list[WindowFeatures] = []
    if ecg is not None:
        parts.append(ecg_features_from_beats(ecg, starts, stops))
    if eda is not None:
        parts.append(eda_features_from_events(eda, starts, stops))
    for part in parts:
        for name, values in part.values.items():
            reasons = "; ".join(f"{why}: {n}" for why, n in part.nan_reasons[name].items())
            variables[name] = ("window", values, {"units": _UNITS[name], "nan_reasons": reasons})
    return xr.Dataset(variables)


def subtract_baseline(stimulus: xr.Dataset, baseline: xr.Dataset) -> xr.Dataset:
    """Subtract each trial's mean baseline features from its stimulus windows.

    Both datasets carry a ``trial`` coordinate along ``window``. Only the
    variables in :data:`BASELINE_SUBTRACTED` change; NaN windows of the
    baseline are ignored in its mean.
    """
    means = baseline.groupby("trial").mean("window", skipna=True)
    missing = sorted(set(stimulus["trial"].values.tolist()) - set(means["trial"].values.tolist()))
    if missing:
        raise DataError(f"trials {missing} have no usable baseline window to subtract (all dropped or too short)")
    out = stimulus.copy()
    for name in BASELINE_SUBTRACTED:
        if name in out:
            ref = means[name].sel(trial=stimulus["trial"])
            out[name] = (stimulus[name] - ref.drop_vars("trial")).assign_attrs(
                stimulus[name].attrs, baseline="subtracted"
            )
    return out


def feature_matrix(features: xr.Dataset, variables: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Flatten the chosen variables to ``(n_windows, n_features)`` with readable column names.

    Default variables: ``de``, ``faa`` and every peripheral variable present.
    """
    if variables is None:
        variables = [v for v in ("de", "faa", *BASELINE_SUBTRACTED[2:]) if v in features]
    blocks, names = [], []
    for var in variables:
        arr = features[var]
        other = [d for d in arr.dims if d != "window"]
        stacked = arr.stack(feature=other) if other else arr.expand_dims(feature=[var], axis=-1)
        blocks.append(np.asarray(stacked.transpose("window", "feature").values, dtype=np.float64))
        if other:
            names += [f"{var}[" + ",".join(str(v) for v in idx) + "]" if isinstance(idx, tuple) else f"{var}[{idx}]"
                      for idx in stacked["feature"].values]
        else:
            names.append(var)
    return np.concatenate(blocks, axis=1), names
