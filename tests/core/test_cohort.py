"""Cohort orchestration: recompute exactly what changed, lazy cohorts, parallel = serial,
skipped subjects, resuming after a killed run, and the main job / CLI on top."""

import functools
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from tests.helpers import REPO_ROOT
from biosig.cli import app
from biosig.cohort import (
    CallableSource,
    SessionFilesSource,
    SyntheticSource,
    _compute,
    _Task,
    file_identity,
    process_cohort,
)
from biosig.config import config_from_dict
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import DataError
from biosig.executor import Executor
from biosig.io.files import session_paths, write_session_files
from biosig.pipeline import cohort_features
from biosig.session import Session
from graphs.training.runner import run

ROOT = REPO_ROOT
SYNTH = {"n_subjects": 3, "n_trials": 2, "baseline_seconds": 8, "stimulus_seconds": 10}
# EEG features only: peripheral ones triple the compute and add nothing to what is tested here.
TINY = {"source": {"synthetic": SYNTH, "via_files": False}, "features": {"peripheral": False}}
SUBJECTS = ["S01", "S02", "S03"]
TWO = {**SYNTH, "n_subjects": 2}


@dataclass(frozen=True)
class Counting:
    """Wraps a source and appends its name to a log file at every load (works across processes)."""

    inner: Any
    log: Path

    @property
    def name(self) -> str:
        return self.inner.name

    def identity(self) -> dict:
        return self.inner.identity()

    def __call__(self) -> Session:
        with open(self.log, "a") as fh:
            fh.write(self.name + "\n")
        return self.inner()


@dataclass(frozen=True)
class MissingFile:
    """A source whose input file does not exist: its identity already fails."""

    name: str
    path: Path

    def identity(self) -> dict:
        return {"file": file_identity(self.path)}

    def __call__(self) -> Session:
        raise AssertionError("never loaded")


def _loads(log: Path) -> list[str]:
    names = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return sorted(names)


def _short_trial_session(index: int, config: SyntheticConfig) -> Session:
    """A synthetic session whose first stimulus lasts 2 s, shorter than one 4-s window."""
    session = make_session(index, config)
    trials = session.trials.copy()
    trials.loc[0, "stimulus_duration"] = 2.0
    return Session(session.subject, session.eeg, trials, session.ecg, session.eda, session.info)


def _bad_source(index: int = 3) -> CallableSource:
    synth = SyntheticConfig(**{**SYNTH, "n_subjects": index + 1})
    loader = functools.partial(_short_trial_session, index, synth)
    return CallableSource(f"S{index + 1:02d}", loader, {"kind": "short-trial", "index": index})


def _synthetic_sources() -> list[SyntheticSource]:
    return [SyntheticSource(k, SyntheticConfig(**SYNTH)) for k in range(3)]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sessions")
    for source in _synthetic_sources()[:2]:
        write_session_files(source(), folder)
    return folder


@pytest.fixture(scope="module")
def client():
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster, Client(cluster) as c:
        yield c


def test_recomputes_exactly_the_changed_entries(tmp_path, files):
    log = tmp_path / "loads.txt"
    sources = [Counting(SessionFilesSource(files, s), log) for s in ("S01", "S02")]
    cfg = config_from_dict(TINY)
    cache = tmp_path / "cache"

    first = process_cohort(sources, cfg, cache)
    assert _loads(log) == ["S01", "S02"] and first.computed == ["S01", "S02"] and first.cached == []

    again = process_cohort(sources, cfg, cache)
    assert _loads(log) == [] and again.cached == ["S01", "S02"]
    xr.testing.assert_identical(again.features.load(), first.features.load())

    other_eval = config_from_dict({**TINY, "models": [{"name": "logreg", "hparams": {"C": 5.0}}], "report": {"out_dir": "x"}})
    process_cohort(sources, other_eval, cache)
    assert _loads(log) == []

    new_filter = config_from_dict({**TINY, "preprocess": {"filter": {"l_freq": 2.0}}})
    process_cohort(sources, new_filter, cache)
    assert _loads(log) == ["S01", "S02"]

    # Edit S02's ratings on disk: only S02 is recomputed, and the cohort carries the new rating.
    trials_csv = session_paths(files, "S02")["trials"]
    original = trials_csv.read_text()
    try:
        table = original.splitlines()
        cells = table[1].split(",")
        cells[5] = "5" if cells[5] != "5" else "1"  # valence of trial 1
        trials_csv.write_text("\n".join([table[0], ",".join(cells), *table[2:]]) + "\n")
        edited = process_cohort(sources, cfg, cache)
        assert _loads(log) == ["S02"] and edited.computed == ["S02"]
        s02 = edited.features.where(
            (edited.features.subject == "S02") & (edited.features.trial == 1), drop=True
        )
        assert set(s02.valence.values) == {int(cells[5])}
    finally:
        trials_csv.write_text(original)


