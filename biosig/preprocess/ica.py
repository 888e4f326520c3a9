"""ICA artefact removal of ``preprocess.ica``: the fit and the choice of components to remove.

Methods (``preprocess.ica.method``): MNE's ``fastica``, ``infomax`` and
``infomax_extended`` (infomax with ``fit_params=dict(extended=True)``, the
decomposition ICLabel was trained on). Classifiers (``preprocess.ica.classifier``):

* ``frontal_proxy``: the components MNE's ``find_bads_eog`` finds correlated
  with the frontal EOG-proxy channels ``eog_proxies`` at ``threshold``.
* ``iclabel``: mne-icalabel's ICLabel network (weights shipped in the package,
  run by torch or ONNX Runtime, nothing downloaded); components labelled eye
  blink, muscle artifact or heart beat with probability above
  ``iclabel_threshold`` are removed. ICLabel expects extended-infomax ICA of
  1-100 Hz EEG at a common average reference; ``docs/cleaning.rst`` says how
  far the synthetic 128-Hz cohort is from that.
"""

from __future__ import annotations

import mne

from biosig.config import IcaConfig
from biosig.errors import ConfigError, DataError
from biosig.optional import require

#: ICLabel's labels whose components ``classifier: iclabel`` removes.
ICLABEL_ARTEFACTS = ("eye blink", "muscle artifact", "heart beat")


def fit_blink_ica(raw: mne.io.BaseRaw, cfg: IcaConfig, label: str = "recording") -> mne.preprocessing.ICA:
    """Fit MNE's ICA on preprocessed EEG and exclude the artefact components ``cfg.classifier`` finds.

    Parameters
    ----------
    raw
        Preprocessed EEG in volts ``(n_channels, n_times)`` (filtered, re-referenced); not modified.
    cfg
        Components (default: channels - 1), method, classifier and its threshold, seed, ``decim`` (fit on every
        ``decim``-th sample; classification and removal use every sample); ``enabled`` is ignored.
    label
        Names the recording in error messages.

    Returns
    -------
    mne.preprocessing.ICA
        Fitted, with ``exclude`` set (component indices, possibly empty).

    Raises
    ------
    DataError
        ``classifier: frontal_proxy`` and none of the EOG-proxy channels is in ``raw``.
    ConfigError
        ``cfg.n_components`` (an int) exceeds the good EEG channels of ``raw``.
    biosig.optional.MissingExtraError
        ``classifier: iclabel`` without mne-icalabel (the ``cleaning`` extra).
    """
    proxies = [ch for ch in cfg.eog_proxies if ch in raw.ch_names]
    if cfg.classifier == "frontal_proxy" and not proxies:
        raise DataError(f"{label}: none of the ICA EOG proxy channels {list(cfg.eog_proxies)} are present")
    if cfg.classifier == "iclabel":  # before the fit, which takes a while
        require("mne_icalabel", "cleaning", "preprocess.ica.classifier: iclabel")
    n_components = cfg.n_components
    if n_components is None:
        # Average reference removes one dimension of the data.
        n_components = len(raw.ch_names) - 1
    n_good = len(mne.pick_types(raw.info, eeg=True, exclude="bads"))
    if isinstance(n_components, int) and n_components > n_good:
        raise ConfigError(
            f"{label}: preprocess.ica.n_components ({n_components}) exceeds the {n_good} good EEG channels"
        )
    extended = cfg.method == "infomax_extended"
    ica = mne.preprocessing.ICA(
        n_components=n_components,
        method="infomax" if extended else cfg.method,
        fit_params={"extended": True} if extended else None,
        random_state=cfg.seed,
        max_iter="auto",
        verbose="error",
    )
    ica.fit(raw, decim=cfg.decim, verbose="error")
    if cfg.classifier == "iclabel":
        ica.exclude = iclabel_artefacts(raw, ica, cfg.iclabel_threshold)
    else:
        excluded, _scores = ica.find_bads_eog(raw, ch_name=proxies, threshold=cfg.threshold, verbose="error")
        ica.exclude = [int(i) for i in excluded]
    return ica


def iclabel_artefacts(raw: mne.io.BaseRaw, ica: mne.preprocessing.ICA, threshold: float) -> list[int]:
    """Components ICLabel labels eye blink, muscle artifact or heart beat with probability > ``threshold``.

    ``raw`` is the EEG ``ica`` was fitted on (montage set); indices are ICA component numbers.
    """
    icalabel = require("mne_icalabel", "cleaning", "preprocess.ica.classifier: iclabel")
    result = icalabel.label_components(raw, ica, method="iclabel")
    return [
        idx
        for idx, (name, proba) in enumerate(zip(result["labels"], result["y_pred_proba"]))
        if name in ICLABEL_ARTEFACTS and proba > threshold
    ]
