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
from . import gru_kernel, step_kernel
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
    activation_attributes = {"act": "activation", "rec_act": "recurrent_activation"}  # by name (ActivationsByName)

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
        self.resolve_activations()  # self.act, self.rec_act
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

    def compiled_step_weights(self):
        """``(w_ih, w_hh, b_ih, b_hh)`` in torch's gate order ``r, z, n`` (reset-after) for the compiled one-step
        kernels (``step_kernel``), or None where they do not apply (``fused_reason``)."""
        if self.fused_reason() is not None:
            return None
        return self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias

    def inference_step(self, x_t, state):
        """One step in one call: recurra's compiled step (``step_kernel``) where it can run, else
        ``torch.gru_cell`` (reset-after, torch's gate order ``r, z, n``)."""
        weights = self.compiled_step_weights()
        if weights is None:
            return super().inference_step(x_t, state)
        if step_kernel.usable(x_t, state.h, *weights):
            return GRUState(step_kernel.gru_step(x_t, state.h, *weights))
        return GRUState(torch.gru_cell(x_t, state.h, *weights))

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

    def onnx_operator(self) -> str | None:
        return "GRU" if self.fused_reason() is None else None

    def fused(self, x, state):
        y, h = fused_gru(x.transpose(0, 1), None, state.h, self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias)
        return y.transpose(0, 1), GRUState(h)  # (T, B, H) -> (B, T, H)

    def fused_packed(self, data, batch_sizes, state):
        y, h = fused_gru(data, batch_sizes, state.h, self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias)
        return y, GRUState(h)


def fused_gru_kernel(x: torch.Tensor, h0: torch.Tensor) -> str:
    """The kernel ``fused_gru`` runs for ``x`` and ``h0``: ``"compiled"`` (recurra's CPU loop) or ``"torch.gru"``."""
    return "compiled" if gru_kernel.usable(x) and h0.dtype == x.dtype else "torch.gru"


def fused_gru(
    x: torch.Tensor,
    batch_sizes: torch.Tensor | None,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias: torch.Tensor | None,
    recurrent_bias: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reset-after GRU (torch's form and gate order ``r, z, n``) over a whole time-major batch, on
    the fused kernel: recurra's compiled loop (``gru_kernel``) where it runs, else ``torch.gru``.

    ``x``: ``(T, B, F)`` when ``batch_sizes`` is ``None``, else a ``PackedSequence``'s ``data (N, F)``
    with its ``batch_sizes (T,)``; ``h0 (B, H)``; weights in torch's layout (``weight_ih (3H, F)``,
    ``weight_hh (3H, H)``, ``bias`` = ``b_ih`` and ``recurrent_bias`` = ``b_hh``, ``(3H,)`` or both
    ``None``). Returns ``y`` (``(T, B, H)`` or ``(N, H)``) and ``h_last (B, H)``, each row's state after
    its own last step.
    """
    dense = batch_sizes is None
    if dense:
        T, B, F_ = x.shape
        data = x.reshape(T * B, F_)  # (T·B, F), time-major rows
        sizes = torch.full((T,), B, dtype=torch.int64)  # every row active at every step
    else:
        data, sizes = x, batch_sizes
    if fused_gru_kernel(x, h0) == "compiled":
        y, h = gru_kernel.gru_packed_sequence(data, sizes, h0, weight_ih, weight_hh, bias, recurrent_bias)
        return (y.view(T, B, -1) if dense else y), h
    weights = [weight_ih, weight_hh] if bias is None else [weight_ih, weight_hh, bias, recurrent_bias]
    if dense:
        y, h = torch.gru(x, torch_hidden(h0), weights, bias is not None, 1, 0.0, False, False, False)
    else:
        y, h = torch.gru(x, batch_sizes, torch_hidden(h0), weights, bias is not None, 1, 0.0, False, False)
    return y, h[0]
