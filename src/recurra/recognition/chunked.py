"""A bidirectional layer whose backward direction reads fixed chunks: the future within a bounded delay.

The forward direction runs over the whole sequence as usual, its state carried from step to step; the
backward direction restarts from zeros at the end of every chunk of ``C`` steps (steps ``kC .. kC + C - 1``):

    →h_u = cell_f(x_u, →h_{u-1}),
    ←h_u = cell_b(x_u, ←h_{u+1}) for u < kC + C - 1 in u's chunk k,   ←h_{kC+C-1} = cell_b(x_{kC+C-1}, 0),
    y_u = [→h_u ; ←h_u]

so step ``u`` has heard the rest of its chunk (``C - 1`` steps at its start, none at its end), and a stream
writes a chunk once its last step has arrived. Chunks start at step 0 in every layer, so a stack of these
layers waits for no more than one: layer 2's chunk ``k`` reads layer 1's outputs of chunk ``k`` only.
(The latency-controlled bidirectional layer of Zhang et al. 2016, without its extra right context.)

Under a mask (real steps first) each chunk is reversed over its real steps only, as ``Bidirectional`` does.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from ..layers.wrappers import Bidirectional


class ChunkedBidirectional(nn.Module):
    """``Bidirectional(layer)`` with the backward direction restarted every ``chunk`` steps (see the module)."""

    def __init__(self, pair: Bidirectional, chunk: int) -> None:
        super().__init__()
        if chunk < 1:
            raise ConfigError(f"expected chunk >= 1 steps, got {chunk}")
        self.pair = pair
        self.chunk = int(chunk)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, initial_state: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, ...]:
        """``x`` ``(B, T, F)`` whose step 0 starts a chunk -> ``(y (B, T, 2H), *forward states)``; ``initial_state``:
        the forward direction's (the backward one starts every chunk from zeros)."""
        B, T, _ = x.shape
        y_f, *states = self.pair.forward_layer(x, mask=mask, initial_state=initial_state)  # (B, T, H)
        C = self.chunk
        n = -(-T // C)
        xc = F.pad(x, (0, 0, 0, n * C - T)).reshape(B * n, C, x.shape[-1])  # (B n, C, F)
        real = torch.ones(B, T, dtype=torch.bool, device=x.device) if mask is None else mask.bool()
        mc = F.pad(real, (0, n * C - T)).reshape(B * n, C)  # (B n, C): real steps first in every chunk
        keep = mc.any(1)  # chunks with at least one real step
        y_b = x.new_zeros(B * n, C, y_f.shape[-1])  # (B n, C, H)
        if bool(keep.any()):
            y_b[keep] = self.pair.backward_layer(xc[keep], mask=mc[keep])[0].flip(1)  # back to time order
        y_b = y_b.reshape(B, n * C, -1)[:, :T]  # (B, T, H)
        return (torch.cat([y_f, y_b], -1), *states)
