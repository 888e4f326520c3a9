"""The student's losses against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from biosig.errors import ConfigError
from graphs.distill.losses import d_geo, label_smoothed_ce, late_cosine, logit_kd, proto_kd, share_weighted


def test_label_smoothed_ce_by_hand() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    log_p = logits[0] - math.log(sum(math.exp(v) for v in (2.0, 0.0, -1.0)))
    eps = 0.055
    # q = (1 - eps) one-hot + eps / K
    expected = -((1 - eps + eps / 3) * log_p[0] + eps / 3 * log_p[1] + eps / 3 * log_p[2])
    assert float(label_smoothed_ce(logits, torch.tensor([0]), eps)) == pytest.approx(float(expected), rel=1e-6)
    # class weights: term k of sample i is weighted by w_k; the mean divides by the sum of w_{y_i}
    logits2 = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    w = torch.tensor([1.0, 3.0, 1.0])
    lp = torch.log_softmax(logits2, dim=1)
    y = [0, 1]
    num = sum(-(1 - eps) * w[yi] * lp[i, yi] - eps / 3 * (w * lp[i]).sum() for i, yi in enumerate(y))
    assert float(label_smoothed_ce(logits2, torch.tensor(y), eps, w)) == pytest.approx(
        float(num / (w[0] + w[1])), rel=1e-6
    )


def test_logit_kd_is_the_mean_squared_difference_and_ignores_teacher_gradients() -> None:
    s = torch.tensor([[1.0, 2.0], [0.0, -1.0]], requires_grad=True)
    t = torch.tensor([[0.0, 2.0], [2.0, 0.0]], requires_grad=True)
    loss = logit_kd(s, t)
    assert float(loss.detach()) == pytest.approx((1 + 0 + 4 + 1) / 4)
    loss.backward()
    assert t.grad is None
    np.testing.assert_allclose(s.grad.numpy(), 2 * (s - t).detach().numpy() / 4)


def test_proto_kd_by_hand() -> None:
    protos = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    cells = torch.tensor([0])
    # h = (0, 1) for cell 0, T = 1: q = softmax(1, 0), p = softmax(0, 1), KL = q1 - q2 = tanh(1/2)
    far = proto_kd(torch.tensor([[0.0, 3.0]]), cells, protos, tau=0.9, temperature=1.0)
    assert float(far) == pytest.approx(math.tanh(0.5), rel=1e-6)
    # aligned (cosine 1 >= tau): gated out
    near = proto_kd(torch.tensor([[2.0, 0.0]]), cells, protos, tau=0.9, temperature=1.0)
    assert float(near) == 0.0
    both = proto_kd(torch.tensor([[0.0, 3.0], [2.0, 0.0]]), torch.tensor([0, 0]), protos, tau=0.9, temperature=1.0)
    assert float(both) == pytest.approx(math.tanh(0.5) / 2, rel=1e-6)
    # T = 5: KL = (q1 - q2) * 5 with q = softmax(5, 0)
    q1 = 1 / (1 + math.exp(-5))
    t5 = proto_kd(torch.tensor([[0.0, 1.0]]), cells, protos, tau=0.9, temperature=5.0)
    assert float(t5) == pytest.approx((q1 - (1 - q1)) * 5, rel=1e-5)


def test_proto_kd_gradient_turns_the_feature_towards_its_prototype() -> None:
    protos = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), dim=1)
    h = torch.tensor([[0.2, 1.0, 0.3]], requires_grad=True)
    before = float(torch.nn.functional.cosine_similarity(h.detach(), protos[:1]))
    proto_kd(h, torch.tensor([0]), protos, tau=0.9, temperature=5.0).backward()
    with torch.no_grad():
        after = float(torch.nn.functional.cosine_similarity(h - 0.1 * h.grad, protos[:1]))
    assert after > before


def test_d_geo_by_hand() -> None:
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    # two happiness samples at +-30 deg around (1, 0): 60 deg apart, each 1 - cos 30 deg from the centre
    h = torch.tensor([[c, s], [c, -s], [0.0, 1.0], [0.0, -1.0]])
    labels = torch.tensor([1, 1, 3, 3])  # class 3 is not positive: its spread is ignored
    assert float(d_geo(h, labels, [1, 2], hard_gate=0.0)) == pytest.approx(1 - c, rel=1e-6)
    # +-60 deg: distance 0.5 each, minus the gate 0.2
    h60 = torch.tensor([[0.5, math.sqrt(3) / 2], [0.5, -math.sqrt(3) / 2]]) * 4.0  # lengths do not matter
    assert float(d_geo(h60, torch.tensor([2, 2]), [1, 2], hard_gate=0.2)) == pytest.approx(0.3, rel=1e-6)
    assert float(d_geo(h60, torch.tensor([2, 2]), [1, 2], hard_gate=0.6)) == 0.0


def test_d_geo_needs_two_samples_of_a_positive_class_and_keeps_the_graph() -> None:
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    loss = d_geo(h, torch.tensor([1, 3]), [1, 2])
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert h.grad is not None and float(h.grad.abs().sum()) == 0.0


def test_scale_free_d_geo_is_the_configured_share_of_the_loss_by_hand() -> None:
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    # the +-30 deg happiness pair of test_d_geo_by_hand: DGeo = 1 - cos 30 deg = 0.1340
    h = torch.tensor([[c, s], [c, -s], [0.0, 1.0], [0.0, -1.0]], requires_grad=True)
    labels = torch.tensor([1, 1, 3, 3])
    term = d_geo(h, labels, [1, 2], hard_gate=0.0)
    rest = torch.tensor(1.5)  # CE + w_kd KD + w_proto ProtoKD of the batch
    # share 0.25: lambda = 0.25 / 0.75 = 1/3, G = 1.5 / 3 = 0.5, total 2.0, of which G is a quarter
    g = share_weighted(term, rest, 0.25)
    assert float(g.detach()) == pytest.approx(0.5, rel=1e-6)
    assert float(g.detach() / (rest + g.detach())) == pytest.approx(0.25, rel=1e-6)
    # the target does not depend on D-Geo's own size: a 10x smaller spread gives the same share
    assert float(share_weighted(term / 10, rest, 0.25).detach()) == pytest.approx(0.5, rel=1e-6)
    # gradient: lambda * R / DGeo times DGeo's gradient = (0.5 / 0.1340) * grad DGeo
    g.backward()
    expected = torch.autograd.grad(d_geo(h, labels, [1, 2], hard_gate=0.0), h)[0] * 0.5 / (1 - c)
    torch.testing.assert_close(h.grad, expected)


def test_scale_free_d_geo_without_spread_or_share_is_zero() -> None:
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    term = d_geo(h, torch.tensor([1, 3]), [1, 2])  # no positive pair: 0
    g = share_weighted(term, torch.tensor(1.0), 0.02)
    assert float(g.detach()) == 0.0
    g.backward()
    assert float(h.grad.abs().sum()) == 0.0
    assert float(share_weighted(torch.tensor(0.3), torch.tensor(1.0), 0.0)) == 0.0
    with pytest.raises(ConfigError, match="share"):
        share_weighted(torch.tensor(0.3), torch.tensor(1.0), 1.0)


def test_late_cosine_schedule() -> None:
    assert late_cosine(10, 100) == 0.0
    assert late_cosine(20, 100) == 0.0
    assert late_cosine(40, 100) == pytest.approx(0.5)
    assert late_cosine(60, 100) == 1.0 == late_cosine(90, 100)
    # 30 epochs (< 60): both ends scale by 30 / 60 -> ramp 10..20..30
    assert late_cosine(10, 30) == 0.0
    assert late_cosine(20, 30) == pytest.approx(0.5)
    assert late_cosine(29, 30) == pytest.approx(0.5 * (1 - math.cos(math.pi * 19 / 20)))
    with pytest.raises(ConfigError, match="end_epoch"):
        late_cosine(5, 100, start_epoch=60, end_epoch=20)
