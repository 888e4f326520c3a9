"""Start-up time of the ``biosig`` command line: ``biosig --help`` and every ``biosig <command> --help``.

Each case runs ``--runs`` times as a fresh subprocess (stdout and stderr
discarded); the table gives the median and best wall time (s), the median CPU
time of the child (user + system, s; less sensitive to other jobs on a shared
machine than wall time) and the ratio of median wall time to the floor.

Floors, side by side: ``python -c pass`` (the interpreter alone), ``import
typer`` (the CLI framework), and ``import typer.rich_utils`` (typer plus the
rich modules it imports to render help: the least any rich-formatted
``--help`` costs). The target is every help under 0.2 s on an idle 2-core
machine; the 1-minute load average is printed before and after the runs
because wall times grow with it.

Run ``python benchmarks/bench_cli_startup.py`` (about a minute with the
default 7 runs) from the repository root, with the virtual environment's
``biosig`` script next to its ``python``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: Every ``biosig`` command, as typed on the command line.
COMMANDS: tuple[str, ...] = (
    "run",
    "preprocess",
    "train",
    "distill",
    "stream",
    "calibrate",
    "replay",
    "record",
    "liveview",
    "sys-info",
)


def time_command(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Run ``argv`` ``runs`` times; return the wall times and the child CPU times (user + system), in s."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with status {result.returncode}")
    return walls, cpus


def main() -> None:
    """Time the floors and every help, print one table with ratios to ``python -c pass``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="subprocess runs per case (default 7)")
    args = parser.parse_args()
    python = sys.executable
    biosig = str(Path(python).with_name("biosig"))
    cases: list[tuple[str, list[str]]] = [
        ("python -c pass (floor)", [python, "-c", "pass"]),
        ("import typer", [python, "-c", "import typer"]),
        ("import typer.rich_utils", [python, "-c", "import typer.rich_utils"]),
        ("import biosig.cli", [python, "-c", "import biosig.cli"]),
        ("biosig --help", [biosig, "--help"]),
        *((f"biosig {name} --help", [biosig, name, "--help"]) for name in COMMANDS),
    ]
    load_before = os.getloadavg()
    print(f"{args.runs} runs per case; load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"{'case':<28}{'median s':>10}{'best s':>9}{'cpu s':>8}{'x floor':>9}")
    floor = None
    for label, argv in cases:
        walls, cpus = time_command(argv, args.runs)
        median = statistics.median(walls)
        floor = floor or median
        print(f"{label:<28}{median:>10.3f}{min(walls):>9.3f}{statistics.median(cpus):>8.3f}{median / floor:>9.1f}")
    load_after = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}; target: every help under 0.2 s idle")


if __name__ == "__main__":
    main()
