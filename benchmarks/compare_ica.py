"""Compare the ICA classifiers of ``preprocess.ica`` (frontal proxy, ICLabel) on the synthetic cohort's blinks.

Each of ``--subjects`` synthetic subjects (``--trials`` clips of ``--stimulus``
s after a ``--baseline`` s baseline; 14 channels, 128 Hz; blinks at
``session.info["blink_onsets_s"]``; no bad channel) is preprocessed as the
default ``preprocess`` does (1-45 Hz band-pass, average reference). For each
ICA method (``fastica``, ``infomax_extended``) one decomposition is fitted by
:func:`biosig.preprocess.ica.fit_blink_ica` with ``classifier: frontal_proxy``
(threshold 3), and ICLabel (:func:`biosig.preprocess.ica.iclabel_artefacts`,
threshold 0.8) classifies the same decomposition, so the two classifiers are
compared on identical components.

Prints one row per subject x method x classifier: the removed components,
each one's |r| with the mean of AF3 and AF4, the blinks' mean peak-to-peak
amplitude (0-0.5 s after each onset, averaged over AF3, AF4, F7, F8) before
and after removal beside the same measure in the 0.5 s before each blink
(background EEG: what complete removal would reach), the seconds of the ICA
fit (frontal-proxy classification included, well under a second) and of the
ICLabel classification.

    .venv/bin/python benchmarks/compare_ica.py [--subjects 4] [--trials 1] [--baseline 16] [--stimulus 20]
"""

from __future__ import annotations

import argparse
import time

import mne
import numpy as np

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.preprocess.eeg import preprocess_eeg
from biosig.preprocess.ica import fit_blink_ica, iclabel_artefacts

FRONTAL = ["AF3", "AF4"]
BLINK_CHANNELS = ["AF3", "AF4", "F7", "F8"]
METHODS = ("fastica", "infomax_extended")
BLINK_WINDOW_S = 0.5


def frontal_correlations(raw: mne.io.BaseRaw, ica: mne.preprocessing.ICA) -> np.ndarray:
    """|Pearson r| of each component's time course with the mean of AF3 and AF4, (n_components,)."""
    sources = ica.get_sources(raw).get_data()
    frontal = raw.get_data(picks=FRONTAL).mean(axis=0)
    return np.array([abs(np.corrcoef(source, frontal)[0, 1]) for source in sources])


def blink_ptp_uv(raw: mne.io.BaseRaw, onsets_s: list[float], offset_s: float = 0.0) -> float:
    """Mean peak-to-peak (µV) over blinks and BLINK_CHANNELS in the 0.5 s from ``offset_s`` after each onset.

    ``offset_s = -0.5`` gives the 0.5 s before each blink (the previous blink, at least 1 s earlier, is over).
    """
    data = raw.get_data(picks=BLINK_CHANNELS)
    sfreq = raw.info["sfreq"]
    width = int(BLINK_WINDOW_S * sfreq)
    first = [int(round((t + offset_s) * sfreq)) for t in onsets_s]
    starts = [s for s in first if s >= 0 and s + width <= data.shape[1]]
    return float(np.mean([np.ptp(data[:, s : s + width], axis=1).mean() for s in starts]) * 1e6)


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--baseline", type=float, default=16.0, help="baseline seconds")
    parser.add_argument("--stimulus", type=float, default=20.0, help="clip seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    synthetic = SyntheticConfig(
        n_subjects=args.subjects,
        n_trials=args.trials,
        baseline_seconds=args.baseline,
        stimulus_seconds=args.stimulus,
        seed=args.seed,
        bad_channel_probability=0.0,
    )
    preprocess = PreprocessConfig(filter=FilterConfig(), bad_channels=BadChannelConfig(enabled=False))
    header = f"{'subject':8} {'method':17} {'classifier':14} {'removed (|r| AF3/AF4)':28} {'ptp before':>10} "
    print(header + f"{'ptp after':>9} {'pre-blink':>9} {'fit s':>6} {'ICLabel s':>9}")
    for k in range(args.subjects):
        session = make_session(k, synthetic)
        label = f"S{k + 1:02d}"
        raw, _log = preprocess_eeg(session.eeg, preprocess, label)
        onsets = session.info["blink_onsets_s"]
        before = blink_ptp_uv(raw, onsets)
        background = blink_ptp_uv(raw, onsets, offset_s=-BLINK_WINDOW_S)
        for method in METHODS:
            t0 = time.perf_counter()
            ica = fit_blink_ica(raw, IcaConfig(method=method, classifier="frontal_proxy", seed=args.seed), label)
            fit_s = time.perf_counter() - t0  # includes find_bads_eog (well under 1 s)
            t0 = time.perf_counter()
            iclabel = iclabel_artefacts(raw, ica, IcaConfig().iclabel_threshold)
            iclabel_s = time.perf_counter() - t0
            r = frontal_correlations(raw, ica)
            for classifier, excluded in (("frontal_proxy", list(ica.exclude)), ("iclabel", iclabel)):
                ica.exclude = excluded  # apply() would add its ``exclude`` to ica.exclude
                after = blink_ptp_uv(ica.apply(raw.copy(), verbose="error"), onsets)
                removed = ", ".join(f"{i} ({r[i]:.2f})" for i in excluded) or "none"
                print(
                    f"{label:8} {method:17} {classifier:14} {removed:28} {before:10.1f} {after:9.1f} "
                    f"{background:9.1f} {fit_s:6.1f} {iclabel_s if classifier == 'iclabel' else 0.0:9.1f}",
                    flush=True,
                )
        print(f"{label}: {len(onsets)} blinks, {raw.times[-1]:.0f} s", flush=True)


if __name__ == "__main__":
    main()
