"""XDF: streams of several devices on one clock, markers as events, bad files as DataError.

Real files: xdf-modules/example-files (MIT; minimal.xdf, clock_resets.xdf, empty_streams.xdf, their README
documents each stream) and kirtonBCIlab/bci-essentials-python (MPL-2.0; LabRecorder recordings), both
under ../shared/data/. Files written here follow the XDF 1.0 specification (github.com/sccn/xdf/wiki/Specifications).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest

from tests.helpers import SHARED_DATA
from biosig.errors import DataError
from biosig.io import read_session

DATA = SHARED_DATA
EXAMPLES = DATA / "xdf-example-files"
BCI = DATA / "bci-essentials-xdf"

_DTYPES = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}


@dataclass
class XdfStream:
    """One stream to write: samples ``(n_samples, n_channels)`` (numbers) or rows of strings."""

    stream_id: int
    name: str
    type: str
    channel_format: str
    nominal_srate: float
    time_stamps: np.ndarray
    samples: object
    labels: list[str] | None = None
    units: list[str] | None = None
    channel_types: list[str] | None = None
    channel_count: int | None = None  # default: the samples' width
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)  # (collection time, offset value), s
    source_id: str = ""  # written only when set
    hostname: str = ""


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return b"\x08" + struct.pack("<Q", len(body)) + body


def _header_xml(s: XdfStream, count: int) -> bytes:
    channels = ""
    if s.labels is not None:
        parts = []
        for i, label in enumerate(s.labels):
            unit = f"<unit>{escape(s.units[i])}</unit>" if s.units else ""
            kind = f"<type>{escape(s.channel_types[i])}</type>" if s.channel_types else ""
            parts.append(f"<channel><label>{escape(label)}</label>{kind}{unit}</channel>")
        channels = f"<channels>{''.join(parts)}</channels>"
    origin = f"<source_id>{escape(s.source_id)}</source_id>" if s.source_id else ""
    origin += f"<hostname>{escape(s.hostname)}</hostname>" if s.hostname else ""
    return (
        f'<?xml version="1.0"?><info><name>{escape(s.name)}</name><type>{escape(s.type)}</type>{origin}'
        f"<channel_count>{count}</channel_count><nominal_srate>{s.nominal_srate}</nominal_srate>"
        f"<channel_format>{s.channel_format}</channel_format><created_at>0</created_at>"
        f"<desc>{channels}</desc></info>"
    ).encode()


def _sample_bytes(s: XdfStream, k: int) -> bytes:
    stamp = b"\x08" + struct.pack("<d", float(s.time_stamps[k]))
    if s.channel_format == "string":
        values = b"".join(b"\x04" + struct.pack("<I", len(v.encode())) + v.encode() for v in s.samples[k])
    else:
        values = np.asarray(s.samples[k], dtype=_DTYPES[s.channel_format]).tobytes()
    return stamp + values


def xdf_bytes(streams: list[XdfStream], chunk_size: int = 100) -> bytes:
    """An XDF file: FileHeader, StreamHeaders, interleaved Samples chunks, ClockOffsets, StreamFooters."""
    out = [b"XDF:", _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for s in streams:
        width = len(s.samples[0]) if len(s.samples) else len(s.labels or [0])
        out.append(_chunk(2, struct.pack("<I", s.stream_id) + _header_xml(s, s.channel_count or width)))
    longest = max(len(s.time_stamps) for s in streams)
    for start in range(0, longest, chunk_size):
        for s in streams:
            ks = range(start, min(start + chunk_size, len(s.time_stamps)))
            if len(ks):
                body = struct.pack("<I", s.stream_id) + b"\x04" + struct.pack("<I", len(ks))
                out.append(_chunk(3, body + b"".join(_sample_bytes(s, k) for k in ks)))
    for s in streams:
        for when, value in s.clock_offsets:
            out.append(_chunk(4, struct.pack("<Idd", s.stream_id, when, value)))
    for s in streams:
        n = len(s.time_stamps)
        first, last = (s.time_stamps[0], s.time_stamps[-1]) if n else (0, 0)
        footer = f"<?xml version=\"1.0\"?><info><first_timestamp>{first}</first_timestamp><last_timestamp>{last}</last_timestamp><sample_count>{n}</sample_count></info>"
        out.append(_chunk(6, struct.pack("<I", s.stream_id) + footer.encode()))
    return b"".join(out)


def write_xdf(path: Path, streams: list[XdfStream]) -> Path:
    path.write_bytes(xdf_bytes(streams))
    return path


# A pulse at this LSL time in both devices' data lets the test see the alignment.
PULSE_AT = 103.0
ECG_DEVICE_OFFSET = 50.25  # the ECG device's clock runs this many seconds behind the LSL clock


def eeg_stream(start: float = 100.0, seconds: float = 10.0, stream_id: int = 1, name: str = "Amp") -> XdfStream:
    sfreq = 128.0
    n = int(seconds * sfreq)
    stamps = start + np.arange(n) / sfreq
    data = np.zeros((n, 3))
    data[int(round((PULSE_AT - start) * sfreq)), :] = [100.0, 50.0, 25.0]  # µV
    return XdfStream(
        stream_id, name, "EEG", "float32", sfreq, stamps, data, ["Fp1", "Fp2", "Cz"], ["microvolts"] * 3,
        clock_offsets=[(start + 1, 0.0), (start + 5, 0.0), (start + 9, 0.0)],
    )


def device_stream() -> XdfStream:
    sfreq = 256.0
    device_start = 50.0
    n = int(9 * sfreq)
    stamps = device_start + np.arange(n) / sfreq
    data = np.column_stack([np.zeros(n), np.full(n, 2.0)])  # ECG mV, GSR µS
    pulse = int(round((PULSE_AT - ECG_DEVICE_OFFSET - device_start) * sfreq))
    data[pulse] = [1.0, 3.0]
    return XdfStream(
        2, "Shimmer", "Physio", "double64", sfreq, stamps, data, ["ECG", "GSR"], ["millivolts", "microsiemens"],
        clock_offsets=[(51.0, ECG_DEVICE_OFFSET), (55.0, ECG_DEVICE_OFFSET), (58.0, ECG_DEVICE_OFFSET)],
    )


def marker_stream(times=(101.0, PULSE_AT, 108.0), labels=("start", "pulse", "end")) -> XdfStream:
    return XdfStream(3, "Events", "Markers", "string", 0.0, np.asarray(times), [[m] for m in labels])


def test_devices_with_their_own_clocks_are_aligned(tmp_path: Path) -> None:
    path = write_xdf(tmp_path / "sub-07_task-film_eeg.xdf", [eeg_stream(), device_stream(), marker_stream()])
    session = read_session(path)
    assert session.subject == "07"
    origin = 100.0 + 0.25  # the ECG device starts 0.25 s after the EEG on the LSL clock
    assert session.info["clock_origin_s"] == pytest.approx(origin, abs=1e-9)
    assert session.eeg.info["sfreq"] == 128 and session.ecg.info["sfreq"] == 256 and session.eda.info["sfreq"] == 256
    assert session.eeg.n_times == 1280 - 32 and session.ecg.n_times == 2304

    pulse_s = PULSE_AT - origin
    assert np.argmax(session.eeg.get_data()[0]) == round(pulse_s * 128)
    assert np.argmax(session.ecg.get_data()[0]) == round(pulse_s * 256)  # off by 50.25 s without the offsets
    assert np.argmax(session.eda.get_data()[0]) == round(pulse_s * 256)
    assert session.eeg.get_data()[:, round(pulse_s * 128)] == pytest.approx([100e-6, 50e-6, 25e-6])  # µV -> V
    assert session.ecg.get_data().max() == pytest.approx(1e-3)  # mV -> V
    assert session.eda.get_data()[0, 0] == pytest.approx(2e-6)  # µS -> S
    assert session.info["start_offsets_s"] == pytest.approx({"eeg": 0.0, "ecg": 0.0, "eda": 0.0}, abs=1e-9)

    for raw in session.modalities().values():
        np.testing.assert_allclose(raw.annotations.onset, [101.0 - origin, pulse_s, 108.0 - origin], atol=1e-9)
        assert list(raw.annotations.description) == ["start", "pulse", "end"]
    assert session.eeg.get_montage() is not None and session.trials.empty


def test_fractional_start_offset_is_reported(tmp_path: Path) -> None:
    device = device_stream()
    device.clock_offsets = [(t, ECG_DEVICE_OFFSET - 0.05) for t, _ in device.clock_offsets]  # starts at 100.2 s
    session = read_session(write_xdf(tmp_path / "rec.xdf", [eeg_stream(), device]))
    # EEG sample 26 (100.203125 s) is the nearest to the origin 100.2 s
    assert session.info["start_offsets_s"]["eeg"] == pytest.approx(26 / 128 - 0.2, abs=1e-9)
    assert session.eeg.n_times == 1280 - 26


def test_real_minimal_file_applies_its_clock_offsets() -> None:
    session = read_session(EXAMPLES / "minimal.xdf")
    eeg = session.eeg
    # README: stream 0 has clock offsets of -0.1 s, stamps 5.1..5.9 become 5.0..5.8; the markers keep 5.1..5.9
    assert eeg.info["sfreq"] == 10 and eeg.n_times == 9
    np.testing.assert_allclose(eeg.get_data()[:, 0], np.array([192, 255, 238]) * 1e-6)
    np.testing.assert_allclose(eeg.get_data()[:, 1], np.array([12, 22, 32]) * 1e-6)
    descriptions = list(eeg.annotations.description)
    assert descriptions[1:8] == ["Hello", "World", "from", "LSL", "Hello", "World", "from"]
    np.testing.assert_allclose(eeg.annotations.onset[:8], np.arange(1, 9) / 10, atol=1e-9)


def test_real_empty_streams_are_dropped_with_a_warning() -> None:
    session = read_session(EXAMPLES / "empty_streams.xdf")
    warnings = session.info["warnings"]
    assert any("'Empty data stream: test stream 0 counter': no samples; dropped" in w for w in warnings)
    assert any("'Empty marker stream: test stream 0 counter': no samples; dropped" in w for w in warnings)
    misc = session.extra["misc"]
    assert misc.ch_names == ["ch:00"] and misc.info["sfreq"] == 1.0
    np.testing.assert_array_equal(misc.get_data()[0], np.arange(10))


def test_real_clock_reset_recording() -> None:
    session = read_session(EXAMPLES / "clock_resets.xdf")
    eeg = session.eeg
    gaps = [(o, d) for o, d, desc in zip(eeg.annotations.onset, eeg.annotations.duration, eeg.annotations.description) if desc == "BAD_ACQ_SKIP"]
    assert len(gaps) == 1 and gaps[0][1] > 200  # pyxdf maps the two clock segments far apart
    start = int(round(gaps[0][0] * eeg.info["sfreq"]))
    data = eeg.get_data()
    assert np.isnan(data[:, start + 10 : start + 1000]).all() and np.isfinite(data[:, :start]).all()
    assert {"Test", "Blah", "Test-1-2-3"} <= set(eeg.annotations.description)
    assert any("differs from the nominal 100 Hz" in w for w in session.info["warnings"])


def test_real_labrecorder_files() -> None:
    p300 = read_session(BCI / "sub-P001_ses-S001_task-P300Checkboard_run-001_eeg.xdf")
    assert p300.subject == "P001"
    assert p300.eeg.ch_names == ["F3", "Fz", "F4", "FC3", "FCz", "FC4", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "CP5", "CP4", "Pz"]
    assert p300.eeg.info["sfreq"] == 256 and p300.eeg.n_times == 19072
    assert not np.isnan(p300.eeg._get_channel_positions()).any()
    offsets = np.median(np.abs(p300.eeg.get_data()), axis=1)
    assert np.all((offsets > 1e-4) & (offsets < 0.1))  # the README's DC offsets of thousands of µV, in volts
    descriptions = set(p300.eeg.annotations.description)
    assert "Trial Started" in descriptions and "ping" in descriptions

    ssvep = read_session(BCI / "ssvep_example.xdf")
    assert ssvep.eeg.ch_names == ["F4", "C4", "C3", "F3"]
    assert ssvep.extra["stim"].ch_names == ["TRG"] and sorted(ssvep.extra["misc"].ch_names) == ["S1", "S2", "S3"]


def test_zero_sample_stream_is_dropped(tmp_path: Path) -> None:
    empty = XdfStream(4, "Dead", "ECG", "float32", 256.0, np.zeros(0), np.zeros((0, 1)), ["ECG"], ["millivolts"])
    session = read_session(write_xdf(tmp_path / "rec.xdf", [eeg_stream(), empty]))
    assert session.ecg is None
    assert any("stream 'Dead': no samples; dropped" in w for w in session.info["warnings"])


def test_irregular_stream_is_resampled_linearly(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    stamps = np.sort(100.0 + rng.uniform(0, 10, 200))
    temperature = 30.0 + 0.1 * (stamps - 100.0)  # a line, so interpolation is exact
    stream = XdfStream(5, "Skin", "TEMP", "double64", 0.0, stamps, temperature[:, None], ["TEMP"])
    session = read_session(write_xdf(tmp_path / "rec.xdf", [stream]), irregular_sfreq=4.0)
    temp = session.extra["temp"]
    assert temp.info["sfreq"] == 4.0 and temp.get_channel_types() == ["temperature"]
    times = stamps[0] + np.arange(temp.n_times) / 4.0
    np.testing.assert_allclose(temp.get_data()[0], 30.0 + 0.1 * (times - 100.0), rtol=1e-12)
    assert times[-1] <= stamps[-1] < times[-1] + 0.25


def test_duplicate_time_stamps_in_an_irregular_stream(tmp_path: Path) -> None:
    stamps = np.array([100.0, 100.5, 100.5, 101.0])
    stream = XdfStream(5, "Skin", "TEMP", "double64", 0.0, stamps, np.ones((4, 1)), ["TEMP"])
    with pytest.raises(DataError, match=r"stream 'Skin': irregular stream with non-increasing time stamps \(sample 3"):
        read_session(write_xdf(tmp_path / "rec.xdf", [stream]))


def test_channel_count_mismatch(tmp_path: Path) -> None:
    stream = eeg_stream()
    stream.labels = ["Fp1", "Fp2"]
    stream.units = ["microvolts"] * 2
    with pytest.raises(DataError, match="stream 'Amp': the header declares 3 channels but describes 2"):
        read_session(write_xdf(tmp_path / "rec.xdf", [stream]))


def test_two_eeg_streams_need_a_choice(tmp_path: Path) -> None:
    path = write_xdf(tmp_path / "rec.xdf", [eeg_stream(), eeg_stream(stream_id=9, name="Amp2"), marker_stream()])
    with pytest.raises(DataError, match=r"EEG comes from .*'Amp'.*'Amp2'.*streams=\["):
        read_session(path)
    session = read_session(path, streams=["Amp2", "Markers"])
    assert session.eeg.ch_names == ["Fp1", "Fp2", "Cz"] and len(session.eeg.annotations) == 3
    with pytest.raises(DataError, match=r"no stream named or typed \['Amp3'\]"):
        read_session(path, streams=["Amp3"])


def test_same_named_streams_are_told_apart(tmp_path: Path) -> None:
    first, second = eeg_stream(name="Muse"), eeg_stream(stream_id=9, name="Muse")
    first.source_id, first.hostname = "muse-A", "pc1"
    second.source_id, second.hostname = "muse-B", "pc2"
    second.samples = second.samples * 2  # tells the two headsets apart in the data
    path = write_xdf(tmp_path / "rec.xdf", [first, second, marker_stream()])
    for streams in (None, ["Muse"]):
        with pytest.raises(DataError, match=r"EEG comes from .*'Muse' \(index 0, source_id 'muse-A'.*'Muse' \(index 1, "
                           r"source_id 'muse-B', hostname 'pc2'\).*'source_id:ID', 'hostname:HOST' or 'index:N'"):
            read_session(path, streams=streams)
    peaks = {}
    for selector in ("index:1", "source_id:muse-B", "hostname:pc2", "index:0", "source_id:muse-A", "hostname:pc1"):
        session = read_session(path, streams=[selector, "Markers"])
        assert session.eeg.ch_names == ["Fp1", "Fp2", "Cz"] and len(session.eeg.annotations) == 3
        peaks[selector] = np.abs(session.eeg.get_data()).max()
    assert peaks["index:1"] == peaks["source_id:muse-B"] == peaks["hostname:pc2"] == pytest.approx(200e-6)
    assert peaks["index:0"] == peaks["source_id:muse-A"] == peaks["hostname:pc1"] == pytest.approx(100e-6)
    with pytest.raises(DataError, match=r"no stream named or typed \['index:7'\], nor matched by .*'Muse' \(index 1"):
        read_session(path, streams=["index:7"])


def test_gap_in_a_regular_stream(tmp_path: Path) -> None:
    stream = eeg_stream(seconds=20.0)
    keep = (stream.time_stamps < 105.0) | (stream.time_stamps >= 110.0)  # 5 s missing, more than pyxdf's 1 s break
    stream.time_stamps, stream.samples = stream.time_stamps[keep], stream.samples[keep]
    session = read_session(write_xdf(tmp_path / "rec.xdf", [stream]))
    eeg = session.eeg
    assert eeg.n_times == 20 * 128
    (onset,), (duration,) = eeg.annotations.onset, eeg.annotations.duration
    assert eeg.annotations.description[0] == "BAD_ACQ_SKIP"
    assert onset == pytest.approx(5.0) and duration == pytest.approx(5.0)
    assert np.isnan(eeg.get_data()[:, 640:1280]).all() and np.isfinite(eeg.get_data()[:, 1280:]).all()
    assert eeg.get_data()[0, round(3.0 * 128)] == pytest.approx(100e-6)  # the pulse stayed at 103 s


def test_truncated_file_keeps_the_complete_chunks(tmp_path: Path) -> None:
    data = xdf_bytes([eeg_stream(), marker_stream()])
    path = tmp_path / "crashed.xdf"
    path.write_bytes(data[: len(data) - 300])  # cut inside the last chunks: the footers
    session = read_session(path)
    assert session.eeg.n_times == 1280
    assert any("ends inside a chunk" in w for w in session.info["warnings"])
    path.write_bytes(data[: len(data) * 6 // 10])  # inside the samples
    assert 0 < read_session(path).eeg.n_times < 1280


def test_corrupt_sample_count_is_a_data_error(tmp_path: Path) -> None:
    data = bytearray(xdf_bytes([eeg_stream()]))
    first_samples = data.index(struct.pack("<H", 3) + struct.pack("<I", 1))  # tag 3, stream 1
    count_at = first_samples + 2 + 4 + 1
    data[count_at : count_at + 4] = struct.pack("<I", 2**31)
    path = tmp_path / "rec.xdf"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"rec.xdf: corrupt XDF samples chunk at byte \d+: 2147483648 samples"):
        read_session(path)


def test_not_an_xdf_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.xdf"
    path.write_bytes(b"XDG:" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"rec.xdf: not an XDF file"):
        read_session(path)
