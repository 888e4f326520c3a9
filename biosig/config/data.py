"""The data sections of a run: source, preprocessing, feature windows, features, cache, report.

Part of :mod:`biosig.config`; every section is a frozen pydantic model that
rejects unknown keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from biosig.datasets.synthetic import SyntheticConfig
from biosig.features.eeg import DEFAULT_ASYMMETRY_PAIRS, DEFAULT_BANDS

#: Shortest window, s: a few samples at the highest plausible EEG rates (5 at 512 Hz, 10 at 1 kHz).
MIN_WINDOW_SECONDS = 0.01
#: Shortest hop, s: one sample at 1 kHz (also the floor of ``biosig stream --hop``).
MIN_HOP_SECONDS = 0.001
#: Most windows one trial (or record) may be cut into; more means a hop far too short for the trial.
MAX_WINDOWS_PER_TRIAL = 10_000
#: Upper bounds of the synthetic cohort's sizes (each drives memory or run time).
MAX_SYNTHETIC: dict[str, float] = {
    "n_subjects": 1000,
    "n_trials": 1000,
    "baseline_seconds": 3600.0,
    "stimulus_seconds": 3600.0,
    "eeg_sfreq": 4096.0,
    "ecg_sfreq": 4096.0,
    "eda_sfreq": 4096.0,
}
#: Most samples of one synthetic subject, all channels and trials (2 GiB as float64).
MAX_SYNTHETIC_SUBJECT_SAMPLES = 2**28


def windows_per_trial(duration: float, length: float, hop: float) -> int:
    """Windows of ``length`` every ``hop`` seconds that fit in ``duration`` seconds (0 when none fits)."""
    if duration < length - 1e-9:
        return 0
    return int((duration - length) / hop + 1e-9) + 1


def check_window_schedule(length: float, hop: float, duration: float, what: str) -> None:
    """Raise ``ValueError`` when ``hop`` exceeds ``length`` or ``duration`` s would give too many windows.

    ``what`` names the span in the message (e.g. ``"the 60 s stimulus"``).
    """
    if hop > length + 1e-12:
        raise ValueError(f"hop ({hop} s) must not exceed length ({length} s): windows would leave gaps")
    n = windows_per_trial(duration, length, hop)
    if n > MAX_WINDOWS_PER_TRIAL:
        raise ValueError(
            f"a {length} s window every {hop} s gives {n} windows over {what}, more than "
            f"{MAX_WINDOWS_PER_TRIAL}; raise hop"
        )


class StrictSection(BaseModel):
    """A config section: frozen, and an unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(StrictSection):
    """Where sessions come from.

    ``kind: synthetic`` builds the embedded cohort (the default). The other
    kinds read data under ``root``: ``files`` (every file matching
    ``pattern``, read with :func:`biosig.io.read_session` and ``read``'s
    options, grouped into subjects by the ``{subject}`` field), ``bids`` (a
    BIDS dataset through mne-bids: ``task``, ``subjects``, ``sessions``,
    ``runs``, ``datatype``) and the dataset kinds ``dreamer``, ``deap``,
    ``seed``, ``wesad`` (the official downloads, through
    :mod:`biosig.datasets`). :mod:`biosig.sources` makes the session sources.
    With ``kind: synthetic`` and ``via_files: true``
    each session is first written as EDF (EEG) + CSV (ECG, EDA, trials) under
    ``files_dir`` (default: ``<report dir>/data``) and read back, so the main job
    exercises the file path of the pipeline.
    """

    kind: Literal["synthetic", "files", "bids", "dreamer", "deap", "seed", "wesad"] = "synthetic"
    root: Path | None = Field(
        None, description="The data: a folder (files, bids, seed, wesad, deap) or a file (dreamer's .mat); every kind but synthetic."
    )
    pattern: str | None = Field(
        None,
        description="files: a glob under root whose {name} fields are captured from each path, e.g. "
        "``Subject{subject}_{session}.edf`` or ``sub-{subject}/**/*.xdf``; {subject} groups files into subjects.",
    )
    read: dict[str, Any] = Field(default_factory=dict, description="files: options passed to biosig.io.read_session.")
    subjects: tuple[str, ...] | None = Field(None, description="Only these subjects (ids as the source names them).")
    task: str | None = Field(None, description="bids: the task.")
    sessions: tuple[str, ...] | None = Field(None, description="bids: only these sessions.")
    runs: tuple[str, ...] | None = Field(None, description="bids: only these runs.")
    datatype: str = Field("eeg", description="bids: the datatype folder.")
    synthetic: SyntheticConfig = Field(
        SyntheticConfig(),
        description="The synthetic cohort. Bounds (memory and run time): n_subjects and n_trials <= 1000, "
        "baseline_seconds and stimulus_seconds <= 3600, each rate <= 4096 Hz, and one subject's samples "
        "(all channels and trials) <= 2**28 (MAX_SYNTHETIC, MAX_SYNTHETIC_SUBJECT_SAMPLES).",
    )
    via_files: bool = True
    files_dir: Path | None = None

    @model_validator(mode="after")
    def _root_given(self) -> SourceConfig:
        if self.kind != "synthetic" and self.root is None:
            raise ValueError(f"source.root is required with kind: {self.kind} (the folder or file of the data)")
        if self.kind == "files" and not self.pattern:
            raise ValueError("source.pattern is required with kind: files, e.g. 'Subject{subject}_{session}.edf'")
        if self.kind != "files" and (self.pattern or self.read):
            raise ValueError("source.pattern and source.read apply to kind: files only")
        return self

    @field_validator("synthetic")
    @classmethod
    def _synthetic_bounded(cls, synthetic: SyntheticConfig) -> SyntheticConfig:
        for key, bound in MAX_SYNTHETIC.items():
            value = getattr(synthetic, key)
            if value > bound:
                raise ValueError(f"synthetic.{key} = {value} is above its bound {bound:g}")
        rate = 14 * synthetic.eeg_sfreq + 2 * synthetic.ecg_sfreq + synthetic.eda_sfreq  # EEG, ECG, EDA channels
        samples = synthetic.n_trials * (synthetic.baseline_seconds + synthetic.stimulus_seconds) * rate
        if samples > MAX_SYNTHETIC_SUBJECT_SAMPLES:
            raise ValueError(
                f"one synthetic subject would hold {samples:.3g} samples (n_trials x seconds x rates), "
                f"more than {MAX_SYNTHETIC_SUBJECT_SAMPLES:.3g}; lower synthetic.n_trials, durations or rates"
            )
        return synthetic


