"""``TaggerNetwork``: the ``nn.Module`` behind ``SequenceTagger``, one score per tag at every step.

ids ``(B, T)`` (0 = padding) -> embedding ``(B, T, E)`` -> masked recurrent layers (bidirectional by
default) ``(B, T, H)`` or ``(B, T, 2H)`` -> ``Dense(K)``: emission scores ``(B, T, K)``. Without a CRF the
tags are independent given the scores: ``p(y_t = k) = softmax(e_t)[k]``, trained by token cross-entropy
over the real steps and read by argmax. With a CRF (``recurra.layers.CRF``) the scores are its emissions,
trained by the CRF's negative log-likelihood and read by Viterbi.

Targets are tag ids ``(B, T)`` with ``-1`` on padded steps; both losses average over real tokens:

    cross-entropy: L = -(1 / N) sum_{b, t real} log softmax(e_{b,t})[y_{b,t}]
    CRF:           L = -(1 / N) sum_b log p(y_b | e_b)            (N: the real tokens of the batch)
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import CRF, Dense, Embedding
from .networks import recurrent_stack

PAD_TAG = -1  # the target on padded steps


class TaggerNetwork(nn.Module):
    """Embedding, ``layers`` masked recurrent layers of ``units``, ``Dense(tags)``, and an optional CRF."""

    def __init__(
        self,
        *,
        vocab_size: int,
        tags: int,
        cell: str,
        units: int,
        layers: int,
        bidirectional: bool,
        embedding: int,
        dropout: float,
        crf: bool,
    ):
        super().__init__()
        self.dropout = float(dropout)
        self.embed = Embedding(vocab_size, embedding, mask_zero=True)
        in_dim = embedding
        self.rnns, in_dim = recurrent_stack(cell, units, layers, in_dim, bidirectional, dropout)
        self.out = Dense(tags, input_shape=(in_dim,))
        self.crf = CRF(tags) if crf else None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Emission scores ``(B, T, K)`` for ids ``(B, T)``; zero rows' padding is masked in the layers."""
        ids = ids.long()  # (B, T)
        mask = ids != 0  # (B, T)
        h = nn.functional.dropout(self.embed(ids), self.dropout, self.training)  # (B, T, E)
        for rnn in self.rnns:
            h = rnn(h, mask=mask)[0]  # (B, T, H) or (B, T, 2H)
        h = nn.functional.dropout(h, self.dropout, self.training)
        return self.out(h)  # (B, T, K)

    def loss(self, emissions: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The mean loss per real token (module docstring); ``target`` ``(B, T)``, ``-1`` on padding."""
        target = target.long()  # (B, T)
        mask = target != PAD_TAG  # (B, T)
        n = mask.sum().clamp(min=1)
        if self.crf is None:
            return nn.functional.cross_entropy(emissions[mask], target[mask], reduction="sum") / n  # over (N, K)
        return -self.crf.log_likelihood(emissions, target.clamp(min=0), mask).sum() / n

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The tag ids of each row's real steps: Viterbi with a CRF, else the argmax of each step."""
        if self.crf is not None:
            return self.crf.decode(emissions, mask)
        best = emissions.argmax(-1).tolist()  # (B, T)
        return [row[:n] for row, n in zip(best, mask.sum(1).tolist())]


__all__ = ["TaggerNetwork", "PAD_TAG"]
