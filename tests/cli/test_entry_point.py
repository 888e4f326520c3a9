"""The ``biosig`` entry point itself: help without heavy imports, ``--version``, the live defaults."""

import json
import subprocess
import sys
from importlib.metadata import version

from typer.testing import CliRunner

import biosig
from biosig.cli import app
from tests.helpers import REPO_ROOT

#: Top-level packages that ``biosig --help`` must not import (slow, or they load liblsl).
HEAVY = ("torch", "mne", "neurokit2", "pylsl", "graphs", "streaming")

_HELP_IMPORTS = f"""
import json, sys
import typer
from typer.testing import CliRunner
from biosig.cli import app
runner = CliRunner()
commands = sorted(typer.main.get_command(app).commands)
for args in (["--help"], *([name, "--help"] for name in commands)):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps({{"commands": commands, "heavy": heavy}}))
"""


def test_help_of_every_command_imports_no_heavy_library():
    result = subprocess.run(
        [sys.executable, "-c", _HELP_IMPORTS], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert {"run", "train", "stream", "calibrate", "replay", "record", "liveview"} <= set(found["commands"])
    assert found["heavy"] == []


def test_version_prints_the_package_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"biosig-affect {biosig.__version__}\n"


def test_the_installed_version_is_read_from_the_package():
    assert version("biosig-affect") == biosig.__version__


def test_liveview_default_stream_is_the_live_views():
    from biosig.commands.liveview import AFFECT_STREAM
    from streaming.liveview import AFFECT_STREAM as LIVE_VIEW_STREAM

    assert AFFECT_STREAM == LIVE_VIEW_STREAM


def test_packages_are_typed():
    for package in ("biosig", "graphs", "streaming"):
        assert (REPO_ROOT / package / "py.typed").is_file()
