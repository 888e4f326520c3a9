"""The online pipeline: the offline preprocessing and features, causal and one chunk at a time.

:class:`OnlinePipeline` takes chunks of one EEG stream ``(n_samples,
n_channels)`` in volts with their LSL time stamps, and optionally ECG/EDA
samples with theirs (:meth:`OnlinePipeline.add_peripheral`), and returns one
:class:`WindowResult` per completed window. It does what the offline pipeline
(:func:`biosig.preprocess.eeg.preprocess_eeg`) does with
``FilterConfig(method="iir", causal=True)`` and causal resampling
(:func:`biosig.preprocess.resample.resample_raw_causal`), so that on clean data both
give the same numbers (``tests/live/test_stream_parity.py``,
``tests/live/test_online_resample.py``, ``tests/live/test_online_spatial.py``).

Offline, the order is filter -> bad-channel interpolation -> re-reference ->
resample -> ICA. Live it is, module by module:

1. :mod:`~streaming.online.dsp`: **filters** at the stream's rate, the notch
   and band-pass second-order sections that MNE designs for
   :func:`biosig.preprocess.eeg.apply_filters` (``create_filter`` with the
   same arguments as ``Raw.notch_filter``/``Raw.filter``), run as one
   ``scipy.signal.sosfilt`` cascade whose state ``zi`` is carried from chunk
   to chunk: MNE filters a recording forward from a zero state, so the
   online output equals the offline one sample for sample; then
   **resampling** to the model's rate when the stream's differs (a 512 Hz
   amplifier, a 128 Hz model): :class:`biosig.preprocess.resample.CausalResampler`,
   SciPy's ``resample_poly`` filter run causally with its state carried
   across chunks; resampled samples are stamped from the input stamps (see
   :mod:`biosig.preprocess.resample`). Invalid samples (NaN, inf, out of
   range) never reach the filter: the channel's last valid value is held;
2. :mod:`~streaming.online.schedule`: **windows** of ``length`` seconds every
   ``hop`` seconds, window *k* of a segment starting at sample ``round(k *
   hop * sfreq)`` (model rate) as in
   :func:`biosig.preprocess.windows.window_indices`; each carries the LSL
   stamps of its first and last samples. Stamp disorder, gaps, clock jumps
   (which end the segment: filters, resampler and windows restart) and lag
   (windows too far behind the newest sample are skipped) are handled here;
3. :mod:`~streaming.online.quality`: the **signal quality index** per window
   (fraction of good channels; invalid, flat and out-of-range channels; 0
   while the filters warm up: MNE's :func:`~mne.filter.estimate_ringing_samples`
   of the cascade after each (re)start, plus the resampler's filter length).
   Channels bad for several windows in a row become persistently bad (one
   ``channel_bad`` event; ``channel_restored`` once good for several) and are
   interpolated, counting as usable in the ``min_quality`` gate. A window
   below ``min_quality`` gets no prediction (NaN), keeps its bad channels as
   they are (its features show the fault) and the first of a run raises a
   ``bad_window`` event;
4. :mod:`~streaming.online.cleaning`: per window, one map over channels:
   **bad-channel interpolation** (in the windows whose quality reaches
   ``min_quality``), **re-reference** and a fixed **ICA** cleaning fitted
   offline. Resampling runs the same linear filter on every channel, so it
   commutes with these maps: applying them after it gives the numbers of the
   offline order, and lets the interpolation follow each window's quality;
5. :mod:`~streaming.online.prediction` and :mod:`~streaming.online.peripheral`:
   **features** (band power, differential entropy, frontal asymmetry; heart
   rate and HRV, tonic EDA and SCRs over the trailing ``peripheral_seconds``
   of each ECG/EDA stream ending with the window, :func:`trailing_span`), then
   the **model** through :func:`graphs.models.predict`; the span is the one
   the model was trained on (``LiveSpec.peripheral_seconds``).

:mod:`~streaming.online.pipeline` composes these stages; faults are counted
in :class:`PipelineStats` and reported as events (:mod:`streaming.buffer`).
"""

from streaming.online.peripheral import PeripheralBuffer, trailing_span
from streaming.online.pipeline import OnlinePipeline
from streaming.online.quality import QualityConfig
from streaming.online.results import PipelineStats, Step, WindowResult

__all__ = [
    "OnlinePipeline",
    "PeripheralBuffer",
    "PipelineStats",
    "QualityConfig",
    "Step",
    "WindowResult",
    "trailing_span",
]
