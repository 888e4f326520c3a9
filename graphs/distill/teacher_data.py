"""The EEG teacher's data: the configured cohort -> DE scalp maps with valence and arousal per window.

Data (:func:`eeg_topomaps`). Sessions come from ``teacher.source``, the
section ``biosig run`` reads (the synthetic cohort, ``files``, ``bids`` or a
dataset download such as ``DREAMER.mat``; :mod:`graphs.distill.teacher_source`),
through :func:`biosig.cohort_sources.sources_from_config`. The offline pipeline
(:func:`biosig.pipeline.cohort_features`: MNE preprocessing, windows,
baseline-subtracted differential entropy per band) gives DE
``(n_windows, n_channels, n_bands)``; :func:`graphs.topomap.topomap_interpolator`
turns it into scalp maps ``(n_windows, n_bands, size, size)`` with one
matrix product. The paper's topomap construction is not public (field notes
section 2); this is ours.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.errors import DataError

from .config import TeacherConfig

#: The ratings the teacher regresses, in output order.
TARGETS = ("valence", "arousal")


@dataclass(frozen=True)
class TopomapData:
    """Scalp maps of a cohort's windows and their labels.

    Attributes
    ----------
    images
        ``(n_windows, n_bands, size, size)`` float32, DE relative to the trial's baseline (nats), 0 outside the head.
    meta
        One row per window: ``subject``, ``trial``, ``valence``, ``arousal``.
    mask
        ``(size, size)`` bool, pixels inside the head.
    ch_names, bands
        Channel and band order.
    scale
        Rating scale ``(low, high)``.
    """

    images: np.ndarray
    meta: pd.DataFrame
    mask: np.ndarray
    ch_names: tuple[str, ...]
    bands: tuple[str, ...]
    scale: tuple[float, float]


def eeg_topomaps(cfg: TeacherConfig, files_dir: Path | None = None) -> TopomapData:
    """DE scalp maps of every window of the configured cohort (module docstring).

    Sessions come from :func:`biosig.cohort_sources.sources_from_config` on
    the teacher's ``source``, ``trials`` and ``labels`` sections, as in
    ``biosig run``; ``files_dir`` is where a synthetic cohort with
    ``via_files: true`` is written (default: a temporary folder).

    Raises
    ------
    ConfigError
        The data under ``source.root`` do not fit the source section.
    DataError
        From the readers and the pipeline (naming the subject, channel or file), or trials without valence and
        arousal ratings.
    """
    from biosig.cohort_sources import sources_from_config
    from biosig.config import FeatureConfig, RunConfig
    from biosig.pipeline import cohort_features
    from graphs.topomap import topomap_interpolator

    # the pipeline always computes frontal asymmetry; the teacher ignores it
    faa_band = "alpha" if "alpha" in cfg.bands else next(iter(cfg.bands))
    features = FeatureConfig(bands=dict(cfg.bands), asymmetry_band=faa_band, peripheral=False)
    run_cfg = RunConfig(
        source=cfg.source,
        trials=cfg.trials,
        labels=cfg.labels,
        preprocess=cfg.preprocess,
        windows=cfg.windows,
        features=features,
    )
    with tempfile.TemporaryDirectory(prefix="distill-teacher-") as scratch:
        sources = sources_from_config(run_cfg, files_dir or Path(scratch))
        cohort, _ = cohort_features((source() for source in sources), run_cfg)
    de = cohort["de"].transpose("window", "channel", "band")
    if not np.isfinite(de.values).all():
        raise DataError("teacher data: differential entropy is not finite in some window (a flat channel?)")
    ch_names = tuple(str(c) for c in cohort["channel"].values)
    topo = topomap_interpolator(ch_names, size=cfg.topomap_size)
    meta = pd.DataFrame(
        {
            "subject": cohort["subject"].values.astype(str),
            "trial": cohort["trial"].values,
            "valence": cohort["valence"].values.astype(float),
            "arousal": cohort["arousal"].values.astype(float),
        }
    )
    unrated = meta.loc[~np.isfinite(meta[list(TARGETS)]).all(axis=1), "subject"].unique().tolist()
    if unrated:
        raise DataError(
            f"teacher data: subjects {sorted(unrated)} have trials without valence and arousal ratings; the "
            "teacher regresses both (give them with teacher.labels.ratings, or use a source that has them)"
        )
    return TopomapData(
        topo(de.values).astype(np.float32),
        meta,
        topo.mask.copy(),
        ch_names,
        tuple(str(b) for b in cohort["band"].values),
        cfg.scale,
    )
