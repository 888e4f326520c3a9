"""EEG preprocessing of a continuous recording with MNE, driven by :class:`PreprocessConfig`.

Order: pick channels -> non-finite samples flagged -> notch -> band-pass ->
flat/noisy channel detection -> interpolation (spherical splines, montage) ->
re-reference -> resample -> optional ICA artefact removal
(:mod:`biosig.preprocess.fir`, :mod:`biosig.preprocess.bad_channels`,
:mod:`biosig.preprocess.ica`). Baseline normalisation is per trial and lives
in :mod:`biosig.preprocess.windows`. With
``filter.causal`` the resampling is causal too, the live pipeline's
(:func:`biosig.preprocess.resample.resample_raw_causal`), so that an offline causal run
gives the numbers the live one does.

What was found and done (bad channels and why, ICA components removed) is
returned in a :class:`PreprocessLog` so the report can show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mne
import numpy as np

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.errors import DataError
from biosig.preprocess.bad_channels import lof_bads, pyprep_bads, robust_amplitude_bads
from biosig.preprocess.fir import band_kernel, filter_segments, notch_kernel
from biosig.preprocess.ica import fit_blink_ica
from biosig.preprocess.resample import resample_raw_causal

#: ``preprocess.bad_channels.method`` -> its detector (``{channel: reason}``).
BAD_CHANNEL_DETECTORS = {"robust_amplitude": robust_amplitude_bads, "lof": lof_bads, "pyprep": pyprep_bads}


@dataclass
class PreprocessLog:
    """What preprocessing found in one recording."""

    bad_channels: dict[str, str] = field(default_factory=dict)
    ica_excluded: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def preprocess_eeg(raw: mne.io.BaseRaw, config: PreprocessConfig, label: str = "recording") -> tuple[mne.io.BaseRaw, PreprocessLog]:
    """Preprocess a continuous EEG recording; the input is not modified.

    Resampling to ``config.resample_sfreq`` is MNE's (``Raw.resample``, FFT,
    zero-phase) unless ``config.filter.causal``: then it is the live
    pipeline's causal polyphase resampling
    (:func:`biosig.preprocess.resample.resample_raw_causal`: SciPy's ``resample_poly``
    anti-alias filter run forward from a zero state, so the output lags the
    input by the filter's group delay, 78 ms for 256 -> 128 Hz, as the causal
    filters' output does). The preprocessed copy is then a new ``RawArray``
    keeping channels, montage, bad channels, measurement date and annotations.

    Parameters
    ----------
    raw
        EEG in volts, montage set (needed to interpolate bad channels).
    config
        Preprocessing parameters.
    label
        Name used in error messages (e.g. the subject or file).

    Returns
    -------
    raw, log
        The preprocessed copy (EEG channels only) and what was found.

    Raises
    ------
    DataError
        A channel is missing, too many are bad, a filter edge is at or above
        Nyquist, or (causal) the rates are not a ratio of small integers; the
        message names ``label`` and the setting.
    """
    log = PreprocessLog()
    raw = _pick_channels(raw, config.channels, label)
    _flag_non_finite(raw, log)
    _check_filter_edges(raw.info["sfreq"], config.filter, config.resample_sfreq, label)
    apply_filters(raw, config.filter)
    if config.bad_channels.enabled:
        detect_bad_channels(raw, config.bad_channels, log)
        _repair_bad_channels(raw, config.bad_channels, log, label)
    _set_reference(raw, config.reference, label)
    if config.resample_sfreq is not None and config.resample_sfreq != raw.info["sfreq"]:
        raw = _resample(raw, config.resample_sfreq, config.filter.causal, label)
    if config.ica.enabled:
        remove_blinks_ica(raw, config.ica, log, label)
    return raw, log


def _resample(raw: mne.io.BaseRaw, sfreq: float, causal: bool, label: str) -> mne.io.BaseRaw:
    if not causal:
        return raw.resample(sfreq, verbose="error")
    try:
        return resample_raw_causal(raw, sfreq)
    except DataError as exc:
        raise DataError(
            f"{label}: preprocess.resample_sfreq = {sfreq} Hz with preprocess.filter.causal: {exc}"
        ) from None


def _pick_channels(raw: mne.io.BaseRaw, channels: tuple[str, ...] | None, label: str) -> mne.io.BaseRaw:
    eeg_names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude=[])]
    if not eeg_names:
        raise DataError(f"{label}: no EEG channels (channel types: {sorted(set(raw.get_channel_types()))})")
    wanted = list(channels) if channels is not None else eeg_names
    missing = [ch for ch in wanted if ch not in eeg_names]
    if missing:
        raise DataError(f"{label}: EEG channels {missing} are missing; the recording has {eeg_names}")
    # One copy of the data: picking or reordering an MNE Raw copies the channels it keeps again.
    out = raw.copy() if wanted == raw.ch_names else raw.copy().pick(wanted)
    out.load_data(verbose="error")
    if out.ch_names != wanted:
        out.reorder_channels(wanted)
    return out


def _flag_non_finite(raw: mne.io.BaseRaw, log: PreprocessLog) -> None:
    """Mark channels with NaN/inf samples bad and zero those samples so filters stay finite.

    Samples inside ``BAD*`` annotations (e.g. ``BAD_ACQ_SKIP``, an acquisition
    gap a reader filled with NaN) are zeroed but do not make a channel bad:
    the gap belongs to every channel, and windows over it are dropped later
    (:func:`biosig.preprocess.windows.drop_annotated_windows`).
    """
    data = raw._data
    bad = ~np.isfinite(data)
    in_gap = bad_annotation_mask(raw)
    for idx in np.flatnonzero((bad & ~in_gap).any(axis=1)):
        name = raw.ch_names[idx]
        log.bad_channels[name] = f"{int((bad[idx] & ~in_gap).sum())} non-finite samples"
    data[bad] = 0.0


def bad_annotation_mask(raw: mne.io.BaseRaw) -> np.ndarray:
    """Boolean ``(n_times,)``: samples covered by an annotation whose description starts with ``BAD``."""
    mask = np.zeros(raw.n_times, dtype=bool)
    sfreq = raw.info["sfreq"]
    for ann in raw.annotations:
        if ann["description"].upper().startswith("BAD"):
            start = int(np.floor((ann["onset"] - raw.first_time) * sfreq))
            stop = int(np.ceil((ann["onset"] + ann["duration"] - raw.first_time) * sfreq))
            mask[max(start, 0) : max(stop, start + 1)] = True
    return mask


def _check_filter_edges(sfreq: float, cfg: FilterConfig, resample_sfreq: float | None, label: str) -> None:
    nyquist = sfreq / 2.0
    for name, value in (("h_freq", cfg.h_freq), ("l_freq", cfg.l_freq)):
        if value is not None and value >= nyquist:
            raise DataError(
                f"{label}: preprocess.filter.{name} = {value} Hz is not below the Nyquist frequency "
                f"{nyquist} Hz of the EEG sampled at {sfreq} Hz"
            )
    if resample_sfreq is not None and cfg.h_freq is not None and cfg.h_freq >= resample_sfreq / 2:
        raise DataError(
            f"{label}: preprocess.resample_sfreq = {resample_sfreq} Hz is too low for "
            f"preprocess.filter.h_freq = {cfg.h_freq} Hz (aliasing); use at least {2 * cfg.h_freq} Hz"
        )


def filter_kwargs(cfg: FilterConfig) -> dict:
    """Keyword arguments of MNE's ``filter``/``notch_filter`` for the configured design."""
    if cfg.method == "iir":
        return {
            "method": "iir",
            "iir_params": {"order": cfg.iir_order, "ftype": "butter", "output": "sos"},
            "phase": "forward" if cfg.causal else "zero",
        }
    return {"method": "fir", "phase": "minimum" if cfg.causal else "zero", "fir_design": "firwin"}


def apply_filters(raw: mne.io.BaseRaw, cfg: FilterConfig) -> None:
    """Notch (line frequency and its harmonics below the pass band) then band-pass, in place.

    Zero-phase FIR (the default) runs MNE's kernels through one vectorised
    FFT convolution over all channels (:mod:`biosig.preprocess.fir`; equal to
    ``Raw.notch_filter`` + ``Raw.filter`` to floating-point rounding); causal
    FIR and IIR are MNE's ``notch_filter`` and ``filter``.
    """
    kwargs = filter_kwargs(cfg)
    nyquist = raw.info["sfreq"] / 2.0
    freqs = np.array([])
    if cfg.line_freq is not None:
        top = min(nyquist, cfg.h_freq + cfg.line_freq / 2 if cfg.h_freq is not None else nyquist)
        freqs = np.arange(cfg.line_freq, top, cfg.line_freq)
        freqs = freqs[freqs < nyquist - 1.0]
    band = cfg.l_freq is not None or cfg.h_freq is not None
    if cfg.method == "fir" and not cfg.causal:
        _apply_zero_phase_fir(raw, freqs, cfg.l_freq if band else None, cfg.h_freq if band else None)
        return
    if freqs.size:
        raw.notch_filter(freqs, picks="eeg", verbose="error", **kwargs)
    if band:
        raw.filter(cfg.l_freq, cfg.h_freq, picks="eeg", verbose="error", **kwargs)


def _apply_zero_phase_fir(
    raw: mne.io.BaseRaw, freqs: np.ndarray, l_freq: float | None, h_freq: float | None
) -> None:
    """Notch at ``freqs`` and band-pass ``l_freq``-``h_freq`` (Hz) of the EEG channels as MNE would, in place.

    ``info["highpass"]``/``["lowpass"]`` are updated as ``Raw.filter`` does
    when the EEG channels are all of the recording's data channels.
    """
    sfreq = raw.info["sfreq"]
    kernels = [notch_kernel(sfreq, freqs)] if freqs.size else []
    if l_freq is not None or h_freq is not None:
        kernels.append(band_kernel(sfreq, l_freq, h_freq))
    if not kernels:
        return
    picks = mne.pick_types(raw.info, eeg=True, exclude=[])
    filter_segments(raw, picks, kernels)
    data_types = {"meg": True, "eeg": True, "csd": True, "seeg": True, "ecog": True, "dbs": True, "fnirs": True}
    if len(picks) != len(mne.pick_types(raw.info, exclude=[], **data_types)):
        return
    with raw.info._unlock():
        if h_freq is not None and (raw.info["lowpass"] is None or h_freq < raw.info["lowpass"]):
            raw.info["lowpass"] = float(h_freq)
        if l_freq is not None and (raw.info["highpass"] is None or l_freq > raw.info["highpass"]):
            raw.info["highpass"] = float(l_freq)


def detect_bad_channels(raw: mne.io.BaseRaw, cfg: BadChannelConfig, log: PreprocessLog) -> list[str]:
    """Flag bad EEG channels by ``cfg.method``, log why, and add them to ``raw.info['bads']``.

    The detectors (``robust_amplitude``, ``lof``, ``pyprep``) live in
    :mod:`biosig.preprocess.bad_channels`; a channel already in ``log`` (e.g.
    non-finite samples) keeps its first reason.
    """
    names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude=[])]
    for name, reason in BAD_CHANNEL_DETECTORS[cfg.method](raw, cfg).items():
        log.bad_channels.setdefault(name, reason)
    raw.info["bads"] = sorted(set(raw.info["bads"]) | set(log.bad_channels), key=names.index)
    return list(raw.info["bads"])


