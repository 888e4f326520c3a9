"""``--set dotted.key=value``: parsing, applying onto the file's mapping, and the messages (biosig.config.overrides)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from biosig.config import load_config
from biosig.config.overrides import apply_overrides, mark_override_lines, parse_override, parse_overrides
from biosig.errors import ConfigError
from tests.helpers import REPO_ROOT


@pytest.mark.parametrize(
    ("argument", "path", "value"),
    [
        ("train.epochs=3", ("train", "epochs"), 3),
        ("evaluation.targets=[condition]", ("evaluation", "targets"), ["condition"]),
        ("source.root=/data/x", ("source", "root"), "/data/x"),
        ("report.out_dir=out/", ("report", "out_dir"), "out/"),
        ("models=[{name: logreg}]", ("models",), [{"name": "logreg"}]),
        ("models.0.hparams.C=0.5", ("models", "0", "hparams", "C"), 0.5),
        ("trials.baseline=", ("trials", "baseline"), None),
        ("trials.baseline=null", ("trials", "baseline"), None),
        ("preprocess.ica.enabled=true", ("preprocess", "ica", "enabled"), True),
        ("name=a=b", ("name",), "a=b"),
        (" train.epochs = 4", ("train", "epochs"), 4),
        ("labels.map={'1': rest, '2': arithmetic}", ("labels", "map"), {"1": "rest", "2": "arithmetic"}),
    ],
)
def test_parse_reads_the_key_path_and_a_yaml_value(argument: str, path: tuple[str, ...], value: object) -> None:
    override = parse_override(argument)
    assert override.path == path and override.value == value and override.argument == argument
    assert override.key == ".".join(path)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("train.epochs", "--set 'train.epochs': expected KEY=VALUE"),
        ("=3", "--set '=3': the key before '=' is empty"),
        ("  =3", "the key before '=' is empty"),
        ("a..b=1", "--set 'a..b=1': key 'a..b' has an empty part"),
        (".a=1", "key '.a' has an empty part"),
        ("a.=1", "key 'a.' has an empty part"),
        ("x=[1", "--set 'x=[1': the value is not valid YAML"),
    ],
)
def test_malformed_arguments_are_refused_naming_the_argument(argument: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_override(argument)
    assert message in str(err.value)


def test_apply_sets_nested_keys_creates_sections_and_leaves_the_input_alone() -> None:
    data = {"source": {"kind": "synthetic", "synthetic": {"n_subjects": 8}}, "train": {"epochs": 5}}
    out = apply_overrides(
        data,
        parse_overrides(["source.synthetic.n_subjects=2", "report.out_dir=r", "train.epochs=1", "train.epochs=2"]),
    )
    assert out == {
        "source": {"kind": "synthetic", "synthetic": {"n_subjects": 2}},
        "train": {"epochs": 2},  # the later --set wins
        "report": {"out_dir": "r"},
    }
    assert data == {"source": {"kind": "synthetic", "synthetic": {"n_subjects": 8}}, "train": {"epochs": 5}}


def test_apply_indexes_lists_with_integers() -> None:
    data = {"models": [{"name": "logreg", "hparams": {"C": 0.1}}, {"name": "histn"}]}
    out = apply_overrides(data, parse_overrides(["models.0.hparams.C=1", "models.-1.permutations=0", "models.1.x.y=2"]))
    assert out["models"] == [
        {"name": "logreg", "hparams": {"C": 1}},
        {"name": "histn", "permutations": 0, "x": {"y": 2}},
    ]
    assert data["models"][0]["hparams"]["C"] == 0.1 and "permutations" not in data["models"][1]
    assert apply_overrides(data, parse_overrides(["models.1=dgcnn"]))["models"] == [data["models"][0], "dgcnn"]


def test_a_value_shared_through_a_yaml_alias_changes_only_where_the_key_points() -> None:
    data = yaml.safe_load(
        "models:\n"
        "  - {name: histn, windows: &w {length: 1.0, hop: 1.0}}\n"
        "  - {name: dgcnn, windows: *w}\n"
    )
    assert data["models"][0]["windows"] is data["models"][1]["windows"]
    out = apply_overrides(data, parse_overrides(["models.1.windows.length=2"]))
    assert out["models"][0]["windows"]["length"] == 1.0 and out["models"][1]["windows"]["length"] == 2
    assert data["models"][1]["windows"]["length"] == 1.0


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("models.2.name=x", "--set 'models.2.name=x': models has 2 entries, so there is no entry 2"),
        ("models.first.name=x", "models is a list; index it with an integer (e.g. models.0), not 'first'"),
        ("train.epochs.max=3", "train.epochs holds 5, not a section or list, so it has no key 'max'"),
        (
            "evaluation.targets.0=x",
            "evaluation.targets is not in the file, so it has no entry to index; "
            "set the whole list instead (--set evaluation.targets=[...])",
        ),
    ],
)
def test_paths_that_cannot_be_followed_are_refused_naming_the_argument(argument: str, message: str) -> None:
    data = {"models": [{"name": "logreg"}, {"name": "histn"}], "train": {"epochs": 5}}
    with pytest.raises(ConfigError) as err:
        apply_overrides(data, parse_overrides([argument]))
    assert message in str(err.value)


def test_mark_override_lines_marks_the_lines_about_overridden_keys() -> None:
    message = "f.yaml: invalid configuration\n  source.foo: unknown key\n  windows.hop: bad (got 0)\n  source: bad"
    marked = mark_override_lines(message, parse_overrides(["source.foo=1", "train.epochs=2"]))
    assert marked.split("\n") == [
        "f.yaml: invalid configuration",
        "  source.foo: unknown key (from --set source.foo=1)",
        "  windows.hop: bad (got 0)",
        "  source: bad (from --set source.foo=1)",
    ]


def _demo_copy(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text((REPO_ROOT / "configs" / "demo.yaml").read_text())
    return path


def test_load_config_applies_overrides_before_validation(tmp_path: Path) -> None:
    path = _demo_copy(tmp_path)
    cfg = load_config(
        path,
        [
            "source.synthetic.n_subjects=2",
            f"report.out_dir={tmp_path / 'out'}",
            "evaluation.targets=[arousal]",
            "models.0.hparams.C=1.5",
            "train.epochs=3",
        ],
    )
    assert cfg.source.synthetic.n_subjects == 2 and cfg.report.out_dir == tmp_path / "out"
    assert cfg.evaluation.targets == ("arousal",) and cfg.models[0].hparams == {"C": 1.5}
    assert cfg.train.epochs == 3
    assert load_config(path).source.synthetic.n_subjects == 8  # the file is untouched
    assert load_config(path, ["models=[{name: logreg}]"]).models[0].name == "logreg"
    assert len(load_config(path, ["models=[{name: logreg}]"]).models) == 1


def test_an_unknown_key_from_set_gets_the_files_message_and_says_where_it_came_from(tmp_path: Path) -> None:
    path = _demo_copy(tmp_path)
    in_file = tmp_path / "in_file.yaml"
    in_file.write_text(path.read_text().replace("train:\n", "train:\n  epoch: 3\n"))
    with pytest.raises(ConfigError) as from_file:
        load_config(in_file)
    with pytest.raises(ConfigError) as from_set:
        load_config(path, ["train.epoch=3"])
    file_line = next(line for line in str(from_file.value).splitlines() if "train.epoch:" in line)
    set_line = next(line for line in str(from_set.value).splitlines() if "train.epoch:" in line)
    assert "unknown key; allowed keys here are" in file_line and "epochs" in file_line
    assert set_line == f"{file_line} (from --set train.epoch=3)"
    assert str(from_set.value).startswith(f"{path}: invalid configuration")


def test_set_values_are_validated_as_the_files_are(tmp_path: Path) -> None:
    path = _demo_copy(tmp_path)
    with pytest.raises(ConfigError, match=r"source.synthetic.n_subjects: .* \(from --set source.synthetic.n_subjects=0\)"):
        load_config(path, ["source.synthetic.n_subjects=0"])
    with pytest.raises(ConfigError, match=r"train.models moved to models \(from --set train.models=\[\]\)"):
        load_config(path, ["train.models=[]"])
    with pytest.raises(ConfigError, match="models lists"):
        load_config(path, ["models=[{name: logreg}, {name: logreg}]"])
    with pytest.raises(ConfigError, match="--set 'nokey': expected KEY=VALUE"):
        load_config(path, ["nokey"])


def test_an_error_in_the_file_is_not_marked_as_from_set(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("windows: {length: 4, hopp: 2}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, ["train.epochs=2"])
    assert "windows.hopp: unknown key" in str(err.value) and "--set" not in str(err.value)
