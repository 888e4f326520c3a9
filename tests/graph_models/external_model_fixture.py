"""A tiny braindecode-style model outside the zoo, named in test configs as
``tests.graph_models.external_model_fixture:ShallowNet`` (:mod:`graphs.models.external`)."""

from __future__ import annotations

import torch
from torch import nn


class ShallowNet(nn.Module):
    """Temporal conv -> spatial conv -> square -> mean pool -> log -> dense; ``(batch, n_chans, n_times)`` -> ``(batch, n_outputs)``."""

    def __init__(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float, n_filters: int = 4) -> None:
        super().__init__()
        taps = max(1, min(int(sfreq // 8), n_times))
        self.temporal = nn.Conv2d(1, n_filters, (1, taps))
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_chans, 1), bias=False)
        self.bn = nn.BatchNorm2d(n_filters)
        self.classifier = nn.Linear(n_filters, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.spatial(self.temporal(x[:, None])))
        return self.classifier(torch.log(y.square().mean(dim=(2, 3)) + 1e-6))


class WithChannels(ShallowNet):
    """:class:`ShallowNet` that also takes braindecode's ``chs_info`` and keeps the channel names."""

    def __init__(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float, chs_info: list[dict] | None = None) -> None:
        super().__init__(n_chans, n_outputs, n_times, sfreq)
        self.ch_names = [ch["ch_name"] for ch in chs_info or []]


class WrongOutput(ShallowNet):
    """Returns ``(batch, n_outputs, 1)`` rather than ``(batch, n_outputs)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[..., None]


class NoSignalParameters(nn.Module):
    """A module whose constructor lacks the braindecode signal parameters."""

    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.layer = nn.Linear(width, width)


NOT_A_MODULE = 3


class NotAModule:
    """A class that is not a ``torch.nn.Module``."""

    def __init__(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float) -> None:
        self.n_chans = n_chans
