"""``torch.lstm`` as one opaque operator for traced graphs (``torch.compile``, ``torch.export``).

Traced, ``torch.lstm`` is decomposed: on the CPU, torch 2.13's inductor lowers it to
``aten.mkldnn_rnn_layer`` and fails in training graphs. ``recurra::lstm_sequence`` keeps the whole
sequence as one call: the forward runs ``torch.lstm`` itself, the backward
(``recurra::lstm_sequence_backward``) runs it again with gradients and takes them with
``torch.autograd.grad`` (one more forward per step in compiled training; eager calls do not come here).
Their fake kernels give the tracers the output shapes. Equations: ``recurra.cells.lstm.fused_lstm``.

With ``lengths (B,)``, each row of the padded ``x`` runs to its own length (packed inside the operator,
where the packed shapes are hidden from the tracer): ``y`` is 0 after each length, and ``h_T``, ``c_T`` are
each row's states at its last step (``recurra.nn.LSTM`` called with ``lengths=`` or ``mask=``, compiled).
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


def _run(
    x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], has_biases: bool, lengths: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    if lengths is None:
        y, h, c = torch.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, has_biases, 1, 0.0, False, False, False)
        return y, h[0], c[0]
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    order, back = packed.sorted_indices.to(x.device), packed.unsorted_indices.to(x.device)
    hx = (h0.index_select(0, order).unsqueeze(0), c0.index_select(0, order).unsqueeze(0))
    data, h, c = torch.lstm(packed.data, packed.batch_sizes, hx, weights, has_biases, 1, 0.0, False, False)
    y, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
                               total_length=x.shape[0])  # fmt: skip
    return y, h[0].index_select(0, back), c[0].index_select(0, back)


@contextlib.contextmanager
def _autograd_recorded():
    keys = torch._C.DispatchKey
    with torch._C._SetExcludeDispatchKeyGuard(keys.AutogradFunctionality, False), \
         torch._C._SetExcludeDispatchKeyGuard(keys.ADInplaceOrView, False):  # fmt: skip
        yield


@torch.library.custom_op("recurra::lstm_sequence", mutates_args=())
def lstm_sequence(
    x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], has_biases: bool, lengths: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """``(y (T, B, P), h_T (B, P), c_T (B, H))`` of ``torch.lstm`` over a dense time-major ``x (T, B, F)``;
    ``weights`` in ``torch.lstm``'s order (``w_ih, w_hh[, b_ih, b_hh][, w_hr]``); each row to its length
    when ``lengths (B,)`` is given (module docstring)."""
    y, h, c = _run(x, h0, c0, weights, has_biases, lengths)
    return y, h.clone(), c.clone()


@lstm_sequence.register_fake
def _lstm_sequence_shapes(x, h0, c0, weights, has_biases, lengths=None):
    T, B = x.shape[0], x.shape[1]
    return x.new_empty(T, B, h0.shape[1]), h0.new_empty(h0.shape), c0.new_empty(c0.shape)


@torch.library.custom_op("recurra::lstm_sequence_backward", mutates_args=())
def lstm_sequence_backward(
    grad_y: Tensor,
    grad_h: Tensor,
    grad_c: Tensor,
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weights: list[Tensor],
    has_biases: bool,
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor, list[Tensor]]:
    """The gradients of ``lstm_sequence``'s inputs: its forward again, with autograd (which a custom op's
    kernel runs below: the guards let autograd record this one inner computation)."""
    with _autograd_recorded(), torch.enable_grad():
        leaves = [t.detach().requires_grad_() for t in (x, h0, c0, *weights)]
        outputs = _run(leaves[0], leaves[1], leaves[2], leaves[3:], has_biases, lengths)
        grads = torch.autograd.grad(outputs, leaves, (grad_y, grad_h, grad_c), allow_unused=True)
    grads = [torch.zeros_like(leaf) if g is None else g for g, leaf in zip(grads, leaves)]
    return grads[0], grads[1], grads[2], grads[3:]


@lstm_sequence_backward.register_fake
def _lstm_sequence_backward_shapes(grad_y, grad_h, grad_c, x, h0, c0, weights, has_biases, lengths=None):
    return torch.empty_like(x), torch.empty_like(h0), torch.empty_like(c0), [torch.empty_like(w) for w in weights]


def _setup_context(ctx, inputs, output):
    x, h0, c0, weights, has_biases, lengths = inputs
    ctx.save_for_backward(x, h0, c0, *weights)
    ctx.has_biases, ctx.lengths = has_biases, lengths


def _backward(ctx, grad_y, grad_h, grad_c):
    x, h0, c0, *weights = ctx.saved_tensors
    dx, dh0, dc0, dweights = lstm_sequence_backward(grad_y, grad_h, grad_c, x, h0, c0, weights, ctx.has_biases, ctx.lengths)
    # one gradient (or None) per input the call kept: torch's dispatcher drops an argument equal to its default
    return (dx, dh0, dc0, dweights, None) + (() if ctx.lengths is None else (None,))


lstm_sequence.register_autograd(_backward, setup_context=_setup_context)

__all__ = ["lstm_sequence", "lstm_sequence_backward"]
