"""Calibration: statistics of a rest recording, the live stand-in for training's baseline z-score.

``biosig train --export`` writes checkpoints whose normalisation reads
``{"calibrate": true, "max_scale": [...]}`` (:mod:`streaming.model_io`): the
model saw each trial z-scored against its own pre-trial rest, which a live
session does not have. A calibration records rest at the start of the live
session instead and takes each channel's mean and standard deviation
(population, as :func:`biosig.preprocess.windows.baseline_zscore`); the live
inputs become ``(x - mean) / (std * max_scale)``.

The rest goes through the live chain up to the model's normalisation, from
a zero state as a new stream: the causal filters at the stream's rate
(:func:`biosig.preprocess.causal.design_filters`), causal resampling to the model's
rate when they differ (:func:`biosig.preprocess.resample.resample_causal`), the
re-reference and the optional fixed ICA (:mod:`streaming.spatial`); the
warm-up left out is the live pipeline's own
(:attr:`streaming.online.OnlinePipeline.warmup`). Bad-channel interpolation
is not part of it: a rest with an invalid or flat channel is refused, and so
is one with a channel that offline preprocessing would flag flat or noisy
(:func:`~streaming.calibrate.rest.rest_bad_channels`, the rule and
thresholds of :func:`biosig.preprocess.eeg.detect_bad_channels`): the
message names the channels and why (``biosig calibrate`` exits 2; the
stream path restarts with that reason). A dead electrode's tiny standard
deviation would otherwise scale its live input up by orders of magnitude. Two
paths share one function, :func:`rest_statistics`, so the same samples give
the same numbers:

* **file** (``biosig calibrate CKPT --from FILE``, :func:`calibrate_checkpoints`):
  a span of a recording (any file :func:`biosig.io.read_session` reads, or a
  synthetic subject). Default span: the first trial's baseline, its middle
  ``seconds`` when it is longer (training uses the middle of the baseline);
  without a trial table, the first ``seconds`` of the recording. Filtering
  starts one warm-up before the span, so every sample of the span is past
  the warm-up; a span that begins within the recording's first warm-up
  starts at its end instead.
* **stream** (``biosig stream --calibrate SECONDS``, :class:`StreamCalibrator`):
  the first warm-up plus ``SECONDS`` of the stream's samples. A gap or clock
  jump in the stamps (a lost stream, an overrun) restarts the calibration, as
  do invalid samples or a flat channel in the rest; each (re)start is a
  ``calibrating`` event saying why, the end a ``calibrated`` event.

**ECG/EDA nodes.** A model with peripheral nodes was trained on span
features minus each trial's baseline level: the mean of the same features
over back-to-back ``peripheral_seconds`` tiles of the baseline, NaN tiles left
out (:func:`graphs.training.windows_dataset.baseline_level`). The
calibration measures that level on the rest span its EEG statistics cover
(from their first sample to the span's end), tiled the same way
(:func:`~graphs.training.windows_dataset.baseline_tiles`) and averaged by
the same function (:func:`~graphs.training.windows_dataset.tile_level`):
from the recording with the offline cut (file path,
:func:`session_rest_level`), or from the ECG/EDA streams with the live cut
(:func:`streaming.online.trailing_span`, which equals the offline cut on a
regularly sampled stream) fed to :meth:`StreamCalibrator.feed_peripheral`.
Either way a tile's features come from the R-peaks and SCRs of the causal
detectors (:mod:`biosig.features.peripheral_causal`) confirmed by the
tile's end, not from NeuroKit2 per tile: over the whole recording on the
file path, as the samples arrive on the stream
(:class:`streaming.online.PeripheralBuffer`).
On the stream, the calibration waits, up to ``peripheral_wait`` seconds of
EEG past the rest, for each peripheral stream's sample that closes the last
tile (a peripheral stream lagging the EEG would otherwise shorten it); the
EEG samples of that wait are not predicted. The level is stored in the
calibrated checkpoint as ``normalization.peripheral_offset``; a feature
without a usable tile is NaN there (``null``) and stays missing live, as
offline for a trial without a usable baseline tile.

Calibrated checkpoints are copies with the same file names in another
folder: the inputs are never modified, and each copy is written to a
temporary file in the output folder first, then renamed (:func:`os.replace`),
so a reader never sees a half-written checkpoint.

The package's modules: :mod:`~streaming.calibrate.rest` (the statistics of
a rest after the live chain, shared by both paths),
:mod:`~streaming.calibrate.recording` (the file path: the rest span of a
recording and its ECG/EDA level), :mod:`~streaming.calibrate.checkpoints`
(writing the calibrated copies) and :mod:`~streaming.calibrate.stream` (the
stream path).
"""

from streaming.calibrate.checkpoints import calibrate_checkpoints
from streaming.calibrate.recording import calibrate_session, rest_span, session_rest_level
from streaming.calibrate.rest import (
    Calibration,
    RestStatistics,
    rest_bad_channels,
    rest_statistics,
    spatial_map,
    warmup_samples,
)
from streaming.calibrate.stream import StreamCalibrator

__all__ = [
    "Calibration",
    "RestStatistics",
    "StreamCalibrator",
    "calibrate_checkpoints",
    "calibrate_session",
    "rest_bad_channels",
    "rest_span",
    "rest_statistics",
    "session_rest_level",
    "spatial_map",
    "warmup_samples",
]
