"""The HiSTN authors' EEGNet settings as a named variant of EEGNet-8,2."""

from __future__ import annotations

import torch

from graphs.models import build_model, make_config


def test_histn_authors_variant_settings_and_parameter_count() -> None:
    model = build_model("eegnet", variant="histn_authors")
    cfg = model.config
    assert (cfg.kernel_length, cfg.separable_kernel, cfg.pool1, cfg.pool2, cfg.dropout) == (5, 5, 2, 2, 0.75)
    # By hand, 14 channels x 128 samples, 5 classes: temporal 8x5, BN 2x8, depthwise 16x14, BN 2x16,
    # separable 16x5 + 16x16, BN 2x16, dense (16 maps x 128/2/2 samples) x 5 + 5.
    by_hand = 8 * 5 + 16 + 16 * 14 + 32 + 16 * 5 + 16 * 16 + 32 + 16 * 32 * 5 + 5
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == by_hand == 3245
    assert model.classifier.weight.shape == (5, 16 * 32)
    assert model(torch.zeros(3, 14, 128)).shape == (3, 5)


def test_standard_variant_is_eegnet_8_2_and_explicit_values_override_the_variant() -> None:
    assert make_config("eegnet", variant="standard") == make_config("eegnet")
    assert make_config("eegnet").kernel_length == 64
    cfg = make_config("eegnet", variant="histn_authors", dropout=0.5)
    assert cfg.dropout == 0.5 and cfg.kernel_length == 5
