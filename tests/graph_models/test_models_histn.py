"""HiSTN: parameter counts from the field notes, a direct Keras-order reference, layers, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from biosig.errors import ConfigError, DataError
from graphs.models import HiSTN, ModelConfig, build_model, count_parameters
from graphs.models.layers import ChebyshevFilter, FrozenAttention, RegionAttention, max_norm_, scaled_laplacian
from graphs.regions import RegionHierarchy, emotiv14_histn

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def toy_hierarchy() -> RegionHierarchy:
    """7 channels: a 3-chain, a lone channel (no edge) and a triangle; regions in a chain."""
    return RegionHierarchy(
        name="toy7",
        regions=(("A", ("a1", "a2", "a3")), ("B", ("b1",)), ("C", ("c1", "c2", "c3"))),
        intra_edges=(("a1", "a2"), ("a2", "a3"), ("c1", "c2"), ("c2", "c3"), ("c1", "c3")),
        region_edges=(("A", "B"), ("B", "C")),
    )


def numpy_chebyshev(adjacency: np.ndarray) -> list[np.ndarray]:
    """``T_0..T_3(L~)`` from scratch: L = D - A, L~ = 2L/lambda_max - I (lambda_max by np.linalg.eigvals)."""
    n = len(adjacency)
    lap = np.diag(adjacency.sum(axis=1)) - adjacency
    lam = np.max(np.abs(np.linalg.eigvals(lap)))
    lt = 2 * lap / lam - np.eye(n) if lam > 0 else -np.eye(n)
    return [np.eye(n), lt, 2 * lt @ lt - np.eye(n), 4 * lt @ lt @ lt - 3 * lt]


def torch_filter(adjacency: np.ndarray, weights: torch.Tensor) -> torch.Tensor:
    """``sum_k w_k T_k(L~)``, differentiable in the weights."""
    polys = numpy_chebyshev(adjacency)
    return sum(w * torch.tensor(p, dtype=torch.float32) for w, p in zip(weights, polys, strict=False))


def reference_forward(model: HiSTN, x: torch.Tensor) -> torch.Tensor:
    """HiSTN in the authors' Keras order: (batch, time, channel) tensors, a loop per region,
    the 8-filter conv and the merge as separate steps, region and global levels time-resolved."""
    cfg = model.config
    hier = cfg.hierarchy
    n_ch = len(hier.channels)
    k = cfg.temporal_kernel
    conv = F.conv2d(F.pad(x[:, None], ((k - 1) // 2, k - 1 - (k - 1) // 2)), model.temporal_kernels[:, None, None, :])
    y = F.elu(model.merge_bn(torch.einsum("bfct,cf->bct", conv, model.merge)))
    y = F.elu(model.temporal_bn(F.conv1d(y, model.temporal_depthwise[:, None], groups=n_ch)))
    head = F.avg_pool1d(y, cfg.pool).transpose(1, 2)
    slices, start = [], 0
    for _, chans in hier.regions:
        slices.append(slice(start, start + len(chans)))
        start += len(chans)
    parts, offset = [], 0
    for i, ((region, _), sl) in enumerate(zip(hier.regions, slices, strict=True)):
        hops = cfg.hops_per_region[i]
        p = torch_filter(hier.intra_adjacency(region), model.node_mp.weight[offset : offset + hops + 1])
        offset += hops + 1
        xr = (head[..., sl] @ p).transpose(1, 2)
        kn = cfg.node_kernel
        dw = F.conv1d(F.pad(xr, ((kn - 1) // 2, kn - 1 - (kn - 1) // 2)), model.node_depthwise[sl, None], groups=sl.stop - sl.start)
        parts.append(dw.transpose(1, 2) @ model.node_pointwise[i])
    agg = F.elu(model.node_bn(torch.cat(parts, -1).transpose(1, 2)).transpose(1, 2))
    x_out = head + agg

    def fusion(att, z):
        pooled = z.mean(1)
        outs = []
        for i, sl in enumerate(slices):
            w = torch.softmax(pooled[:, sl] @ att.kernels[i] + att.bias[sl], dim=1)
            outs.append(z[..., sl] @ w[..., None])
        return torch.cat(outs, -1)

    def collapse(att, z):
        w = torch.softmax(z.mean(1) @ att.kernels[0] + att.bias, dim=1)
        return z @ w[..., None]

    x_r = fusion(model.region_attention_head, head)
    p_r = torch_filter(hier.region_adjacency(), model.region_mp.weight)
    x_r_latter = fusion(model.region_attention_node, agg)
    x_r_out = x_r @ p_r + x_r_latter
    x_g_out = collapse(model.global_attention_head, x_r) + collapse(model.global_attention_node, x_r_latter)
    fused = torch.cat([x_out, x_r_out, x_g_out], -1)
    return model.classifier(fused.mean(1))


def randomise_batch_norms(model: HiSTN, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for bn in (model.merge_bn, model.temporal_bn, model.node_bn):
        n = bn.num_features
        bn.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
        bn.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
        with torch.no_grad():
            bn.weight.copy_(torch.rand(n, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(n, generator=gen) * 0.2)


def test_trainable_parameters_match_the_published_1181() -> None:
    counts = count_parameters(build_model("histn", n_outputs=5))
    print(f"HiSTN 14 ch / 5 classes: {counts.trainable} trainable, {counts.total} incl. BN running statistics")
    assert counts.trainable == 1181
    assert counts.statistics == 84
    assert counts.total == 1265


def test_per_block_counts_match_the_field_notes_table() -> None:
    model = build_model("histn")
    blocks: dict[str, int] = {}
    for name, p in model.named_parameters():
        key = name.split(".")[0]
        blocks[key] = blocks.get(key, 0) + p.numel()
    assert blocks["temporal_kernels"] == 64 * 8
    assert blocks["merge"] == 8 * 14
    assert blocks["merge_bn"] == blocks["temporal_bn"] == blocks["node_bn"] == 2 * 14
    assert blocks["temporal_depthwise"] == 5 * 14
    assert blocks["node_mp"] == 4 * 3
    assert blocks["node_depthwise"] + blocks["node_pointwise"] == 36 + 24 + 24 + 36
    assert blocks["region_attention_head"] == blocks["region_attention_node"] == 16 + 4 + 9 + 3 + 9 + 3 + 16 + 4
    assert blocks["region_mp"] == 3
    assert blocks["global_attention_head"] == blocks["global_attention_node"] == 4 * 4 + 4
    assert blocks["classifier"] == 19 * 5 + 5


@pytest.mark.parametrize(("output", "n_outputs"), [("classes", 5), ("classes", 2), ("regression", 1), ("regression", 2)])
def test_output_shapes_for_every_head(output: str, n_outputs: int) -> None:
    model = build_model("histn", output=output, n_outputs=n_outputs)
    assert model(model.example_input(6)).shape == (6, n_outputs)
    assert model.temporal_head(model.example_input(6)).shape == (14, 6, 62)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_fused_model_equals_direct_keras_order_reference(mode: str) -> None:
    model = build_model("histn", dropout=0.0, seed=3)
    randomise_batch_norms(model, seed=4)
    model.train(mode == "train")
    x = model.example_input(16, seed=5)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference_forward(model, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_fused_gradients_equal_the_reference_gradients(mode: str) -> None:
    model = build_model("histn", dropout=0.0, seed=6)
    randomise_batch_norms(model, seed=7)
    model.train(mode == "train")
    x = model.example_input(8, seed=8)
    target = torch.arange(8) % 5
    grads = []
    for forward in (model, lambda inp: reference_forward(model, inp)):
        model.zero_grad()
        F.cross_entropy(forward(x), target).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grad, grads[1][name], rtol=1e-3, atol=1e-6, msg=name)


def test_other_hierarchy_and_window_length() -> None:
    hier = toy_hierarchy()
    model = build_model("histn", hierarchy=hier, n_times=256, node_hops=(2, 1, 3), region_hops=1, dropout=0.0, n_outputs=3)
    x = model.example_input(8, seed=1)
    assert model(x).shape == (8, 3)
    assert model.n_pooled == (256 - 4) // 2
    sizes = [3, 1, 3]
    expected = (
        64 * 8 + 7 * 8 + 2 * 7 + 5 * 7 + 2 * 7
        + (3 + 2 + 4)
        + sum(5 * n + n * n for n in sizes) + 2 * 7
        + 2 * sum(n * n + n for n in sizes)
        + 2
        + 2 * (3 * 3 + 3)
        + (7 + 3 + 1) * 3 + 3
    )  # fmt: skip
    assert count_parameters(model).trainable == expected
    randomise_batch_norms(model, seed=2)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference_forward(model, x), rtol=1e-4, atol=1e-5)


def test_chebyshev_filter_equals_numpy_polynomial() -> None:
    adj = emotiv14_histn().intra_adjacency("FL")
    cheb = ChebyshevFilter([adj], [2])
    w = np.array([0.7, -1.3, 0.4])
    with torch.no_grad():
        cheb.weight.copy_(torch.tensor(w))
    x = np.random.default_rng(0).normal(size=(10, 4))
    lap = np.diag(adj.sum(1)) - adj
    lt = 2 * lap / np.max(np.linalg.eigvals(lap).real) - np.eye(4)
    expected = x @ (w[0] * np.eye(4) + w[1] * lt + w[2] * (2 * lt @ lt - np.eye(4)))
    assert np.abs(lt).max() > 0.1  # a non-trivial filter: FL is not a complete graph
    out = cheb(torch.tensor(x.T, dtype=torch.float32)).T
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_scaled_laplacian_spectrum_and_edgeless_graph() -> None:
    adj = emotiv14_histn().region_adjacency()
    eig = np.linalg.eigvalsh(scaled_laplacian(adj))
    assert eig.max() == pytest.approx(1.0) and eig.min() >= -1.0 - 1e-12
    np.testing.assert_array_equal(scaled_laplacian(np.zeros((1, 1))), -np.eye(1))


def test_region_attention_weights_are_a_softmax_per_region() -> None:
    sizes = (4, 3, 3, 4)
    att = RegionAttention(sizes)
    with torch.no_grad():
        for kernel in att.kernels:
            kernel.normal_(0, 50.0)  # large logits: the per-region softmax must stay finite
        att.bias.normal_()
    pooled = torch.randn(14, 32)
    w = att.weights(pooled)
    assert torch.isfinite(w).all() and (w >= 0).all()
    sums = torch.stack([part.sum(0) for part in w.split(sizes)])
    torch.testing.assert_close(sums, torch.ones(4, 32))
    first = torch.softmax(pooled[:4].T @ att.kernels[0] + att.bias[:4], dim=1).T
    torch.testing.assert_close(w[:4], first)


def test_frozen_attention_equals_each_layer_on_its_part() -> None:
    torch.manual_seed(0)
    layers = [RegionAttention((4, 3, 3, 4)), RegionAttention((2, 5)), RegionAttention((4, 3, 3, 4))]
    with torch.no_grad():
        for layer in layers:
            layer.bias.normal_()
    parts = [torch.randn(14, 6), torch.randn(7, 6), torch.randn(14, 6)]
    with torch.no_grad():
        expected = torch.cat([layer(part) for layer, part in zip(layers, parts, strict=True)])
        frozen = FrozenAttention(layers)(torch.cat(parts))
        # By hand for the second layer's first group: softmax of the dense layer's 2 outputs, weighted sum.
        w = torch.softmax(parts[1][:2].T @ layers[1].kernels[0] + layers[1].bias[:2], dim=1)
        by_hand = (w * parts[1][:2].T).sum(dim=1)
    assert frozen.shape == (4 + 2 + 4, 6)
    torch.testing.assert_close(frozen, expected)
    torch.testing.assert_close(frozen[4], by_hand)


def test_max_norm_caps_norms_and_keeps_small_weights() -> None:
    w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    max_norm_(w, 1.0, (1,))
    torch.testing.assert_close(w.norm(dim=1), torch.tensor([1.0, 0.5]), atol=1e-6, rtol=0)
    torch.testing.assert_close(w[1], torch.tensor([0.3, 0.4]))
    v = torch.tensor([[-2.0, 0.5], [1.5, -0.1]])
    max_norm_(v, 1.0, ())
    torch.testing.assert_close(v, torch.tensor([[-1.0, 0.5], [1.0, -0.1]]), atol=1e-6, rtol=0)


def test_apply_constraints_renormalises_histn_kernels() -> None:
    model = build_model("histn")
    with torch.no_grad():
        for p in (model.merge, model.temporal_depthwise, *model.node_pointwise):
            p.mul_(10.0)
    model.apply_constraints()
    assert model.temporal_depthwise.norm(dim=1).max() <= 1.0 + 1e-6
    assert model.merge.abs().max() <= 1.0 + 1e-6
    assert max(p.abs().max() for p in model.node_pointwise) <= 1.0 + 1e-6
    assert model.temporal_depthwise.norm(dim=1).min() > 0.99  # scaled down to the cap, not zeroed


def test_same_seed_same_weights_and_outputs_without_touching_global_rng() -> None:
    state = torch.get_rng_state()
    a, b, c = build_model("histn", seed=7), build_model("histn", seed=7), build_model("histn", seed=8)
    assert torch.equal(torch.get_rng_state(), state)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.temporal_kernels, c.temporal_kernels)
    x = a.example_input(4)
    a.eval(), b.eval()
    assert torch.equal(a(x), b(x))


def test_state_dict_round_trip_with_weights_only_load(tmp_path) -> None:
    model = build_model("histn", seed=1)
    randomise_batch_norms(model, seed=0)
    torch.save(model.state_dict(), tmp_path / "histn.pt")
    restored = build_model("histn", seed=2)
    restored.load_state_dict(torch.load(tmp_path / "histn.pt", weights_only=True))
    model.eval(), restored.eval()
    x = model.example_input(5)
    assert torch.equal(model(x), restored(x))


def test_a_few_adam_steps_fit_a_separable_problem() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 64
    y = torch.arange(n) % 2
    t = torch.arange(128) / 128.0
    freq = torch.where(y == 1, 20.0, 4.0)[:, None, None]
    x = torch.sin(2 * torch.pi * freq * t) + 0.5 * torch.randn(n, 14, 128, generator=gen)
    model = build_model("histn", n_outputs=2, dropout=0.0, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.apply_constraints()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_bad_input_and_bad_hyper_parameters_are_named() -> None:
    model = build_model("histn")
    with pytest.raises(DataError, match=r"channel=14, time=128.*\(2, 13, 128\)"):
        model(torch.zeros(2, 13, 128))
    with pytest.raises(ConfigError, match="node_hops has 2 values for 4 regions"):
        build_model("histn", node_hops=(2, 2))
    with pytest.raises(ConfigError, match="n_times=5 is too short"):
        build_model("histn", n_times=5)
    with pytest.raises(ConfigError, match="HiSTN needs a HiSTNConfig"):
        HiSTN(ModelConfig())  # type: ignore[arg-type]


def _autograd_path(model: HiSTN, *inputs: torch.Tensor) -> torch.Tensor:
    """The model's output computed with gradients on, i.e. through the training-time layers, not the frozen weights."""
    with torch.enable_grad():
        return model(*inputs).detach()


