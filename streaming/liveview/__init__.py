"""Browser live view of the online valence/arousal estimates (``biosig liveview``).

A local web server (bound to 127.0.0.1 only) follows up to three LSL streams and
pushes what arrives to a page over server-sent events: the current
valence/arousal point on the circumplex with its fading recent trace, a
valence/arousal timeline, the window quality, per-channel signal quality bars,
the stream status (searching / connected / lost / recovered, age of the last
update, prediction rate, latency) and an event log. Everything the page needs
is served by the server itself; it fetches nothing from elsewhere.

The streams it reads (``NAME`` is ``biosig-affect`` unless ``--stream`` says
otherwise); only the first is required, the view works without the other two:

``NAME`` (type ``Affect``), written by the online pipeline
    ``float32``, 5 channels in this order: ``valence``, ``arousal`` (rating
    scale 1..5), ``valence_confidence``, ``arousal_confidence``, ``quality``
    (0..1). One sample per analysis window, stamped with the LSL time of the
    last EEG sample of that window. NaN valence/arousal (e.g. a rejected
    window) is shown as "no estimate" and leaves the point where it was.

``NAME-markers`` (type ``Markers``)
    ``string``, 1 channel, irregular rate. Free-text state changes of the
    pipeline, e.g. ``"stream lost"``, ``"stream recovered"``, ``"bad window"``;
    each is listed in the page's event log.

``NAME-quality`` (type ``Quality``): per-channel EEG signal quality
    - channel format ``float32``, one channel per EEG channel of the pipeline's
      input, in the input stream's channel order;
    - ``desc`` carries the labels the XDF way::

        <channels>
          <channel><label>Fp1</label><type>Quality</type><unit>fraction</unit></channel>
          ...
        </channels>

      (``StreamInfo.set_channel_labels`` writes exactly this); without labels
      the page shows ``ch1``, ``ch2``, ...;
    - nominal rate: that of ``NAME`` (one sample per window) or
      ``IRREGULAR_RATE``;
    - each sample holds, per channel, 0..1 where 1 is a fully usable channel in
      that window and 0 an unusable one (flat, noisy, non-finite, interpolated);
      NaN means "not assessed" and is drawn grey;
    - each sample is stamped with the same LSL time as the ``NAME`` sample of
      the same window;
    - recommended ``source_id``: that of ``NAME`` plus ``-quality``.

The view judges the ``NAME`` stream lost when no sample has arrived for
``max(lost_after, 3 / nominal_srate)`` seconds, and recovered when samples come
back: liblsl's inlet recovery reconnects to a restarted outlet with the same
name, type, host and source_id, and after ``2 * lost_after`` seconds of silence
the view also switches to any new stream of the same name (a pipeline restarted
with another source_id). Outlets should still set a stable ``source_id``.
"""

from __future__ import annotations

#: Default name of the online pipeline's prediction stream.
AFFECT_STREAM: str = "biosig-affect"

#: Channels of the prediction stream, in order.
AFFECT_CHANNELS: tuple[str, ...] = ("valence", "arousal", "valence_confidence", "arousal_confidence", "quality")


def marker_stream_name(affect_stream: str) -> str:
    """Name of the marker stream that belongs to prediction stream ``affect_stream``."""
    return f"{affect_stream}-markers"


def quality_stream_name(affect_stream: str) -> str:
    """Name of the per-channel quality stream that belongs to prediction stream ``affect_stream``."""
    return f"{affect_stream}-quality"
