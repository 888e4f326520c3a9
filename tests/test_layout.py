"""The house rules of the repository's layout, checked so that they stay true.

* No package module over :data:`MAX_LINES` lines (blank lines and docstrings count):
  a module is read in one sitting.
* The layers run one way (``streaming`` above ``graphs`` above ``biosig``, the CLI
  entry modules exempt): ``lint-imports`` with the contract in ``pyproject.toml``
  passes on the repository and fails on a deliberate upward import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT

MAX_LINES = 400
PACKAGES = ("biosig", "graphs", "streaming")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def long_modules(root: Path, max_lines: int = MAX_LINES) -> dict[str, int]:
    """Python modules under ``root``'s packages with more than ``max_lines`` lines, path -> count."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > max_lines:
                found[str(path.relative_to(root))] = n
    return found


def test_no_package_module_is_over_400_lines():
    assert long_modules(REPO_ROOT) == {}, "split these modules by responsibility"


def test_the_line_count_check_finds_a_long_module(tmp_path):
    (tmp_path / "graphs").mkdir()
    (tmp_path / "graphs" / "short.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "graphs" / "long.py").write_text("x = 1\n" * MAX_LINES + "\n")
    assert long_modules(tmp_path) == {"graphs/long.py": MAX_LINES + 1}


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_layers_contract_holds():
    result = _lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "biosig" / "montage.py").open("a") as f:
        f.write("\nimport graphs.models  # noqa: E402  (the deliberate upward import)\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "biosig is not allowed to import graphs" in result.stdout
    assert "biosig.montage -> graphs.models" in result.stdout


def test_every_package_folder_is_a_regular_package():
    """A folder without ``__init__.py`` is a namespace package, invisible to the layers check."""
    missing = [
        str(folder.relative_to(REPO_ROOT))
        for package in PACKAGES
        for folder in [REPO_ROOT / package, *(REPO_ROOT / package).rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
    ]  # fmt: skip
    assert missing == []
