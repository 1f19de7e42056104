"""The LSTM's compiled CPU loop (``csrc/lstm_recurrence.cpp``), forward and backward.

For torch's LSTM (gate order ``i, f, g, o``; recurra's ``u, f, c~, o``), with ``b = b_ih + b_hh``::

    z_t = W_ih x_t + b + U h_{t-1}                (B, 4H)   per step, on register tiles (AVX2 / AVX-512;
                                                            elsewhere BLAS products)
    i_t = σ(z_i)    f_t = σ(z_f)    g_t = tanh(z_g)    o_t = σ(z_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t               h_t = o_t ⊙ tanh(c_t)

Backward, with ``d_t = ∂L/∂h_t`` (the gradient of the output at ``t`` plus what step ``t + 1`` sends)
and ``e_t = ∂L/∂c_t`` from step ``t + 1``::

    ∂c_t = e_t + d_t ⊙ o_t ⊙ (1 - tanh²(c_t))
    ∂z_i = ∂c_t ⊙ g_t ⊙ i_t (1 - i_t)             ∂z_f = ∂c_t ⊙ c_{t-1} ⊙ f_t (1 - f_t)
    ∂z_g = ∂c_t ⊙ i_t ⊙ (1 - g_t²)                ∂z_o = d_t ⊙ tanh(c_t) ⊙ o_t (1 - o_t)
    e_{t-1} = ∂c_t ⊙ f_t                          ∂L/∂h_{t-1} = ∂z_t U
    ∂W_ih = Σ_t ∂z_tᵀ x_t     ∂U = Σ_t ∂z_tᵀ h_{t-1}     ∂b = Σ_t ∂z_t     ∂x_t = ∂z_t W_ih

The loop runs over time-major rows as torch's ``PackedSequence`` holds them: a packed batch (masks)
runs over the rows still active at each step (``lstm_packed_sequence``), a dense one is the case of
every row active (``lstm_time_major``, ``lstm_sequence``; a batch-first input and its output's gradient are
read where they lie). Each thread runs its own batch rows through every step; the weights' gradients are
added up step by step where a thread's copy fits the second-level cache, else computed as products over
all steps after the loop (``csrc/lstm_recurrence.cpp``). The kernel is built on first use; without a
compiler, or off the CPU, or for other dtypes than float32 and float64, or with torch's ``proj_size``,
``LSTMCell`` and ``recurra.nn.LSTM`` use ``torch.lstm`` (``recurra.cells.lstm.fused_lstm_kernel`` says
which runs).
"""

from __future__ import annotations

from functools import partial

import torch
from torch.autograd.function import once_differentiable

from .extensions import CompiledExtension, wide_build_variants


def _register_fake_kernels() -> None:
    """The ops' output shapes, for torch.compile and torch.export (which trace with fake tensors)."""

    @torch.library.register_fake("recurra_lstm::lstm_forward")
    def _forward(x, batch_sizes, h0, c0, w_ih, w_hh, b, save):
        N, H = (x.shape[0] * x.shape[1] if x.dim() == 3 else x.shape[0]), h0.shape[1]  # x (N, F) or (T, B, F)
        if save:
            saved = (x.new_empty(N, 4 * H), x.new_empty(N, 2 * H))
        else:
            saved = (x.new_empty(0), x.new_empty(0))
        return x.new_empty(N, H), h0.new_empty(h0.shape), c0.new_empty(c0.shape), *saved

    @torch.library.register_fake("recurra_lstm::lstm_backward")
    def _backward(grad_y, grad_h, grad_c, x, y, gates, cells, batch_sizes, h0, c0, w_ih, w_hh, bias, input_grad):
        dx = x.new_empty(x.shape) if input_grad else x.new_empty(0)
        db = y.new_empty(w_ih.shape[0]) if bias else y.new_empty(0)
        return dx, h0.new_empty(h0.shape), c0.new_empty(c0.shape), w_ih.new_empty(w_ih.shape), w_hh.new_empty(w_hh.shape), db


EXTENSION = CompiledExtension(
    "lstm_recurrence.cpp",
    op="recurra_lstm.lstm_forward",
    variants=partial(wide_build_variants, "recurra_lstm_recurrence"),
    what="LSTM loop",
    fallback="the LSTM uses torch.lstm instead",
    on_load=_register_fake_kernels,
)


def usable(x: torch.Tensor) -> bool:
    """Whether the compiled loop can run on ``x`` (builds it on the first call); not in an ONNX export,
    where ``torch.lstm`` runs (it exports as ONNX's LSTM operator)."""
    if torch.onnx.is_in_onnx_export():
        return False
    return x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and EXTENSION.available()


def release_buffers() -> int:
    """Free the large buffers (2 MiB and up) the compiled loop keeps for its next call of the same sizes;
    the bytes freed (0 when the loop was never built). A training loop asks for the same sizes at every
    step, and reusing the blocks saves faulting fresh memory in each time (``csrc/large_buffers.h``)."""
    if EXTENSION.state is not True:
        return 0
    return int(torch.ops.recurra_lstm.release_buffers())


