"""The minimal RNNs of Feng et al. (2024), "Were RNNs All We Needed?": MinGRU and MinLSTM.

Their gates see only the input ``x_t``, never ``h_{t-1}``, so the state update is linear in
``h_{t-1}`` and a whole sequence can run as a scan. Equations, with the code's symbols::

    MinGRU
        z_t  = σ(W_z x_t + b_z)                       update gate
        h~_t = g(W_h x_t + b_h)                       candidate
        h_t  = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t

    MinLSTM
        f_t  = σ(W_f x_t + b_f)                       forget gate
        i_t  = σ(W_i x_t + b_i)                       input gate
        h~_t = g(W_h x_t + b_h)                       candidate
        f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
        h_t  = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t

``g`` is the candidate activation (``activation``). The default, ``"g"``, is the paper's
``g(v) = v + 0.5`` for ``v >= 0`` and ``σ(v)`` for ``v < 0``: continuous, increasing and positive,
so with a positive (or zero) initial state every ``h_t`` is positive and the recurrence can run in
log space. Any recurra activation name may be given instead (``"tanh"``, ``"linear"`` ...); then
only the sequential kernels apply.

Three ways to run a sequence, giving the same numbers up to rounding:

- ``step``: the equations above, one step at a time (the reference);
- ``fused``: the input projection of all steps in one matrix product, then on CPU one compiled loop
  that computes the gates and the state step by step (``recurra.cells.scan.minimal_recurrence``);
  elsewhere (or for a candidate activation that loop lacks) the gates for all steps in torch, then
  ``h_t = a_t ⊙ h_{t-1} + b_t`` with ``a = 1 - z`` (``f'``) and ``b = z ⊙ h~`` (``i' ⊙ h~``) by
  ``recurra.cells.scan.elementwise_recurrence``;
- ``scan``: the same linear recurrence as a parallel scan in log space
  (``recurra.cells.scan.linear_scan_log``), with ``log a``, ``log b`` computed directly from the
  pre-activations (``log σ(v) = -softplus(-v)``, ``log(1 - σ(v)) = -softplus(v)``; for MinLSTM
  ``f' = σ(d)``, ``i' = σ(-d)`` with ``d = log f - log i``). It needs ``activation="g"`` and an
  initial state that is all positive (its log enters the scan) or all zero (no term).

Weights in PyTorch layout, blocks stacked in the order given: MinGRU ``weight_ih = [W_z; W_h]``
``(2H, F)``, ``bias = [b_z; b_h]`` ``(2H,)``; MinLSTM ``weight_ih = [W_f; W_i; W_h]`` ``(3H, F)``,
``bias = [b_f; b_i; b_h]`` ``(3H,)``. Keras layout: ``kernel = weight_ih.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .. import activations
from ..errors import InputValueError, unknown_name
from .base import RecurrentCell
from .indrnn import input_projection
from .scan import MINIMAL_CANDIDATES, elementwise_recurrence, linear_scan_log, minimal_recurrence, use_compiled

G = "g"  # the name of the paper's positive candidate activation


def g(v: torch.Tensor) -> torch.Tensor:
    """``v + 0.5`` for ``v >= 0``, ``σ(v)`` otherwise (Feng et al., 2024): positive, continuous."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v: torch.Tensor) -> torch.Tensor:
    """``log g(v)`` without forming ``g`` (``log σ(v) = -softplus(-v)`` below 0)."""
    return torch.where(v >= 0, torch.log(torch.relu(v) + 0.5), -F.softplus(-v))


def canonical_activation(name: str | None) -> str:
    """``"g"`` or a recurra activation name, in its stored form."""
    if isinstance(name, str) and name.lower() == G:
        return G
    if isinstance(name, str) and name.lower() not in activations.ACTIVATIONS:
        raise unknown_name("activation", name, [G, *activations.ACTIVATIONS])
    return activations.canonical(name)


