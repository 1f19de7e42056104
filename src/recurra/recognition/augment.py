"""SpecAugment's masks drawn afresh for every batch while a recogniser trains (Park et al., 2019).

In training mode ``SpecAugment`` sets, in each sequence of ``x`` ``(B, T, F)``, ``time_masks`` runs of
``w ~ U{0, ..., min(time_width, n / 4)}`` frames (``n``: the sequence's real frames) and ``freq_masks``
runs of ``w ~ U{0, ..., freq_width}`` features to 0 — the mean of standardized features. In eval mode it
returns ``x`` unchanged. The draws use torch's generator, so a seeded run repeats.
"""

from __future__ import annotations

import torch
from torch import nn


class SpecAugment(nn.Module):
    """Time and frequency masks on ``(B, T, F)`` features in training mode (see the module docstring)."""

    def __init__(self, time_masks: int = 2, time_width: int = 10, freq_masks: int = 2, freq_width: int = 6) -> None:
        super().__init__()
        self.time_masks, self.time_width = int(time_masks), int(time_width)
        self.freq_masks, self.freq_width = int(freq_masks), int(freq_width)

    @staticmethod
    def _runs(count: int, width: torch.Tensor, size: torch.Tensor, span: int) -> torch.Tensor:
        """``(B, span)``: True inside ``count`` runs per row of widths ``U{0..width}`` starting inside ``size``."""
        B = width.shape[0]
        positions = torch.arange(span).unsqueeze(0)  # (1, span)
        hit = torch.zeros(B, span, dtype=torch.bool)
        for _ in range(count):
            w = (torch.rand(B) * (width + 1).float()).long()  # (B,)
            start = (torch.rand(B) * (size - w + 1).clamp(min=1).float()).long()  # (B,)
            hit |= (positions >= start.unsqueeze(1)) & (positions < (start + w).unsqueeze(1))
        return hit

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        B, T, F = x.shape
        lengths = mask.sum(1)  # (B,)
        times = self._runs(self.time_masks, torch.minimum(torch.full_like(lengths, self.time_width), lengths // 4), lengths, T)
        freqs = self._runs(self.freq_masks, torch.full((B,), min(self.freq_width, F)), torch.full((B,), F), F)
        keep = ~(times.unsqueeze(2) | freqs.unsqueeze(1))  # (B, T, F)
        return x * keep.to(x.dtype)
