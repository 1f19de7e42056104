"""The GRU cell (seed 004), in both of Keras's variants.

With ``[h_{t-1}, x_t]`` split into input weights ``W`` and recurrent weights ``U``::

    z_t  = σ(W_z x_t + b_z + U_z h_{t-1} + b'_z)              update gate
    r_t  = σ(W_r x_t + b_r + U_r h_{t-1} + b'_r)              reset gate
    h~_t = tanh(W_h x_t + b_h + r_t ⊙ (U_h h_{t-1} + b'_h))   candidate  (reset_after=True)
    h~_t = tanh(W_h x_t + U_h (r_t ⊙ h_{t-1}) + b_h)          candidate  (reset_after=False)
    h_t  = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h~_t

``reset_after=True`` (Keras's default, and torch's and cuDNN's form) has a second, recurrent bias
``b'``; ``reset_after=False`` (the original paper) has one bias and runs the reference loop only.

Weights in PyTorch layout and gate order ``r, z, h`` (torch's ``r, z, n``): ``weight_ih =
[W_r; W_z; W_h]`` ``(3H, F)``, ``weight_hh = [U_r; U_z; U_h]`` ``(3H, H)``, ``bias = [b_r; b_z; b_h]``,
``recurrent_bias = [b'_r; b'_z; b'_h]`` (reset_after only). Keras orders the gates ``z, r, h``:
``get_weights()`` converts.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .. import activations
from . import gru_kernel
from .base import RecurrentCell, recurrent_input, torch_hidden


class GRUState(NamedTuple):
    h: torch.Tensor  # (B, H)


class GRUCell(RecurrentCell):
    """One GRU step (equations in the module docstring).

    Shapes: ``x_t (B, F)``, ``state = GRUState(h (B, H))``; returns ``(h_t, GRUState(h_t))``.

    >>> cell = GRUCell(3, 4, reset_after=False)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape)
    (2, 4)
    """

    State = GRUState

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        use_bias: bool = True,
        reset_after: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.reset_after = reset_after
        self.activation = activations.canonical(activation)
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.act, self.rec_act = activations.get(activation), activations.get(recurrent_activation)
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = self._new_weight(3 * units, input_size, init=kernel_initializer, **kw)
        self.weight_hh = self._new_weight(3 * units, units, init=recurrent_initializer, **kw)
        self.bias = self._new_weight(3 * units, init=bias_initializer, **kw) if use_bias else None
        with_rec_bias = use_bias and reset_after
        self.recurrent_bias = self._new_weight(3 * units, init=bias_initializer, **kw) if with_rec_bias else None

    quantities = {
        "z": "update gate z_t = σ(W_z x_t + b_z + U_z h_{t-1} + b'_z)",
        "r": "reset gate r_t = σ(W_r x_t + b_r + U_r h_{t-1} + b'_r)",
        "h_tilde": "candidate h~_t",
        "h": "state h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h~_t",
    }
    gates = frozenset({"z", "r"})

    def step_quantities(self, x_t, state, recurrent_mask=None):
        W_r, W_z, W_h = self.weight_ih.chunk(3, 0)
        U_r, U_z, U_h = self.weight_hh.chunk(3, 0)
        zeros = self.weight_ih.new_zeros(3 * self.units)
        b_r, b_z, b_h = (self.bias if self.bias is not None else zeros).chunk(3, 0)
        b2_r, b2_z, b2_h = (self.recurrent_bias if self.recurrent_bias is not None else zeros).chunk(3, 0)
        h_prev = state.h
        h_rec = recurrent_input(h_prev, recurrent_mask)
        σ, tanh = self.rec_act, self.act

        z = σ(x_t @ W_z.T + b_z + h_rec @ U_z.T + b2_z)
        r = σ(x_t @ W_r.T + b_r + h_rec @ U_r.T + b2_r)
        if self.reset_after:
            h_tilde = tanh(x_t @ W_h.T + b_h + r * (h_rec @ U_h.T + b2_h))
        else:
            h_tilde = tanh(x_t @ W_h.T + (r * h_rec) @ U_h.T + b_h)
        h = z * h_prev + (1 - z) * h_tilde
        return {"z": z, "r": r, "h_tilde": h_tilde, "h": h}, GRUState(h)

    # -- fused kernel: recurra's compiled CPU loop, or torch.gru (reset_after=True only) ----------
    def fused_reason(self):
        if not self.reset_after:
            return "reset_after=False (the fused kernel is the reset-after form)"
        if self.activation != "tanh" or self.recurrent_activation != "sigmoid":
            return (
                f"activation={self.activation!r}, recurrent_activation={self.recurrent_activation!r} "
                "(the fused kernel has tanh and sigmoid)"
            )
        return None

    def _flat_weights(self) -> list[torch.Tensor]:
        if self.bias is None:
            return [self.weight_ih, self.weight_hh]
        return [self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias]

    def fused(self, x, state):
        if gru_kernel.usable(x) and state.h.dtype == x.dtype:
            y, h = gru_kernel.gru_sequence(x, state.h, self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias)
            return y, GRUState(h)
        y, h = torch.gru(x, torch_hidden(state.h), self._flat_weights(), self.bias is not None, 1, 0.0, False, False, True)
        return y, GRUState(h[0])

    def fused_packed(self, data, batch_sizes, state):
        if gru_kernel.usable(data) and state.h.dtype == data.dtype:
            args = (self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias)
            y, h = gru_kernel.gru_packed_sequence(data, batch_sizes, state.h, *args)
            return y, GRUState(h)
        y, h = torch.gru(
            data, batch_sizes, torch_hidden(state.h), self._flat_weights(), self.bias is not None, 1, 0.0, False, False
        )
        return y, GRUState(h[0])
