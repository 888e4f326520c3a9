#!/usr/bin/env bash
# Retake docs/liveview.png from a real replay -> stream -> liveview run (the README's live commands).
#
#   bash docs/make_liveview_screenshot.sh [OUT.png]      (default: docs/liveview.png)
#
# Runs inside a loopback-only network namespace (tests/netns.sh) so LSL stays off the network:
# trains the tiny model of configs/live_tiny.yaml, calibrates it on synthetic:S04, replays synthetic:S03,
# streams predictions and per-channel quality, serves the live view and, STREAM_SECONDS (default 25) after
# its first prediction, takes a headless Chromium screenshot of http://127.0.0.1:8765/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/docs/liveview.png}")
if [ "${BIOSIG_SCREENSHOT_INNER:-}" != 1 ]; then
    BIOSIG_SCREENSHOT_INNER=1 exec bash "$repo/tests/netns.sh" bash "$0" "$out"
fi
if [ -n "${BIOSIG_NETNS_ERROR:-}" ]; then
    echo "no loopback-only network namespace: $BIOSIG_NETNS_ERROR" >&2
    exit 1
fi
biosig=$repo/.venv/bin/biosig
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; sleep 3; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
ln -s "$repo/configs" configs
"$biosig" replay synthetic:S03 --loop > replay.log 2>&1 & pids+=($!)
"$biosig" train configs/live_tiny.yaml --export models/ > train.log 2>&1
"$biosig" calibrate models/histn-valence-five_class.pt models/histn-arousal-five_class.pt \
    --from synthetic:S04 --seconds 20 --out models/today/ > calibrate.log 2>&1
"$biosig" stream --model models/today/histn-valence-five_class.pt --model models/today/histn-arousal-five_class.pt \
    --eeg name=biosig-replay-eeg > stream.log 2>&1 & pids+=($!)
"$biosig" liveview --port 8765 > liveview.log 2>&1 & pids+=($!)
# Wait (up to 3 min) for the page to serve a prediction, then let the trace and quality panel fill.
"$repo/.venv/bin/python" - <<'PY'
import time, urllib.request
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8765/events", timeout=5) as events:
            for line in events:
                if line.startswith(b"event: affect"):
                    raise SystemExit(0)
    except OSError:
        time.sleep(1)
raise SystemExit("the live view served no prediction within 3 minutes")
PY
sleep "${STREAM_SECONDS:-25}"
timeout 90 /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,900 \
    --screenshot="$work/shot.png" http://127.0.0.1:8765/ > chromium.log 2>&1
tail -n 5 liveview.log stream.log chromium.log
cp "$work/shot.png" "$out"
tail -n 3 stream.log
echo "written $out"
