#!/usr/bin/env bash
# Retake docs/report_top.png: the top of a run's self-contained report.html in headless Chromium.
#
#   bash docs/make_report_screenshot.sh [REPORT_DIR] [OUT.png]      (default OUT: docs/report_top.png)
#
# REPORT_DIR is a run's report folder; without it, `biosig run configs/demo.yaml` writes one into a
# temporary folder (about 2 minutes). When the folder holds no report.html, the page is written from its
# metrics.json, statistics.json (when present) and run_info.json by biosig.report.html.write_html_report.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${2:-$repo/docs/report_top.png}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${1:-}" ]; then
    report=$(realpath "$1")
else
    report=$work/report
    "$repo/.venv/bin/biosig" run "$repo/configs/demo.yaml" --out "$report" > "$work/run.log" 2>&1
fi
if [ ! -f "$report/report.html" ]; then
    "$repo/.venv/bin/python" - "$report" <<'PY'
import json
import sys
from pathlib import Path

from biosig.report.html import write_html_report

folder = Path(sys.argv[1])
statistics = folder / "statistics.json"
write_html_report(
    folder,
    json.loads((folder / "metrics.json").read_text()),
    json.loads(statistics.read_text()) if statistics.exists() else None,
    json.loads((folder / "run_info.json").read_text()),
)
PY
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,900 \
    --virtual-time-budget=3000 --screenshot="$work/shot.png" "file://$report/report.html" > "$work/chromium.log" 2>&1
cp "$work/shot.png" "$out"
echo "written $out"
