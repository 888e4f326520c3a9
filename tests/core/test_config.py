import pytest

from tests.helpers import REPO_ROOT
from biosig.config import RunConfig, config_from_dict, load_config
from biosig.errors import ConfigError

ROOT = REPO_ROOT


def test_demo_config_loads_and_matches_defaults_where_silent():
    cfg = load_config(ROOT / "configs" / "demo.yaml")
    assert cfg.source.synthetic.n_subjects == 8
    assert cfg.features.bands["alpha"] == (8.0, 13.0)
    assert cfg.evaluation.protocols == ("within_subject", "loso")
    assert [(m.name, m.hparams) for m in cfg.models] == [("logreg", {"C": 0.1}), ("histn", {}), ("dgcnn", {})]
    assert [m.name for m in RunConfig().models] == ["logreg", "histn", "dgcnn"]
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


def test_every_shipped_config_loads_without_warnings():
    import warnings

    for path in sorted((ROOT / "configs").glob("*.yaml")):
        if path.name == "distill.yaml":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_config(path)


def test_old_keys_name_where_they_moved():
    old = {
        "evaluation": {"C": 0.5, "seed": 1},
        "train": {"models": [{"name": "histn"}], "protocols": ["histn_blocks", "leave_trials_out"], "epochs": 3},
    }
    with pytest.raises(ConfigError) as err:
        config_from_dict(old, origin="old.yaml")
    msg = str(err.value)
    assert msg.startswith("old.yaml: keys of the former layout")
    assert "train.models moved to models" in msg
    assert "train.protocols moved to evaluation.protocols (leave_trials_out is now within_subject)" in msg
    assert "evaluation.C moved to models" in msg and "evaluation.seed moved to evaluation.seeds" in msg
    assert "train.epochs" not in msg  # still a train key


def test_old_protocol_names_are_aliases_with_a_warning():
    with pytest.warns(FutureWarning, match="'subject_dependent_kfold' is deprecated; it is now 'within_subject'"):
        cfg = config_from_dict({"evaluation": {"protocols": ["subject_dependent_kfold", "loso"]}})
    assert cfg.evaluation.protocols == ("within_subject", "loso")
    with pytest.warns(FutureWarning, match="'leave_trials_out' is deprecated; it is now 'within_subject'"):
        cfg = config_from_dict({"evaluation": {"protocols": ["leave_trials_out"]}})
    assert cfg.evaluation.protocols == ("within_subject",)
    with pytest.raises(ConfigError, match="evaluation.protocols"), pytest.warns(FutureWarning):
        config_from_dict({"evaluation": {"protocols": ["leave_trials_out", "within_subject"]}})


def test_models_are_checked():
    cfg = config_from_dict({"models": [{"name": "logreg", "hparams": {"C": 1.0}}, {"name": "histn", "windows": {"length": 2}}]})
    assert [m.name for m in cfg.feature_models] == ["logreg"] and [m.name for m in cfg.deep_models] == ["histn"]
    assert cfg.deep_models[0].input_windows.length == 2.0 and cfg.evaluation.seeds == (0,)
    with pytest.raises(ConfigError, match="logreg takes only the hyper-parameter C"):
        config_from_dict({"models": [{"name": "logreg", "hparams": {"penalty": "l1"}}]})
    with pytest.raises(ConfigError, match="runs on the feature windows"):
        config_from_dict({"models": [{"name": "logreg", "windows": {"length": 1}}]})
    with pytest.raises(ConfigError, match=r"models lists \['histn'\] twice"):
        config_from_dict({"models": [{"name": "histn"}, {"name": "histn"}]})
    with pytest.raises(ConfigError, match="n_outputs follows the task"):
        config_from_dict({"models": [{"name": "histn", "hparams": {"n_outputs": 3}}]})
