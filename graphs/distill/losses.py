"""The student's losses: label-smoothed CE, logit KD, Proto-KD, D-Geo and D-Geo's schedule.

The paper publishes the weights (CE smoothing 0.055, KD 0.30, Proto-KD 0.12
with tau 0.90 and temperature 5, D-Geo 0.012 from epoch 20 to 60, hard gate
0.2, positive classes happiness and surprise; field notes section 2) but not
the formulas. The definitions below are ours; each function's docstring has
the exact formula. With ``R = CE + w_kd * KD + w_proto * ProtoKD`` (the rest
of the loss), the total loss of a batch is

``L = R + G``,

and D-Geo enters as ``G`` in one of two ways (:class:`graphs.distill.config.DGeoConfig`):

* **scale-free** (the default, ``share: r``): ``G = λ · sg(R) · DGeo / sg(DGeo)``
  with ``λ = ρ / (1 - ρ)``, ``ρ = r · s(epoch)`` and ``sg`` stop-gradient
  (:func:`share_weighted`). Its value is ``λ R``, so D-Geo is exactly the
  fraction ``ρ`` of every batch's loss (``r`` at the end of the schedule),
  whatever its own scale; its gradient is ``λ (R / DGeo) ∇DGeo``, the
  gradient of ``log DGeo`` scaled by ``λ R``. A fixed weight could not do
  this: the spread D-Geo penalises shrinks as the weight grows, so the share
  stayed at 0.7-1.2% per run at weight 100 and 300 alike. The hard gate defaults to 0.
* **absolute** (``share: null``): ``G = w_geo · s(epoch) · DGeo``, the
  paper's form (its 0.012 and gate 0.2 leave D-Geo at about 1e-5 of the loss).

Notation: ``n`` samples, ``K`` classes, ``z`` student logits ``(n, K)``,
``h`` the student's projected features ``(n, D)`` (``D`` = teacher embedding
size), ``ĥ = h / ||h||``, ``P`` the unit prototypes ``(C, D)`` (``C = 25``
cells), ``c_i`` the cell of sample *i*'s class (:mod:`.circumplex`) and
``s(epoch)`` D-Geo's schedule (:func:`late_cosine`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from biosig.errors import ConfigError


def label_smoothed_ce(
    logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.055, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy against smoothed one-hot targets.

    ``q_k = (1 - ε) [k = y] + ε / K`` and ``ℓ_i = -Σ_k q_k log softmax(z_i)_k``;
    with class weights ``w``, term *k* of sample *i* is weighted by ``w_k``
    and the batch mean divides by ``Σ_i w_{y_i}`` (PyTorch's
    :func:`torch.nn.functional.cross_entropy` semantics, which this calls).

    Parameters
    ----------
    logits
        ``(n, K)``.
    labels
        ``(n,)`` int64 class indices.
    smoothing
        ``ε``, 0.055 in the paper.
    weight
        ``(K,)`` class weights or None.
    """
    return F.cross_entropy(logits, labels, weight=weight, label_smoothing=smoothing)