def _repair_bad_channels(raw: mne.io.BaseRaw, cfg: BadChannelConfig, log: PreprocessLog, label: str) -> None:
    bads = list(raw.info["bads"])
    if not bads:
        return
    n_eeg = len(mne.pick_types(raw.info, eeg=True, exclude=[]))
    if len(bads) > cfg.max_fraction * n_eeg:
        reasons = {ch: log.bad_channels.get(ch, "marked bad") for ch in bads}
        raise DataError(
            f"{label}: {len(bads)} of {n_eeg} EEG channels are bad ({reasons}), more than "
            f"preprocess.bad_channels.max_fraction = {cfg.max_fraction}"
        )
    if not cfg.interpolate:
        log.notes.append(f"bad channels {bads} kept as they are (interpolation disabled)")
        return
    if raw.get_montage() is None:
        raise DataError(f"{label}: cannot interpolate bad channels {bads} without electrode positions; set a montage")
    raw.interpolate_bads(reset_bads=True, verbose="error")
    log.notes.append(f"interpolated {bads} with spherical splines")


def _set_reference(raw: mne.io.BaseRaw, reference: str | tuple[str, ...] | None, label: str) -> None:
    if reference is None:
        return
    if reference != "average":
        missing = [ch for ch in reference if ch not in raw.ch_names]
        if missing:
            raise DataError(f"{label}: reference channels {missing} are not in the recording")
        reference = list(reference)
    raw.set_eeg_reference(reference, projection=False, verbose="error")


def remove_blinks_ica(raw: mne.io.BaseRaw, cfg: IcaConfig, log: PreprocessLog, label: str) -> None:
    """Remove the artefact components of :func:`biosig.preprocess.ica.fit_blink_ica` from ``raw``, in place, and log them."""
    ica = fit_blink_ica(raw, cfg, label)
    if ica.exclude:
        ica.apply(raw, verbose="error")
    log.ica_excluded = list(ica.exclude)
