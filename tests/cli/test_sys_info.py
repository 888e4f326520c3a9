"""``biosig sys-info``: versions of Python, the package and its key dependencies, and the GPU line."""

from typer.testing import CliRunner

import biosig
from biosig.cli import app
from biosig.commands import sys_info

#: Labels the report must carry (the key dependencies of the core install).
KEY = ("Python", "biosig-affect", "numpy", "scipy", "mne", "mne-bids", "neurokit2", "torch", "torch-geometric",
       "pylsl", "liblsl", "scikit-learn", "pandas", "xarray", "zarr", "pydantic", "GPU")


def _report() -> dict[str, str]:
    result = CliRunner().invoke(app, ["sys-info"])
    assert result.exit_code == 0, result.output
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in result.output.splitlines()}


def test_lists_python_the_package_and_its_key_dependencies():
    report = _report()
    assert set(KEY) <= set(report)
    assert report["biosig-affect"] == biosig.__version__
    assert report["numpy"] == sys_info.distribution_version("numpy") != "not installed"
    assert report["GPU"].split(" ", 1)[0] in {"yes", "no"}


def test_gpu_line_says_yes_with_the_device_name(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Test GPU 80GB")
    assert _report()["GPU"].startswith("yes (Test GPU 80GB")


def test_gpu_line_says_no_on_a_cpu_build(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert _report()["GPU"] == f"no (torch {torch.__version__} is a CPU build)"


def test_missing_packages_are_named_with_their_extra(monkeypatch):
    real = sys_info.distribution_version
    monkeypatch.setattr(sys_info, "distribution_version", lambda name: None if name == "distributed" else real(name))
    assert _report()["distributed"] == "not installed (extra 'dask')"