@pytest.mark.parametrize("n_batch", [1, 3, 16])
@pytest.mark.parametrize(
    "hparams",
    [
        {},
        # Odd and even kernels (asymmetric 'same' padding), pooling by 3, a window long enough for the grouped conv.
        {"n_times": 300, "temporal_kernel": 33, "node_kernel": 4, "pool": 3, "depthwise_kernel": 6, "node_hops": (2, 1, 3)},
    ],
    ids=["emotiv14", "toy"],
)
def test_eval_without_gradients_runs_on_frozen_weights_with_the_same_outputs(hparams: dict, n_batch: int) -> None:
    if hparams:
        hparams = {**hparams, "hierarchy": toy_hierarchy()}
    model = build_model("histn", dropout=0.0, seed=11, **hparams)
    randomise_batch_norms(model, seed=12)
    model.eval()
    x = model.example_input(n_batch, seed=13)
    with torch.no_grad():
        frozen = model(x)
    # Small batches go through the frozen weights, large ones through the layers.
    assert (model._frozen is not None) == (n_batch < HiSTN.FROZEN_MAX_BATCH)
    torch.testing.assert_close(frozen, _autograd_path(model, x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(frozen, reference_forward(model, x), rtol=1e-4, atol=1e-5)
    with torch.inference_mode():
        torch.testing.assert_close(model(x), frozen, rtol=0, atol=0)


def test_frozen_weights_with_peripheral_nodes_keep_the_missing_node_rule() -> None:
    model = build_model("histn", dropout=0.0, seed=14, peripheral={"ecg": 4, "eda": 3})
    randomise_batch_norms(model, seed=15)
    with torch.no_grad():
        model.peripheral_fusion.norm.running_mean.normal_(0.0, 0.5)
        for layer in model.peripheral_fusion.embed:
            layer.bias.normal_(0.0, 0.5)
    model.eval()
    x = model.example_input(4, seed=16)[0]
    features = torch.randn(4, 7, generator=torch.Generator().manual_seed(17))
    features[1] = float("nan")  # no peripheral data: the EEG-only output
    features[2, 4:] = float("nan")  # EDA node missing
    with torch.no_grad():
        frozen = model(x, features)
    torch.testing.assert_close(frozen, _autograd_path(model, x, features), rtol=1e-5, atol=1e-5)
    eeg_only = build_model("histn", dropout=0.0, seed=14)
    eeg_only.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("peripheral")})
    eeg_only.eval()
    with torch.no_grad():
        torch.testing.assert_close(frozen[1], eeg_only(x)[1], rtol=1e-5, atol=1e-6)