class FilterConfig(StrictSection):
    """Notch and band-pass filters (MNE).

    ``causal: true`` makes every filter causal (FIR minimum phase or forward
    IIR), and the resampling to ``preprocess.resample_sfreq`` too (SciPy's
    polyphase filter run forward, :func:`biosig.preprocess.resample.resample_causal`,
    instead of MNE's FFT resampling), as the live pipeline must be; the default
    is MNE's zero-phase filtering and resampling for offline analysis.
    """

    line_freq: float | None = Field(50.0, gt=0, description="Notch frequency in Hz (harmonics below h_freq too); null disables.")
    l_freq: float | None = Field(1.0, gt=0, description="High-pass edge in Hz; null disables.")
    h_freq: float | None = Field(45.0, gt=0, description="Low-pass edge in Hz; null disables.")
    method: Literal["fir", "iir"] = "fir"
    iir_order: int = Field(4, ge=1, le=10, description="Butterworth order when method is iir.")
    causal: bool = Field(
        False,
        description="Causal filters and causal resampling (the live pipeline's); false: MNE's zero-phase ones.",
    )

    @model_validator(mode="after")
    def _edges_ordered(self) -> FilterConfig:
        if self.l_freq is not None and self.h_freq is not None and self.l_freq >= self.h_freq:
            raise ValueError(f"l_freq ({self.l_freq} Hz) must be below h_freq ({self.h_freq} Hz)")
        return self


