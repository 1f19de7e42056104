"""``recurra.nn.GRU``: torch.nn.GRU's module on recurra's compiled GRU loop (``recurra.cells.gru.fused_gru``)."""

from __future__ import annotations

import torch

from ..cells.gru import fused_gru, fused_gru_kernel
from .base import RNNBase, State


class GRU(RNNBase):
    """Gated recurrent unit, a drop-in for ``torch.nn.GRU`` (same arguments, call, outputs and
    ``state_dict``), torch's reset-after form and gate order ``r, z, n``::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Per layer ``k`` and direction: ``weight_ih_l{k} = [W_ir; W_iz; W_in] (3H, F)``, ``weight_hh_l{k} =
    [W_hr; W_hz; W_hn] (3H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)``: recurra's ``GRUCell``
    layout (``bias``, ``recurrent_bias``), passed to the kernel as they are.

    ``kernel``: ``"compiled"`` (recurra's CPU loop, float32/float64 on the CPU; padded and packed input
    alike) or ``"torch.gru"`` (other devices and dtypes, or no compiler).

    >>> gru = GRU(3, 4, batch_first=True, bidirectional=True)
    >>> output, h_n = gru(torch.zeros(2, 5, 3))
    >>> tuple(output.shape), tuple(h_n.shape)
    ((2, 5, 8), (2, 2, 4))
    """

    mode = "GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)

    def _layer_shapes(self, layer_input_size):
        G = 3 * self.hidden_size
        shapes = [("weight_ih", (G, layer_input_size)), ("weight_hh", (G, self.hidden_size))]
        return shapes + ([("bias_ih", (G,)), ("bias_hh", (G,))] if self.bias else [])

    def _kernel_name(self, x, h0):
        return fused_gru_kernel(x, h0)

    def _run_direction(self, x, batch_sizes, state: State, weights):
        w = weights
        y, h = fused_gru(x, batch_sizes, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"), w.get("bias_hh"))
        return y, (h,)
