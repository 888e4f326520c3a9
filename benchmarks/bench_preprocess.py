"""EEG preprocessing, the former MNE path against the current one, side by side in one run.

Recordings: one DREAMER-like synthetic subject (``--trials`` trials of
``--stimulus`` s after 61-s baselines; 14 channels at 128 Hz; the synthetic
cohort's bad channels) and, when ``../shared/data`` holds it, physionet-eegmat
``Subject00_1.edf`` (19 channels at 500 Hz, 182 s). Both paths run the default
``preprocess`` (50-Hz notch, 1-45 Hz zero-phase FIR band-pass, robust-amplitude
bad channels, interpolation, average reference):

* former: ``Raw.copy().pick().reorder_channels()``, MNE's ``notch_filter`` +
  ``filter`` (overlap-add per channel), ``np.percentile`` of the recording, MNE's
  interpolation and reference, as :func:`biosig.preprocess.eeg.preprocess_eeg`
  called them before;
* current: :func:`biosig.preprocess.eeg.preprocess_eeg` (one copy, MNE's FIR
  kernels in one vectorised FFT pass, :func:`biosig.preprocess.bad_channels.percentiles_in_place`).

Each stage and the whole path are timed ``--repeats`` times, the two paths
alternating, and printed as the best and median seconds with the ratio
former / current of the medians, beside ``os.getloadavg()`` (on a shared
machine the ratio of one run is the figure to read). The outputs' largest
difference, relative to the former output's standard deviation, is printed
too. ``--ica`` adds the ICA fit (fastica, frontal proxy) on every sample against
``decim=3`` on one 36-s synthetic subject with blinks: fit seconds and the
components removed.

    .venv/bin/python benchmarks/bench_preprocess.py [--trials 18] [--stimulus 60] [--repeats 5] [--ica]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import mne
import numpy as np

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.io import read_session
from biosig.preprocess.bad_channels import percentiles_in_place
from biosig.preprocess.eeg import apply_filters, preprocess_eeg
from biosig.preprocess.ica import fit_blink_ica

EEGMAT = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet-eegmat" / "Subject00_1.edf"
FIR = {"picks": "eeg", "method": "fir", "phase": "zero", "fir_design": "firwin", "verbose": "error"}


def notch_freqs(sfreq: float, cfg: FilterConfig) -> np.ndarray:
    """The line frequency and harmonics the notch removes (as ``apply_filters`` chooses them), Hz."""
    nyquist = sfreq / 2
    freqs = np.arange(cfg.line_freq, min(nyquist, cfg.h_freq + cfg.line_freq / 2), cfg.line_freq)
    return freqs[freqs < nyquist - 1.0]


def former_pick(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """EEG channels as the former ``_pick_channels``: copy, pick, reorder (three copies)."""
    names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude=[])]
    return raw.copy().pick(names).load_data(verbose="error").reorder_channels(names)


def former_filter(raw: mne.io.BaseRaw, cfg: FilterConfig) -> None:
    """MNE's notch then band-pass, in place."""
    freqs = notch_freqs(raw.info["sfreq"], cfg)
    if freqs.size:
        raw.notch_filter(freqs, **FIR)
    raw.filter(cfg.l_freq, cfg.h_freq, **FIR)


def former_path(raw: mne.io.BaseRaw, cfg: PreprocessConfig, bads: list[str]) -> mne.io.BaseRaw:
    """The former default preprocessing; ``bads`` (found by the current path) are interpolated."""
    out = former_pick(raw)
    former_filter(out, cfg.filter)
    np.percentile(out.get_data(), [75, 25], axis=1, overwrite_input=True)
    if bads:
        out.info["bads"] = list(bads)
        out.interpolate_bads(reset_bads=True, verbose="error")
    return out.set_eeg_reference("average", projection=False, verbose="error")


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def compare(label: str, raw: mne.io.BaseRaw, repeats: int) -> None:
    """Print the stages of both paths on ``raw``, best and median seconds and the median ratio."""
    cfg = PreprocessConfig()
    current, log = preprocess_eeg(raw, cfg, label)
    bads = list(log.bad_channels)
    former = former_path(raw, cfg, bads)
    expected = former.get_data()
    diff = np.abs(current.get_data() - expected).max() / expected.std()
    filtered = former_pick(raw)
    stages = {
        "pick (copy)": (lambda: former_pick(raw), lambda: raw.copy()),
        "notch + band-pass": (
            lambda: former_filter(filtered.copy(), cfg.filter),
            lambda: apply_filters(filtered.copy(), cfg.filter),
        ),
        "IQR percentiles": (
            lambda: np.percentile(filtered.get_data(), [75, 25], axis=1, overwrite_input=True),
            lambda: percentiles_in_place(filtered.get_data(), (75.0, 25.0)),
        ),
        "whole preprocess": (lambda: former_path(raw, cfg, bads), lambda: preprocess_eeg(raw, cfg, label)),
    }
    print(f"{label}: {len(raw.ch_names)} ch, {raw.info['sfreq']:g} Hz, {raw.times[-1]:.0f} s; bad {bads}; "
          f"max |current - former| / std = {diff:.1e}")  # fmt: skip
    header = f"  {'stage':20} {'former best/median s':>21} {'current best/median s':>22} {'ratio':>6}"
    print(header + "  load (1, 5, 15 min)")
    for stage, (old, new) in stages.items():
        olds, news = [], []
        for _ in range(repeats):
            olds.append(timed(old))
            news.append(timed(new))
        ratio = statistics.median(olds) / statistics.median(news)
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"  {stage:20} {min(olds):10.3f} {statistics.median(olds):10.3f} {min(news):11.3f} "
              f"{statistics.median(news):10.3f} {ratio:6.2f}x  {load}")  # fmt: skip


def compare_ica() -> None:
    """ICA fit on every sample against decim=3 on one synthetic subject with blinks (fastica, frontal proxy)."""
    synthetic = SyntheticConfig(n_subjects=1, n_trials=1, baseline_seconds=16.0, stimulus_seconds=20.0,
                                bad_channel_probability=0.0)  # fmt: skip
    prep = PreprocessConfig(bad_channels=BadChannelConfig(enabled=False))
    raw, _log = preprocess_eeg(make_session(0, synthetic).eeg, prep, "S01")
    for decim in (None, 3):
        t0 = time.perf_counter()
        ica = fit_blink_ica(raw, IcaConfig(decim=decim), "S01")
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"ICA fastica decim={decim}: fit {time.perf_counter() - t0:.2f} s, removed {ica.exclude}; load {load}")


def main() -> None:
    """Build the recordings and print the comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=18)
    parser.add_argument("--stimulus", type=float, default=60.0, help="clip seconds")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ica", action="store_true", help="also time the ICA fit with and without decim=3")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}")
    synthetic = SyntheticConfig(n_subjects=1, n_trials=args.trials, stimulus_seconds=args.stimulus)
    compare("synthetic S01", make_session(0, synthetic).eeg.load_data(), args.repeats)
    if EEGMAT.is_file():
        compare("eegmat Subject00_1", read_session(EEGMAT).eeg.load_data(), args.repeats)
    if args.ica:
        compare_ica()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
