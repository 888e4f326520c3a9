"""The ``--set KEY=VALUE`` option that every command reading a YAML config takes (:mod:`biosig.config.overrides`)."""

from __future__ import annotations

from typing import Any

import typer

SET_HELP = (
    "Override one config value, checked as the file is: --set dotted.key=VALUE, VALUE read as YAML "
    "(source.root=/data/x, train.epochs=3, evaluation.targets=[condition], models.0.hparams.C=1); repeatable."
)


def set_option() -> Any:
    """A fresh ``--set`` typer option (a list of ``KEY=VALUE`` strings, empty by default)."""
    return typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP)
