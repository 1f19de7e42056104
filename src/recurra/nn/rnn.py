"""``recurra.nn.RNN``: torch.nn.RNN's module on recurra's Elman kernel (``recurra.cells.elman.fused_elman``)."""

from __future__ import annotations

import torch

from ..cells.elman import fused_elman
from ..errors import UnknownNameError
from .base import RNNBase, State


class RNN(RNNBase):
    """Elman RNN, a drop-in for ``torch.nn.RNN`` (same arguments, call, outputs and ``state_dict``)::

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)       act: tanh or relu (nonlinearity)

    Per layer ``k`` and direction: ``weight_ih_l{k} = W_ih (H, F)`` (``(H, D·H)`` above the first
    layer), ``weight_hh_l{k} = W_hh (H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(H,)``.

    Shapes: ``input (T, B, F)`` (``(B, T, F)`` with ``batch_first``, ``(T, F)`` unbatched, or a
    ``PackedSequence``), ``hx (L·D, B, H)``; returns ``output (T, B, D·H)`` and ``h_n (L·D, B, H)``.
    ``kernel`` names what ran: ``"torch.rnn_tanh"`` or ``"torch.rnn_relu"``, one layer and direction at a time.

    >>> rnn = RNN(3, 4, num_layers=2, nonlinearity="relu")
    >>> output, h_n = rnn(torch.zeros(5, 2, 3))
    >>> tuple(output.shape), tuple(h_n.shape), rnn.kernel
    ((5, 2, 4), (2, 2, 4), 'torch.rnn_relu')
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise UnknownNameError(f"unknown nonlinearity {nonlinearity!r}; expected one of: 'relu', 'tanh'")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)

    def _layer_shapes(self, layer_input_size):
        H = self.hidden_size
        shapes = [("weight_ih", (H, layer_input_size)), ("weight_hh", (H, H))]
        return shapes + ([("bias_ih", (H,)), ("bias_hh", (H,))] if self.bias else [])

    def _kernel_name(self, x, h0):
        return f"torch.rnn_{self.nonlinearity}"

    def _run_direction(self, x, batch_sizes, state: State, weights):
        w = weights
        y, h = fused_elman(
            x, batch_sizes, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"), w.get("bias_hh"), self.nonlinearity
        )
        return y, (h,)
