"""The recogniser's network: an optional convolutional front end that subsamples time, stacked recurrent
layers, and CTC's per-frame log-probabilities.

Input ``x`` ``(B, T, F + 1)``: the frames' features, right-padded with zeros, and a last channel that is 1
on real frames. Each subsampling stage is ``ReLU(Conv1d(k=3, stride=2, padding=1))``, so ``T' = ⌈T / 2⌉``
and a sequence of ``n`` real frames keeps ``⌈n / 2⌉``; padded frames are zeroed after every stage, so a
sequence gets the same outputs alone or in a batch. The recurrent layers are masked; at padded frames the
output is forced to the blank with probability 1 (``log p = 0`` for the blank, ``-1e4`` for the rest),
which leaves CTC's loss of every sequence what it is over its real frames alone. With ``spec_augment``
(``SpecAugment``'s settings) the features are masked first, in training mode only.

With ``lookahead`` ``L > 0`` a last front-end stage lets a one-way model read ahead:
``a_u = ReLU(b + Σ_{j=0}^{L} W_j c_{u+j})`` over the subsampled features ``c`` (zero past the end), so the
recurrent layers at step ``u`` have heard ``L`` subsampled frames of the future (``L · subsample · 10`` ms of
speech at 100 frames per second).

With ``head_lookahead`` ``R > 0`` the CTC head reads ahead of the recurrent layers too (the look-ahead
convolution of Deep Speech 2, here over all channels): ``g_u = b + Σ_{j=0}^{R} V_j h_{u+j}`` over the last
layer's outputs ``h`` (zero past the end), then ``log p_u = log_softmax(W g_u + c)``. It starts as the identity
(``V_0 = I``, the other ``V_j`` and ``b`` zero), so training begins from the model without it; the future it adds
has been through the recurrent layers already (``h_{u+R}`` has heard everything up to step ``u + R + L``).

With ``chunk`` ``C > 0`` (and ``bidirectional=False``) every recurrent layer is a ``ChunkedBidirectional``:
forwards over the whole sequence, backwards within chunks of ``C`` steps, so step ``u`` hears the rest of its
chunk too and a stream waits for at most ``C - 1`` steps more.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..ctc.alphabet import BLANK
from ..ctc.loss import CTCHead
from ..text.networks import recurrent_stack
from .augment import SpecAugment
from .chunked import ChunkedBidirectional

_IMPOSSIBLE = -1e4


def subsampled_length(frames: int, subsample: int) -> int:
    """The frames left of ``frames`` after ``subsample`` (1, 2, 4, ...: ``log2`` stages halving each)."""
    while subsample > 1:
        frames = (frames + 1) // 2
        subsample //= 2
    return frames


class RecognizerNetwork(nn.Module):
    """Front end, recurrent layers, ``CTCHead``; ``forward`` gives ``(B, T', classes)`` log-probabilities."""

    def __init__(
        self, *, features: int, classes: int, cell: str, units: int, layers: int, bidirectional: bool, subsample: int,
        conv_channels: int, dropout: float, spec_augment: dict[str, int] | None = None, lookahead: int = 0,
        head_lookahead: int = 0, chunk: int = 0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.augment = SpecAugment(**spec_augment) if spec_augment else None
        stages, width = [], features
        for _ in range(max(subsample, 1).bit_length() - 1):
            stages.append(nn.Conv1d(width, conv_channels, kernel_size=3, stride=2, padding=1))
            width = conv_channels
        self.front = nn.ModuleList(stages)
        self.lookahead = int(lookahead)
        self.ahead = nn.Conv1d(width, conv_channels, kernel_size=lookahead + 1) if lookahead > 0 else None
        width = conv_channels if lookahead > 0 else width
        self.dropout = float(dropout)
        self.chunk = int(chunk)
        self.rnns, width = recurrent_stack(cell, units, layers, width, bidirectional or chunk > 0, dropout)
        if chunk > 0:
            self.rnns = nn.ModuleList(ChunkedBidirectional(pair, chunk) for pair in self.rnns)
        self.head_lookahead = int(head_lookahead)
        self.head_ahead = _identity_lookahead(width, head_lookahead) if head_lookahead > 0 else None
        self.head = CTCHead(width, classes)

    def frames(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The subsampled features ``(B, T', C)`` and their mask ``(B, T')``."""
        h, mask = x[..., :-1], x[..., -1] > 0.5  # (B, T, F), (B, T)
        if self.augment is not None:
            h = self.augment(h, mask)  # masks drawn in training mode only
        for conv in self.front:
            mask = mask[:, ::2]  # (B, ⌈T/2⌉): step t' stands for input step 2t'
            h = F.relu(conv(h.transpose(1, 2))).transpose(1, 2) * mask.unsqueeze(-1).to(h.dtype)  # (B, T', C)
        if self.ahead is not None:
            future = F.pad(h.transpose(1, 2), (0, self.lookahead))  # (B, C, T' + L): zeros past the end
            h = F.relu(self.ahead(future)).transpose(1, 2) * mask.unsqueeze(-1).to(h.dtype)  # (B, T', C)
        return h, mask

    def lengths(self, x: torch.Tensor) -> torch.Tensor:
        """The real frames of each sequence after subsampling, ``(B,)``."""
        return self.frames(x)[1].sum(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, : max(int((x[..., -1] > 0.5).sum(1).max()), 1)]  # (B, T, F + 1): no step past the longest sequence
        h, mask = self.frames(x)
        h = F.dropout(h, self.dropout, self.training)
        for rnn in self.rnns:
            h = rnn(h, mask=mask)[0]  # (B, T', H)
        if self.head_ahead is not None:
            h = self.read_ahead(h * mask.unsqueeze(-1).to(h.dtype), final=True)  # (B, T', H): zeros past each end
        h = F.dropout(h, self.dropout, self.training)
        log_probs = self.head(h)  # (B, T', K)
        blank = torch.full_like(log_probs[:1, :1], _IMPOSSIBLE)
        blank[..., BLANK] = 0.0
        return torch.where(mask.unsqueeze(-1), log_probs, blank)  # padded frames: the blank, surely

    def read_ahead(self, h: torch.Tensor, final: bool) -> torch.Tensor:
        """The head's look-ahead over recurrent outputs ``h`` ``(B, n, H)``: ``(B, n, H)`` when ``final`` (zeros
        past the end), else ``(B, n - R, H)`` (the steps whose ``R`` following outputs are all in ``h``)."""
        if self.head_ahead is None:
            return h
        future = F.pad(h.transpose(1, 2), (0, self.head_lookahead if final else 0))  # (B, H, n + R) or (B, H, n)
        return self.head_ahead(future).transpose(1, 2)


def _identity_lookahead(width: int, lookahead: int) -> nn.Conv1d:
    """``Conv1d(width, width, lookahead + 1)`` that starts as the identity on the current step."""
    conv = nn.Conv1d(width, width, kernel_size=lookahead + 1)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, :, 0] = torch.eye(width)
        conv.bias.zero_()
    return conv


def batch_ctc_loss(log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """CTC's loss of a batch: ``targets`` ``(B, L)`` label ids right-padded with the blank (0); each
    sequence's loss divided by its label count, then averaged (padded frames are certain blanks, so all
    ``T'`` frames count)."""
    target_lengths = (targets != BLANK).sum(1)  # (B,)
    flat = targets[targets != BLANK].long()
    steps = torch.full((log_probs.shape[0],), log_probs.shape[1], dtype=torch.long)
    return F.ctc_loss(log_probs.transpose(0, 1), flat, steps, target_lengths.cpu(), blank=BLANK, reduction="mean")