def test_frozen_weights_are_rebuilt_whenever_the_weights_change() -> None:
    model = build_model("histn", dropout=0.0, seed=18)
    x = model.example_input(2, seed=19)
    model.eval()

    def check() -> torch.Tensor:
        with torch.no_grad():
            out = model(x)
        torch.testing.assert_close(out, _autograd_path(model, x), rtol=1e-5, atol=1e-5)
        return out

    first = check()
    weights = model.frozen_weights()
    assert model.frozen_weights() is weights  # nothing changed: reused, not rebuilt
    # An optimiser step and the BatchNorm statistics of a training forward pass.
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(model.example_input(8, seed=20)), torch.arange(8) % 5).backward()
    optimiser.step()
    model.apply_constraints()
    with pytest.raises(RuntimeError, match="model.eval"):
        model.frozen_weights()
    model.eval()
    second = check()
    assert model.frozen_weights() is not weights
    assert not torch.allclose(first, second)
    # load_state_dict, an in-place edit in eval mode, a replaced layer.
    model.load_state_dict(build_model("histn", seed=21).state_dict())
    third = check()
    assert not torch.allclose(second, third)
    with torch.no_grad():
        model.region_attention_node.kernels[2].mul_(-2.0)
    fourth = check()
    assert not torch.allclose(third, fourth)
    model.classifier = torch.nn.Linear(model.classifier.in_features, 5)
    assert not torch.allclose(fourth, check())