def logit_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Logit distillation as a mean squared error (the paper's ``kd_mse``).

    ``KD = (1 / (n K)) Σ_i Σ_k (z_ik - t_ik)^2`` with the teacher logits ``t``
    detached. There is no EEG teacher for faces, so ``t`` comes from a
    mean-teacher: an exponential moving average of the student's own weights
    (:class:`graphs.distill.train.EmaTeacher`), run in eval mode on the same
    augmented batch. The EMA is a smoothed, slowly moving copy of the student,
    so KD damps the epoch-to-epoch jitter of the logits without adding any
    information from the EEG: in the ablation it is the brain-free step, and
    the brain-informed terms (Proto-KD, D-Geo) come after it.
    """
    return F.mse_loss(student_logits, teacher_logits.detach())


def proto_kd(
    projection: torch.Tensor,
    cells: torch.Tensor,
    prototypes: torch.Tensor,
    tau: float = 0.90,
    temperature: float = 5.0,
) -> torch.Tensor:
    """Proto-KD: the student's similarity profile over the grid matches its cell prototype's.

    With ``s_ij = cos(h_i, P_j)`` and ``T`` the temperature,

    * student distribution ``p_i = softmax_j(T s_ij)``;
    * target ``q_i = softmax_j(T cos(P_{c_i}, P_j))``: the similarities of
      the cell's own prototype to every cell, i.e. the teacher's geometry of
      the valence/arousal grid (neighbouring cells count as near misses);
    * gate ``g_i = [s_{i c_i} < τ]`` (no gradient): a sample whose feature is
      already within cosine ``τ`` of its prototype stops being pulled, so the
      term aligns without collapsing every sample of a class onto one point;
    * ``ProtoKD = (1/n) Σ_i g_i KL(q_i || p_i)``.

    ``KL(q_i || p_i)`` is 0 exactly when ``ĥ_i = P_{c_i}`` (then ``p_i = q_i``),
    so the term is a cosine alignment with the prototype that also pushes away
    from cells unlike it. ``T`` scales the cosines, which lie in ``[-1, 1]``:
    dividing them by 5 instead would leave a 25-way softmax almost uniform,
    so "temperature 5" is read as this scale.

    Example (checked in the tests): ``P = [(1, 0), (0, 1)]``, ``T = 1``, a
    sample of cell 0 with ``h = (0, 1)`` gives ``q = softmax(1, 0)``,
    ``p = softmax(0, 1)`` and ``KL = tanh(1/2) ≈ 0.4621``; with ``h = (1, 0)``
    the gate (``τ = 0.9``) is closed and the term is 0.

    Parameters
    ----------
    projection
        ``(n, D)`` projected features (normalised here).
    cells
        ``(n,)`` int64 flat cell index of each sample (row of ``prototypes``).
    prototypes
        ``(C, D)`` unit prototypes (:meth:`graphs.distill.prototypes.PrototypeGrid.unit`).
    tau
        Cosine above which a sample is left alone.
    temperature
        Scale of the cosines in both softmaxes.
    """
    h = F.normalize(projection, dim=1)
    sims = h @ prototypes.T
    own = sims.gather(1, cells[:, None]).squeeze(1)
    gate = (own < tau).to(sims.dtype).detach()
    target = F.softmax(temperature * (prototypes[cells] @ prototypes.T), dim=1)
    log_p = F.log_softmax(temperature * sims, dim=1)
    kl = (target * (torch.log(target.clamp_min(1e-30)) - log_p)).sum(dim=1)
    return (gate * kl).mean()


def d_geo(
    projection: torch.Tensor, labels: torch.Tensor, positive_classes: Sequence[int], hard_gate: float = 0.2
) -> torch.Tensor:
    """D-Geo: contract the within-class spread of high-valence classes (intra-class, hard-gated).

    For each positive class ``c`` (happiness, surprise) with at least two
    samples in the batch, ``μ_c = normalize(mean_{i: y_i = c} ĥ_i)`` and each
    sample's spread is its cosine distance ``d_i = 1 - ĥ_i · μ_c``. Only the
    part beyond the gate counts:

    ``DGeo = (1 / |S|) Σ_{i ∈ S} max(0, d_i - g)``,

    ``S`` the samples of those classes, ``g`` the hard gate (the paper's 0.2; our
    default is 0, :class:`graphs.distill.config.DGeoConfig`); the term is
    0 when ``S`` is empty. Each class contracts around its own centre
    (``intra_class: true``); classes are not pulled towards each other, and
    negative and neutral classes keep their spread: the paper's
    "anhedonia-like contraction in high-valence regions".

    Example (checked in the tests): two happiness samples at ±60° from each
    other's mean have ``d = 1 - cos 60° = 0.5`` and give ``0.5 - 0.2 = 0.3``.

    Parameters
    ----------
    projection
        ``(n, D)`` projected features (normalised here).
    labels
        ``(n,)`` int64 class indices.
    positive_classes
        Class indices whose spread is contracted.
    hard_gate
        Cosine distance a sample may keep from its class centre for free.
    """
    h = F.normalize(projection, dim=1)
    terms = []
    for c in positive_classes:
        members = h[labels == c]
        if len(members) < 2:
            continue
        centre = F.normalize(members.mean(dim=0), dim=0)
        terms.append(F.relu(1.0 - members @ centre - hard_gate))
    if not terms:
        return projection.sum() * 0.0  # keeps the graph, so callers can always call backward
    return torch.cat(terms).mean()


def share_weighted(term: torch.Tensor, rest: torch.Tensor, share: float) -> torch.Tensor:
    """A loss term rescaled to be the fraction ``share`` of the total loss (scale-free D-Geo).

    ``G = λ · sg(R) · T / sg(T)`` with ``λ = share / (1 - share)``, ``T`` the
    term, ``R`` the rest of the loss and ``sg`` stop-gradient. ``G`` has the
    value ``λ R``, so ``G / (R + G) = share`` exactly, and the gradient
    ``λ (R / T) ∇T``: the term's direction, its size set by the share and the
    rest of the loss. When ``T`` is 0 (no positive class with two samples in
    the batch, or no spread left) or ``share`` is 0, ``G`` is 0 with the graph kept.

    Example (checked in the tests): ``R = 1.5``, ``T = 0.2``, ``share = 0.25``
    give ``λ = 1/3``, ``G = 0.5`` and a total of 2.0, of which ``G`` is 25%.

    Parameters
    ----------
    term
        Scalar ``T`` (unweighted D-Geo), with its graph.
    rest
        Scalar ``R``: the batch loss without the term (only its value is used).
    share
        Target fraction ``ρ`` in ``[0, 1)``: the configured share times the schedule factor.
    """
    if not 0.0 <= share < 1.0:
        raise ConfigError(f"D-Geo share must lie in [0, 1), got {share}")
    value = term.detach()
    if share == 0.0 or float(value) <= 0.0:
        return term * 0.0
    return term * (share / (1.0 - share) * rest.detach() / value)


def late_cosine(epoch: float, total_epochs: int, start_epoch: float = 20.0, end_epoch: float = 60.0) -> float:
    """D-Geo's "late cosine" schedule factor in ``[0, 1]`` at a (0-based) epoch.

    ``s(e) = (1 - cos(π u)) / 2`` with ``u = clip((e - start) / (end - start), 0, 1)``:
    0 before ``start``, rising smoothly to 1 at ``end``, 1 after. Runs shorter
    than ``end_epoch`` scale both ends by ``total_epochs / end_epoch`` (30
    epochs: 10 to 30), so the ramp keeps the same place in the run and the
    schedule is continuous in the epoch count; with the paper's 100 epochs
    the ramp is 20 to 60 and the last 40 epochs run at full weight.
    """
    if end_epoch <= start_epoch:
        raise ConfigError(f"D-Geo schedule: end_epoch ({end_epoch}) must exceed start_epoch ({start_epoch})")
    if total_epochs < end_epoch:
        factor = total_epochs / end_epoch
        start_epoch, end_epoch = start_epoch * factor, end_epoch * factor
    u = min(max((epoch - start_epoch) / (end_epoch - start_epoch), 0.0), 1.0)
    return 0.5 * (1.0 - math.cos(math.pi * u))
