from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT
from biosig.config import RunConfig, config_from_dict, load_config
from biosig.errors import ConfigError

ROOT = REPO_ROOT


def test_demo_config_loads_and_matches_defaults_where_silent():
    cfg = load_config(ROOT / "configs" / "demo.yaml")
    assert cfg.source.synthetic.n_subjects == 8
    assert cfg.features.bands["alpha"] == (8.0, 13.0)
    assert cfg.evaluation.protocols == ("subject_dependent_kfold", "loso")
    assert RunConfig().windows.length == cfg.windows.length


def test_unknown_key_names_the_key_and_the_allowed_keys():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"preprocess": {"filter": {"metod": "iir"}}})
    msg = str(err.value)
    assert "preprocess.filter.metod" in msg
    assert "method" in msg and "l_freq" in msg


def test_bad_literal_names_allowed_values():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"preprocess": {"baseline": {"mode": "divide"}}})
    msg = str(err.value)
    assert "preprocess.baseline.mode" in msg
    assert "'zscore'" in msg and "'feature_subtract'" in msg and "'divide'" in msg


def test_inconsistent_values_are_explained():
    with pytest.raises(ConfigError, match=r"l_freq \(40.0 Hz\) must be below h_freq \(30.0 Hz\)"):
        config_from_dict({"preprocess": {"filter": {"l_freq": 40, "h_freq": 30}}})
    with pytest.raises(ConfigError, match="asymmetry_band 'mu' is not one of the bands"):
        config_from_dict({"features": {"asymmetry_band": "mu"}})
    with pytest.raises(ConfigError, match="windows.length"):
        config_from_dict({"windows": {"length": -1}})


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("windows: {length: 4\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy)


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(evil)
