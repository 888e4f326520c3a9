"""The spatial cleaning of live windows: bad-channel interpolation, re-reference and ICA as one map.

Per window, one map over channels (:mod:`streaming.spatial`, matrices taken
from MNE and cached per set of bad channels): **bad-channel interpolation**
(MNE's spherical splines from the good channels, positions from the montage)
of the channels the quality check found bad, in the windows whose quality
reaches ``min_quality``; **re-reference** (average or named channels, as
MNE's ``set_eeg_reference(projection=False)``); and a fixed **ICA** cleaning
fitted offline (:func:`streaming.spatial.fit_live_ica`), MNE's ``ICA.apply``
as the affine map it is. Resampling runs the same linear filter on every
channel, so it commutes with these maps: applying them after it gives the
numbers of the offline order, and lets the interpolation follow each
window's quality.
"""

from __future__ import annotations

import functools
from pathlib import Path

import mne
import numpy as np

from biosig.errors import DataError
from streaming.model_io import LiveSpec
from streaming.online.results import PipelineStats
from streaming.spatial import AffineMap, BadChannelInterpolator, channel_map, ica_map, load_ica, reference_picks


class SpatialCleaner:
    """Interpolation, reference and ICA of live windows (module docstring).

    Parameters
    ----------
    spec
        The model's input definition (channels, reference).
    interpolate
        Interpolate bad channels in the windows that get a prediction. None:
        when every channel has a position in ``montage``; True: required
        (:class:`DataError` naming the channels without a position).
    montage
        Electrode positions for the interpolation.
    ica
        A fitted ICA (its ``exclude`` list applied), or the path of one saved
        by MNE (``*-ica.fif``); None for no ICA.
    stats
        Counters to update (``interpolated_windows``).
    """

    def __init__(
        self,
        spec: LiveSpec,
        interpolate: bool | None,
        montage: str | mne.channels.DigMontage,
        ica: mne.preprocessing.ICA | str | Path | None,
        stats: PipelineStats,
    ) -> None:
        self.channels = spec.channels
        self.n_channels = len(spec.channels)
        self.stats = stats
        self._ref_picks = reference_picks(spec.channels, spec.reference)
        self._interpolator = self._make_interpolator(interpolate, montage)
        source = str(ica) if isinstance(ica, str | Path) else "ICA"
        ica = load_ica(ica) if isinstance(ica, str | Path) else ica
        self._ica = None if ica is None else ica_map(ica, spec.channels, source)
        self._spatial = functools.lru_cache(maxsize=64)(self._spatial_map)

    @property
    def interpolates(self) -> bool:
        """Whether bad channels are interpolated (an interpolator was made)."""
        return self._interpolator is not None

    def _make_interpolator(
        self, interpolate: bool | None, montage: str | mne.channels.DigMontage
    ) -> BadChannelInterpolator | None:
        if interpolate is False:
            return None
        try:
            return BadChannelInterpolator(self.channels, montage)
        except DataError:
            if interpolate:
                raise
            return None  # channels without positions: no interpolation unless asked for

    def _spatial_map(self, bad: tuple[int, ...]) -> AffineMap | None:
        """Interpolation of the channels ``bad``, re-reference and ICA as one map; None when it is the identity."""
        interpolation = self._interpolator.matrix(bad) if bad and self._interpolator is not None else None
        return channel_map(self.n_channels, interpolation, self._ref_picks, self._ica)

    def clean(self, signals: np.ndarray, bad: np.ndarray, good: np.ndarray) -> np.ndarray:
        """Interpolation (windows reaching ``min_quality``), reference, ICA of ``(n_windows, n_channels, n_times)``.

        ``bad`` ``(n_windows, n_channels)`` marks each window's bad channels,
        ``good`` ``(n_windows,)`` the windows that get a prediction.
        """
        keys = []
        for w in range(len(signals)):
            channels = tuple(np.flatnonzero(bad[w]).tolist())
            # A window without a good channel has nothing to interpolate from.
            interpolated = good[w] and self._interpolator is not None and 0 < len(channels) < self.n_channels
            keys.append(channels if interpolated else ())
            self.stats.interpolated_windows += int(interpolated)
        out = signals
        for key in set(keys):
            spatial = self._spatial(key)
            if spatial is None:
                continue
            rows = [w for w, k in enumerate(keys) if k == key]
            if len(rows) == len(signals):  # the usual case: one map for every window, no copies
                return spatial(signals)
            if out is signals:
                out = signals.copy()
            out[rows] = spatial(signals[rows])
        return out
