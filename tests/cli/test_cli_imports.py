"""What the ``biosig`` command line imports before a command runs (its start-up time).

``biosig --help`` and every ``biosig <command> --help`` run through the real
entry point (:func:`biosig.cli.main`) in a fresh interpreter, which then lists
its ``sys.modules``: nothing of the scientific stack, pydantic, the
configuration or the other layers may be there. Importing :mod:`biosig.cli`
alone imports typer but not rich (rich loads to render help or when a command
prints). No timing is asserted: ``benchmarks/bench_cli_startup.py`` measures it.
"""

import json
import subprocess
import sys

from tests.helpers import REPO_ROOT

#: Top-level packages that only a running command may import.
HEAVY = (
    "numpy", "scipy", "pandas", "xarray", "zarr", "dask", "pyarrow", "sklearn", "mne", "mne_bids", "neurokit2",
    "torch", "torch_geometric", "pydantic", "pydantic_core", "pylsl", "yaml", "graphs", "streaming",
    "rich",  # help is plain text (biosig.cli: rich_markup_mode=None); commands print with rich when they run
)  # fmt: skip


_HELP_OF_EVERY_COMMAND = """
import json, sys
import typer
from biosig.cli import app, main
commands = sorted(typer.main.get_command(app).commands)
codes = {}
for args in (["--help"], *([name, "--help"] for name in commands)):
    sys.argv = ["biosig", *args]
    try:
        main()
    except SystemExit as exc:
        codes[" ".join(args)] = exc.code
print(json.dumps({"commands": commands, "codes": codes, "modules": sorted(sys.modules)}))
"""


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; return the JSON its last line prints."""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_help_of_every_command_imports_nothing_heavy():
    found = _run(_HELP_OF_EVERY_COMMAND)
    assert {"run", "preprocess", "train", "distill", "stream", "sys-info"} <= set(found["commands"])
    assert set(found["codes"].values()) == {0}, found["codes"]
    heavy = sorted(m for m in found["modules"] if m.split(".")[0] in HEAVY)
    assert heavy == []
    # Of biosig itself only the package, the CLI and the command modules (no config, io, features...).
    biosig = [m for m in found["modules"] if m.split(".")[0] == "biosig"]
    assert [m for m in biosig if m not in ("biosig", "biosig.cli") and not m.startswith("biosig.commands")] == []


def test_importing_the_cli_imports_typer_but_not_rich():
    found = _run("import json, sys; import biosig.cli; print(json.dumps({'modules': sorted(sys.modules)}))")
    tops = {m.split(".")[0] for m in found["modules"]}
    assert "typer" in tops
    assert "rich" not in tops
    assert not tops & set(HEAVY)
