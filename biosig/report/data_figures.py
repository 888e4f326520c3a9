"""Figures of the data: power spectra before and after preprocessing, and the montage.

Both return None (the report then says why) when the recording lacks what
they draw: no Raw given, no EEG channels, or no sensor positions.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mne
import numpy as np

#: Highest frequency drawn in the spectra (Hz); lower when the Nyquist frequency is lower.
PSD_FMAX_HZ = 70.0


def _psd_db(raw: mne.io.BaseRaw) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of the EEG channels in dB re 1 µV²/Hz, ``(n_channels, n_freqs)``, and the frequencies (Hz)."""
    picks = "eeg" if "eeg" in raw.get_channel_types() else "data"
    fmax = min(PSD_FMAX_HZ, raw.info["sfreq"] / 2)
    spectrum = raw.compute_psd(method="welch", picks=picks, fmax=fmax, verbose="error")
    psd, freqs = spectrum.get_data(return_freqs=True)
    return 10 * np.log10(np.maximum(psd * 1e12, 1e-30)), freqs


def plot_psd_before_after(
    raw_before: mne.io.BaseRaw, raw_after: mne.io.BaseRaw, subject: str, path: Path
) -> Path:
    """Two panels on one y-axis: each EEG channel's PSD (thin) and their mean (thick), before and after."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), sharey=True)
    for ax, raw, when in zip(axes, (raw_before, raw_after), ("before", "after")):
        psd, freqs = _psd_db(raw)
        ax.plot(freqs, psd.T, color="0.6", lw=0.5)
        ax.plot(freqs, psd.mean(axis=0), color="C0", lw=1.8, label="mean over channels")
        ax.set_xlabel("frequency (Hz)")
        ax.set_title(f"{when} preprocessing")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("power (dB re 1 µV²/Hz)")
    axes[1].legend(handles=axes[1].lines[-1:], loc="upper center", bbox_to_anchor=(-0.05, -0.2), frameon=False)
    fig.suptitle(f"EEG power spectra of {subject} (Welch; grey: one line per channel)", y=1.04)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def has_positions(info: mne.Info) -> bool:
    """Whether the EEG channels of ``info`` have finite, non-zero sensor positions."""
    picks = mne.pick_types(info, eeg=True)
    if len(picks) == 0:
        return False
    locs = np.array([info["chs"][i]["loc"][:3] for i in picks])
    return bool(np.isfinite(locs).all() and np.abs(locs).sum(axis=1).min() > 0)


def plot_montage(info: mne.Info, path: Path) -> Path:
    """The EEG sensors of ``info`` seen from above, with their names."""
    eeg = mne.pick_info(info, mne.pick_types(info, eeg=True))
    fig = mne.viz.plot_sensors(eeg, kind="topomap", show_names=True, show=False)
    fig.set_size_inches(4.5, 4.5)
    fig.axes[0].set_title(f"Montage: {len(eeg.ch_names)} EEG channels")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
