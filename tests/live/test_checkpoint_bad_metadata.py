"""Damaged checkpoint metadata: ``biosig calibrate`` and ``biosig stream`` name the checkpoint and the key, exit 2.

Before: metadata that is not JSON, a JSON list, ``hparams`` a list or ``sfreq: "fast"`` escaped as a
traceback (JSONDecodeError, AttributeError, TypeError, ValueError) with exit status 1.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import BiosigError
from graphs.models import build_model
from graphs.regions import emotiv14_histn
from streaming.model_io import LiveSpec, live_metadata, load_live_model, save_live_checkpoint

SPEC = LiveSpec(
    emotiv14_histn().channels, 128.0, WindowConfig(length=1.0, hop=0.125), FilterConfig(method="iir", causal=True),
    "average", FeatureConfig(), offset=np.zeros(14), scale=np.full(14, 2e-5),
)  # fmt: skip
#: A short synthetic rest recording for ``biosig calibrate --from``.
REST = "synthetic:S01?" + urlencode(
    {"n_subjects": 1, "n_trials": 1, "stimulus_seconds": 4.0, "baseline_seconds": 8.0, "blinks": False}
)


def _metadata_cases() -> dict[str, tuple[object, str]]:
    """Case -> (metadata text or mapping, the words the message must hold besides the file name)."""
    meta = live_metadata("histn", {"n_outputs": 5}, SPEC, target="valence", scale=[1, 2, 3, 4, 5])
    return {
        "not_json": ("{not json", "metadata is not JSON"),
        "json_list": (json.dumps([1, 2, 3]), "metadata must be a JSON object"),
        "hparams_list": (json.dumps({**meta, "hparams": [1, 2]}), "'hparams' must be a mapping"),
        "sfreq_fast": (json.dumps({**meta, "sfreq": "fast"}), "'sfreq' must be a positive number"),
    }


CASES = _metadata_cases()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """One damaged checkpoint per case, with a HiSTN's valid weights."""
    folder = tmp_path_factory.mktemp("bad-meta")
    model = build_model("histn", n_outputs=5)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for case, (text, _) in CASES.items():
        torch.save({"format": 1, "state_dict": state, "metadata": text}, folder / f"{case}.pt")
    good = save_live_checkpoint(
        folder / "good.pt", model, live_metadata("histn", {"n_outputs": 5}, SPEC, target="valence", scale=[1, 2, 3, 4, 5])
    )
    return folder, good


@pytest.mark.parametrize("case", sorted(CASES))
def test_loading_names_the_checkpoint_and_the_key(checkpoints, case):
    folder, good = checkpoints
    assert load_live_model(good).targets == ("valence",)
    path = folder / f"{case}.pt"
    with pytest.raises(BiosigError) as caught:
        load_live_model(path)
    assert str(path) in str(caught.value) and CASES[case][1] in str(caught.value)


@pytest.mark.parametrize("command", ["stream", "calibrate"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_exits_2_with_a_message_and_no_traceback(checkpoints, tmp_path, case, command):
    folder, _ = checkpoints
    path = folder / f"{case}.pt"
    if command == "stream":
        args = ["stream", "--model", str(path), "--eeg", "name=none", "--resolve-timeout", "0.2"]
    else:
        args = ["calibrate", str(path), "--from", REST, "--seconds", "2", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    flat = " ".join(result.output.split())
    assert path.name in flat and CASES[case][1] in flat, result.output
