"""Global attention of a decoder over its encoder's outputs (Luong et al., 2015), with three scores.

Symbols: ``h (B, T, H)`` the decoder's outputs (one query per target step), ``h̄ (B, S, H)`` the
encoder's outputs (one key and value per source step), ``m (B, S)`` True at real source steps::

    additive (Bahdanau):  s[b, t, s'] = Σ_a v[a] tanh((W_q h[b, t])[a] + (W_k h̄[b, s'])[a] + b_k[a])
    dot (Luong):          s[b, t, s'] = h[b, t] · h̄[b, s']
    general (Luong):      s[b, t, s'] = h[b, t] · (W h̄[b, s'])
    α = softmax_{s'}(s - 1e9 · (1 - m))      (B, T, S): where each target step looks
    c[b, t] = Σ_{s'} α[b, t, s'] h̄[b, s']     (B, T, H): the context
    h̃[b, t] = tanh(W_c [c[b, t]; h[b, t]] + b_c)   (B, T, H): what the output layer reads

The scores are recurra's Keras layers: ``AdditiveAttention`` (its ``scale`` is ``v``) over the two
projections ``Dense(A)``, and ``Attention`` (dot) over ``h̄`` or ``W h̄``. The decoder's state is the
query after its step (no input feeding), so a whole target sequence is attended in one batched call
while training, and one step at a time while decoding, with the same numbers.
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import ConfigError
from ...layers import Dense
from ...layers.attention import AdditiveAttention, Attention

ATTENTIONS = ("additive", "dot", "general")


class DecoderAttention(nn.Module):
    """``(h (B, T, H), h̄ (B, S, H), m (B, S)) -> (h̃ (B, T, H), α (B, T, S))`` (module docstring)."""

    def __init__(self, kind: str, units: int):
        super().__init__()
        if kind not in ATTENTIONS:
            raise ConfigError(f"expected attention in {', '.join(ATTENTIONS)} or None, got {kind!r}")
        self.kind = kind
        if kind == "additive":
            self.query = Dense(units, use_bias=False, input_shape=(units,))  # W_q
            self.key = Dense(units, input_shape=(units,))  # W_k, b_k
            self.score = AdditiveAttention(use_scale=True)  # v
            self.score.maybe_build(torch.zeros(1, 1, units))  # v exists before the first call (loading, the optimizer)
        else:
            self.query = None
            self.key = Dense(units, use_bias=False, input_shape=(units,)) if kind == "general" else None  # W
            self.score = Attention(use_scale=False, score_mode="dot")
        self.combine = Dense(units, activation="tanh", input_shape=(2 * units,))  # W_c, b_c

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """The keys of the source steps ``(B, S, A)``: computed once per source and reused at every step."""
        return memory if self.key is None else self.key(memory)

    def forward(
        self, h: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor, source_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = h if self.query is None else self.query(h)  # (B, T, A)
        context, alpha = self.score(
            [q, memory, keys], mask=[None, source_mask], return_attention_scores=True
        )  # (B, T, H), (B, T, S)
        return self.combine(torch.cat([context, h], -1)), alpha  # (B, T, H), (B, T, S)
