"""scikit-learn interface of the EEG features: windows in, a feature matrix with names out.

:class:`EEGFeatures` is a transformer from EEG windows to band power, differential
entropy and frontal asymmetry (:mod:`biosig.features.eeg`), one row per window,
usable in a :class:`~sklearn.pipeline.Pipeline` with any scikit-learn model::

    pipe = make_pipeline(EEGFeatures(sfreq=128.0), StandardScaler(), LogisticRegression())
    cross_val_score(pipe, X, y, groups=trials, cv=GroupKFold())

Windows are given as

* an :class:`mne.Epochs` (its EEG channels; ``sfreq`` and channel names are read from it),
* an array ``(n_windows, n_channels, n_times)`` in volts with the ``sfreq`` parameter, or
* a 2-D array ``(n_windows, n_channels * n_times)`` (each row the channels one
  after the other) with the ``n_channels`` parameter, the form scikit-learn's
  tabular tools and estimator checks use.

:func:`as_windows` turns any of these into the 3-D array; the model wrappers of
:mod:`graphs.sklearn` use it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mne
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from biosig.features.eeg import (
    DEFAULT_ASYMMETRY_PAIRS,
    DEFAULT_BANDS,
    band_power,
    differential_entropy,
    frontal_asymmetry,
)

#: Feature kinds :class:`EEGFeatures` can compute, with their column-name prefixes.
FEATURE_KINDS: dict[str, str] = {"band_power": "bp", "de": "de", "faa": "faa"}

Windows = Any
"""EEG windows: :class:`mne.Epochs`, or an array ``(n_windows, n_channels, n_times)`` or ``(n_windows, n_channels * n_times)``."""


def as_windows(
    X: Windows, sfreq: float | None = None, n_channels: int | None = None
) -> tuple[np.ndarray, float | None, list[str] | None]:
    """EEG windows as a float64 array ``(n_windows, n_channels, n_times)``, with their sampling rate and channel names.

    Parameters
    ----------
    X
        :class:`mne.Epochs` (its EEG channels, in volts), a finite numeric
        array ``(n_windows, n_channels, n_times)``, or a 2-D array
        ``(n_windows, n_channels * n_times)`` whose rows hold the channels one
        after the other (then ``n_channels`` is required).
    sfreq
        Sampling rate in Hz of an array; for Epochs it must be ``None`` or
        equal to ``epochs.info["sfreq"]``.
    n_channels
        Channels of a 2-D array; ignored for 3-D arrays and Epochs.

    Returns
    -------
    tuple
        ``(data, sfreq, ch_names)``: the array, the sampling rate in Hz
        (``sfreq`` as given for arrays) and the channel names (Epochs only,
        else ``None``).

    Raises
    ------
    ValueError
        Wrong dimensionality, a 2-D array without ``n_channels`` or whose
        width is not a multiple of it, non-finite or non-numeric values, or a
        ``sfreq`` disagreeing with the Epochs'.
    """
    if isinstance(X, mne.BaseEpochs):
        epoch_sfreq = float(X.info["sfreq"])
        if sfreq is not None and not np.isclose(float(sfreq), epoch_sfreq):
            raise ValueError(f"sfreq={sfreq} Hz disagrees with the Epochs' sampling rate {epoch_sfreq} Hz")
        picks = mne.pick_types(X.info, eeg=True, exclude=())
        if not len(picks):
            raise ValueError("the Epochs hold no EEG channel")
        data = X.get_data(picks=picks)
        return np.asarray(data, dtype=np.float64), epoch_sfreq, [X.ch_names[i] for i in picks]
    data = check_array(X, allow_nd=True, dtype=np.float64, ensure_min_features=1, input_name="X")
    if data.ndim == 2:
        if n_channels is None:
            raise ValueError(
                f"X is 2-D {data.shape}: give n_channels to read its rows as (n_channels, n_times), "
                "or pass windows (n_windows, n_channels, n_times)"
            )
        if n_channels < 1 or data.shape[1] % n_channels:
            raise ValueError(f"X has {data.shape[1]} columns, not a multiple of n_channels={n_channels}")
        data = data.reshape(data.shape[0], n_channels, data.shape[1] // n_channels)
    elif data.ndim != 3:
        raise ValueError(f"X must be windows (n_windows, n_channels, n_times); got shape {data.shape}")
    return data, None if sfreq is None else float(sfreq), None


def validate_windows(
    estimator: BaseEstimator, X: Windows, *, reset: bool, sfreq: float | None, n_channels: int | None
) -> tuple[np.ndarray, float | None, list[str] | None]:
    """:func:`as_windows` for an estimator's ``fit`` (``reset=True``) or later methods (``reset=False``).

    2-D input goes through :func:`sklearn.utils.validation.validate_data`
    (``n_features_in_``, ``feature_names_in_`` of a DataFrame, the check of
    the column count after fitting); for 3-D arrays and Epochs ``fit`` sets
    ``n_features_in_`` to ``n_channels * n_times``.
    """
    if not isinstance(X, mne.BaseEpochs) and np.asarray(X).ndim == 2:
        X = validate_data(estimator, X, reset=reset, dtype=np.float64)
        return as_windows(X, sfreq, n_channels)
    data, rate, names = as_windows(X, sfreq, n_channels)
    if reset:
        estimator.n_features_in_ = data.shape[1] * data.shape[2]
    return data, rate, names


class EEGFeatures(TransformerMixin, BaseEstimator):
    """Band power, differential entropy and frontal asymmetry of EEG windows, one row per window.

    Stateless: :meth:`fit` only records the input's size and channel names;
    every window is transformed on its own.

    Parameters
    ----------
    sfreq
        Sampling rate in Hz of array input; read from :class:`mne.Epochs`.
    ch_names
        Channel names of array input (default ``ch0, ch1, ...``); Epochs give theirs.
    n_channels
        Channels of 2-D input ``(n_windows, n_channels * n_times)``.
    bands
        Frequency bands ``name: (fmin, fmax)`` in Hz (a mapping or pairs);
        default :data:`~biosig.features.eeg.DEFAULT_BANDS`.
    asymmetry_band
        Band of the frontal asymmetry.
    asymmetry_pairs
        ``(right, left)`` channel pairs; pairs the montage lacks are skipped.
    features
        Kinds to compute, in output order, among :data:`FEATURE_KINDS`.
    segment_seconds
        Welch segment length in s (:func:`~biosig.features.eeg.band_power`).

    Attributes
    ----------
    n_features_in_
        ``n_channels * n_times`` of the windows seen in :meth:`fit`.
    ch_names_
        Channel names in input order.
    sfreq_
        Sampling rate in Hz.
    pairs_
        The asymmetry pairs present in the montage.

    Notes
    -----
    Output columns, float64: for each kind of ``features``, ``bp_<band>_<channel>``
    (band power, V² for input in volts), ``de_<band>_<channel>`` (differential
    entropy, nats; ``-inf`` for a flat channel) and
    ``faa_<band>_<right>-<left>`` (``ln P_right - ln P_left``). Band power and
    DE are channel-major (all bands of the first channel, then the next).
    """

    def __init__(
        self,
        sfreq: float | None = None,
        ch_names: Sequence[str] | None = None,
        n_channels: int | None = None,
        bands: Mapping[str, tuple[float, float]] | Sequence[tuple[str, tuple[float, float]]] = tuple(
            DEFAULT_BANDS.items()
        ),
        asymmetry_band: str = "alpha",
        asymmetry_pairs: Sequence[tuple[str, str]] = DEFAULT_ASYMMETRY_PAIRS,
        features: Sequence[str] = tuple(FEATURE_KINDS),
        segment_seconds: float | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.n_channels = n_channels
        self.bands = bands
        self.asymmetry_band = asymmetry_band
        self.asymmetry_pairs = asymmetry_pairs
        self.features = features
        self.segment_seconds = segment_seconds

    def fit(self, X: Windows, y: Any = None) -> EEGFeatures:
        """Record the windows' size, sampling rate and channel names; ``y`` is ignored."""
        data, sfreq, names = self._windows(X, reset=True)
        self._check_params()
        if sfreq is None:
            raise ValueError("EEGFeatures needs sfreq (Hz) for array input")
        if names is None:
            if self.ch_names is not None and len(self.ch_names) != data.shape[1]:
                raise ValueError(f"{len(self.ch_names)} ch_names for {data.shape[1]} channels")
            names = list(self.ch_names) if self.ch_names is not None else [f"ch{i}" for i in range(data.shape[1])]
        self.sfreq_ = sfreq
        self.ch_names_ = names
        self.n_times_ = data.shape[2]
        self.pairs_ = [(r, left) for r, left in self.asymmetry_pairs if r in names and left in names]
        return self

    def transform(self, X: Windows) -> np.ndarray:
        """Features ``(n_windows, n_features_out)`` float64 of windows shaped as in :meth:`fit`."""
        check_is_fitted(self)
        data, sfreq, names = self._windows(X, reset=False)
        if data.shape[1:] != (len(self.ch_names_), self.n_times_):
            raise ValueError(
                f"X has windows of {data.shape[1:]} (channels, samples); EEGFeatures was fitted on "
                f"{(len(self.ch_names_), self.n_times_)}"
            )
        if names is not None and names != self.ch_names_:
            raise ValueError(f"the Epochs' channels {names} differ from those seen in fit {self.ch_names_}")
        if sfreq is not None and not np.isclose(sfreq, self.sfreq_):
            raise ValueError(f"X is sampled at {sfreq} Hz; EEGFeatures was fitted at {self.sfreq_} Hz")
        bands = self._bands()
        power = band_power(data, self.sfreq_, bands, self.segment_seconds)
        blocks = []
        for kind in self.features:
            if kind == "band_power":
                blocks.append(power.reshape(len(power), -1))
            elif kind == "de":
                blocks.append(differential_entropy(power).reshape(len(power), -1))
            elif self.pairs_:
                index = list(bands).index(self.asymmetry_band)
                blocks.append(frontal_asymmetry(power, self.ch_names_, index, self.pairs_))
        return np.concatenate(blocks, axis=1) if blocks else np.empty((len(data), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns, e.g. ``de_alpha_F4`` or ``faa_alpha_F4-F3`` (see the class Notes)."""
        check_is_fitted(self)
        bands = list(self._bands())
        names: list[str] = []
        for kind in self.features:
            prefix = FEATURE_KINDS[kind]
            if kind == "faa":
                names += [f"{prefix}_{self.asymmetry_band}_{r}-{left}" for r, left in self.pairs_]
            else:
                names += [f"{prefix}_{band}_{ch}" for ch in self.ch_names_ for band in bands]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _windows(self, X: Windows, reset: bool) -> tuple[np.ndarray, float | None, list[str] | None]:
        return validate_windows(self, X, reset=reset, sfreq=self.sfreq, n_channels=self.n_channels)

    def _bands(self) -> dict[str, tuple[float, float]]:
        return dict(self.bands.items() if isinstance(self.bands, Mapping) else self.bands)

    def _check_params(self) -> None:
        unknown = [k for k in self.features if k not in FEATURE_KINDS]
        if unknown:
            raise ValueError(f"unknown features {unknown}; known: {list(FEATURE_KINDS)}")
        if "faa" in self.features and self.asymmetry_band not in self._bands():
            raise ValueError(f"asymmetry_band {self.asymmetry_band!r} is not one of the bands {list(self._bands())}")
