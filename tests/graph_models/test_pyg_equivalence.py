"""The PyG path computes what the dense one does: HiSTN as a HierarchicalGNN, DGCNN on PyG batches."""

from __future__ import annotations

import pytest
import torch

from graphs.models import HierarchicalGNN, build_model, histn_equivalent
from graphs.models.dgcnn_pyg import DGCNNOnPyG
from graphs.pyg import to_pyg

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def trained_like_histn(**hparams: object) -> torch.nn.Module:
    """A HiSTN with non-trivial BatchNorm statistics (a few training-mode passes), in eval mode.

    The classifier is scaled up so that the logits are of order 1 (at
    initialisation they are about 0.01) and a 1e-5 tolerance means something.
    """
    model = build_model("histn", seed=3, **hparams)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.classifier.weight.mul_(100.0)
        for _ in range(3):
            inputs = model.example_input(32, seed=int(torch.randint(0, 99, (1,), generator=gen)))
            model(*inputs) if isinstance(inputs, tuple) else model(inputs)
    return model.eval()


@pytest.mark.parametrize("n_batch", [1, 16])
@pytest.mark.parametrize("grad", [False, True])
def test_histn_configured_gnn_equals_histn(n_batch: int, grad: bool) -> None:
    histn = trained_like_histn()
    gnn = HierarchicalGNN(histn_equivalent(histn.config), seed=9).eval()
    gnn.load_state_dict(histn.state_dict())
    x = torch.randn(n_batch, 14, 128, generator=torch.Generator().manual_seed(n_batch))
    with torch.set_grad_enabled(grad):  # without gradients, HiSTN's small batches take its frozen path
        expected, got = histn(x), gnn(x)
    assert got.shape == (n_batch, 5)
    assert expected.abs().max() > 0.1
    assert (got - expected).abs().max().item() < 1e-5
    # The same windows as a PyG batch carrying the hierarchy's graph.
    batch = to_pyg(x, torch.tensor(histn.config.hierarchy.channel_adjacency()))
    with torch.set_grad_enabled(grad):
        assert (gnn(batch) - expected).abs().max().item() < 1e-5


def test_histn_configured_gnn_equals_histn_with_per_region_orders_and_peripheral_nodes() -> None:
    histn = trained_like_histn(node_hops=(1, 3, 2, 1), peripheral={"ecg": 4, "eda": 3})
    gnn = HierarchicalGNN(histn_equivalent(histn.config)).eval()
    gnn.load_state_dict(histn.state_dict())
    x, p = histn.example_input(16, seed=4)
    p[3, :4] = float("nan")
    with torch.no_grad():
        expected = histn(x, p)
        assert expected.abs().max() > 0.1
        assert (gnn(x, p) - expected).abs().max().item() < 1e-5


def test_histn_configured_gnn_matches_histn_gradients() -> None:
    histn = build_model("histn", seed=5)
    gnn = HierarchicalGNN(histn_equivalent(histn.config))
    gnn.load_state_dict(histn.state_dict())
    x = torch.randn(16, 14, 128, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    histn.eval()(x).square().sum().backward()
    gnn.eval()(x).square().sum().backward()
    for name, p in histn.named_parameters():
        other = gnn.get_parameter(name).grad
        assert other is not None and torch.allclose(p.grad, other, atol=1e-4, rtol=1e-4), name


@pytest.mark.parametrize("n_batch", [1, 16])
@pytest.mark.parametrize("peripheral", [None, {"ecg": 4, "eda": 3}])
def test_dgcnn_on_pyg_equals_dense_dgcnn(n_batch: int, peripheral: dict[str, int] | None) -> None:
    hparams = {"peripheral": peripheral} if peripheral else {}
    dense = build_model("dgcnn", seed=1, n_supports=3, **hparams)
    with torch.no_grad():  # BatchNorm statistics away from identity
        warm = dense.example_input(64, seed=7)
        dense(*warm) if isinstance(warm, tuple) else dense(warm)
    dense.eval()
    inputs = dense.example_input(n_batch, seed=n_batch)
    x, p = inputs if isinstance(inputs, tuple) else (inputs, None)
    on_pyg = DGCNNOnPyG(dense)
    batch = to_pyg(x, torch.ones(14, 14))
    with torch.no_grad():
        diff = (on_pyg(batch, p) - dense(x, p)).abs().max().item()
    assert diff < 1e-5


def test_dgcnn_on_pyg_trains_the_same_parameters() -> None:
    dense = build_model("dgcnn", seed=0)
    x = dense.example_input(8)
    dense(x).sum().backward()
    expected = {n: p.grad.clone() for n, p in dense.named_parameters()}
    dense.zero_grad()
    DGCNNOnPyG(dense)(to_pyg(x, torch.ones(14, 14))).sum().backward()
    for name, p in dense.named_parameters():
        assert torch.allclose(p.grad, expected[name], atol=1e-5), name
