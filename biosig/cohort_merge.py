"""Stacking per-subject features into one cohort along ``window``.

Subjects recorded with different montages keep the EEG channels common to all
of them (and the asymmetry pairs common to all); what each subject lost is
returned and noted in its :class:`~biosig.preprocess.eeg.PreprocessLog`.
Everything else must agree, and an error names the subjects that differ:
the EEG sampling rate (unless ``preprocess.resample_sfreq`` made it equal),
the bands, and the feature variables (a subject lacking a modality).
Per-window label coordinates (``condition``, other numeric trial columns)
missing from a subject are NaN for its windows when numeric; a ``condition``
present for some subjects only is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from biosig.errors import DataError
from biosig.session import CONDITION

if TYPE_CHECKING:
    from biosig.pipeline import SessionResult

#: Feature variables per modality, to say which modality a subject lacks.
MODALITY_VARIABLES: dict[str, tuple[str, ...]] = {
    "EEG": ("band_power", "de"),
    "ECG": ("hr_bpm", "hrv_meannn_ms", "hrv_sdnn_ms", "hrv_rmssd_ms"),
    "EDA": ("eda_tonic_us", "scr_count", "scr_amplitude_us"),
}


def merge_results(results: Sequence[SessionResult]) -> tuple[xr.Dataset, dict[str, list[str]]]:
    """Concatenate the subjects' features along ``window`` (see module docstring).

    Returns
    -------
    features
        The cohort, windows renumbered ``0..n-1``; lazy when the inputs are.
    dropped_channels
        Subject -> EEG channels left out because another subject lacks them
        (only subjects that lost some).

    Raises
    ------
    DataError
        Naming the subjects whose EEG rates, bands or feature variables differ,
        or those with no EEG channel in common.
    """
    if not results:
        raise DataError("the cohort has no sessions")
    _check_rates(results)
    _check_variables(results)
    datasets, dropped = _common_channels(results)
    datasets = _common_pairs(results, datasets)
    datasets = _aligned_labels(results, datasets)
    cohort = xr.concat(datasets, dim="window", join="exact", combine_attrs="override")
    return cohort.assign_coords(window=np.arange(cohort.sizes["window"])), dropped


def _check_rates(results: Sequence[SessionResult]) -> None:
    rates = {r.subject: r.features.attrs.get("eeg_sfreq") for r in results}
    rates = {s: f for s, f in rates.items() if f is not None}
    if len(set(rates.values())) > 1:
        listed = ", ".join(f"{s}: {f:g} Hz" for s, f in rates.items())
        raise DataError(
            f"subjects' EEG sampling rates differ ({listed}); set preprocess.resample_sfreq to resample them all"
        )
    bands = {r.subject: list(r.features["band"].values) for r in results if "band" in r.features.coords}
    if len({tuple(b) for b in bands.values()}) > 1:
        listed = "; ".join(f"{s}: {b}" for s, b in bands.items())
        raise DataError(f"subjects' feature bands differ ({listed})")


def _check_variables(results: Sequence[SessionResult]) -> None:
    """Every subject must have the same features except ``faa`` (it follows the common pairs)."""
    have = {r.subject: set(r.features.data_vars) - {"faa"} for r in results}
    union = set().union(*have.values())
    lacking = []
    for subject, names in have.items():
        missing = union - names
        if not missing:
            continue
        modalities = [m for m, variables in MODALITY_VARIABLES.items() if missing & set(variables)]
        others = sorted(missing - {v for m in modalities for v in MODALITY_VARIABLES[m]})
        what = ", ".join([f"{m} features" for m in modalities] + others)
        lacking.append(f"subject {subject} lacks {what} ({sorted(missing)})")
    if lacking:
        raise DataError(
            "subjects' feature sets differ (a modality is missing): " + "; ".join(lacking)
            + "; drop those subjects or the modality (features.peripheral: false drops ECG and EDA)"
        )


def _common_channels(results: Sequence[SessionResult]) -> tuple[list[xr.Dataset], dict[str, list[str]]]:
    with_eeg = [r for r in results if "channel" in r.features.coords]
    if not with_eeg:
        return [r.features for r in results], {}
    sets = [set(r.features["channel"].values.tolist()) for r in with_eeg]
    common = [c for c in with_eeg[0].features["channel"].values.tolist() if all(c in s for s in sets)]
    if not common:
        listed = "; ".join(f"{r.subject}: {r.features['channel'].values.tolist()}" for r in with_eeg)
        raise DataError(f"subjects have no EEG channel in common ({listed}); set preprocess.channels or drop a subject")
    datasets, dropped = [], {}
    for r in results:
        ds = r.features
        if "channel" in ds.coords:
            lost = [c for c in ds["channel"].values.tolist() if c not in common]
            if lost:
                dropped[r.subject] = lost
                r.log.notes.append(f"EEG channels {lost} left out: not recorded for every subject of the cohort")
            ds = ds.sel(channel=common) if lost or list(ds["channel"].values) != common else ds
        datasets.append(ds)
    return datasets, dropped


def _common_pairs(results: Sequence[SessionResult], datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    pairs = [set(ds["pair"].values.tolist()) if "faa" in ds else set() for ds in datasets]
    common = set.intersection(*pairs)
    if all(p == common for p in pairs):
        return datasets
    order = [p for ds in datasets if "faa" in ds for p in ds["pair"].values.tolist() if p in common]
    keep = list(dict.fromkeys(order))
    out = []
    for r, ds, own in zip(results, datasets, pairs):
        if own - common:
            r.log.notes.append(
                f"asymmetry pairs {sorted(own - common)} left out: not available for every subject of the cohort"
            )
        if "faa" in ds:
            ds = ds.sel(pair=keep) if keep else ds.drop_vars(["faa", "pair"])
        out.append(ds)
    return out


def _aligned_labels(results: Sequence[SessionResult], datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    """Give every subject the label coordinates any subject has (numeric ones NaN where missing)."""
    labels = {name for ds in datasets for name in ds.attrs.get("label_columns", [])}
    if not labels:
        return datasets
    without = [r.subject for r, ds in zip(results, datasets) if CONDITION in labels and CONDITION not in ds.coords]
    if without:
        raise DataError(
            f"subjects {without} have no '{CONDITION}' labels while others do; label every subject's trials"
        )
    out = []
    for ds in datasets:
        missing = sorted(labels - set(ds.coords))
        fill = {name: ("window", np.full(ds.sizes["window"], np.nan)) for name in missing}
        ordered = [n for d in datasets for n in d.attrs.get("label_columns", [])]
        out.append(ds.assign_coords(fill).assign_attrs(label_columns=list(dict.fromkeys(ordered))))
    return out
