"""Import an optional dependency, or say which extra of ``biosig-affect`` installs it.

The core install (``pip install biosig-affect``) runs the main job; a few
features need an extra: ``dask`` (the Dask executor), ``record`` (LabRecorder)
and ``distill`` (ONNX export and ONNX Runtime). Their modules import those
packages lazily, through :func:`require`, so that a missing one is named
together with the command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from biosig.errors import BiosigError


class MissingExtraError(BiosigError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"distributed"``) needed by ``feature``, installed by ``extra``.

    Raises
    ------
    MissingExtraError
        The module cannot be imported; the message says ``pip install 'biosig-affect[<extra>]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs {module.split('.')[0]!r}, which is not installed ({exc}): "
            f"pip install 'biosig-affect[{extra}]'"
        ) from exc