def test_file_identity_content_for_small_files_stat_for_large(tmp_path, monkeypatch):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100)
    small = file_identity(path)
    os.utime(path, ns=(1, 1))
    assert file_identity(path) == small  # touching a small file keeps its key
    monkeypatch.setattr("biosig.sources.identity.CONTENT_HASH_MAX_BYTES", 10)
    large = file_identity(path)
    assert large == {"path": str(path.resolve()), "size": 100, "mtime_ns": 1}
    os.utime(path, ns=(2, 2))
    assert file_identity(path) != large
    with pytest.raises(DataError, match="missing.bin"):
        file_identity(tmp_path / "missing.bin")


def test_cohort_is_lazy_and_equals_the_eager_pipeline(tmp_path):
    sources = _synthetic_sources()
    cfg = config_from_dict(TINY)
    cohort = process_cohort(sources, cfg, tmp_path).features
    for name in ("de", "band_power", "faa"):
        assert isinstance(cohort[name].data, da.Array), name

    eager, _ = cohort_features([s() for s in sources], cfg)
    lazy_means = cohort["de"].sel(band="alpha").groupby("subject").mean()
    assert isinstance(lazy_means.data, da.Array)
    xr.testing.assert_identical(lazy_means.compute(), eager["de"].sel(band="alpha").groupby("subject").mean())

    def contrast(ds: xr.Dataset) -> xr.DataArray:
        return ds["de"].where(ds.valence > 3).mean("window") - ds["de"].where(ds.valence <= 3).mean("window")

    lazy_contrast = contrast(cohort)
    assert isinstance(lazy_contrast.data, da.Array)
    xr.testing.assert_allclose(lazy_contrast.compute(), contrast(eager), rtol=1e-12)
    xr.testing.assert_identical(cohort.load(), eager)


def test_bad_subjects_are_skipped_and_reported(tmp_path, files):
    sources = [
        SessionFilesSource(files, "S01"),
        _bad_source(),
        SessionFilesSource(files, "S09"),  # no files
        MissingFile("S10", files / "S10.mat"),
    ]
    cohort = process_cohort(sources, config_from_dict(TINY), tmp_path / "cache")
    assert list(np.unique(cohort.features.subject)) == ["S01"]
    assert cohort.computed == ["S01"]
    by_name = {s.name: s for s in cohort.skipped}
    assert by_name["S04"].stage == "features" and "trial 1" in by_name["S04"].error
    assert "shorter than" in by_name["S04"].error
    assert by_name["S09"].stage == "load" and "S09" in by_name["S09"].error
    assert by_name["S10"].stage == "identity" and "S10.mat" in by_name["S10"].error
    summary = json.loads(json.dumps(cohort.summary()))
    assert sorted(s["name"] for s in summary["skipped"]) == ["S04", "S09", "S10"]
    assert summary["n_sources"] == 4 and summary["n_subjects"] == 1

    with pytest.raises(DataError, match="all 1 sources were skipped"):
        process_cohort([_bad_source()], config_from_dict(TINY), tmp_path / "cache")


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("serial")
    return process_cohort([*_synthetic_sources()[:2], _bad_source()], config_from_dict(TINY), cache)


def test_dask_cluster_gives_exactly_the_serial_features(tmp_path, serial_run, client):
    sources = [*_synthetic_sources()[:2], _bad_source()]
    with Executor(scheduler=client) as executor:
        parallel = process_cohort(sources, config_from_dict(TINY), tmp_path, executor)
    xr.testing.assert_identical(parallel.features.load(), serial_run.features.load())
    assert parallel.skipped == serial_run.skipped and parallel.computed == ["S01", "S02"]
    assert [r.log for r in parallel.results] == [r.log for r in serial_run.results]


def test_tasks_survive_the_process_pools_pickle(tmp_path):
    # The process pool sends tasks with the standard pickle (Dask uses cloudpickle, tested above);
    # the pool itself is tested in test_executor.py.
    source = _bad_source()
    task = pickle.loads(pickle.dumps(_Task(source, source.identity(), "key", config_from_dict(TINY), tmp_path)))
    assert task.config == config_from_dict(TINY) and task.source.identity() == _bad_source().identity()
    outcome = _compute(task)
    assert outcome.skipped.name == "S04" and "shorter than" in outcome.skipped.error