class MinGRUState(NamedTuple):
    h: torch.Tensor  # (B, H)


class MinLSTMState(NamedTuple):
    h: torch.Tensor  # (B, H)


class _MinimalCell(RecurrentCell):
    """What MinGRU and MinLSTM share: weights, the candidate activation, the three paths."""

    n_blocks: int  # stacked weight blocks: 2 (z, h) or 3 (f, i, h)
    kind: str  # "min_gru" or "min_lstm", for the compiled kernel
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def resolve_activation(self, name: str):
        return candidate_function(name)  # "g" as well as recurra's activations

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        activation: str | None = G,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.activation = canonical_activation(activation)
        self.resolve_activations()  # self.act
        kw = dict(dtype=dtype, device=device)
        n = self.n_blocks
        self.weight_ih = self._new_weight(n * units, input_size, init=kernel_initializer, **kw)
        self.bias = self._new_weight(n * units, init=bias_initializer, **kw) if use_bias else None

    def _blocks(self):
        """The weight and bias blocks in stacking order (biases zero without ``use_bias``)."""
        b = self.bias if self.bias is not None else self.weight_ih.new_zeros(self.n_blocks * self.units)
        return self.weight_ih.chunk(self.n_blocks, 0), b.chunk(self.n_blocks, 0)

    def _pre_activations(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``W x_t + b`` of every block for all steps: ``n_blocks`` tensors ``(B, T, H)``."""
        k = input_projection(x, self.weight_ih, self.bias)  # (B, T, n·H)
        return k.split(self.units, dim=-1)

    def inference_step(self, x_t, state):
        """``h_t = a_t ⊙ h_{t-1} + b_t`` with the blocks' pre-activations from one product."""
        W, b = self.weight_ih, self.bias
        k = torch.mm(x_t, W.T) if b is None else torch.addmm(b, x_t, W.T)  # (B, n·H)
        a, b_t = self._coefficients(*k.split(self.units, dim=-1))  # (B, H) each
        return self.State(torch.addcmul(b_t, a, state.h))

    # -- the sequential fast path ---------------------------------------------------------------------
    def fused_reason(self):
        return None  # the gates are computed in torch, so any activation runs

    def fused(self, x, state, lengths=None, backend="auto"):
        """All steps of ``x (B, T, F)``; ``lengths`` ``(B,)`` for right-padded rows (steps past a row's
        length output 0 and keep its state). Returns ``(y (B, T, H), State(h_last))``.

        With the compiled backend and a candidate activation it has (``g``, ``tanh``, ``relu``,
        ``linear``), the gates are computed inside the compiled loop (``minimal_recurrence``);
        otherwise they are computed here and ``elementwise_recurrence`` runs ``h = a ⊙ h + b``.
        """
        y, h = fused_minimal(self.kind, x, state.h, self.weight_ih, self.bias, self.activation, lengths, backend)
        return y, self.State(h)

    # -- the log-space scan ---------------------------------------------------------------------------
    def scan_reason(self, state=None) -> str | None:
        """Why ``scan`` cannot run (with this initial state), or ``None``."""
        if self.activation != G:
            return f"activation {self.activation!r} (the log-space scan needs the positive activation 'g')"
        if state is not None and _log_h0(state.h) is False:
            return "an initial state with entries <= 0 (the log-space scan takes log h0)"
        return None

    def scan(self, x, state, lengths=None):
        """Like ``fused``, as a parallel scan in log space (``scan_reason(state)`` must be ``None``)."""
        log_a, log_b = self._log_coefficients(*self._pre_activations(x))  # (B, T, H) each
        log_h0 = _log_h0(state.h)
        if log_h0 is False:
            raise InputValueError(f"the log-space scan cannot run {self.scan_reason(state)}")
        y = linear_scan_log(log_a, log_b, log_h0)  # (B, T, H)
        if lengths is None:
            return y, self.State(y[:, -1])
        T = x.shape[1]
        lengths = lengths.to(y.device)
        real = torch.arange(T, device=y.device)[None, :, None] < lengths[:, None, None]  # (B, T, 1)
        y = torch.where(real, y, torch.zeros_like(y))  # padded steps output 0 (they never reach real ones)
        h = y.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, self.units)).squeeze(1)  # (B, H): last real step
        return y, self.State(h)


