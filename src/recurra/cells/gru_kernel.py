"""The GRU's compiled CPU loop (``csrc/gru_recurrence.cpp``), forward and backward.

For the reset-after GRU with torch's gate order ``r, z, n`` (``GRUCell``'s fused form)::

    gi_t = W_ih x_t + b_ih                        (B, 3H)   every step at once, one product
    gh_t = U h_{t-1} + b_hh                       (B, 3H)   one product per step
    r_t  = σ(gi_r + gh_r)     z_t = σ(gi_z + gh_z)     n_t = tanh(gi_n + r_t ⊙ gh_n)
    h_t  = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

Backward, with ``d_t = ∂L/∂h_t`` (the gradient of the output at ``t`` plus what step ``t + 1`` sends)::

    ∂a_n = d_t ⊙ (1 - z_t) ⊙ (1 - n_t²)           a_n = gi_n + r_t ⊙ gh_n
    ∂a_r = ∂a_n ⊙ gh_n ⊙ r_t (1 - r_t)            ∂a_z = d_t ⊙ (h_{t-1} - n_t) ⊙ z_t (1 - z_t)
    ∂gi_t = [∂a_r, ∂a_z, ∂a_n]     ∂gh_t = [∂a_r, ∂a_z, r_t ⊙ ∂a_n]
    ∂L/∂h_{t-1} += d_t ⊙ z_t + ∂gh_t U            ∂U = Σ_t ∂gh_tᵀ h_{t-1}     ∂b_hh = Σ_t ∂gh_t

The loop runs over time-major rows as torch's ``PackedSequence`` holds them: a packed batch (masks)
runs over the rows still active at each step (``gru_packed_sequence``), a dense one is the case of
every row active (``gru_sequence``). torch's CPU GRU computes the same with a dozen tensor operations
per step; at the usual widths their overhead, not the arithmetic, sets the time, and one loop over the
gates is several times faster (``benchmarks/gru.py``). The kernel is built on first use; without a compiler, or off
the CPU, or for other dtypes than float32 and float64, ``GRUCell`` uses ``torch.gru``.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .extensions import CompiledExtension, cpu_build_variants


def _register_fake_kernels() -> None:
    """The ops' output shapes, for torch.compile and torch.export (which trace with fake tensors)."""

    @torch.library.register_fake("recurra_gru::gru_forward")
    def _forward(gi, batch_sizes, h0, u, b_hh, save):
        N, H = gi.shape[0], h0.shape[1]
        return gi.new_empty(N, H), h0.new_empty(h0.shape), gi.new_empty(N, 4 * H) if save else gi.new_empty(0)

    @torch.library.register_fake("recurra_gru::gru_backward")
    def _backward(grad_y, grad_h, y, saved, batch_sizes, h0, u, bias):
        N, H = y.shape
        return y.new_empty(N, 3 * H), h0.new_empty(h0.shape), u.new_empty(u.shape), y.new_empty(3 * H) if bias else y.new_empty(0)


EXTENSION = CompiledExtension(
    "gru_recurrence.cpp",
    op="recurra_gru.gru_forward",
    variants=partial(cpu_build_variants, "recurra_gru_recurrence"),
    what="GRU loop",
    fallback="the GRU uses torch.gru instead",
    on_load=_register_fake_kernels,
)


def usable(x: torch.Tensor) -> bool:
    """Whether the compiled loop can run on ``x`` (builds it on the first call); not in an ONNX export,
    where ``torch.gru`` runs (it exports as ONNX's GRU operator)."""
    if torch.onnx.is_in_onnx_export():
        return False
    return x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and EXTENSION.available()


class _GRURecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gi, batch_sizes, h0, u, b_hh):
        has_bias = b_hh is not None
        bias = b_hh if has_bias else gi.new_empty(0)
        y, h_last, saved = torch.ops.recurra_gru.gru_forward(gi, batch_sizes, h0, u, bias, True)
        ctx.save_for_backward(y, saved, batch_sizes, h0, u)
        ctx.has_bias = has_bias
        ctx.set_materialize_grads(False)
        return y, h_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, grad_h):
        y, saved, batch_sizes, h0, u = ctx.saved_tensors
        if grad_y is None and grad_h is None:
            return None, None, None, None, None
        empty = y.new_empty(0)
        gy = empty if grad_y is None else grad_y.contiguous()
        gh = empty if grad_h is None else grad_h.contiguous()
        dgi, dh0, du, db = torch.ops.recurra_gru.gru_backward(gy, gh, y, saved, batch_sizes, h0, u, ctx.has_bias)
        return dgi, None, dh0, du, (db if ctx.has_bias else None)


def gru_packed_sequence(
    data: torch.Tensor,
    batch_sizes: torch.Tensor,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias: torch.Tensor | None,
    recurrent_bias: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y (N, H), h_last (B, H))`` over a packed batch (``torch.nn.utils.rnn.PackedSequence``'s
    ``data (N, F)`` and ``batch_sizes (T,)``: time-major rows, sorted by decreasing length; ``h0 (B, H)``
    in that order), ``h_last`` each row's state after its own last step (equations above); weights in
    torch's layout (``weight_ih (3H, F)``, ``weight_hh (3H, H)``, biases ``(3H,)`` or ``None``)."""
    gi = F.linear(data, weight_ih, bias).contiguous()  # (N, 3H)
    batch_sizes = batch_sizes.to(device="cpu", dtype=torch.int64).contiguous()
    h0, u = h0.contiguous(), weight_hh.contiguous()
    b_hh = None if recurrent_bias is None else recurrent_bias.contiguous()
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, h0, u, b_hh)):
        return _GRURecurrence.apply(gi, batch_sizes, h0, u, b_hh)
    y, h_last, _ = torch.ops.recurra_gru.gru_forward(gi, batch_sizes, h0, u, b_hh if b_hh is not None else gi.new_empty(0), False)
    return y, h_last


def gru_sequence(x: torch.Tensor, h0: torch.Tensor, *weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y (B, T, H), h_T (B, H))`` for a dense batch ``x (B, T, F)``: the packed loop with every row
    active at every step; ``weights`` as for ``gru_packed_sequence``."""
    B, T, F_ = x.shape
    data = x.transpose(0, 1).reshape(T * B, F_)  # (T·B, F), time-major
    y, h = gru_packed_sequence(data, torch.full((T,), B, dtype=torch.int64), h0, *weights)
    return y.view(T, B, -1).transpose(0, 1).contiguous(), h  # (B, T, H)
