"""The data sections of a run: source, preprocessing, feature windows, features, cache, report.

Part of :mod:`biosig.config`; every section is a frozen pydantic model that
rejects unknown keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from biosig.datasets.synthetic import SyntheticConfig
from biosig.features.eeg import DEFAULT_ASYMMETRY_PAIRS, DEFAULT_BANDS


class StrictSection(BaseModel):
    """A config section: frozen, and an unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(StrictSection):
    """Where sessions come from.

    ``kind: synthetic`` builds the embedded cohort. With ``via_files: true``
    each session is first written as EDF (EEG) + CSV (ECG, EDA, trials) under
    ``files_dir`` (default: ``<report dir>/data``) and read back, so the main job
    exercises the file path of the pipeline.
    """

    kind: Literal["synthetic"] = "synthetic"
    synthetic: SyntheticConfig = SyntheticConfig()
    via_files: bool = True
    files_dir: Path | None = None


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
    flat_threshold: float = Field(1e-7, gt=0, description="A channel whose robust amplitude is below this (V) is flat.")
    noisy_z: float = Field(5.0, gt=0, description="Robust z-score of channel amplitude above which a channel is noisy.")
    interpolate: bool = True
    max_fraction: float = Field(0.25, gt=0, le=1, description="More bad channels than this fraction is an error.")


class IcaConfig(StrictSection):
    """Optional ICA blink removal using frontal channels as EOG proxies."""

    enabled: bool = False
    n_components: int | float | None = Field(None, description="Passed to mne.preprocessing.ICA; default: rank.")
    eog_proxies: tuple[str, ...] = ("AF3", "AF4")
    threshold: float = Field(3.0, gt=0, description="z-score threshold of mne's find_bads_eog.")
    method: Literal["fastica", "infomax"] = "fastica"
    seed: int = 0


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
    """Sliding windows over each trial's stimulus (seconds), shared by all modalities."""

    length: float = Field(4.0, gt=0)
    hop: float = Field(2.0, gt=0)


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
