"""Bad config input is refused at load (or before the step it would break) with a message naming the key.

Window floors and the windows-per-trial bound, ``hop > length``, ICA
components, alias bombs and unbounded synthetic sizes (issue 16).
"""

import time

import mne
import numpy as np
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import IcaConfig, TrainWindowConfig, WindowConfig, load_config
from biosig.config.data import MAX_WINDOWS_PER_TRIAL
from biosig.errors import ConfigError
from biosig.preprocess.eeg import fit_blink_ica
from tests.helpers import EMOTIV, REPO_ROOT

SMALL = "source: {synthetic: {n_subjects: 2, n_trials: 2, baseline_seconds: 10, stimulus_seconds: 10}, via_files: false}\n"


def _write(tmp_path, text: str):
    path = tmp_path / "run.yaml"
    path.write_text(SMALL + text, encoding="utf-8")
    return path


def _refused(tmp_path, text: str, *needles: str) -> str:
    """Load ``text`` (plus a small source), expect a ConfigError containing every needle; return its message."""
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    for needle in needles:
        assert needle in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("windows: {length: 1.0e-9, hop: 1.0e-9}\n", "windows.length"),
        ("windows: {length: 1.0, hop: 1.0e-9}\n", "windows.hop"),
        ("models: [{name: eegnet, windows: {length: 1.0e-9, hop: 1.0e-9, record_seconds: 5}}]\n", "models.0.windows.length"),
        ("models: [{name: eegnet, windows: {length: 1.0, hop: 1.0e-9, record_seconds: 5}}]\n", "models.0.windows.hop"),
    ],
)
def test_windows_below_the_physical_floor_are_refused(tmp_path, text, key):
    _refused(tmp_path, text, key, "greater than or equal to")


def test_too_many_windows_per_trial_are_refused(tmp_path):
    # 1 s windows every 1 ms over a 10 s stimulus: 9001 windows, within the bound; over 600 s: far beyond it.
    load_config(_write(tmp_path, "windows: {length: 1.0, hop: 0.001}\npreprocess: {baseline: {mode: none}}\n"))
    text = "windows: {length: 1.0, hop: 0.001}\n"
    big = SMALL.replace("stimulus_seconds: 10", "stimulus_seconds: 600")
    (tmp_path / "big.yaml").write_text(big + text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"windows: .*599001 windows over the stimulus .*more than {MAX_WINDOWS_PER_TRIAL}"):
        load_config(tmp_path / "big.yaml")
    with pytest.raises(ValueError, match="windows over the 600.0 s record"):
        TrainWindowConfig(length=1.0, hop=0.001, record_seconds=600.0)


def test_hop_longer_than_length_is_refused_in_both_window_sections(tmp_path):
    _refused(tmp_path, "windows: {length: 1.0, hop: 3.0}\n", "windows:", "hop (3.0 s) must not exceed length (1.0 s)")
    _refused(
        tmp_path,
        "models: [{name: eegnet, windows: {length: 1.0, hop: 3.0, record_seconds: 5}}]\n",
        "models.0.windows:", "hop (3.0 s) must not exceed length (1.0 s)",
    )  # fmt: skip
    assert WindowConfig(length=1.0, hop=1.0).hop == 1.0  # hop == length (no overlap) is fine


@pytest.mark.parametrize("value", [0, 1, -3, 0.0, 1.0, 1.5, -0.2])
def test_ica_components_out_of_range_are_refused_at_load(tmp_path, value):
    _refused(tmp_path, f"preprocess: {{ica: {{enabled: true, n_components: {value}}}}}\n", "preprocess.ica.n_components")


@pytest.mark.parametrize("value", [2, 10, 0.5, 0.999, None])
def test_ica_components_in_range_are_accepted(value):
    assert IcaConfig(n_components=value).n_components == value


def _eeg(n_channels: int, bads: tuple[str, ...] = ()) -> mne.io.RawArray:
    rng = np.random.default_rng(0)
    info = mne.create_info(list(EMOTIV[:n_channels]), 128.0, "eeg")
    info["bads"] = list(bads)
    return mne.io.RawArray(rng.standard_normal((n_channels, 128 * 20)) * 1e-5, info, verbose="error")


def test_ica_components_above_the_good_channels_are_refused_at_run_time():
    raw = _eeg(10, bads=("F7",))  # AF3 .. T8 (AF3 is the EOG proxy); one channel bad: 9 good
    with pytest.raises(ConfigError, match=r"preprocess\.ica\.n_components \(1000\) exceeds the 9 good EEG channels"):
        fit_blink_ica(raw, IcaConfig(enabled=True, n_components=1000), "S01")
    with pytest.raises(ConfigError, match=r"\(10\) exceeds the 9 good EEG channels"):
        fit_blink_ica(raw, IcaConfig(enabled=True, n_components=10), "S01")


def _bomb(levels: int = 9) -> str:
    lines = ["      l0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"      l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "models:\n  - name: eegnet\n    hparams:\n" + "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_fast(tmp_path):
    t0 = time.perf_counter()
    _refused(tmp_path, _bomb(), "run.yaml", "aliases expand to more than")
    assert time.perf_counter() - t0 < 1.0


def test_a_recursive_yaml_alias_is_refused(tmp_path):
    _refused(tmp_path, "models:\n  - &m {name: eegnet, hparams: {self: *m}}\n", "run.yaml", "recursive")


def test_shipped_configs_with_aliases_still_load():
    for name in ("train_default_cohort.yaml", "train_histn_peripheral.yaml", "train_with_artefacts.yaml"):
        cfg = load_config(REPO_ROOT / "configs" / name)
        windows = {m.input_windows for m in cfg.deep_models}
        assert len(windows) == 1  # the aliased windows are the same for every model


@pytest.mark.parametrize(
    ("key", "value"),
    [("n_subjects", 10**9), ("n_trials", 10**9), ("stimulus_seconds", 1e9), ("eeg_sfreq", 1e9)],
)
def test_huge_synthetic_sizes_fail_fast_with_their_bound(tmp_path, key, value):
    t0 = time.perf_counter()
    text = f"source: {{synthetic: {{{key}: {value}}}, via_files: false}}\n"
    (tmp_path / "huge.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"synthetic\.{key} = .* is above its bound"):
        load_config(tmp_path / "huge.yaml")
    assert time.perf_counter() - t0 < 1.0


def test_a_subject_too_large_in_total_is_refused(tmp_path):
    text = SMALL.replace("n_trials: 2,", "n_trials: 1000,").replace("stimulus_seconds: 10", "stimulus_seconds: 3600")
    (tmp_path / "big.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="one synthetic subject would hold"):
        load_config(tmp_path / "big.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "windows: {length: 1.0e-9, hop: 1.0e-9}\n",
        "windows: {length: 1.0, hop: 3.0}\n",
        "preprocess: {ica: {enabled: true, n_components: 1.5}}\n",
        "source: {synthetic: {n_subjects: 1000000000}}\n",
        _bomb(),
    ],
)
def test_the_cli_exits_2_with_the_message(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text if text.startswith("source") else SMALL + text, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "run.yaml" in result.output