def _log_h0(h0: torch.Tensor) -> torch.Tensor | None | bool:
    """``log h0`` for the scan, ``None`` for a constant zero state (no term), ``False`` when impossible."""
    if bool((h0 > 0).all()):
        return torch.log(h0)
    if not h0.requires_grad and not bool(h0.any()):
        return None
    return False


class MinGRUCell(_MinimalCell):
    """One MinGRU step, ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t`` (module docstring).

    Shapes: ``x_t (B, F)``, ``state = MinGRUState(h (B, H))``; returns ``(h_t, MinGRUState(h_t))``.
    The gates see no ``h_{t-1}``: ``recurrent_mask`` (recurrent dropout) has nothing to act on and is
    not used.

    >>> cell = MinGRUCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape), tuple(cell.weight_ih.shape)
    ((2, 4), (8, 3))
    """

    State = MinGRUState
    n_blocks = 2
    kind = "min_gru"

    quantities = {
        "z": "update gate z_t = σ(W_z x_t + b_z)",
        "h_tilde": "candidate h~_t = g(W_h x_t + b_h)",
        "h": "state h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t",
    }
    gates = frozenset({"z"})

    def step_quantities(self, x_t, state, recurrent_mask=None):
        (W_z, W_h), (b_z, b_h) = self._blocks()
        h_prev = state.h
        z = torch.sigmoid(x_t @ W_z.T + b_z)
        h_tilde = self.act(x_t @ W_h.T + b_h)
        h = (1 - z) * h_prev + z * h_tilde
        return {"z": z, "h_tilde": h_tilde, "h": h}, MinGRUState(h)

    def _coefficients(self, k_z, k_h):
        return min_gru_coefficients(k_z, k_h, self.act)

    def _log_coefficients(self, k_z, k_h):
        return -F.softplus(k_z), -F.softplus(-k_z) + log_g(k_h)  # log(1 - z), log z + log h~


class MinLSTMCell(_MinimalCell):
    """One MinLSTM step, ``h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t`` (module docstring).

    Shapes: ``x_t (B, F)``, ``state = MinLSTMState(h (B, H))``; returns ``(h_t, MinLSTMState(h_t))``.
    The gates see no ``h_{t-1}``: ``recurrent_mask`` (recurrent dropout) is not used.

    >>> cell = MinLSTMCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape), tuple(cell.weight_ih.shape)
    ((2, 4), (12, 3))
    """

    State = MinLSTMState
    n_blocks = 3
    kind = "min_lstm"

    quantities = {
        "f": "forget gate f_t = σ(W_f x_t + b_f)",
        "i": "input gate i_t = σ(W_i x_t + b_i)",
        "f_prime": "f'_t = f_t / (f_t + i_t)",
        "i_prime": "i'_t = i_t / (f_t + i_t)",
        "h_tilde": "candidate h~_t = g(W_h x_t + b_h)",
        "h": "state h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t",
    }
    gates = frozenset({"f", "i", "f_prime", "i_prime"})

    def step_quantities(self, x_t, state, recurrent_mask=None):
        (W_f, W_i, W_h), (b_f, b_i, b_h) = self._blocks()
        h_prev = state.h
        f = torch.sigmoid(x_t @ W_f.T + b_f)
        i = torch.sigmoid(x_t @ W_i.T + b_i)
        h_tilde = self.act(x_t @ W_h.T + b_h)
        f_prime = f / (f + i)
        i_prime = i / (f + i)
        h = f_prime * h_prev + i_prime * h_tilde
        return {"f": f, "i": i, "f_prime": f_prime, "i_prime": i_prime, "h_tilde": h_tilde, "h": h}, MinLSTMState(h)

    def _coefficients(self, k_f, k_i, k_h):
        return min_lstm_coefficients(k_f, k_i, k_h, self.act)

    def _log_coefficients(self, k_f, k_i, k_h):
        d = _log_ratio(k_f, k_i)
        return -F.softplus(-d), -F.softplus(d) + log_g(k_h)  # log f', log i' + log h~


