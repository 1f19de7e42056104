"""``Seq2SeqNetwork``: an encoder reads the source, a decoder writes the target one token at a time.

Symbols: ``x (B, S)`` source ids (0 = padding), ``y (B, T)`` target ids fed to the decoder
(``<start>`` first), ``E`` the embedding size, ``H`` = ``units``, ``L`` = ``layers``::

    encoder:  h̄ = RNN_L(... RNN_1(embed_src(x)) ...)      (B, S, H), masked: padding is skipped
              a bidirectional layer has H/2 units each way and concatenates them
    bridge:   z_l = the encoder layer l's final states, each way's concatenated (B, H)
              ("copy"), or tanh(W_l z_l + b_l) ("dense"), or zeros ("none")
    decoder:  h = RNN'_L(... RNN'_1(embed_tgt(y), z_1) ..., z_L)   (B, T, H)
    readout:  h̃ = attention(h, h̄) (``attention.py``), or h without attention
              logits = W_o h̃ + b_o                          (B, T, V_tgt)
    copying (``copy=True``, a pointer-generator, See et al., 2017; needs attention):
              p_gen = σ(w_g · [h̃; h] + b_g)                 (B, T, 1): write from the vocabulary, or copy
              P(w) = p_gen softmax(logits)[w] + (1 - p_gen) Σ_{s: π(x_s) = w} α[s]
              π maps a source token to the target token of the same text (to <pad> when the target
              vocabulary lacks it: that share is dropped); the output is log P, which the cross-entropy
              reads as logits (log_softmax(log P) = log P)
    a lexicon (``lexicon=k``, Arthur et al., 2016; needs attention): the k most probable translations
              λ(x_s) of each source token with their probabilities p(w | x_s) (IBM Model 1 over the training
              pairs' tokens, ``lexicon.py``), read where the decoder attends, biasing the logits:
              p_lex(w) = Σ_s α[s] p(w | x_s)                 (B, T, V)
              logits ← logits + log(p_lex + ε),  ε = 1e-3

``forward((x, y))`` runs the whole target at once (teacher forcing: the fast recurrent kernels over
``T`` steps); ``encode`` + ``step`` run the decoder one token at a time from its carried states for
greedy, sampled and beam decoding, giving the same numbers as ``forward`` on the same tokens.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import ConfigError
from ...layers import Bidirectional, Dense, Embedding
from ...layers.family import recurrent_layer
from .attention import DecoderAttention

BRIDGES = ("copy", "dense", "none")
LEXICON_EPSILON = 1e-3  # ε of the lexicon's bias: log ε where the lexicon gives a token nothing
NEVER_WRITTEN = torch.tensor([0, 2])  # <pad> and <start> are never an output token
States = list[list[torch.Tensor]]  # per decoder layer, its state tensors (h; c for the LSTM), each (B, H)


class Memory(NamedTuple):
    """What the decoder reads from an encoded source: outputs ``h̄ (B, S, H)``, their attention keys
    ``(B, S, A)`` (None without attention), and the mask of real source steps ``(B, S)``."""

    outputs: torch.Tensor
    keys: torch.Tensor | None
    mask: torch.Tensor
    copy_ids: torch.Tensor | None = None  # (B, S): the target id of each source token, when copying
    lexicon_ids: torch.Tensor | None = None  # (B, S, k): each source token's translations, with a lexicon
    lexicon_probs: torch.Tensor | None = None  # (B, S, k): their probabilities

    def select(self, index: torch.Tensor) -> Memory:
        """The rows ``index`` (beam search repeats and reorders sentences)."""
        return Memory(*(None if v is None else v[index] for v in self))


class Seq2SeqNetwork(nn.Module):
    """Encoder, bridge, decoder and readout (module docstring)."""

    def __init__(
        self,
        source_vocab: int,
        target_vocab: int,
        *,
        cell: str,
        units: int,
        layers: int,
        embedding: int,
        bidirectional_encoder: bool,
        attention: str | None,
        bridge: str,
        dropout: float,
        copy: bool = False,
        lexicon: int = 0,
    ):
        super().__init__()
        if copy and attention is None:
            raise ConfigError("copy=True copies where the decoder attends: it needs attention, got attention=None")
        if lexicon and attention is None:
            raise ConfigError(f"lexicon={lexicon} reads where the decoder attends: it needs attention, got attention=None")
        if bidirectional_encoder and units % 2:
            raise ConfigError(f"a bidirectional encoder splits units in two directions: expected even units, got {units}")
        if bridge not in BRIDGES:
            raise ConfigError(f"expected bridge in {', '.join(BRIDGES)}, got {bridge!r}")
        self.dropout = float(dropout)
        self.bridge_kind = bridge
        self.source_embed = Embedding(source_vocab, embedding, mask_zero=True)
        self.target_embed = Embedding(target_vocab, embedding)
        encoder = []
        for i in range(layers):
            in_dim = embedding if i == 0 else units
            if bidirectional_encoder:
                encoder.append(Bidirectional(_layer(cell, units // 2, in_dim)))
            else:
                encoder.append(_layer(cell, units, in_dim))
        self.encoder = nn.ModuleList(encoder)
        self.decoder = nn.ModuleList(_layer(cell, units, embedding if i == 0 else units) for i in range(layers))
        self.bridge = (
            nn.ModuleList(Dense(units, activation="tanh", input_shape=(units,)) for _ in range(layers))
            if bridge == "dense"
            else None
        )
        self.attention = DecoderAttention(attention, units) if attention is not None else None
        self.out = Dense(target_vocab, input_shape=(units,))
        self.copy = bool(copy)
        self.gate = Dense(1, input_shape=(2 * units,)) if copy else None  # w_g, b_g
        # π: source id -> target id (0: none), rebuilt from the vocabularies (set_copy_map), not saved
        self.register_buffer("source_to_target", torch.zeros(source_vocab, dtype=torch.long), persistent=False)
        # λ and p(w | x): learned from the training pairs (set_lexicon), saved with the weights
        self.lexicon = int(lexicon)
        if self.lexicon:
            self.register_buffer("lexicon_ids", torch.zeros(source_vocab, self.lexicon, dtype=torch.long))
            self.register_buffer("lexicon_probs", torch.zeros(source_vocab, self.lexicon))

    def set_copy_map(self, source_to_target: torch.Tensor) -> None:
        """π, the target id of each source id (0 where the target vocabulary lacks its text)."""
        self.source_to_target = source_to_target.to(torch.long)

    def set_lexicon(self, ids: torch.Tensor, probs: torch.Tensor) -> None:
        """λ and p(w | x): ``(source vocabulary, k)`` target ids and their probabilities (0 for none)."""
        expected = (self.source_to_target.shape[0], self.lexicon)
        if not self.lexicon or tuple(ids.shape) != expected or tuple(probs.shape) != expected:
            raise ConfigError(f"expected a lexicon of shape {expected}, got {tuple(ids.shape)} and {tuple(probs.shape)}")
        self.lexicon_ids = ids.to(torch.long)
        self.lexicon_probs = probs.to(self.lexicon_probs.dtype)

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.dropout, True) if self.training and self.dropout > 0 else x

    # -- encoder ----------------------------------------------------------------------------------
    def encode(self, source: torch.Tensor) -> tuple[Memory, States]:
        """The memory of ``source (B, S)`` ids and the decoder's initial states."""
        mask = source != 0  # (B, S)
        longest = max(int(mask.sum(1).max()), 1)
        source, mask = source[:, :longest], mask[:, :longest]  # pad only to this batch's longest
        h = self._drop(self.source_embed(source))  # (B, S, E)
        finals: States = []
        for i, layer in enumerate(self.encoder):
            if i:
                h = self._drop(h)
            h, *states = layer(h, mask=mask)  # (B, S, H)
            if isinstance(layer, Bidirectional):
                half = len(states) // 2  # forward states, then backward ones
                states = [torch.cat([f, b], -1) for f, b in zip(states[:half], states[half:])]  # each (B, H)
            finals.append(states)
        keys = self.attention.keys(h) if self.attention is not None else None
        copy_ids = self.source_to_target[source] if self.copy else None  # (B, S)
        if self.lexicon:
            return Memory(h, keys, mask, copy_ids, self.lexicon_ids[source], self.lexicon_probs[source]), self._bridge(finals)
        return Memory(h, keys, mask, copy_ids), self._bridge(finals)

    def _bridge(self, finals: States) -> States:
        if self.bridge_kind == "copy":
            return finals
        if self.bridge_kind == "none":
            return [[torch.zeros_like(s) for s in states] for states in finals]
        return [[dense(s) for s in states] for dense, states in zip(self.bridge, finals)]

    # -- decoder ----------------------------------------------------------------------------------
    def decode(self, target_in: torch.Tensor, states: States, memory: Memory) -> tuple[torch.Tensor, torch.Tensor | None, States]:
        """Logits ``(B, T, V)`` for the decoder inputs ``(B, T)`` from ``states``, the attention weights
        ``(B, T, S)`` (None without attention) and the states after the last step."""
        h = self._drop(self.target_embed(target_in))  # (B, T, E)
        new: States = []
        for i, layer in enumerate(self.decoder):
            if i:
                h = self._drop(h)
            h, *s = layer(h, initial_state=states[i])  # (B, T, H)
            new.append(s)
        alpha = None
        query = h  # (B, T, H)
        if self.attention is not None:
            h, alpha = self.attention(h, memory.outputs, memory.keys, memory.mask)  # (B, T, H), (B, T, S)
        logits = self.out(self._drop(h))  # (B, T, V)
        if self.lexicon:
            logits = logits + self._lexicon_bias(logits, alpha, memory)
        if self.copy:
            logits = self._mix(logits, torch.cat([h, query], -1), alpha, memory.copy_ids)
        return logits, alpha, new

    def _mix(self, logits: torch.Tensor, both: torch.Tensor, alpha: torch.Tensor, copy_ids: torch.Tensor) -> torch.Tensor:
        """log P of the pointer-generator (module docstring), ``(B, T, V)``."""
        p_gen = torch.sigmoid(self.gate(both))  # (B, T, 1)
        B, T, _ = logits.shape
        copied = torch.zeros_like(logits).scatter_add_(-1, copy_ids[:, None, :].expand(B, T, -1), alpha)  # (B, T, V)
        p = p_gen * torch.softmax(logits, -1) + (1 - p_gen) * copied
        return torch.log(p.clamp_min(1e-30))

    @staticmethod
    def _lexicon_bias(logits: torch.Tensor, alpha: torch.Tensor, memory: Memory) -> torch.Tensor:
        """log(p_lex + ε) (module docstring), ``(B, T, V)``."""
        B, T, _ = logits.shape
        S, k = memory.lexicon_ids.shape[1:]
        ids = memory.lexicon_ids.reshape(B, 1, S * k).expand(B, T, S * k)  # (B, T, S k)
        weights = (alpha[..., None] * memory.lexicon_probs[:, None]).reshape(B, T, S * k)  # α[s] p(λ_j(x_s) | x_s)
        p_lex = torch.zeros_like(logits).scatter_add_(-1, ids, weights.to(logits.dtype))  # (B, T, V)
        return torch.log(p_lex + LEXICON_EPSILON)

    def step(self, previous: torch.Tensor, states: States, memory: Memory) -> tuple[torch.Tensor, torch.Tensor | None, States]:
        """One decoding step: log-probabilities ``(B, V)`` of the next token after ``previous (B,)`` (never
        ``<pad>`` or ``<start>``), the attention ``(B, S)`` and the new states."""
        logits, alpha, states = self.decode(previous[:, None], states, memory)
        logits = logits[:, 0].float().index_fill(-1, NEVER_WRITTEN.to(logits.device), float("-inf"))  # (B, V)
        return torch.log_softmax(logits, -1), None if alpha is None else alpha[:, 0], states

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Teacher forcing: logits ``(B, T, V)`` for ``(source (B, S), target_in (B, T))``."""
        source, target_in = batch
        memory, states = self.encode(source)
        return self.decode(target_in, states, memory)[0]


def _layer(cell: str, units: int, in_dim: int):
    return recurrent_layer(cell, units, return_sequences=True, return_state=True, input_shape=(None, in_dim))


def select_states(states: States, index: torch.Tensor) -> States:
    """The rows ``index`` of every state tensor."""
    return [[s[index] for s in layer] for layer in states]
