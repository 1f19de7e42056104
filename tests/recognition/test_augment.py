"""SpecAugment: masks only in training mode, inside each sequence's real frames, within the stated widths."""

from __future__ import annotations

import torch

from recurra.recognition.augment import SpecAugment


def test_eval_mode_returns_the_input() -> None:
    x = torch.randn(3, 20, 8)
    aug = SpecAugment().eval()
    assert aug(x, torch.ones(3, 20, dtype=torch.bool)) is x


def test_masks_are_runs_of_the_stated_widths_inside_the_real_frames() -> None:
    torch.manual_seed(0)
    x = torch.ones(64, 40, 16)
    mask = torch.arange(40).unsqueeze(0) < torch.randint(8, 41, (64, 1))
    out = SpecAugment(time_masks=1, time_width=5, freq_masks=1, freq_width=3).train()(x, mask)
    zero_frames = (out == 0).all(-1)  # (B, T): whole frames masked
    zero_bands = (out == 0).all(1)  # (B, F): whole bands masked
    assert 0 < zero_frames.sum(1).max() <= 5 and 0 < zero_bands.sum(1).max() <= 3
    lengths = mask.sum(1)
    for b in range(64):
        frames = zero_frames[b].nonzero().flatten()
        if len(frames):
            assert frames.max() < lengths[b] and frames.max() - frames.min() + 1 == len(frames)
            assert len(frames) <= lengths[b] // 4
    assert (out[~(out == 0)] == 1).all()


def test_seeded_draws_repeat() -> None:
    x, mask = torch.randn(4, 30, 10), torch.ones(4, 30, dtype=torch.bool)
    aug = SpecAugment().train()
    torch.manual_seed(3)
    a = aug(x, mask)
    torch.manual_seed(3)
    assert torch.equal(a, aug(x, mask))