def _log_ratio(k_f: torch.Tensor, k_i: torch.Tensor) -> torch.Tensor:
    """``d = log f - log i``, so that ``f' = σ(d)`` and ``i' = σ(-d)``."""
    return F.softplus(-k_i) - F.softplus(-k_f)


def min_gru_coefficients(k_z: torch.Tensor, k_h: torch.Tensor, act) -> tuple[torch.Tensor, torch.Tensor]:
    """MinGRU's ``h_t = a_t ⊙ h_{t-1} + b_t`` from its pre-activations: ``a = 1 - z``, ``b = z ⊙ act(k_h)``."""
    z = torch.sigmoid(k_z)
    return 1 - z, z * act(k_h)


def min_lstm_coefficients(k_f: torch.Tensor, k_i: torch.Tensor, k_h: torch.Tensor, act) -> tuple[torch.Tensor, torch.Tensor]:
    """MinLSTM's ``h_t = a_t ⊙ h_{t-1} + b_t`` from its pre-activations: ``a = f' = σ(d)``,
    ``b = i' ⊙ act(k_h) = σ(-d) ⊙ act(k_h)`` with ``d = log f - log i``."""
    d = _log_ratio(k_f, k_i)
    return torch.sigmoid(d), torch.sigmoid(-d) * act(k_h)


def candidate_function(activation: str):
    """The candidate activation of a stored name: ``g`` or a recurra activation."""
    return g if activation == G else activations.get(activation)


def fused_minimal(
    kind: str,
    x: torch.Tensor,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    bias: torch.Tensor | None,
    activation: str,
    lengths: torch.Tensor | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """MinGRU (``kind="min_gru"``) or MinLSTM (``"min_lstm"``) over ``x (B, T, F)``: the input projection
    ``k = W x_t + b`` of all steps in one product, then, with the compiled backend and a candidate
    activation it has (``g``, ``tanh``, ``relu``, ``linear``), the gates and states in one compiled loop
    (``minimal_recurrence``); otherwise the coefficients ``a, b`` here and ``elementwise_recurrence``
    runs ``h_t = a_t ⊙ h_{t-1} + b_t``.

    ``weight_ih (n·H, F)``, ``bias (n·H,)`` or ``None`` in the blocks' order (module docstring),
    ``h0 (B, H)``, ``lengths (B,)`` for right-padded rows. Returns ``(y (B, T, H), h_last (B, H))``.
    """
    compiled = backend == "cpp" or (backend == "auto" and use_compiled(x))
    k = input_projection(x, weight_ih, bias)  # (B, T, n·H)
    if compiled and activation in MINIMAL_CANDIDATES:
        return minimal_recurrence(k, h0, kind, activation, lengths)
    blocks = k.split(h0.shape[-1], dim=-1)  # n tensors (B, T, H)
    coefficients = min_gru_coefficients if kind == "min_gru" else min_lstm_coefficients
    a, b = coefficients(*blocks, candidate_function(activation))  # (B, T, H) each
    return elementwise_recurrence(b, a, h0, "linear", lengths, backend, overwrite_b=True)


__all__ = [
    "MinGRUCell",
    "MinGRUState",
    "MinLSTMCell",
    "MinLSTMState",
    "candidate_function",
    "fused_minimal",
    "g",
    "log_g",
    "min_gru_coefficients",
    "min_lstm_coefficients",
]
