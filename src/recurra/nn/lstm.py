"""``recurra.nn.LSTM``: torch.nn.LSTM's module on recurra's LSTM kernel (``recurra.cells.lstm.fused_lstm``)."""

from __future__ import annotations

import torch

from ..cells.lstm import fused_lstm, fused_lstm_kernel
from ..cells.lstm_op import lstm_sequence
from .base import RNNBase, State


class LSTM(RNNBase):
    """Long short-term memory, a drop-in for ``torch.nn.LSTM`` (same arguments, call, outputs and
    ``state_dict``), gate order ``i, f, g, o`` (recurra's ``u, f, c~, o``)::

        i_t = σ(W_ii x_t + b_ii + W_hi a_{t-1} + b_hi)         f_t = σ(W_if x_t + b_if + W_hf a_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg a_{t-1} + b_hg)      o_t = σ(W_io x_t + b_io + W_ho a_{t-1} + b_ho)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        a_t = o_t ⊙ tanh(c_t)                 (proj_size = P > 0: a_t = W_hr (o_t ⊙ tanh(c_t)), (B, P))

    Per layer ``k`` and direction: ``weight_ih_l{k} (4H, F)``, ``weight_hh_l{k} (4H, H_out)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(4H,)``, ``weight_hr_l{k} = W_hr (P, H)`` with ``proj_size``;
    ``H_out = P`` or ``H``. Shapes: ``hx = (h_0 (L·D, B, H_out), c_0 (L·D, B, H))``; returns
    ``output (T, B, D·H_out)`` and ``(h_n, c_n)``.

    ``kernel``: ``"compiled"`` (recurra's CPU loop, float32/float64 on the CPU; padded and packed input
    alike; without ``proj_size``, up to ``recurra.cells.lstm.COMPILED_MAX_UNITS`` units, where it is faster
    than torch's) or ``"torch.lstm"`` (the rest, one layer and direction at a time; it also runs the
    projection; and a padded batch with ``lengths=`` or ``mask=`` in ``torch.compile``).

    >>> lstm = LSTM(3, 4, proj_size=2)
    >>> output, (h_n, c_n) = lstm(torch.zeros(5, 2, 3))
    >>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
    ((5, 2, 2), (1, 2, 2), (1, 2, 4))
    """

    mode = "LSTM"
    state_fields = ("h_0", "c_0")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size, device, dtype)

    def _layer_shapes(self, layer_input_size):
        G, H = 4 * self.hidden_size, self.hidden_size
        shapes = [("weight_ih", (G, layer_input_size)), ("weight_hh", (G, self.proj_size or H))]
        shapes += [("bias_ih", (G,)), ("bias_hh", (G,))] if self.bias else []
        return shapes + ([("weight_hr", (self.proj_size, H))] if self.proj_size else [])

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _kernel_name(self, x, h0):
        return "torch.lstm" if self.proj_size else fused_lstm_kernel(x, h0)

    def _run_direction(self, x, batch_sizes, state: State, weights):
        w = weights
        biases = (w.get("bias_ih"), w.get("bias_hh"))
        y, h, c = fused_lstm(x, batch_sizes, state[0], state[1], w["weight_ih"], w["weight_hh"], *biases, w.get("weight_hr"))
        return y, (h, c)

    def _run_dense_to_lengths(self, x, lengths, state: State, weights):
        """Each row to its length inside one ``recurra::lstm_sequence`` call (it packs them out of the tracer's
        sight): ``c`` at each row's last step is not in the output, as ``h`` is for the other modules."""
        w = weights
        flat = [w["weight_ih"], w["weight_hh"]] + ([w["bias_ih"], w["bias_hh"]] if "bias_ih" in w else [])
        flat += [w["weight_hr"]] if "weight_hr" in w else []
        y, h, c = lstm_sequence(x, state[0], state[1], flat, "bias_ih" in w, lengths)
        self.kernel = "torch.lstm"
        return y, (h, c)
