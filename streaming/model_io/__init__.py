"""Models for the live pipeline: checkpoints and what the pipeline needs to know about their inputs.

A live model is one or more zoo models (:mod:`graphs.models`) plus the
input definition they were trained on. It is stored in the trainer's
checkpoint format (:func:`graphs.training.trainer.save_checkpoint`: tensors
and a JSON string, read with ``torch.load(weights_only=True)``), one file per
model, with these metadata keys (:func:`live_metadata` writes them):

==================  ===========================================================================
key                 meaning
==================  ===========================================================================
``model``           registry name (``histn``, ``dgcnn``, ``eegnet``, ``logreg_de``)
``hparams``         the model config in JSON form (``ModelConfig.model_dump(mode="json")``;
                    ``model_config`` as ``biosig train`` writes it is read too)
``target``          ``valence`` or ``arousal``: the target of a classifier or of a one-output
                    regression model; or
``targets``         ``["valence", "arousal"]`` for a regression model with one output per target
``task``            ``binary``, ``five_class`` or ``regression`` (``biosig train --export``)
``scale``           rating of each class for the expected value (default ``[1..5]`` for
                    ``task: five_class``, ``[0, 1]`` for ``task: binary``, else class indices)
``rating_range``    regression models (required): ``[low, high]`` of the rating scale. Such a
                    model outputs ``(rating - centre) / half_range`` (centre ``(low + high) / 2``,
                    half range ``(high - low) / 2``, :func:`biosig.evaluation.labels.regression_targets`);
                    live, its value is the rating ``centre + half_range * output`` (not clipped)
                    and its confidence NaN
``channels``        EEG channels in model order
``sfreq``           sampling rate of the model's inputs in Hz (a stream at another rate is
                    resampled to it)
``window``          ``{"length": s, "hop": s}``; raw-input models need ``length * sfreq == n_times``
                    (else ``train_config.windows`` of ``biosig train``)
``features``        :class:`~biosig.config.FeatureConfig` as a mapping (bands of DE inputs)
``preprocess``      ``{"filter": FilterConfig mapping, "reference": "average" | [names] | null}``;
                    ``null`` means the model was trained on unfiltered EEG
``peripheral``      models with ECG/EDA nodes (hparams ``peripheral``): ``{"seconds": s, "nodes":
                    {"ecg": [feature names], "eda": [...]}}``, the span of the features ending
                    with each window (``train.windows.peripheral_seconds``) and the features of
                    each node in column order (:data:`PERIPHERAL_FEATURES`; the live pipeline
                    needs a stream per node)
``normalization``   optional; inputs are ``(x - offset) / scale`` per channel, ``x`` the
                    window after the live chain (filters, resampling, reference, ICA) in
                    volts. Fixed:
                    ``{"offset": [...], "scale": [...]}`` (V). Calibrated (``biosig train
                    --export`` writes it): ``{"calibrate": true, "max_scale": [...]}``, which
                    needs a calibration before it streams; calibrating adds ``offset`` (rest
                    mean, V), ``scale`` (rest standard deviation x ``max_scale``, V) and
                    ``calibration`` (where the rest came from: ``source``, ``start`` s,
                    ``seconds``, ``samples``, and ``peripheral_tiles``). With ``peripheral``,
                    also ``peripheral_offset``: ``{"ecg": [...], "eda": [...]}``, the rest's
                    ECG/EDA level (units of :mod:`biosig.features.peripheral`; ``null`` = no
                    usable tile, that feature stays missing), subtracted from each window's
                    features before the model; a fixed normalisation may give it too
                    (default: features go in as measured)
==================  ===========================================================================

Every model of a live model must agree on the input keys (channels, rate,
window, features, preprocessing, normalisation); a disagreement is a
:class:`~biosig.errors.ConfigError` naming the key and both files.

**Calibration.** ``biosig train`` z-scores each trial against the middle of
its own pre-trial baseline and divides raw inputs by each record's channel
maximum (:mod:`graphs.training.windows_dataset`); neither exists live, where
there are no trials and the future is unknown. Their causal stand-ins:

==========================  ===========================  ================================================
training                    live                         where
==========================  ===========================  ================================================
baseline mean, std of the   ``offset``, ``scale``: mean  :mod:`streaming.calibrate`, from a rest file
trial (per channel)         and std of a rest recording  (``biosig calibrate``) or the first seconds of
                            at the start of the session  the stream (``biosig stream --calibrate S``)
                            after the live chain (causal
                            filters, resampling,
                            reference, ICA)
record max |z| (raw inputs  ``max_scale``: fixed factor  :mod:`streaming.export`: harmonic mean
only)                       per channel, measured on     over training records of max |z| (ones for DE
                            the training records         inputs)
ECG/EDA baseline level of   ``peripheral_offset``: the   :mod:`streaming.calibrate`, the same rest: mean
the trial (peripheral       same level measured on the   of the features over back-to-back
nodes only)                 calibration rest             ``peripheral.seconds`` tiles, NaN tiles left out
                                                         (:func:`~graphs.training.windows_dataset.baseline_level`)
==========================  ===========================  ================================================

A checkpoint with ``calibrate: true`` and no ``offset`` (or, with
``peripheral``, no ``peripheral_offset``) is refused by
:func:`load_live_model` (a :class:`~biosig.errors.ConfigError` naming the
file and both ways to calibrate) unless the caller calibrates it from the
stream (``allow_uncalibrated``).

The package's modules: :mod:`~streaming.model_io.spec` (:class:`LiveSpec`,
the input definition), :mod:`~streaming.model_io.models` (the loaded models,
:class:`TargetModel` and :class:`LiveModel`), :mod:`~streaming.model_io.metadata`
(the metadata keys above, written and read) and
:mod:`~streaming.model_io.checkpoint` (saving and loading checkpoint files).
"""

from streaming.model_io.checkpoint import load_live_model, save_live_checkpoint
from streaming.model_io.metadata import live_metadata, spec_from_metadata
from streaming.model_io.models import LIVE_TARGETS, InputKind, LiveModel, TargetModel, peripheral_nodes
from streaming.model_io.spec import PERIPHERAL_FEATURES, LiveSpec

__all__ = [
    "LIVE_TARGETS",
    "PERIPHERAL_FEATURES",
    "InputKind",
    "LiveModel",
    "LiveSpec",
    "TargetModel",
    "live_metadata",
    "load_live_model",
    "peripheral_nodes",
    "save_live_checkpoint",
    "spec_from_metadata",
]
