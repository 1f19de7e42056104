"""The LSTM cell, in the symbols of seed 004.

With ``[a_{t-1}, x_t]`` split into an input part ``W`` and a recurrent part ``U``
(``W_f [a_{t-1}, x_t] = W_f x_t + U_f a_{t-1}``)::

    f_t  = σ(W_f x_t + U_f a_{t-1} + b_f)          forget gate
    u_t  = σ(W_u x_t + U_u a_{t-1} + b_u)          update (input) gate
    c~_t = tanh(W_c x_t + U_c a_{t-1} + b_c)       candidate
    c_t  = f_t ⊙ c_{t-1} + u_t ⊙ c~_t              cell state
    o_t  = σ(W_o x_t + U_o a_{t-1} + b_o)          output gate
    a_t  = o_t ⊙ tanh(c_t)                         hidden state (the output)

``σ`` is ``recurrent_activation`` (sigmoid) and ``tanh`` is ``activation``; other choices run
the reference loop only. With those, the fused kernel runs the whole sequence: on the CPU in float32
and float64, recurra's compiled loop (``lstm_kernel``) where it is faster than ``torch.lstm``
(``fused_lstm_kernel`` says which runs), else ``torch.lstm``.

Weights in PyTorch layout, gates stacked in the order ``u, f, c, o`` (Keras's ``i, f, c, o`` and
torch's ``i, f, g, o``): ``weight_ih = [W_u; W_f; W_c; W_o]`` ``(4H, F)``, ``weight_hh =
[U_u; U_f; U_c; U_o]`` ``(4H, H)``, ``bias = [b_u; b_f; b_c; b_o]`` ``(4H,)``.
Keras's ``kernel`` is ``weight_ih.T`` and ``recurrent_kernel`` is ``weight_hh.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .. import activations
from . import lstm_kernel, step_kernel
from .base import RecurrentCell, recurrent_input, torch_hidden
from .lstm_op import lstm_sequence

# The widest layer the compiled loop runs: above it torch.lstm (oneDNN) is the faster on the CPU measured, where
# both are bound by their matrix products (benchmarks/lstm.py, docs/benchmarks.md: the compiled loop leads or
# ties from 16 to 256 units; at 384 and 512 torch.lstm was the faster in most runs, ratios 0.82-0.94).
COMPILED_MAX_UNITS = 256


class LSTMState(NamedTuple):
    h: torch.Tensor  # a_t, (B, H)
    c: torch.Tensor  # c_t, (B, H)


class LSTMCell(RecurrentCell):
    """One LSTM step (equations in the module docstring).

    Shapes: ``x_t (B, F)``, ``state = LSTMState(h (B, H), c (B, H))``; returns ``(a_t, LSTMState)``.

    >>> cell = LSTMCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(s.c.shape)
    (2, 4)
    """

    State = LSTMState
    activation_attributes = {"act": "activation", "rec_act": "recurrent_activation"}  # by name (ActivationsByName)

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.activation = activations.canonical(activation)
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.resolve_activations()  # self.act, self.rec_act
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = self._new_weight(4 * units, input_size, init=kernel_initializer, **kw)
        self.weight_hh = self._new_weight(4 * units, units, init=recurrent_initializer, **kw)
        self.bias = self._new_weight(4 * units, init=bias_initializer, **kw) if use_bias else None
        if use_bias and unit_forget_bias:
            with torch.no_grad():
                self.bias[units : 2 * units] = 1.0  # b_f = 1 (Jozefowicz et al., 2015)

    quantities = {
        "f": "forget gate f_t = σ(W_f x_t + U_f a_{t-1} + b_f)",
        "u": "update gate u_t = σ(W_u x_t + U_u a_{t-1} + b_u)",
        "c_tilde": "candidate c~_t = tanh(W_c x_t + U_c a_{t-1} + b_c)",
        "c": "cell state c_t = f_t ⊙ c_{t-1} + u_t ⊙ c~_t",
        "o": "output gate o_t = σ(W_o x_t + U_o a_{t-1} + b_o)",
        "a": "hidden state a_t = o_t ⊙ tanh(c_t)",
    }
    gates = frozenset({"f", "u", "o"})
    trace_output = "a"

    def step_quantities(self, x_t, state, recurrent_mask=None):
        W_u, W_f, W_c, W_o = self.weight_ih.chunk(4, 0)
        U_u, U_f, U_c, U_o = self.weight_hh.chunk(4, 0)
        b = self.bias if self.bias is not None else self.weight_ih.new_zeros(4 * self.units)
        b_u, b_f, b_c, b_o = b.chunk(4, 0)
        a_prev = recurrent_input(state.h, recurrent_mask)
        c_prev = state.c
        σ, tanh = self.rec_act, self.act

        f = σ(x_t @ W_f.T + a_prev @ U_f.T + b_f)
        u = σ(x_t @ W_u.T + a_prev @ U_u.T + b_u)
        c_tilde = tanh(x_t @ W_c.T + a_prev @ U_c.T + b_c)
        c = f * c_prev + u * c_tilde
        o = σ(x_t @ W_o.T + a_prev @ U_o.T + b_o)
        a = o * tanh(c)
        return {"f": f, "u": u, "c_tilde": c_tilde, "c": c, "o": o, "a": a}, LSTMState(a, c)

    def compiled_step_weights(self):
        """``(w_ih, w_hh, b_ih, b_hh)`` in torch's gate order ``i, f, g, o`` for the compiled one-step kernels
        (``step_kernel``), or None where they do not apply (other activations)."""
        if self.activation != "tanh" or self.recurrent_activation != "sigmoid":
            return None
        return self.weight_ih, self.weight_hh, self.bias, None

    def inference_step(self, x_t, state):
        """One step in one call: recurra's compiled step (``step_kernel``) where it can run, else
        ``torch.lstm_cell`` (the same gates in torch's order ``i, f, g, o``)."""
        weights = self.compiled_step_weights()
        if weights is None:
            return super().inference_step(x_t, state)
        if step_kernel.usable(x_t, state.h, state.c, *weights):
            return LSTMState(*step_kernel.lstm_step(x_t, state.h, state.c, *weights))
        return LSTMState(*torch.lstm_cell(x_t, (state.h, state.c), *weights))

    # -- fused kernel: recurra's compiled CPU loop, or torch.lstm ---------------------------------
    def fused_reason(self):
        if self.activation != "tanh" or self.recurrent_activation != "sigmoid":
            return (
                f"activation={self.activation!r}, recurrent_activation={self.recurrent_activation!r} "
                "(the fused kernel has tanh and sigmoid)"
            )
        return None

    def onnx_operator(self) -> str | None:
        return "LSTM" if self.fused_reason() is None else None

    def fused(self, x, state):
        y, h, c = fused_lstm(x.transpose(0, 1), None, state.h, state.c, self.weight_ih, self.weight_hh, self.bias, None)
        return y.transpose(0, 1), LSTMState(h, c)  # (T, B, H) -> (B, T, H)

    def fused_packed(self, data, batch_sizes, state):
        y, h, c = fused_lstm(data, batch_sizes, state.h, state.c, self.weight_ih, self.weight_hh, self.bias, None)
        return y, LSTMState(h, c)


def fused_lstm_kernel(x: torch.Tensor, h0: torch.Tensor, weight_hr: torch.Tensor | None = None) -> str:
    """The kernel ``fused_lstm`` runs for ``x`` and ``h0 (B, H)``: ``"compiled"`` (recurra's CPU loop: float32
    or float64 on the CPU, no projection, ``H <= COMPILED_MAX_UNITS``, where it is the faster one) or
    ``"torch.lstm"``."""
    if weight_hr is not None or h0.dtype != x.dtype or h0.shape[-1] > COMPILED_MAX_UNITS:
        return "torch.lstm"
    return "compiled" if lstm_kernel.usable(x) else "torch.lstm"


def fused_lstm(
    x: torch.Tensor,
    batch_sizes: torch.Tensor | None,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None,
    bias_hh: torch.Tensor | None,
    weight_hr: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The LSTM (gates ``u, f, c, o`` = torch's ``i, f, g, o``) over a whole time-major batch on the fused
    kernel: recurra's compiled loop (``lstm_kernel``) where ``fused_lstm_kernel`` chooses it, else
    ``torch.lstm``. The gates' pre-activations are ``W x_t + b_ih + U a_{t-1} + b_hh`` (torch's two
    biases, or ``None``; the cell passes ``b_hh = None``, read as 0). With ``weight_hr`` ``(P, H)``
    (torch's ``proj_size = P``, ``torch.lstm`` only) the hidden state is projected, ``a_t = W_hr (o_t ⊙
    tanh(c_t))``, and ``weight_hh`` is ``(4H, P)``.

    ``x``: ``(T, B, F)`` when ``batch_sizes`` is ``None``, else a ``PackedSequence``'s ``data (N, F)``
    with its ``batch_sizes (T,)``; ``h0 (B, H or P)``, ``c0 (B, H)``. Returns ``y`` (``(T, B, ·)`` or
    ``(N, ·)``), ``h_last`` and ``c_last``, each row's state after its own last step.
    """
    if fused_lstm_kernel(x, h0, weight_hr) == "compiled":
        if batch_sizes is not None:
            return lstm_kernel.lstm_packed_sequence(x, batch_sizes, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
        return lstm_kernel.lstm_time_major(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)  # (T, B, H)
    if bias_ih is not None and bias_hh is None:
        bias_hh = torch.zeros_like(bias_ih)
    weights = [weight_ih, weight_hh] if bias_ih is None else [weight_ih, weight_hh, bias_ih, bias_hh]
    if weight_hr is not None:
        weights.append(weight_hr)
    hx = (torch_hidden(h0), torch_hidden(c0))
    if batch_sizes is None and torch.compiler.is_compiling() and not torch.onnx.is_in_onnx_export():  # one opaque call (lstm_op)
        return lstm_sequence(x, h0, c0, weights, bias_ih is not None)
    if batch_sizes is None:
        y, h, c = torch.lstm(x, hx, weights, bias_ih is not None, 1, 0.0, False, False, False)
    else:
        y, h, c = torch.lstm(x, batch_sizes, hx, weights, bias_ih is not None, 1, 0.0, False, False)
    return y, h[0], c[0]
