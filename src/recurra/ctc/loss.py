"""Connectionist Temporal Classification: the output head and the loss, with its inputs checked.

For frames ``t = 1..T`` with per-frame distributions ``y_t`` over the alphabet and the blank (id 0),
and a label sequence ``l`` (no blanks), CTC sums over every alignment ``π`` (a path of ``T`` ids) that
collapses to ``l`` (merge repeated ids, then drop blanks: ``B(π) = l``):

    p(l | x) = Σ_{π : B(π) = l} Π_t y_t[π_t],        loss = -log p(l | x)

torch's ``ctc_loss`` (the forward-backward recursion) computes it. It needs ``T ≥ |l| + r`` frames,
``r`` the number of adjacent repeated labels (each pair needs a blank between); with fewer it returns
``inf`` without a word, so ``ctc_loss`` here refuses such an utterance by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputValueError, ShapeError, format_shape
from .alphabet import BLANK


def frames_needed(labels: Sequence[int]) -> int:
    """The fewest frames CTC can align ``labels`` to: ``|l|`` plus one blank per adjacent repeated pair."""
    return len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)


class CTCHead(nn.Module):
    """Per-frame log-probabilities over the alphabet and the blank: ``log softmax(W h_t + b)``.

    ``h``: ``(B, T, H)`` -> ``(B, T, C)`` with ``C = classes`` (the blank included, at id 0).
    """

    def __init__(self, in_features: int, classes: int) -> None:
        super().__init__()
        if classes < 2:
            raise InputValueError(f"expected at least 2 classes (the blank and one character), got {classes}")
        self.projection = nn.Linear(in_features, classes)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.projection(h), dim=-1)  # (B, T, C)


def _labels_tensor(targets: Sequence[Sequence[int]], classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    flat: list[int] = []
    lengths: list[int] = []
    for i, labels in enumerate(targets):
        labels = [int(v) for v in labels]
        bad = [v for v in labels if not 0 < v < classes]
        if bad:
            raise InputValueError(f"expected label ids in 1..{classes - 1} (0 is the blank), got {bad[:5]} in target {i}")
        flat.extend(labels)
        lengths.append(len(labels))
    return torch.tensor(flat, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)


def ctc_loss(
    log_probs: torch.Tensor,
    input_lengths: Sequence[int] | torch.Tensor,
    targets: Sequence[Sequence[int]],
    reduction: str = "mean",
) -> torch.Tensor:
    """CTC's ``-log p(l | x)`` of each utterance; ``log_probs`` ``(B, T, C)`` with the blank at id 0.

    ``input_lengths``: the frames of each utterance (``≤ T``); ``targets``: one list of label ids per
    utterance. ``reduction``: ``"none"`` (``(B,)``), ``"sum"``, or ``"mean"`` (each loss divided by
    its target's length, then averaged: torch's convention). An utterance with fewer frames than its
    labels need (``frames_needed``) is refused with an ``InputValueError`` naming it.
    """
    if log_probs.dim() != 3:
        raise ShapeError(f"expected log-probabilities of shape (batch, time, classes), got {format_shape(log_probs.shape)}")
    batch, steps, classes = log_probs.shape
    if len(targets) != batch:
        raise InputValueError(f"expected one target per utterance ({batch}), got {len(targets)} targets")
    if reduction not in ("none", "sum", "mean"):
        raise InputValueError(f"expected reduction 'none', 'sum' or 'mean', got {reduction!r}")
    lengths = torch.as_tensor(input_lengths, dtype=torch.long).cpu()
    if lengths.shape != (batch,):
        raise ShapeError(f"expected one input length per utterance, shape ({batch},), got {format_shape(lengths.shape)}")
    if bool((lengths < 1).any()) or bool((lengths > steps).any()):
        raise InputValueError(f"expected input lengths in 1..{steps} (the frames given), got {lengths.tolist()}")
    for i, labels in enumerate(targets):
        needed = frames_needed(list(labels))
        if needed > int(lengths[i]):
            raise InputValueError(
                f"utterance {i} is too short for its transcript under CTC: {len(labels)} labels need at least "
                f"{needed} frames, got {int(lengths[i])} frames"
            )
    flat, target_lengths = _labels_tensor(targets, classes)
    return F.ctc_loss(
        log_probs.transpose(0, 1),  # (T, B, C)
        flat.to(log_probs.device),
        lengths,
        target_lengths,
        blank=BLANK,
        reduction=reduction,
        zero_infinity=False,
    )
