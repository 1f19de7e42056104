"""``recurra.nn.IndRNN``, ``MinGRU``, ``MinLSTM``: recurra's elementwise recurrences with torch.nn's
calling convention (``recurra.nn.RNN``'s arguments, call and outputs; ``state_dict`` names in its style).

Their kernels (``recurra.cells.indrnn.fused_indrnn``, ``recurra.cells.minimal.fused_minimal``) take a
right-padded batch ``(B, T, F)`` with ``lengths``: a packed layer input is padded for them and packed
again (rows stay in the packed order).
"""

from __future__ import annotations

import math

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..cells.indrnn import default_recurrent_initializer, fused_indrnn
from ..cells.minimal import G, canonical_activation, fused_minimal
from ..cells.scan import ACTIVATIONS, MINIMAL_CANDIDATES, use_compiled
from ..errors import ConfigError, unknown_name
from .base import RNNBase, State


class _Elementwise(RNNBase):
    """A module whose kernel runs over ``(B, T, ·)`` with ``lengths``: ``_run_padded`` is the subclass's."""

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

    def _kernel_name(self, x, h0):
        return "compiled" if use_compiled(x) else "elementwise"

    def _run_padded(self, x: torch.Tensor, lengths: torch.Tensor | None, h0: torch.Tensor, weights: dict[str, torch.Tensor]):
        raise NotImplementedError

    def _run_direction(self, x, batch_sizes, state: State, weights):
        if batch_sizes is None:
            y, h = self._run_padded(x.transpose(0, 1), None, state[0], weights)  # (T, B, F) -> (B, T, F)
            return y.transpose(0, 1), (h,)  # (T, B, H)
        padded, lengths = pad_packed_sequence(PackedSequence(x, batch_sizes), batch_first=True)  # (B, T, F), (B,)
        y, h = self._run_padded(padded, lengths, state[0], weights)  # (B, T, H)
        return pack_padded_sequence(y, lengths, batch_first=True).data, (h,)  # (N, H)


class IndRNN(_Elementwise):
    """The independently recurrent network (Li et al., 2018) in torch.nn's form::

        h_t = act(W_ih x_t + u ⊙ h_{t-1} + b)        act: nonlinearity ("relu", "tanh" or "linear")

    ``u`` is one recurrent weight per unit. Per layer ``k`` and direction: ``weight_ih_l{k} = W_ih
    (H, F)``, ``weight_hh_l{k} = u (H,)`` (drawn uniformly in ``[0, 1]``, or ``[0, recurrent_max]``),
    ``bias_ih_l{k} = b (H,)``. ``recurrent_max``: ``u = clamp(weight_hh, ±recurrent_max)`` in the
    forward pass (the paper's bound). Calls and outputs as ``recurra.nn.RNN``.

    ``kernel``: ``"compiled"`` (recurra's CPU loop) or ``"elementwise"`` (the loop in torch).

    >>> output, h_n = IndRNN(3, 4, num_layers=2)(torch.zeros(5, 2, 3))
    >>> tuple(output.shape), tuple(h_n.shape)
    ((5, 2, 4), (2, 2, 4))
    """

    mode = "IndRNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        nonlinearity: str = "relu",
        recurrent_max: float | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        if nonlinearity not in ACTIVATIONS:
            raise unknown_name("nonlinearity", nonlinearity, list(ACTIVATIONS))
        if recurrent_max is not None and (
            isinstance(recurrent_max, bool) or not recurrent_max > 0 or not math.isfinite(recurrent_max)
        ):
            raise ConfigError(f"expected recurrent_max to be a positive number or None, got {recurrent_max!r}")
        self.nonlinearity = nonlinearity
        self.recurrent_max = None if recurrent_max is None else float(recurrent_max)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype)

    def _layer_shapes(self, layer_input_size):
        H = self.hidden_size
        return [("weight_ih", (H, layer_input_size)), ("weight_hh", (H,))] + ([("bias_ih", (H,))] if self.bias else [])

    def reset_parameters(self) -> None:
        """``W_ih`` and ``b`` uniform in ``[-1/√H, 1/√H]``; ``u`` uniform in ``[0, 1]`` (``[0, recurrent_max]``)."""
        super().reset_parameters()
        draw_u = default_recurrent_initializer(self.recurrent_max)
        with torch.no_grad():
            for name in self._flat_weights_names:
                if name.startswith("weight_hh"):
                    getattr(self, name).copy_(draw_u(torch.empty_like(getattr(self, name))))

    def _run_padded(self, x, lengths, h0, weights):
        u = weights["weight_hh"]
        if self.recurrent_max is not None:
            u = u.clamp(-self.recurrent_max, self.recurrent_max)
        return fused_indrnn(x, h0, weights["weight_ih"], u, weights.get("bias_ih"), self.nonlinearity, lengths)

    def extra_repr(self) -> str:
        s = super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
        return s if self.recurrent_max is None else s + f", recurrent_max={self.recurrent_max}"


class _Minimal(_Elementwise):
    kind: str
    blocks: int

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        activation: str = G,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        activation = canonical_activation(activation)
        if activation not in MINIMAL_CANDIDATES:
            raise unknown_name("activation", activation, list(MINIMAL_CANDIDATES))
        self.activation = activation
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype)

    def _layer_shapes(self, layer_input_size):
        n = self.blocks * self.hidden_size
        return [("weight_ih", (n, layer_input_size))] + ([("bias_ih", (n,))] if self.bias else [])

    def _run_padded(self, x, lengths, h0, weights):
        return fused_minimal(self.kind, x, h0, weights["weight_ih"], weights.get("bias_ih"), self.activation, lengths)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", activation={self.activation!r}"


class MinGRU(_Minimal):
    """MinGRU (Feng et al., 2024) in torch.nn's form: gates from the input only::

        z_t  = σ(W_z x_t + b_z)        h~_t = g(W_h x_t + b_h)        h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t

    ``g``: ``activation`` (``"g"``, the paper's positive function, or ``"tanh"``, ``"relu"``,
    ``"linear"``). Per layer ``k`` and direction: ``weight_ih_l{k} = [W_z; W_h] (2H, F)``,
    ``bias_ih_l{k} = [b_z; b_h] (2H,)``. Calls and outputs as ``recurra.nn.RNN``; ``kernel`` as ``IndRNN``'s.

    >>> output, h_n = MinGRU(3, 4, batch_first=True)(torch.zeros(2, 5, 3))
    >>> tuple(output.shape), tuple(h_n.shape)
    ((2, 5, 4), (1, 2, 4))
    """

    mode, kind, blocks = "MinGRU", "min_gru", 2


class MinLSTM(_Minimal):
    """MinLSTM (Feng et al., 2024) in torch.nn's form: gates from the input only::

        f_t = σ(W_f x_t + b_f)     i_t = σ(W_i x_t + b_i)     h~_t = g(W_h x_t + b_h)
        h_t = f_t / (f_t + i_t) ⊙ h_{t-1} + i_t / (f_t + i_t) ⊙ h~_t

    Per layer ``k`` and direction: ``weight_ih_l{k} = [W_f; W_i; W_h] (3H, F)``, ``bias_ih_l{k} =
    [b_f; b_i; b_h] (3H,)``; otherwise as ``MinGRU``. The state is ``h`` only: ``hx`` is one tensor.

    >>> output, h_n = MinLSTM(3, 4, bidirectional=True)(torch.zeros(5, 2, 3))
    >>> tuple(output.shape), tuple(h_n.shape)
    ((5, 2, 8), (2, 2, 4))
    """

    mode, kind, blocks = "MinLSTM", "min_lstm", 3
