"""Knowledge distillation for a recogniser: beside CTC's loss on the texts, the student learns each frame's
distribution of a teacher (typically a bidirectional model teaching a one-way, streaming one).

With the teacher's per-frame posteriors ``q`` (computed once, on the inputs without SpecAugment) and the
student's ``p``, over the ``N`` real frames of a batch::

    loss = CTC(p, texts) + λ · (1 / N) Σ_{b,u real} Σ_k q_{b,u,k} (log q_{b,u,k} - log p_{b,u,k})

The second term is the Kullback-Leibler divergence ``KL(q ‖ p)`` per frame; ``λ`` is the recogniser's
``distill_weight``. Teacher and student must share the alphabet and the frames after subsampling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..ctc.alphabet import BLANK, Alphabet
from ..errors import ConfigError, NotBuiltError
from .network import _IMPOSSIBLE


class DistillingNetwork(nn.Module):
    """Wraps the student's network for training: its log-probabilities twice, one for each loss."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_probs = self.network(x)  # (B, T', K)
        return log_probs, log_probs


def teacher_targets(
    teacher: Any, X: Sequence[Any], frames: Sequence[int], alphabet: Alphabet, batch_size: int = 64
) -> torch.Tensor:
    """The teacher's log-probabilities of ``X``, ``(N, T', K + 1)``: right-padded with certain blanks, and a last
    channel that is 1 on the real frames. ``frames``: the student's frame count of each input after subsampling."""
    if not getattr(teacher, "fitted", False):
        raise NotBuiltError("the teacher must be a fitted recogniser; call its fit() first")
    if list(teacher.alphabet_.characters) != list(alphabet.characters):
        raise ConfigError(
            f"the teacher's alphabet must be the student's: expected {''.join(alphabet.characters)!r}, "
            f"got {''.join(teacher.alphabet_.characters)!r} (train both on the same texts)"
        )
    K = len(alphabet)  # the blank and the characters
    out = torch.full((len(X), max(frames), K + 1), _IMPOSSIBLE)
    out[..., BLANK] = 0.0
    out[..., K] = 0.0
    for a in range(0, len(X), batch_size):
        for i, lp in enumerate(teacher.log_probabilities(X[a : a + batch_size]), start=a):
            if len(lp) != frames[i]:
                raise ConfigError(
                    f"the teacher must give the student's frames: input {i} has {frames[i]} frames after the student's "
                    f"subsampling, the teacher gives {len(lp)} (use the same subsample and frame settings)"
                )
            out[i, : len(lp), :K] = torch.from_numpy(np.asarray(lp, dtype=np.float32))
            out[i, : len(lp), K] = 1.0
    return out


def frame_kl_loss(weight: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``λ · KL(q ‖ p)`` averaged over the real frames: ``log_probs`` ``(B, T', K)``, ``target`` the teacher's
    ``(B, T'', K + 1)`` from ``teacher_targets`` (``T'' ≥ T'``: the batch may end before the longest input)."""

    def frame_kl(log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target[:, : log_probs.shape[1]]  # (B, T', K + 1)
        q_log, real = target[..., :-1], target[..., -1]  # (B, T', K), (B, T')
        kl = (q_log.exp() * (q_log - log_probs)).sum(-1)  # (B, T')
        return weight * (kl * real).sum() / real.sum().clamp(min=1.0)

    return frame_kl
