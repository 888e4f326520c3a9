#!/usr/bin/env bash
# Installs the headless browser that tests/test_liveview.py drives: Debian's chromium.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo) to install.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "setup_browser.sh: /usr/bin/chromium is missing and installing it (apt-get install chromium) needs root" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_browser.sh: /usr/bin/chromium is missing and there is no apt-get here; install Chromium at /usr/bin/chromium" >&2
    exit 1
fi
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