class _LSTMRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, batch_sizes, h0, c0, w_ih, w_hh, b, steps):
        """``steps``: 0 for a packed batch (``y (N, H)``), else T of a dense one (``y (T, B, H)``, whose gradient
        the backward then reads where it lies: the transpose of a batch-first gradient needs no copy)."""
        has_bias = b is not None
        bias = b if has_bias else x.new_empty(0)
        y, h_last, c_last, gates, cells = torch.ops.recurra_lstm.lstm_forward(x, batch_sizes, h0, c0, w_ih, w_hh, bias, True)
        ctx.save_for_backward(x, y, gates, cells, batch_sizes, h0, c0, w_ih, w_hh)
        ctx.has_bias = has_bias
        ctx.set_materialize_grads(False)
        return (y.view(steps, -1, y.shape[1]) if steps else y), h_last, c_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, grad_h, grad_c):
        x, y, gates, cells, batch_sizes, h0, c0, w_ih, w_hh = ctx.saved_tensors
        if grad_y is None and grad_h is None and grad_c is None:
            return (None,) * 8
        empty = y.new_empty(0)
        gh, gc = (empty if g is None else g.contiguous() for g in (grad_h, grad_c))
        if grad_y is None:
            gy = empty
        elif grad_y.dim() == 3 and grad_y.stride(2) == 1:  # (T, B, H) as it lies
            gy = grad_y
        else:
            gy = grad_y.contiguous().view(y.shape)
        dx, dh0, dc0, dw_ih, dw_hh, db = torch.ops.recurra_lstm.lstm_backward(
            gy, gh, gc, x, y, gates, cells, batch_sizes, h0, c0, w_ih, w_hh, ctx.has_bias, ctx.needs_input_grad[0]
        )
        return (dx if ctx.needs_input_grad[0] else None), None, dh0, dc0, dw_ih, dw_hh, (db if ctx.has_bias else None), None


def lstm_packed_sequence(
    data: torch.Tensor,
    batch_sizes: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None,
    bias_hh: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(y (N, H), h_last (B, H), c_last (B, H))`` over a packed batch (``torch.nn.utils.rnn.PackedSequence``'s
    ``data (N, F)`` and ``batch_sizes (T,)``: time-major rows, sorted by decreasing length; ``h0``, ``c0``
    ``(B, H)`` in that order), ``h_last`` and ``c_last`` each row's states after its own last step (equations
    above); weights in torch's layout (``weight_ih (4H, F)``, ``weight_hh (4H, H)``, biases ``(4H,)`` or
    ``None``; either bias alone is the sum)."""
    return _run(data, batch_sizes, 0, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)


def lstm_time_major(
    x: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None,
    bias_hh: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(y (T, B, H), h_T (B, H), c_T (B, H))`` for a dense time-major batch ``x (T, B, F)``: the packed loop
    with every row active at every step; weights as for ``lstm_packed_sequence``."""
    T, B, _ = x.shape
    sizes = torch.full((T,), B, dtype=torch.int64)  # every row active at every step
    if x.stride(2) != 1:
        x = x.contiguous()
    return _run(x, sizes, T, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)  # x read where it lies


def lstm_sequence(
    x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, *weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(y (B, T, H), h_T (B, H), c_T (B, H))`` for a dense batch ``x (B, T, F)`` (``y`` a transposed view of the
    loop's time-major output); ``weights`` as for ``lstm_packed_sequence``."""
    y, h, c = lstm_time_major(x.transpose(0, 1), h0, c0, *weights)
    return y.transpose(0, 1), h, c  # (B, T, H)


def _run(
    x: torch.Tensor,
    batch_sizes: torch.Tensor,
    steps: int,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None,
    bias_hh: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loop over time-major rows, ``x (N, F)`` or, for a dense batch, ``(T, B, F)`` with unit strides along F
    (the transpose of a batch-first input: the loop reads it where it lies); ``y`` as ``(steps, B, H)`` when
    ``steps`` (a dense batch), else ``(N, H)``."""
    biases = [b for b in (bias_ih, bias_hh) if b is not None]
    b = None if not biases else (biases[0] if len(biases) == 1 else biases[0] + biases[1]).contiguous()  # (4H,)
    batch_sizes = batch_sizes.to(device="cpu", dtype=torch.int64).contiguous()
    h0, c0, w_ih, w_hh = (t.contiguous() for t in (h0, c0, weight_ih, weight_hh))
    x = x if x.dim() == 3 else x.contiguous()
    if c0 is h0:  # one tensor for both (zeros, say): torch.compile traces no autograd.Function given one input twice
        c0 = c0.clone()
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, h0, c0, w_ih, w_hh, b)):
        return _LSTMRecurrence.apply(x, batch_sizes, h0, c0, w_ih, w_hh, b, steps)
    y, h_last, c_last, _, _ = torch.ops.recurra_lstm.lstm_forward(
        x, batch_sizes, h0, c0, w_ih, w_hh, b if b is not None else x.new_empty(0), False
    )
    return (y.view(steps, -1, y.shape[1]) if steps else y), h_last, c_last
