"""HierarchicalGNN: every PyG convolution on dense windows and on PyG batches, the graphs, pooling, config."""

from __future__ import annotations

import pytest
import torch

from biosig.errors import ConfigError, DataError
from graphs.models import HierarchicalGNN, build_model, make_config, predict
from graphs.pyg import to_pyg
from graphs.regions import emotiv14_histn

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONVS = ["cheb", "gcn", "gat", "gin", "sage", "cheb_scalar"]


def windows(n_batch: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n_batch, 14, 128, generator=torch.Generator().manual_seed(seed))


def spatial_batch(x: torch.Tensor) -> object:
    """A PyG batch of the windows on the hierarchy's intra-region graph."""
    return to_pyg(x, torch.tensor(emotiv14_histn().channel_adjacency()))


def check_gradients(model: torch.nn.Module) -> None:
    grads = {name: p.grad for name, p in model.named_parameters()}
    missing = [name for name, g in grads.items() if g is None]
    assert not missing, missing
    assert all(torch.isfinite(g).all() for g in grads.values())
    conv_grads = [g for name, g in grads.items() if name.startswith("node_mp.")]
    assert conv_grads and any(g.abs().sum() > 0 for g in conv_grads)


@pytest.mark.parametrize("conv", CONVS)
def test_conv_runs_forward_and_backward_on_dense_windows_and_pyg_batches(conv: str) -> None:
    model = build_model("hierarchical_gnn", conv=conv, n_outputs=3).train()
    x = windows(6)
    out = model(x)
    assert out.shape == (6, 3)
    out.square().sum().backward()
    check_gradients(model)
    model.zero_grad()
    out = model(spatial_batch(x))
    assert out.shape == (6, 3)
    out.square().sum().backward()
    check_gradients(model)


@pytest.mark.parametrize("conv", CONVS)
def test_conv_is_deterministic_with_a_seed(conv: str) -> None:
    x = windows(4, seed=1)
    a = build_model("hierarchical_gnn", conv=conv, seed=7).eval()
    b = build_model("hierarchical_gnn", conv=conv, seed=7).eval()
    c = build_model("hierarchical_gnn", conv=conv, seed=8).eval()
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
        assert not torch.equal(a(x), c(x))


@pytest.mark.parametrize("conv", ["gcn", "cheb"])
def test_dense_input_equals_a_pyg_batch_of_the_same_graph(conv: str) -> None:
    model = build_model("hierarchical_gnn", conv=conv).eval()
    x = windows(5, seed=2)
    with torch.no_grad():
        assert (model(x) - model(spatial_batch(x))).abs().max().item() < 1e-5


@pytest.mark.parametrize("graph", ["spatial", "functional", "learnable"])
@pytest.mark.parametrize("conv", ["gcn", "cheb_scalar"])
def test_graph_kinds(graph: str, conv: str) -> None:
    model = build_model("hierarchical_gnn", conv=conv, graph=graph, within_regions=graph != "spatial")
    out = model(windows(4, seed=3))
    assert out.shape == (4, 5) and torch.isfinite(out).all()
    out.sum().backward()
    if graph == "learnable":
        grad = model.channel_graph.learnable.weight.grad
        assert grad is not None and grad.abs().sum() > 0


def test_functional_graph_differs_per_window() -> None:
    model = build_model("hierarchical_gnn", graph="functional")
    edge_index, weight = model.channel_graph(windows(2, seed=4))
    first = edge_index[0] < 14
    assert not torch.allclose(weight[first], weight[~first])


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_parameter_free_pooling(pooling: str) -> None:
    model = build_model("hierarchical_gnn", pooling=pooling)
    assert model.region_attention_head is None
    x = windows(3, seed=5)
    head_mean = torch.randn(14, 3)
    regions, _ = model.pool_regions(head_mean, head_mean)
    first_region = head_mean[:4]
    expected = first_region.mean(0) if pooling == "mean" else first_region.amax(0)
    assert torch.allclose(regions[0], expected)
    assert model(x).shape == (3, 5)


def test_peripheral_nodes_at_the_global_level() -> None:
    model = build_model("hierarchical_gnn", conv="sage", peripheral={"ecg": 4, "eda": 3}).eval()
    eeg_only = build_model("hierarchical_gnn", conv="sage").eval()
    x, p = model.example_input(4, seed=6)
    p[1] = float("nan")
    result = predict(model, (x, p))
    assert result.probabilities is not None and result.probabilities.shape == (4, 5)
    with torch.no_grad():
        assert torch.allclose(model(x, p)[1], eeg_only(x)[1], atol=1e-6)
    with pytest.raises(DataError, match="peripheral"):
        model(x)


def test_config_validation_names_the_problem() -> None:
    assert make_config("hierarchical_gnn", conv="gat", graph="spatial", pooling="max").conv == "gat"
    with pytest.raises(ConfigError, match="conv"):
        make_config("hierarchical_gnn", conv="transformer")
    with pytest.raises(ConfigError, match="unknown hyper-parameter 'heads'"):
        make_config("hierarchical_gnn", heads=4)
    with pytest.raises(ConfigError, match="cheb_scalar"):
        make_config("hierarchical_gnn", conv="gcn", node_hops=(1, 2, 1, 2))
    with pytest.raises(ConfigError, match="spatial_k"):
        make_config("hierarchical_gnn", graph="spatial", spatial_k=14)


def test_wrong_inputs_raise() -> None:
    model = build_model("hierarchical_gnn")
    with pytest.raises(DataError, match="expects input"):
        model(torch.zeros(2, 13, 128))
    with pytest.raises(DataError, match="14 nodes x 128 features"):
        model(to_pyg(torch.zeros(2, 14, 64), torch.ones(14, 14)))


def test_max_norm_constraints_as_histn() -> None:
    model = build_model("hierarchical_gnn")
    assert isinstance(model, HierarchicalGNN)
    with torch.no_grad():
        model.merge.fill_(3.0)
    model.apply_constraints()
    assert model.merge.abs().max() <= 1.0


def test_a_config_models_list_can_name_it() -> None:
    from biosig.config.evaluation import ModelSpec
    from graphs.training.deep_inputs import check_models, input_kind

    spec = ModelSpec(name="hierarchical_gnn", hparams={"conv": "gin", "pooling": "mean", "hierarchy": "deap32"})
    check_models([spec])
    assert input_kind(spec.name) == "raw"
    model = build_model(spec.name, n_outputs=2, **spec.hparams)
    assert model(torch.randn(2, *model.input_shape)).shape == (2, 2)
    with pytest.raises(ConfigError, match="pooling"):
        make_config(spec.name, pooling="sum")
