"""Finding streams and checking them against the model before anything starts."""

from __future__ import annotations

import numpy as np
import pylsl
import pytest

from biosig.errors import ConfigError, DataError
from streaming.api import LiveSession
from streaming.inlet import ChannelLayout, StreamQuery, resolve
from tests.helpers import EMOTIV
from tests.live.test_stream_online import live_model


@pytest.fixture(scope="module")
def outlets():
    """A described 14-channel EEG stream at 128 Hz, an undescribed one at 256 Hz and one at an irregular rate."""
    described = pylsl.StreamInfo("biosig-inlet-eeg", "EEG", 14, 128.0, pylsl.cf_float32, "inlet-eeg")
    described.set_channel_labels([f"EEG {ch}-REF" for ch in EMOTIV])  # normalised to the 10-05 names
    described.set_channel_units("mV")
    bare = pylsl.StreamInfo("biosig-inlet-bare", "EEG", 14, 256.0, pylsl.cf_float32, "inlet-bare")
    irregular = pylsl.StreamInfo("biosig-inlet-irregular", "EEG", 14, pylsl.IRREGULAR_RATE, pylsl.cf_float32, "inlet-irr")
    return pylsl.StreamOutlet(described), pylsl.StreamOutlet(bare), pylsl.StreamOutlet(irregular)


def test_a_missing_stream_is_an_error_listing_the_streams_found(outlets):
    with pytest.raises(DataError, match=r"no LSL stream matches name=nope within 0.5 s; streams found: .*biosig-inlet-eeg"):
        resolve(StreamQuery(name="nope"), timeout=0.5)


def test_layout_from_the_description_and_from_the_query(outlets):
    info = pylsl.StreamInlet(resolve(StreamQuery(name="biosig-inlet-eeg"), 2.0)).info(timeout=2.0)
    layout = ChannelLayout.from_info(info, StreamQuery(name="biosig-inlet-eeg"))
    assert layout.names == EMOTIV and layout.from_description
    np.testing.assert_allclose(layout.factors, 1e-3)  # mV
    bare = pylsl.StreamInlet(resolve(StreamQuery(name="biosig-inlet-bare"), 2.0)).info(timeout=2.0)
    with pytest.raises(DataError, match="no channel names in its XML description"):
        ChannelLayout.from_info(bare, StreamQuery(name="biosig-inlet-bare"))
    named = ChannelLayout.from_info(bare, StreamQuery(name="biosig-inlet-bare", channels=EMOTIV))
    assert named.names == EMOTIV and not named.from_description
    np.testing.assert_allclose(named.factors, 1e-6)  # an EEG stream without units: microvolts (XDF convention)


def test_montage_or_rate_mismatch_with_the_model_is_an_error_at_start(outlets):
    wrong = live_model(channels=(*EMOTIV[:13], "Cz"), kinds=("dgcnn",))
    with pytest.raises(DataError, match=r"needs channels \['Cz'\].*it has \['AF3'"):
        LiveSession(wrong, "name=biosig-inlet-eeg", outlet=False).start()
    with pytest.raises(DataError, match="irregular rate"):
        LiveSession(
            live_model(kinds=("dgcnn",)), StreamQuery(name="biosig-inlet-irregular", channels=EMOTIV), outlet=False
        ).start()
    # Another nominal rate than the model's is resampled live (2:1 here), not refused.
    session = LiveSession(
        live_model(kinds=("dgcnn",)), StreamQuery(name="biosig-inlet-bare", channels=EMOTIV), outlet=False
    ).start()
    try:
        assert session.pipeline is not None and session.pipeline.resampler is not None
        assert (session.pipeline.resampler.up, session.pipeline.resampler.down) == (1, 2)
    finally:
        session.stop()


def test_stream_queries_parse_and_validate():
    assert StreamQuery.parse("EEG") == StreamQuery(type="EEG")
    assert StreamQuery.parse("name=Emotiv, type=EEG").predicate() == "name='Emotiv' and type='EEG'"
    with pytest.raises(ConfigError, match="key=value"):
        StreamQuery.parse("host=lab1")
    with pytest.raises(ConfigError, match="single quote"):
        StreamQuery(name="it's")
