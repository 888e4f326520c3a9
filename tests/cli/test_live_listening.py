"""``biosig replay`` says at start which addresses it listens on (issue 16: LSL on loopback, for real).

The multicast responder listens on 127.0.0.1:16571 (``streaming/lsl_api.cfg``);
liblsl's data servers on every interface, which the output says. An LSL test:
it runs inside the loopback-only namespace (``bash tests/netns.sh``).
"""

from __future__ import annotations

import re

from typer.testing import CliRunner

from biosig.cli import app
from tests.live.netns_check import require_loopback_namespace


def test_replay_prints_the_addresses_it_listens_on() -> None:
    require_loopback_namespace()
    result = CliRunner().invoke(app, ["replay", "synthetic:S01", "--duration", "2", "--prefix", "biosig-listening"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "127.0.0.1:16571" in text, result.output
    assert re.search(r"all interfaces", text), result.output
    replaying, listening = text.index("replaying"), text.index("127.0.0.1:16571")
    assert replaying < listening < text.index("done:")
