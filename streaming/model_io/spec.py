"""The live input definition: what the live pipeline does to a stream before the model sees it.

:class:`LiveSpec` holds the input keys of a live checkpoint's metadata
(:mod:`streaming.model_io`) and writes them back (:meth:`LiveSpec.as_metadata`);
reading them is :func:`streaming.model_io.metadata.spec_from_metadata`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import ConfigError
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES

#: Peripheral signals the live pipeline computes features of (a model's peripheral nodes), and the names
#: of those features in column order (:mod:`biosig.features.peripheral`).
PERIPHERAL_FEATURES: dict[str, tuple[str, ...]] = {"ecg": ECG_FEATURES, "eda": EDA_FEATURES}


@dataclass(frozen=True)
class LiveSpec:
    """What the live pipeline does to a stream before the model sees it.

    Attributes
    ----------
    channels
        EEG channel names in model order.
    sfreq
        Sampling rate, Hz.
    window
        Window length and hop, seconds.
    filter
        Notch and band-pass (causal IIR), or None for no filtering.
    reference
        ``"average"``, reference channel names, or None.
    features
        Bands (Hz) of the DE inputs and asymmetry pairs.
    offset, scale
        Per-channel normalisation ``(x - offset) / scale`` in volts, ``(n_channels,)``; None for none.
    calibrate
        The normalisation comes from a calibration rest recording
        (:mod:`streaming.model_io`): ``offset`` is its mean and ``scale`` its
        standard deviation times ``max_scale``; both None until calibrated.
    max_scale
        Fixed per-channel factor of a calibrated normalisation, ``(n_channels,)``
        (unitless; None when ``calibrate`` is false).
    peripheral_seconds
        Span of the ECG/EDA features ending with each window, s, that the
        models with peripheral nodes were trained on; None: none said.
    peripheral_nodes
        Peripheral signals (``"ecg"``, ``"eda"``) whose features the models
        take; with ``calibrate``, the calibration measures their rest level.
    peripheral_offset
        Per node, the level subtracted from its features ``(n_features,)``
        (units of :mod:`biosig.features.peripheral`, NaN: no usable rest tile,
        the feature stays missing); None: features go in as measured (a
        calibrated spec with ``peripheral_nodes`` still needs a calibration).
    """

    channels: tuple[str, ...]
    sfreq: float
    window: WindowConfig
    filter: FilterConfig | None
    reference: str | tuple[str, ...] | None
    features: FeatureConfig
    offset: np.ndarray | None = None
    scale: np.ndarray | None = None
    calibrate: bool = False
    max_scale: np.ndarray | None = None
    peripheral_seconds: float | None = None
    peripheral_nodes: tuple[str, ...] = ()
    peripheral_offset: dict[str, np.ndarray] | None = None

    @property
    def n_window(self) -> int:
        """Samples per window."""
        return int(round(self.window.length * self.sfreq))

    @property
    def needs_calibration(self) -> bool:
        """Whether the normalisation still waits for a calibration rest recording (EEG or ECG/EDA)."""
        peripheral_missing = bool(self.peripheral_nodes) and self.peripheral_offset is None
        return self.calibrate and (self.offset is None or peripheral_missing)

    def with_hop(self, hop: float) -> LiveSpec:
        """The same spec with another hop in seconds (the hop is a live choice, not a trained one)."""
        return replace(self, window=WindowConfig(length=self.window.length, hop=hop))

    def calibrated(
        self, mean: np.ndarray, std: np.ndarray, peripheral: Mapping[str, np.ndarray] | None = None
    ) -> LiveSpec:
        """The spec normalised by a rest recording's per-channel ``mean`` and ``std`` (V, ``(n_channels,)``).

        ``peripheral`` is the rest's level of each of :attr:`peripheral_nodes`,
        ``(n_features,)`` per node (NaN: no usable tile).

        Raises
        ------
        ConfigError
            The spec's normalisation is not a calibrated one (fixed or none),
            or a peripheral node's level is missing or of the wrong length.
        """
        if not self.calibrate:
            raise ConfigError(
                "the model's normalisation is not calibrated from a rest recording (its metadata has no "
                "normalization.calibrate: true); there is nothing to calibrate"
            )
        levels = None
        if self.peripheral_nodes:
            given = peripheral or {}
            levels = {kind: np.asarray(given.get(kind, ()), dtype=float) for kind in self.peripheral_nodes}
            wrong = [kind for kind, level in levels.items() if level.shape != (len(PERIPHERAL_FEATURES[kind]),)]
            if wrong:
                raise ConfigError(
                    f"the model has {'/'.join(k.upper() for k in self.peripheral_nodes)} nodes; the calibration "
                    f"gives no {'/'.join(k.upper() for k in wrong)} rest level ({', '.join(wrong)} features)"
                )
        factor = np.ones(len(self.channels)) if self.max_scale is None else self.max_scale
        return replace(
            self, offset=np.asarray(mean, dtype=float), scale=np.asarray(std, dtype=float) * factor,
            peripheral_offset=levels,
        )  # fmt: skip

    def as_metadata(self) -> dict[str, Any]:
        """The input keys of the checkpoint metadata (:mod:`streaming.model_io`)."""
        meta: dict[str, Any] = {
            "channels": list(self.channels),
            "sfreq": float(self.sfreq),
            "window": self.window.model_dump(mode="json"),
            "features": self.features.model_dump(mode="json"),
            "preprocess": None
            if self.filter is None and self.reference is None
            else {
                "filter": None if self.filter is None else self.filter.model_dump(mode="json"),
                "reference": list(self.reference) if isinstance(self.reference, tuple) else self.reference,
            },
        }
        if self.peripheral_seconds is not None:
            nodes = {kind: list(PERIPHERAL_FEATURES[kind]) for kind in self.peripheral_nodes}
            meta["peripheral"] = {"seconds": float(self.peripheral_seconds), "nodes": nodes}
        norm: dict[str, Any] | None = None
        if self.calibrate:
            n = len(self.channels)
            norm = {"calibrate": True}
            norm["max_scale"] = [float(v) for v in (np.ones(n) if self.max_scale is None else self.max_scale)]
            if self.offset is not None and self.scale is not None:
                norm.update(offset=[float(v) for v in self.offset], scale=[float(v) for v in self.scale])
        elif self.offset is not None or self.scale is not None or self.peripheral_offset is not None:
            n = len(self.channels)
            offset = np.zeros(n) if self.offset is None else self.offset
            scale = np.ones(n) if self.scale is None else self.scale
            norm = {"offset": [float(v) for v in offset], "scale": [float(v) for v in scale]}
        if norm is not None and self.peripheral_offset is not None:
            # null for NaN: the metadata stays standard JSON.
            norm["peripheral_offset"] = {
                kind: [float(v) if np.isfinite(v) else None for v in level]
                for kind, level in self.peripheral_offset.items()
            }
        if norm is not None:
            meta["normalization"] = norm
        return meta
