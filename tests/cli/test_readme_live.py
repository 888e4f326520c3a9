"""The README's live commands run as written, in order, so they cannot rot (issue 16).

The fenced block after ``<!-- live-commands: tested by tests/cli/test_readme_live.py -->``
in README.md (``$BIOSIG_README`` overrides the file) holds, in order: replay
(background), train with export on ``configs/live_tiny.yaml``, calibrate, stream
(background) and the live view. The commands run as written in a scratch folder
that links the repository's ``.venv`` and ``configs``: a line ending in ``&`` as
a background process, the live view until its page and its event stream serve
a prediction, the others to completion. An LSL test: it runs inside the
loopback-only network namespace (``bash tests/netns.sh``), so the fixed ports
of the README are free and nothing is reachable from outside.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT
from tests.live.netns_check import require_loopback_namespace

MARKER = "<!-- live-commands: tested by tests/cli/test_readme_live.py -->"
#: What the block must run, in order (the first word after ``biosig``).
ORDER = ["replay", "train", "calibrate", "stream", "liveview"]
#: Seconds a foreground command may take, and the live view to serve a prediction.
TIMEOUT_S, PREDICTION_S = 180.0, 60.0


def readme_path() -> Path:
    """README.md of the repository, or ``$BIOSIG_README``."""
    return Path(os.environ.get("BIOSIG_README") or REPO_ROOT / "README.md")


def live_commands(text: str) -> list[tuple[list[str], bool]]:
    """The commands of the block after :data:`MARKER`: (argv, runs in the background), comments stripped."""
    if MARKER not in text:
        pytest.fail(f"{readme_path()}: no line {MARKER!r} before the live commands' fenced block")
    block = re.search(r"```[a-z]*\n(.*?)```", text.split(MARKER, 1)[1], re.S)
    assert block is not None, f"{readme_path()}: no fenced block after {MARKER!r}"
    commands = []
    for line in block.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line:
            background = line.endswith("&")
            commands.append((shlex.split(line.rstrip("&")), background))
    return commands


def _port(argv: list[str]) -> int:
    return int(argv[argv.index("--port") + 1]) if "--port" in argv else 8765


def _first_prediction(port: int, deadline: float) -> dict:
    """The first ``affect`` event with a valence from the live view at ``port``."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                assert page.status == 200 and b"<html" in page.read().lower()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=5) as events:
                name = None
                while time.monotonic() < deadline:
                    line = events.readline().decode().strip()
                    if line.startswith("event: "):
                        name = line[len("event: "):]
                    elif line.startswith("data: ") and name == "affect":
                        data = json.loads(line[len("data: "):])
                        if data.get("valence") is not None:
                            return data
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the live view at port {port} served no prediction within {PREDICTION_S:g} s")


def _stop(proc: subprocess.Popen) -> str:
    """SIGTERM (handled as Ctrl-C by the commands), then its output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_readme_live_commands_run_in_order(tmp_path: Path) -> None:
    require_loopback_namespace()
    commands = live_commands(readme_path().read_text())
    biosig = [argv[argv.index(next(a for a in argv if a.endswith("biosig"))) + 1] for argv, _ in commands]
    assert biosig == ORDER, f"the README's live commands run {biosig}; expected {ORDER}"
    for name in (".venv", "configs"):
        (tmp_path / name).symlink_to(REPO_ROOT / name)
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    background: list[tuple[str, subprocess.Popen]] = []
    try:
        for (argv, in_background), name in zip(commands, ORDER, strict=True):
            proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)  # fmt: skip
            if in_background or name == "liveview":
                background.append((name, proc))
                time.sleep(2.0 if name == "replay" else 0.0)
                assert proc.poll() is None, f"{shlex.join(argv)} stopped at once:\n{proc.communicate()[0]}"
                continue
            out, _ = proc.communicate(timeout=TIMEOUT_S)
            assert proc.returncode == 0, f"{shlex.join(argv)} exited {proc.returncode}:\n{out}"
        prediction = _first_prediction(_port(commands[-1][0]), time.monotonic() + PREDICTION_S)
        assert 1.0 <= prediction["valence"] <= 5.0
    finally:
        outputs = {name: _stop(proc) for name, proc in reversed(background)}
    assert "127.0.0.1:16571" in outputs["replay"] and "all interfaces" in outputs["replay"], outputs["replay"]
    assert "valence=" in outputs["stream"] and "publishing on" in outputs["stream"], outputs["stream"]
    assert {p.name for p in (tmp_path / "models" / "today").glob("*.pt")} == {
        "histn-valence-five_class.pt", "histn-arousal-five_class.pt"
    }
