"""Baselines (EEGNet, DGCNN, TopomapCNN, DE logistic regression), the registry and ``predict``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from biosig.errors import ConfigError, DataError
from graphs.models import MODELS, build_model, parameter_table, predict

BASELINES = ["eegnet", "dgcnn", "topomap_cnn", "logreg_de"]
HEADS = [("classes", 5), ("classes", 2), ("regression", 1), ("regression", 3)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_registry_holds_every_model_and_the_table_counts_them() -> None:
    assert set(MODELS) == {"histn", "hierarchical_gnn", *BASELINES}
    table = {row.name: row for row in parameter_table(n_outputs=5)}
    assert table["histn"].trainable == 1181
    # EEGNet-8,2, 14 ch x 128 samples: conv 64x8, BN 2x8, depthwise 14x16, BN 2x16,
    # separable 16x16 + 16x16, BN 2x16, dense (16 maps x 4 steps) x 5 + 5.
    assert table["eegnet"].trainable == 512 + 16 + 224 + 32 + 256 + 256 + 32 + 64 * 5 + 5
    # DGCNN (TorchEEG): BN 2x5, A 14x14, 2 supports x 5x32, fc 448x64+64, 64x5+5.
    assert table["dgcnn"].trainable == 10 + 196 + 320 + 448 * 64 + 64 + 325
    assert table["logreg_de"].trainable == 70 * 5 + 5
    assert table["logreg_de"].statistics == 2 * 70


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize(("output", "n_outputs"), HEADS)
def test_output_shapes(name: str, output: str, n_outputs: int) -> None:
    model = build_model(name, output=output, n_outputs=n_outputs)
    assert model(model.example_input(4)).shape == (4, n_outputs)


def test_input_layouts() -> None:
    assert build_model("eegnet").input_shape == (14, 128)
    assert build_model("dgcnn").input_shape == (14, 5)
    assert build_model("logreg_de", n_channels=62).input_shape == (62, 5)
    assert build_model("topomap_cnn").input_shape == (5, 32, 32)
    with pytest.raises(DataError, match=r"channel=14, band=5.*\(3, 5, 14\)"):
        build_model("dgcnn")(torch.zeros(3, 5, 14))


def test_topomap_embedding_before_the_head() -> None:
    model = build_model("topomap_cnn", widths=(8, 16, 24), n_outputs=2).eval()
    x = model.example_input(6)
    z = model.embed(x)
    assert z.shape == (6, model.embed_dim) == (6, 24)
    torch.testing.assert_close(model.embed(x, normalize=True).norm(dim=1), torch.ones(6))
    torch.testing.assert_close(model(x), model.head(z))


def test_dgcnn_equals_torcheeg_formulation() -> None:
    model = build_model("dgcnn", n_supports=3, seed=2).eval()
    x = model.example_input(7)
    # TorchEEG's DGCNN.forward written out: relu(A), D^-1/2 A D^-1/2, supports I, A^, A^ A^,
    # one matmul pair per support, summed, ReLU, fc1 + ReLU, fc2.
    xb = model.bn(x.transpose(1, 2)).transpose(1, 2)
    a = F.relu(model.adjacency)
    d = torch.diag_embed(1 / torch.sqrt(a.sum(1) + 1e-10))
    lap = d @ a @ d
    supports = [torch.eye(14), lap, lap @ lap]
    result = sum((s @ xb) @ w for s, w in zip(supports, model.graph_weights, strict=True))
    expected = model.fc2(F.relu(model.fc1(F.relu(result).reshape(7, -1))))
    torch.testing.assert_close(model(x), expected)


def test_logreg_is_an_affine_map_of_standardised_features_in_eval() -> None:
    model = build_model("logreg_de", n_outputs=2, seed=0)
    x = model.example_input(200) * 3 + 1
    model.train()
    for _ in range(200):
        model(x)  # running statistics converge to the batch's (momentum 0.1)
    model.eval()
    mean, var = x.flatten(1).mean(0), x.flatten(1).var(0)
    z = (x.flatten(1) - mean) / torch.sqrt(var + model.scaler.eps)
    torch.testing.assert_close(model(x), z @ model.linear.weight.T + model.linear.bias, rtol=1e-3, atol=1e-3)


def test_eegnet_max_norm_constraints() -> None:
    model = build_model("eegnet")
    with torch.no_grad():
        model.spatial.weight.mul_(20.0)
        model.classifier.weight.mul_(20.0)
    model.apply_constraints()
    assert model.spatial.weight.flatten(1).norm(dim=1).max() <= 1.0 + 1e-6
    assert model.classifier.weight.norm(dim=1).max() <= 0.25 + 1e-6
    assert model.classifier.weight.norm(dim=1).min() > 0.24


SMALL = {"topomap_cnn": {"image_size": 16, "widths": (8, 16), "dropout": 0.0}, "eegnet": {"dropout": 0.0}}


def _separable_inputs(name: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes that differ in a class-dependent mean pattern (features) or rhythm (raw)."""
    gen = torch.Generator().manual_seed(1)
    y = torch.arange(n) % 2
    shape = build_model(name, **SMALL.get(name, {})).input_shape
    if name == "eegnet":
        t = torch.arange(shape[1]) / 128.0
        signal = torch.sin(2 * torch.pi * torch.where(y == 1, 20.0, 4.0)[:, None, None] * t)
        return signal + 0.5 * torch.randn(n, *shape, generator=gen), y
    pattern = torch.randn(shape, generator=gen)
    sign = (2 * y - 1).float().reshape(n, *([1] * len(shape)))
    return sign * pattern + torch.randn(n, *shape, generator=gen), y


