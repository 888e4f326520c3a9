"""HiSTN hierarchies named in configs: names, montage mappings, the explicit form, JSON round trips, errors."""

import json

import pytest
import torch

from biosig.config import load_config
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError, DataError
from graphs.models import HiSTNConfig, build_model
from graphs.positions import DEAP32
from graphs.regions import (
    RegionHierarchy,
    deap32_hierarchy,
    emotiv14_histn,
    hierarchy_for,
    hierarchy_from_positions,
    parse_hierarchy,
    seed62_hierarchy,
)
from graphs.training.experiment import load_model, model_inputs
from graphs.training.trainer import save_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOY = RegionHierarchy(
    name="toy7",
    regions=(("A", ("a1", "a2", "a3")), ("B", ("b1",)), ("C", ("c1", "c2", "c3"))),
    intra_edges=(("a1", "a2"), ("a2", "a3"), ("c1", "c2"), ("c2", "c3"), ("c1", "c3")),
    region_edges=(("A", "B"), ("B", "C")),
)
TOY_MAPPING = {
    "name": "toy7",
    "regions": {"A": ["a1", "a2", "a3"], "B": ["b1"], "C": ["c1", "c2", "c3"]},
    "intra_edges": [["a1", "a2"], ["a2", "a3"], ["c1", "c2"], ["c2", "c3"], ["c1", "c3"]],
    "region_edges": [["A", "B"], ["B", "C"]],
}
BIOSEMI12 = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "T7", "T8"]


def test_names_resolve_to_the_built_in_hierarchies():
    assert HiSTNConfig(hierarchy="deap32").hierarchy == deap32_hierarchy()
    assert HiSTNConfig(hierarchy="emotiv14_histn").hierarchy == emotiv14_histn() == HiSTNConfig().hierarchy
    assert HiSTNConfig(hierarchy="SEED62").hierarchy == seed62_hierarchy()
    assert HiSTNConfig(hierarchy="dreamer").hierarchy == emotiv14_histn()
    assert HiSTNConfig(hierarchy="biosemi32").hierarchy == hierarchy_for("biosemi32")
    model = build_model("histn", hierarchy="deap32", n_outputs=2)
    assert model.channels == deap32_hierarchy().channels and sorted(model.channels) == sorted(DEAP32)
    assert model(model.example_input(3)).shape == (3, 2)


def test_montage_and_explicit_mappings():
    assert parse_hierarchy({"montage": "biosemi32"}) == hierarchy_for("biosemi32")
    assert parse_hierarchy({"montage": "biosemi32", "channels": BIOSEMI12}) == hierarchy_for(BIOSEMI12, montage="biosemi32")
    clustered = parse_hierarchy({"montage": "biosemi32", "channels": BIOSEMI12, "n_regions": 3})
    assert clustered == hierarchy_from_positions(BIOSEMI12, n_regions=3, montage="biosemi32")
    assert len(clustered.regions) == 3
    assert parse_hierarchy(TOY_MAPPING) == TOY
    pairs = dict(TOY_MAPPING, regions=[[r, chs] for r, chs in TOY_MAPPING["regions"].items()])
    assert parse_hierarchy(pairs) == TOY
    bare = parse_hierarchy({"regions": {"L": ["F3", "C3"], "R": ["F4", "C4"]}})
    assert bare.name == "custom" and bare.intra_edges == () and bare.channels == ("F3", "C3", "F4", "C4")
    assert parse_hierarchy(TOY) is TOY


@pytest.mark.parametrize(
    "value",
    ["deap32", "emotiv14_histn", {"montage": "biosemi32", "channels": BIOSEMI12, "n_regions": 3}, TOY_MAPPING],
    ids=["deap32", "emotiv14", "montage", "explicit"],
)
def test_json_dump_validates_back_to_the_same_hierarchy(value):
    cfg = HiSTNConfig(hierarchy=value, n_outputs=3)
    dumped = json.loads(json.dumps(cfg.model_dump(mode="json")))
    again = HiSTNConfig.model_validate(dumped)
    assert again == cfg and again.hierarchy == cfg.hierarchy and again.hierarchy.channels == cfg.hierarchy.channels


def test_checkpoint_of_a_named_hierarchy_rebuilds_the_same_model(tmp_path):
    model = build_model("histn", seed=4, hierarchy={"montage": "biosemi32", "channels": BIOSEMI12, "n_regions": 3}, n_outputs=2)
    path = save_checkpoint(tmp_path / "m.pt", model, {"model": "histn", "model_config": model.config.model_dump(mode="json")})
    loaded, _ = load_model(path)
    assert loaded.config == model.config
    model.eval()
    x = model.example_input(4)
    torch.testing.assert_close(loaded(x), model(x))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("deap33", r"hierarchy: .*'deap33' is unknown; known names: emotiv14_histn, dreamer, .*deap32.*biosemi32"),
        (42, "hierarchy: .*must be a name .* or a mapping, not int"),
        ({"montage": "biosemi32", "regions": {}}, r"unknown keys \['regions'\]; a mapping is either \{montage, channels, n_regions\}"),
        ({"name": "x"}, "a mapping needs 'montage' or 'regions'"),
        ({"montage": "biosemi99"}, "montage 'biosemi99' is unknown"),
        ({"montage": "biosemi32", "n_regions": "four"}, "hierarchy.n_regions must be an integer"),
        ({"regions": {"A": "a1"}}, "hierarchy.regions.A must be a list of names"),
        ({"regions": {"A": ["a1", "a2"]}, "intra_edges": [["a1", "a2", "a3"]]}, r"hierarchy.intra_edges\[0\] must be a pair"),
        ({"regions": {"A": ["a1", "a2"]}, "intra_edges": [["a1", "b9"]]}, "edge a1-b9 names unknown channel 'b9'"),
        ({"regions": {"A": ["a1"], "B": ["a1"]}}, "channel 'a1' is in regions 'A' and 'B'"),
    ],
    ids=["name", "type", "mixed", "empty", "montage", "n_regions", "channels", "edge", "unknown-channel", "twice"],
)
def test_bad_hierarchies_are_config_errors_naming_the_field(value, message):
    with pytest.raises(ConfigError, match=message):
        build_model("histn", hierarchy=value)


def test_yaml_train_config_builds_a_32_channel_histn(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(
        "source: {synthetic: {n_subjects: 1, n_trials: 2, stimulus_seconds: 8, baseline_seconds: 12}, via_files: false}\n"
        "models:\n"
        "  - name: histn\n"
        "    hparams: {hierarchy: deap32, n_times: 128}\n"
        "    windows: {record_seconds: 8}\n"
    )
    cfg = load_config(config)
    spec = cfg.models[0]
    model = build_model(spec.name, **spec.hparams)
    assert len(model.channels) == 32 and model.config.hierarchy == deap32_hierarchy()
    # The synthetic cohort is Emotiv-14: a DEAP-32 model's inputs cannot be cut from it.
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=2, stimulus_seconds=8, baseline_seconds=12))
    with pytest.raises(DataError, match=r"EEG channels \[.*'FP1'.*\] are missing"):
        model_inputs([session], [spec])