class BadChannelConfig(StrictSection):
    """Flat/noisy channel detection and spherical-spline interpolation."""

    enabled: bool = True
    method: Literal["robust_amplitude", "lof", "pyprep"] = Field(
        "robust_amplitude",
        description="Detector (biosig.preprocess.bad_channels): robust_amplitude (ours: flat_threshold, noisy_z), "
        "lof (MNE's find_bad_channels_lof: lof_threshold, lof_n_neighbors) or pyprep (pyprep's NoisyChannels "
        "without RANSAC; the cleaning extra). Default robust_amplitude: in the comparison of docs/cleaning.rst it "
        "finds every planted flat or noisy synthetic channel with no false alarm, flags one channel of the 7 real "
        "recordings (one LOF and pyprep flag too), is the fastest and needs no extra; lof misses flat channels and "
        "pyprep flags many synthetic (precision 0.11) and real channels by low correlation.",
    )
    flat_threshold: float = Field(1e-7, gt=0, description="A channel whose robust amplitude is below this (V) is flat.")
    noisy_z: float = Field(5.0, gt=0, description="Robust z-score of channel amplitude above which a channel is noisy.")
    lof_threshold: float = Field(1.5, gt=1, description="method lof: local outlier factor at or above which a channel is bad.")
    lof_n_neighbors: int = Field(20, ge=1, description="method lof: neighbours of the LOF (capped at half the other channels).")
    interpolate: bool = True
    max_fraction: float = Field(0.25, gt=0, le=1, description="More bad channels than this fraction is an error.")


class IcaConfig(StrictSection):
    """Optional ICA blink removal using frontal channels as EOG proxies."""

    enabled: bool = False
    n_components: int | float | None = Field(
        None,
        description="Passed to mne.preprocessing.ICA: an int >= 2 (at most the good EEG channels, checked at run "
        "time) or a float in (0, 1) (fraction of explained variance); default: rank.",
    )
    eog_proxies: tuple[str, ...] = ("AF3", "AF4")
    threshold: float = Field(3.0, gt=0, description="z-score threshold of mne's find_bads_eog.")
    method: Literal["fastica", "infomax", "infomax_extended"] = Field(
        "fastica", description="ICA algorithm; infomax_extended is MNE's infomax with extended=True (ICLabel's design)."
    )
    classifier: Literal["frontal_proxy", "iclabel"] = Field(
        "frontal_proxy",
        description="Which components are removed: frontal_proxy (correlated with eog_proxies at threshold) or "
        "iclabel (mne-icalabel's ICLabel: labelled eye blink, muscle artifact or heart beat with probability above "
        "iclabel_threshold; the cleaning extra).",
    )
    iclabel_threshold: float = Field(
        0.8, gt=0, lt=1, description="classifier iclabel: least probability of an eye/muscle/heart label to remove."
    )
    seed: int = 0
    decim: int | None = Field(
        None,
        ge=1,
        description="Fit the ICA on every decim-th sample (mne's ICA.fit decim; no anti-alias filter: the unmixing "
        "needs the samples' distribution, not their order); null: every sample. decim 3 made the fit 3-4x "
        "(infomax_extended) to 8-16x (fastica) faster on the synthetic cohort; the unmixing changes a little "
        "(fewer samples); components are classified and removed on every sample. On 3 synthetic subjects with "
        "blinks, decim 3 removes the same single blink component as the full fit (fastica and infomax_extended; "
        "its time course correlates (absolute r) >= 0.996 with the full fit's; tests/core/test_ica_methods.py, "
        "benchmarks/bench_preprocess.py --ica).",
    )

    @field_validator("n_components")
    @classmethod
    def _components_valid(cls, n: int | float | None) -> int | float | None:
        if isinstance(n, int) and n < 2:
            raise ValueError(f"an int number of components must be >= 2, got {n}")
        if isinstance(n, float) and not 0 < n < 1:
            raise ValueError(f"a float (fraction of explained variance) must be in (0, 1), got {n}")
        return n


