"""The simple (Elman) recurrent cell.

Equations (seeds 000, 002, 003, 004), with the code's symbols::

    h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)
    y_t = h_t

``act`` is ``tanh`` (default) or ``relu`` (or any activation name, then without the fused kernel).
The layer's own output projection ``y_t = W_hy h_t + b_y`` is a ``Dense`` after the layer.

Weights in PyTorch layout: ``weight_ih = W_xh`` ``(H, F)``, ``weight_hh = W_hh`` ``(H, H)``,
``bias = b_h`` ``(H,)``. Keras's ``kernel`` is ``W_xh.T``, ``recurrent_kernel`` is ``W_hh.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .. import activations
from .base import RecurrentCell, recurrent_input, torch_hidden


class SimpleRNNState(NamedTuple):
    h: torch.Tensor  # (B, H)


class SimpleRNNCell(RecurrentCell):
    """One step of ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)``.

    Shapes: ``x_t (B, F)``, ``h (B, H)``; returns ``(h_t, SimpleRNNState(h_t))``.

    >>> cell = SimpleRNNCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape)
    (2, 4)
    """

    State = SimpleRNNState

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        activation: str | None = "tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.activation = activations.canonical(activation)
        self.act = activations.get(activation)
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = self._new_weight(units, input_size, init=kernel_initializer, **kw)  # W_xh
        self.weight_hh = self._new_weight(units, units, init=recurrent_initializer, **kw)  # W_hh
        self.bias = self._new_weight(units, init=bias_initializer, **kw) if use_bias else None  # b_h

    def step(self, x_t, state, recurrent_mask=None):
        W_xh, W_hh, b_h = self.weight_ih, self.weight_hh, self.bias
        h_prev = recurrent_input(state.h, recurrent_mask)
        z = x_t @ W_xh.T + h_prev @ W_hh.T  # (B, H)
        if b_h is not None:
            z = z + b_h
        h = self.act(z)
        return h, SimpleRNNState(h)

    # -- fused kernel: torch.rnn_tanh / torch.rnn_relu -------------------------------------------
    def fused_reason(self):
        if self.activation not in ("tanh", "relu"):
            return f"activation {self.activation!r} (the fused kernel has tanh and relu)"
        return None

    def _flat_weights(self) -> list[torch.Tensor]:
        if self.bias is None:
            return [self.weight_ih, self.weight_hh]
        return [self.weight_ih, self.weight_hh, self.bias, torch.zeros_like(self.bias)]

    def _kernel(self):
        return torch.rnn_tanh if self.activation == "tanh" else torch.rnn_relu

    def fused(self, x, state):
        y, h = self._kernel()(x, torch_hidden(state.h), self._flat_weights(), self.bias is not None, 1, 0.0, False, False, True)
        return y, SimpleRNNState(h[0])

    def fused_packed(self, data, batch_sizes, state):
        y, h = self._kernel()(
            data, batch_sizes, torch_hidden(state.h), self._flat_weights(), self.bias is not None, 1, 0.0, False, False
        )
        return y, SimpleRNNState(h[0])


__all__ = ["SimpleRNNCell", "SimpleRNNState"]
