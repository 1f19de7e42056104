"""The independently recurrent cell, IndRNN (Li et al., 2018, "Independently Recurrent Neural
Network (IndRNN): Building A Longer and Deeper RNN").

Equations, with the code's symbols::

    h_t = act(W x_t + u ⊙ h_{t-1} + b)
    y_t = h_t

Every unit sees only its own previous state, through one recurrent weight ``u_j``: ``u`` is a
vector ``(H,)``, not a matrix. ``act`` is ``relu`` by default (the paper's choice), or ``tanh``,
``linear``, or any activation name (then without the fast kernel).

``recurrent_max`` (the paper's constraint on ``|u_j|``): when given, the step uses
``u = clamp(weight_hh, -recurrent_max, recurrent_max)``. The clamp is in the forward pass, so the
stored ``weight_hh`` may drift outside the range but is never used there, and its gradient is 0
where it is out of range. The paper bounds ``|u_j| <= γ^(1/T)`` so that a relu unit cannot grow by
more than a factor ``γ`` over ``T`` steps (they use ``γ = 2``: ``recurrent_max = 2 ** (1 / T)``).

Weights in PyTorch layout: ``weight_ih = W`` ``(H, F)``, ``weight_hh = u`` ``(H,)``, ``bias = b``
``(H,)``. Keras's (and the Keras IndRNN ports') ``kernel`` is ``W.T``, ``recurrent_kernel`` is ``u``.

Fast path (``fused``): the input projection ``W x_t + b`` of all ``T`` steps in one matrix product,
then ``recurra.cells.scan.elementwise_recurrence`` (the compiled loop on CPU), for ``act`` in
``relu``, ``tanh``, ``linear``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .. import activations, initializers
from .base import RecurrentCell, recurrent_input
from .scan import ACTIVATIONS as KERNEL_ACTIVATIONS
from .scan import elementwise_recurrence


class IndRNNState(NamedTuple):
    h: torch.Tensor  # (B, H)


def default_recurrent_initializer(recurrent_max: float | None) -> initializers.RandomUniform:
    """The paper's initialisation of ``u``: uniform in ``[0, 1]``, or in ``[0, recurrent_max]`` when
    that is given (Li et al. draw ``u`` in ``[0, 2^(1/T)]`` with ``recurrent_max = 2^(1/T)``)."""
    return initializers.RandomUniform(0.0, 1.0 if recurrent_max is None else float(recurrent_max))


def input_projection(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``x W^T + b`` for every step at once: ``(B, T, F) -> (B, T, H)``, one matrix product.

    The result owns its memory (it is not a view), so a kernel may overwrite it in place.
    """
    B, T, F = x.shape
    x2 = x.reshape(B * T, F)  # (B, T, F) -> (B·T, F)
    k = torch.mm(x2, weight.T) if bias is None else torch.addmm(bias, x2, weight.T)  # (B·T, H)
    return torch.ops.aten._unsafe_view(k, (B, T, weight.shape[0]))  # (B·T, H) -> (B, T, H), not a view


class IndRNNCell(RecurrentCell):
    """One IndRNN step, ``h_t = act(W x_t + u ⊙ h_{t-1} + b)`` (module docstring).

    ``recurrent_initializer=None`` draws ``u`` uniformly in ``[0, 1]`` (``[0, recurrent_max]`` when
    ``recurrent_max`` is given), the paper's choice for relu units.

    Shapes: ``x_t (B, F)``, ``state = IndRNNState(h (B, H))``; returns ``(h_t, IndRNNState(h_t))``.

    >>> cell = IndRNNCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape), tuple(cell.weight_hh.shape)
    ((2, 4), (4,))
    """

    State = IndRNNState
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        activation: str | None = "relu",
        recurrent_max: float | None = None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer=None,
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.activation = activations.canonical(activation)
        self.resolve_activations()  # self.act
        self.recurrent_max = None if recurrent_max is None else float(recurrent_max)
        if recurrent_initializer is None:
            recurrent_initializer = default_recurrent_initializer(self.recurrent_max)
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = self._new_weight(units, input_size, init=kernel_initializer, **kw)  # W
        self.weight_hh = self._new_weight(units, init=recurrent_initializer, **kw)  # u
        self.bias = self._new_weight(units, init=bias_initializer, **kw) if use_bias else None  # b

    def recurrent_weight(self) -> torch.Tensor:
        """``u`` as the step uses it: ``weight_hh``, clamped to ``±recurrent_max`` when that is set."""
        u = self.weight_hh
        return u if self.recurrent_max is None else u.clamp(-self.recurrent_max, self.recurrent_max)

    quantities = {"h": "state h_t = act(W x_t + u ⊙ h_{t-1} + b)"}

    def step_quantities(self, x_t, state, recurrent_mask=None):
        W, u, b = self.weight_ih, self.recurrent_weight(), self.bias
        h_prev = recurrent_input(state.h, recurrent_mask)
        z = x_t @ W.T + u * h_prev  # (B, H)
        if b is not None:
            z = z + b
        h = self.act(z)
        return {"h": h}, IndRNNState(h)

    def inference_step(self, x_t, state):
        """``act(addcmul(W x_t + b, u, h_{t-1}))``: one product and one fused multiply-add."""
        z = torch.mm(x_t, self.weight_ih.T) if self.bias is None else torch.addmm(self.bias, x_t, self.weight_ih.T)  # (B, H)
        return IndRNNState(self.act(torch.addcmul(z, self.recurrent_weight(), state.h)))

    # -- fast path: one projection, then the elementwise recurrence ----------------------------------
    def fused_reason(self):
        if self.activation not in KERNEL_ACTIVATIONS:
            return f"activation {self.activation!r} (the elementwise kernel has {', '.join(KERNEL_ACTIVATIONS)})"
        return None

    def fused(self, x, state, lengths=None, backend="auto"):
        """All steps of ``x (B, T, F)``; ``lengths`` ``(B,)`` for right-padded rows (steps past a row's
        length output 0 and keep its state). Returns ``(y (B, T, H), IndRNNState(h_last))``."""
        y, h = fused_indrnn(x, state.h, self.weight_ih, self.recurrent_weight(), self.bias, self.activation, lengths, backend)
        return y, IndRNNState(h)


def fused_indrnn(
    x: torch.Tensor,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    u: torch.Tensor,
    bias: torch.Tensor | None,
    activation: str,
    lengths: torch.Tensor | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``h_t = act(W x_t + u ⊙ h_{t-1} + b)`` over ``x (B, T, F)``: the input projection of all steps
    in one product, then ``elementwise_recurrence`` (``act`` in ``relu``, ``tanh``, ``linear``).

    ``h0 (B, H)``, ``weight_ih = W (H, F)``, ``u (H,)`` (already clamped if bounded), ``bias = b (H,)``
    or ``None``; ``lengths (B,)`` for right-padded rows. Returns ``(y (B, T, H), h_last (B, H))``.
    """
    k = input_projection(x, weight_ih, bias)  # (B, T, H): W x_t + b for every t
    return elementwise_recurrence(k, u, h0, activation, lengths, backend, overwrite_b=True)


__all__ = ["IndRNNCell", "IndRNNState", "default_recurrent_initializer", "fused_indrnn", "input_projection"]
