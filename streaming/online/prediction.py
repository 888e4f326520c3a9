"""Features and predictions of live windows: EEG features, then the models -> valence/arousal values.

The EEG features are :mod:`biosig.features.eeg`'s (band power, differential
entropy, frontal asymmetry); the models run through
:func:`graphs.models.predict`. A model with peripheral nodes (config
``peripheral``, e.g. ``{ecg: 4, eda: 3}``) also gets the ECG/EDA features
(:mod:`streaming.online.peripheral`), columns node by node (NaN = missing),
minus the spec's ``peripheral_offset``: offline training subtracts each
trial's baseline level, live the calibration rest's level stands in
(:mod:`streaming.calibrate`). A classifier's value is its expected rating
over ``scale`` and its confidence the largest class probability; a
regression model's value is its output mapped back to the rating scale
(``TargetModel.ratings``) and its confidence NaN (it gives no probability).
"""

from __future__ import annotations

import numpy as np
import torch

from biosig.features.eeg import band_power, differential_entropy, frontal_asymmetry
from graphs.models import predict
from streaming.model_io import LiveModel, peripheral_nodes
from streaming.online.results import value_names


class Predictor:
    """EEG features and model outputs of a batch of cleaned windows (module docstring).

    Parameters
    ----------
    model
        The models and their input definition (bands, asymmetry pairs, normalisation).
    """

    def __init__(self, model: LiveModel) -> None:
        self.model = model
        self.spec = model.spec
        spec = self.spec
        self._bands = dict(spec.features.bands)
        self._faa_pairs = tuple(
            pair for pair in spec.features.asymmetry_pairs if all(ch in spec.channels for ch in pair)
        )
        self._faa_band = list(self._bands).index(spec.features.asymmetry_band)

    def eeg_features(self, signals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Band power ``(n, n_channels, n_bands)`` V², differential entropy (same shape, nats) and FAA ``(n, n_pairs)``.

        ``signals`` are ``(n, n_channels, n_times)`` in volts; FAA is None
        when no asymmetry pair's channels are all present.
        """
        spec = self.spec
        power = band_power(signals, spec.sfreq, self._bands, n_jobs=1)
        de = differential_entropy(power)
        faa = (
            frontal_asymmetry(power, spec.channels, self._faa_band, self._faa_pairs) if self._faa_pairs else None
        )
        return power, de, faa

    def values(
        self, signals: np.ndarray, power: np.ndarray, peripheral: dict[str, np.ndarray], good: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Each target's value and confidence ``(n,)``, NaN outside ``good`` ``(n,)`` and where no model predicts it.

        ``signals`` ``(n, n_channels, n_times)`` in volts, their band power
        ``(n, n_channels, n_bands)`` in V², and the peripheral features
        ``(n, n_features)`` of each kind.
        """
        values = {name: np.full(len(signals), np.nan) for name in value_names()}
        if good.any():
            rows = np.flatnonzero(good)
            self._predict(signals[rows], power[rows], {k: v[rows] for k, v in peripheral.items()}, values, rows)
        return values

    def _predict(
        self,
        signals: np.ndarray,
        power: np.ndarray,
        peripheral: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
        rows: np.ndarray,
    ) -> None:
        """Fill ``values`` at ``rows`` from the models (inputs as :meth:`values`', only those rows)."""
        spec = self.spec
        n_channels = len(spec.channels)
        if spec.offset is not None or spec.scale is not None:
            offset = np.zeros(n_channels) if spec.offset is None else spec.offset
            scale = np.ones(n_channels) if spec.scale is None else spec.scale
            signals = signals - offset[None, :, None]
            signals /= scale[None, :, None]
            # Welch removes each segment's mean, so the offset leaves band power as it is and the
            # scale divides it by scale²: no second PSD of the normalised window is needed.
            power = power / (scale**2)[None, :, None]
        inputs = {
            "raw": lambda: torch.from_numpy(np.ascontiguousarray(signals, dtype=np.float32)),
            "de": lambda: torch.from_numpy(np.ascontiguousarray(differential_entropy(power), dtype=np.float32)),
        }
        levels = spec.peripheral_offset or {}
        for entry in self.model.models:
            x = inputs[entry.input]()
            nodes = peripheral_nodes(entry.model)
            if nodes:
                # Columns node by node in the model's order, minus the rest level as training subtracts the
                # trial's baseline; NaN marks a missing feature, as offline.
                columns = np.concatenate([peripheral[kind] - levels.get(kind, 0.0) for kind, _ in nodes], axis=1)
                x = (x, torch.from_numpy(np.ascontiguousarray(columns, dtype=np.float32)))
            out = predict(entry.model, x, entry.scale)
            if entry.scale is not None:
                target = entry.targets[0]
                values[target][rows] = out.expected
                values[f"{target}_confidence"][rows] = out.probabilities.max(axis=1)
            else:
                rating = entry.ratings(out.expected.reshape(len(rows), -1))
                for j, target in enumerate(entry.targets):
                    values[target][rows] = rating[:, j]