# The child runs a serial cohort of S01, S02 whose S02 features are a dask array that
# signals the parent and hangs while being written, so the run dies in S03's write.
_KILLED_RUN = """
import pathlib, sys, time
import dask, dask.array as da, numpy as np
import biosig.cohort as cohort
from biosig.config import config_from_dict

cache, marker, synth = sys.argv[1], sys.argv[2], eval(sys.argv[3])
compute = cohort.session_features

def hang_in_s02_write(session, config):
    result = compute(session, config)
    if session.subject == "S02":
        def hang(block):
            pathlib.Path(marker).touch()
            time.sleep(600)
            return block
        de = result.features["de"]
        blocks = da.from_array(de.values, chunks=1).map_blocks(hang, meta=np.array((), dtype=float))
        result.features["de"] = de.copy(data=blocks)
    return result

cohort.session_features = hang_in_s02_write
cfg = config_from_dict({"source": {"synthetic": synth, "via_files": False}, "features": {"peripheral": False}})
with dask.config.set(scheduler="synchronous"):
    cohort.process_cohort(cohort.sources_from_config(cfg, pathlib.Path(cache)), cfg, cache)
"""


def test_a_killed_run_leaves_a_valid_cache_and_the_next_run_resumes(tmp_path, serial_run):
    cache, marker = tmp_path / "cache", tmp_path / "writing"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(cache), str(marker), repr(TWO)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the run ended before writing S02"
            assert time.monotonic() < deadline, "the run never reached S02's write"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert len(list((cache / "entries").iterdir())) == 1  # S01
    (orphan,) = (cache / "tmp").iterdir()  # S02's half-written entry
    assert (orphan / "features.zarr" / "de" / ".zarray").is_file() and not (orphan / "meta.json").exists()

    log = tmp_path / "loads.txt"
    synth = SyntheticConfig(**TWO)
    sources = [Counting(SyntheticSource(k, synth), log) for k in range(2)]
    resumed = process_cohort(sources, config_from_dict(TINY), cache)
    assert _loads(log) == ["S02"] and resumed.cached == ["S01"]
    assert list((cache / "tmp").iterdir()) == []  # the killed writer's leftovers are gone
    xr.testing.assert_identical(resumed.features.load(), serial_run.features.load())


def test_preprocess_command_on_a_cluster_then_main_job_reuse_the_cache(tmp_path, client):
    # Enough trials that every subject has high and low ratings (the report's scalp contrast needs them).
    synth = {"n_subjects": 3, "n_trials": 6, "baseline_seconds": 6, "stimulus_seconds": 8}
    small = {
        "source": {"synthetic": synth, "via_files": False},
        "features": {"peripheral": False},
        "models": [{"name": "logreg"}],  # the cache holds the feature path; deep models do not read it
        "evaluation": {"n_folds": 2, "tasks": ["binary"], "protocols": ["loso"]},
        "report": {"out_dir": str(tmp_path / "report")},
    }
    cache = tmp_path / "cache"
    config_file = tmp_path / "run.yaml"
    config_file.write_text(json.dumps(small))

    address = client.scheduler.address
    args = ["preprocess", str(config_file), "--cache", str(cache), "--scheduler", address]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (summary_file,) = (cache / "runs").glob("preprocess-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["computed"] == SUBJECTS and summary["skipped"] == []
    assert summary["executor"] == f"dask (scheduler {address})"

    report = run(config_from_dict({**small, "cache": {"dir": str(cache)}}))
    info = json.loads((report / "run_info.json").read_text())
    assert info["cohort"]["cached"] == SUBJECTS and info["cohort"]["computed"] == []
    assert info["n_windows"] == info["cohort"]["n_windows"] == 3 * 6 * 3
    # Preprocessing log and ground truth come back from the cache.
    assert info["preprocessing"]["S01"]["true_bad_channels"] == ["F8"]
    assert "F8" in info["preprocessing"]["S01"]["bad_channels"]
    assert (report / "metrics.json").is_file() and (report / "topomap_contrast.png").stat().st_size > 5000


def test_preprocess_command_reports_a_bad_config_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cache: {workers: 0}\n")
    result = CliRunner().invoke(app, ["preprocess", str(bad)])
    assert result.exit_code == 2 and "cache.workers" in result.output
