"""Cache entries are verified before use: byte flips (every position may be hit), truncations, deleted or
added files in features, labels, trial coordinates, metadata and the manifest are caught; a damaged entry
is reported (subject, file) and recomputed, never read."""

import json
import shutil
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from biosig.cache import FeatureCache
from biosig.cache_integrity import CHECKSUMS
from biosig.cli import app
from biosig.cohort import SyntheticSource, process_cohort
from biosig.config import config_from_dict
from biosig.datasets.synthetic import SyntheticConfig
from biosig.errors import DataError

SYNTH = {"n_subjects": 1, "n_trials": 2, "baseline_seconds": 8, "stimulus_seconds": 10}
TINY = {"source": {"synthetic": SYNTH, "via_files": False}, "features": {"peripheral": False}}
SOURCES = [SyntheticSource(0, SyntheticConfig(**SYNTH))]


def _chunk(variable: str) -> str:
    """Relative path (in an entry) of the first data chunk of a Zarr variable."""
    return f"features.zarr/{variable}/0" if variable in ("trial", "valence") else f"features.zarr/{variable}/0.0.0"


# Features, labels (per-window ratings), trial coordinate, Zarr metadata, EEG info, meta, manifest.
TARGETS = [
    _chunk("de"),
    _chunk("valence"),
    _chunk("trial"),
    "features.zarr/.zmetadata",
    "features.zarr/de/.zarray",
    "eeg-info.fif",
    "meta.json",
    CHECKSUMS,
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, xr.Dataset]:
    """A cache folder holding S01's entry, and the cohort read from it."""
    folder = tmp_path_factory.mktemp("reference")
    run = process_cohort(SOURCES, config_from_dict(TINY), folder)
    return folder, run.features.load()


@pytest.fixture(scope="module")
def entry(reference) -> Path:
    (folder,) = (reference[0] / "entries").iterdir()
    return folder


@pytest.fixture
def copy(tmp_path, reference) -> tuple[FeatureCache, Path]:
    """A fresh copy of the reference cache, and its entry's folder."""
    shutil.copytree(reference[0], tmp_path / "cache")
    cache = FeatureCache(tmp_path / "cache")
    (key,) = cache.keys()
    return cache, cache.path(key)


def test_targets_exist_and_a_fresh_entry_verifies(entry):
    cache = FeatureCache(entry.parent.parent)
    assert cache.verify(entry.name) is None
    for rel in TARGETS:
        assert (entry / rel).is_file(), rel
    listed = json.loads((entry / CHECKSUMS).read_text())["files"]
    on_disk = {p.relative_to(entry).as_posix() for p in entry.rglob("*") if p.is_file()} - {CHECKSUMS}
    assert set(listed) == on_disk


def _flip(path: Path, position: int, mask: int) -> bytes:
    original = path.read_bytes()
    data = bytearray(original)
    data[position % len(data)] ^= mask
    path.write_bytes(bytes(data))
    return original


@settings(max_examples=400, deadline=None)
@given(target=st.sampled_from(TARGETS), position=st.integers(0, 1 << 20), mask=st.integers(1, 255))
def test_no_single_byte_flip_is_accepted(entry, target, position, mask):
    cache = FeatureCache(entry.parent.parent)
    original = _flip(entry / target, position, mask)
    try:
        damage = cache.verify(entry.name)
    finally:
        (entry / target).write_bytes(original)
    assert damage is not None and damage.file == target
    assert cache.verify(entry.name) is None


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_byte_flips_at_the_ends_and_middle_are_caught(entry, target, where):
    cache = FeatureCache(entry.parent.parent)
    size = (entry / target).stat().st_size
    original = _flip(entry / target, {"first": 0, "middle": size // 2, "last": size - 1}[where], 0x01)
    try:
        damage = cache.verify(entry.name)
    finally:
        (entry / target).write_bytes(original)
    assert damage is not None and damage.file == target


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("damage_kind", ["truncated", "emptied", "deleted", "extended"])
def test_truncated_deleted_or_extended_files_are_caught_and_never_opened(copy, target, damage_kind):
    cache, folder = copy
    path = folder / target
    data = path.read_bytes()
    if damage_kind == "deleted":
        path.unlink()
    else:
        path.write_bytes({"truncated": data[: len(data) // 2], "emptied": b"", "extended": data + b"\0"}[damage_kind])
    damage = cache.verify(folder.name)
    assert damage is not None and damage.file == target
    with pytest.raises(DataError, match=rf"{folder}.*{target}"):
        cache.open(folder.name)


def test_an_added_chunk_is_caught(copy):
    cache, folder = copy
    # A chunk Zarr skipped (all fill value) appearing later would change the data.
    shutil.copy(folder / _chunk("valence"), folder / "features.zarr/valence/1")
    assert cache.verify(folder.name).file == "features.zarr/valence/1"


@pytest.mark.parametrize(
    "target, damage_kind",
    [
        (_chunk("de"), "flip"),
        (_chunk("de"), "truncate"),
        (_chunk("de"), "delete"),
        (_chunk("valence"), "delete"),
        (_chunk("valence"), "flip"),
        (_chunk("trial"), "delete"),
        ("meta.json", "flip"),
        (CHECKSUMS, "delete"),
    ],
)
def test_a_damaged_entry_is_reported_recomputed_and_never_read(copy, reference, target, damage_kind):
    cache, folder = copy
    path = folder / target
    if damage_kind == "flip":
        _flip(path, path.stat().st_size // 2, 0x10)
    elif damage_kind == "truncate":
        path.write_bytes(path.read_bytes()[:-7])
    else:
        path.unlink()
    run = process_cohort(SOURCES, config_from_dict(TINY), cache.root)
    assert run.computed == ["S01"] and run.cached == []
    (damaged,) = run.summary()["damaged"]
    assert damaged["name"] == "S01" and damaged["file"] == str(folder / target)
    xr.testing.assert_identical(run.features.load(), reference[1])
    assert cache.verify(folder.name) is None  # the recomputed entry replaced the damaged one
    again = process_cohort(SOURCES, config_from_dict(TINY), cache.root)
    assert again.cached == ["S01"] and again.damaged == []
    assert list((cache.root / "tmp").iterdir()) == []


def test_preprocess_command_recomputes_a_truncated_chunk_and_says_so(tmp_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text(json.dumps({**TINY, "report": {"out_dir": str(tmp_path / "report")}}))
    cache = tmp_path / "cache"
    args = ["preprocess", str(config_file), "--cache", str(cache)]
    assert CliRunner().invoke(app, args).exit_code == 0
    (folder,) = (cache / "entries").iterdir()
    chunk = folder / _chunk("de")
    chunk.write_bytes(chunk.read_bytes()[:10])
    for summary_file in (cache / "runs").glob("*.json"):
        summary_file.unlink()

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (summary_file,) = (cache / "runs").glob("preprocess-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["computed"] == ["S01"] and summary["cached"] == []
    assert summary["damaged"] == [
        {"name": "S01", "file": str(chunk), "problem": summary["damaged"][0]["problem"]}
    ]
    assert "truncated" in summary["damaged"][0]["problem"]
    assert FeatureCache(cache).verify(folder.name) is None