class BaselineConfig(StrictSection):
    """Baseline normalisation from each trial's pre-trial baseline (DREAMER style).

    * ``feature_subtract``: features of the baseline windows are averaged and
      subtracted from the trial's features (log-domain features: DE, FAA; and
      the peripheral features), as TorchEEG's BaselineRemoval on DE.
    * ``zscore``: each channel of the trial's EEG is z-scored with the mean and
      standard deviation of the baseline (HiSTN uses the middle 10 s:
      ``start: 25.5, stop: 35.5``).
    * ``none``: no normalisation.

    ``start``/``stop`` select a segment of the baseline in seconds from its
    onset (default: the whole baseline).
    """

    mode: Literal["none", "zscore", "feature_subtract"] = "feature_subtract"
    start: float = Field(0.0, ge=0)
    stop: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _segment_ordered(self) -> BaselineConfig:
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"stop ({self.stop} s) must be after start ({self.start} s)")
        return self


class PreprocessConfig(StrictSection):
    """EEG preprocessing, applied in this order: filters, bad channels,
    re-reference, resample, ICA; baseline normalisation happens per trial."""

    channels: tuple[str, ...] | None = Field(
        None, description="EEG channels to keep, in this order; a session lacking one is an error. Default: all EEG channels."
    )
    filter: FilterConfig = FilterConfig()
    bad_channels: BadChannelConfig = BadChannelConfig()
    reference: Literal["average"] | tuple[str, ...] | None = "average"
    resample_sfreq: float | None = Field(None, gt=0, description="Target EEG rate in Hz; null keeps the original.")
    ica: IcaConfig = IcaConfig()
    baseline: BaselineConfig = BaselineConfig()


class WindowConfig(StrictSection):
    """Sliding windows over each trial's stimulus (seconds), shared by all modalities.

    In a run config ``hop`` must not exceed ``length`` and a trial may give at
    most :data:`MAX_WINDOWS_PER_TRIAL` windows (checked by
    :class:`~biosig.config.RunConfig`, which knows the trials' durations).
    """

    length: float = Field(4.0, ge=MIN_WINDOW_SECONDS, description="Window length, s (>= 0.01).")
    hop: float = Field(2.0, ge=MIN_HOP_SECONDS, description="Window hop, s (>= 0.001; in a run config <= length).")


class FeatureConfig(StrictSection):
    """Per-window features. Bands are ``name: [fmin, fmax]`` in Hz."""

    bands: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_BANDS))
    asymmetry_band: str = "alpha"
    asymmetry_pairs: tuple[tuple[str, str], ...] = DEFAULT_ASYMMETRY_PAIRS
    peripheral: bool = True

    @field_validator("bands")
    @classmethod
    def _bands_valid(cls, bands: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        if not bands:
            raise ValueError("at least one band is needed")
        for name, (lo, hi) in bands.items():
            if not 0 <= lo < hi:
                raise ValueError(f"band {name!r} must satisfy 0 <= fmin < fmax, got [{lo}, {hi}]")
        return bands

    @model_validator(mode="after")
    def _asymmetry_band_known(self) -> FeatureConfig:
        if self.asymmetry_band not in self.bands:
            raise ValueError(
                f"asymmetry_band {self.asymmetry_band!r} is not one of the bands {sorted(self.bands)}"
            )
        return self


class ReportConfig(StrictSection):
    """Where the report folder goes."""

    out_dir: Path = Path("reports/demo")


class CacheConfig(StrictSection):
    """Per-subject feature cache and parallel workers (:mod:`biosig.cohort`).

    With every key at its default the main job runs subjects one by one in
    memory. Setting ``dir`` caches each subject's features there (Zarr);
    ``workers > 1`` runs subjects in that many local processes and
    ``scheduler`` (``tcp://host:8786``) on a Dask cluster, both through the
    cache (``<report dir>/cache`` when ``dir`` is not set).
    """

    dir: Path | None = None
    workers: int = Field(1, ge=1, description="Local worker processes.")
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786.")
