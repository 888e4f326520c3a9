"""The loopback-only liblsl configuration is in force in the test process and in the CLI."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

from streaming.lslconfig import LOOPBACK_CONFIG, use_lsl_config


def test_lslapicfg_names_the_shipped_loopback_file():
    assert Path(os.environ["LSLAPICFG"]) == LOOPBACK_CONFIG.resolve()
    cfg = configparser.ConfigParser(comment_prefixes=(";", "#"))
    cfg.read(os.environ["LSLAPICFG"])
    assert cfg["multicast"]["ResolveScope"].strip() == "machine"
    assert cfg["lab"]["KnownPeers"].strip() == "{127.0.0.1}"
    assert cfg["ports"]["IPv6"].strip() == "disable"


def test_liblsl_in_this_process_runs_with_that_file():
    # liblsl exposes no configuration readback; an outlet shows its effect:
    # the file disables IPv6, so no IPv6 port is opened, where liblsl's
    # default configuration opens one on any machine with IPv6 (this one has
    # ::1 on the loopback interface).
    import pylsl

    outlet = pylsl.StreamOutlet(pylsl.StreamInfo("biosig-test-config", "Test", 1, 10.0, pylsl.cf_float32, "cfg-test"))
    xml = outlet.get_info().as_xml()
    assert "<v6data_port>0</v6data_port>" in xml and "<v6service_port>0</v6service_port>" in xml
    assert "<v4data_port>0</v4data_port>" not in xml


def test_use_lsl_config_takes_a_lab_file_and_refuses_a_missing_one(tmp_path):
    lab = tmp_path / "lab.cfg"
    lab.write_text(LOOPBACK_CONFIG.read_text())
    before = os.environ["LSLAPICFG"]
    try:
        assert use_lsl_config(lab) == lab
        assert os.environ["LSLAPICFG"] == str(lab.resolve())
    finally:
        os.environ["LSLAPICFG"] = before
    missing = tmp_path / "missing.cfg"
    try:
        use_lsl_config(missing)
    except FileNotFoundError as exc:
        assert str(missing) in str(exc)
    else:
        raise AssertionError("a missing configuration file must be refused")


def test_cli_refuses_a_missing_lsl_config_before_touching_lsl(tmp_path):
    missing = tmp_path / "nope.cfg"
    done = subprocess.run(
        [sys.executable, "-c", "from biosig.cli import main; main()", "replay", "synthetic:S01",
         "--lsl-config", str(missing)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "nope.cfg" in done.stdout and "--lsl-config" in done.stdout