@pytest.mark.parametrize("name", BASELINES)
def test_a_few_adam_steps_fit_a_separable_problem(name: str) -> None:
    x, y = _separable_inputs(name, 32)
    model = build_model(name, n_outputs=2, seed=0, **SMALL.get(name, {}))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.apply_constraints()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("name", BASELINES)
def test_seed_determinism_and_weights_only_round_trip(name: str, tmp_path) -> None:
    a, b, c = build_model(name, seed=5), build_model(name, seed=5), build_model(name, seed=6)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    x = a.example_input(8)
    a.train()
    a(x)  # move the running statistics away from their initial values
    torch.save(a.state_dict(), tmp_path / "model.pt")
    c.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    a.eval(), c.eval()
    assert torch.equal(a(x), c(x))


def test_predict_expected_rating_by_hand() -> None:
    model = build_model("logreg_de", n_outputs=5, standardize=False)
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.bias.copy_(torch.log(torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0])))
    model.train()
    pred = predict(model, np.zeros((3, 14, 5)), scale=[1, 2, 3, 4, 5])
    # p = [1, 2, 3, 4, 10] / 20, so E[rating] = (1 + 4 + 9 + 16 + 50) / 20 = 4.0
    np.testing.assert_allclose(pred.probabilities, np.tile([0.05, 0.1, 0.15, 0.2, 0.5], (3, 1)), rtol=1e-6)
    np.testing.assert_allclose(pred.expected, [4.0, 4.0, 4.0], rtol=1e-6)
    np.testing.assert_array_equal(pred.predicted_class, [4, 4, 4])
    assert model.training  # mode restored
    np.testing.assert_allclose(predict(model, np.zeros((1, 14, 5))).expected, [(2 + 6 + 12 + 40) / 20], rtol=1e-6)
    with pytest.raises(ConfigError, match="scale has 3 ratings but the model has 5 classes"):
        predict(model, np.zeros((1, 14, 5)), scale=[1, 2, 3])


def test_predict_regression_and_eval_mode() -> None:
    model = build_model("eegnet", output="regression", n_outputs=1)
    x = model.example_input(5)
    pred = predict(model, x, batch_size=2)
    assert pred.probabilities is None and pred.predicted_class is None
    model.eval()
    with torch.no_grad():
        expected = model(x)[:, 0].double().numpy()
    np.testing.assert_allclose(pred.expected, expected, rtol=1e-5, atol=1e-6)
    two = build_model("dgcnn", output="regression", n_outputs=2)
    assert predict(two, two.example_input(3)).expected.shape == (3, 2)


def test_registry_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'gcn'; registered models: dgcnn, eegnet, hierarchical_gnn, histn"):
        build_model("gcn")
    with pytest.raises(ConfigError, match=r"unknown hyper-parameter 'n_chans'; allowed: n_outputs, output, n_channels"):
        build_model("eegnet", n_chans=14)
    with pytest.raises(ConfigError, match=r"model eegnet: dropout: Input should be less than 1"):
        build_model("eegnet", dropout=1.5)
    with pytest.raises(ConfigError, match="a classifier needs at least 2 classes"):
        build_model("dgcnn", n_outputs=1)
    with pytest.raises(ConfigError, match="output: Input should be 'classes' or 'regression'"):
        build_model("logreg_de", output="ordinal")
