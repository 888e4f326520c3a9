"""The documentation site builds offline with warnings as errors, gallery included, within a minute of CPU.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary folder, so
nothing is written into the repository; the gallery's examples generate their own
inputs. The time limit is on the build's CPU time (user + system of the
sphinx-build process), which other load on the machine does not inflate.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS_PACKAGES = ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme", "mne_bids")
BUILD_OUTPUTS = ("_build", "auto_examples", "generated", "sg_execution_times.rst")
CPU_LIMIT_S = 60.0


def _copy_sources(dest: Path) -> Path:
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=shutil.ignore_patterns(*BUILD_OUTPUTS, "__pycache__"))
    shutil.copytree(ROOT / "examples", dest / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "docs"


def test_docs_build_offline_with_warnings_as_errors(tmp_path: Path) -> None:
    missing = [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the docs need {missing}: install the docs extra (pip install -e '.[docs]', or make docs)")
    source = _copy_sources(tmp_path)
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(source), str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    print(f"docs built in {wall:.1f} s wall, {cpu:.1f} s CPU")
    assert cpu < CPU_LIMIT_S, f"the docs build took {cpu:.1f} s of CPU ({wall:.1f} s wall); the limit is {CPU_LIMIT_S} s"

    config = (out / "config_reference.html").read_text(encoding="utf-8")
    for key in ("evaluation.protocols", "preprocess.filter.l_freq", "models[].windows.length", "source.synthetic.n_subjects"):
        assert key in config, f"the config reference lacks {key}"
    gallery = out / "auto_examples"
    for name in ("plot_03_bids", "plot_04_dreamer", "plot_05_xdf", "plot_06_empatica", "plot_07_sklearn"):
        assert "sphx-glr-script-out" in (gallery / f"{name}.html").read_text(encoding="utf-8"), f"{name} did not run"
    live = (gallery / "live_train_export_calibrate_stream.html").read_text(encoding="utf-8")
    assert "biosig_stream" in live and "sphx-glr-script-out" not in live, "the live chain must be shown, not run"
    assert (out / "api.html").is_file() and (out / "protocols.html").is_file()
