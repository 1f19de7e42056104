"""``torch.lstm`` as one opaque operator for traced graphs (``torch.compile``, ``torch.export``).

Traced, ``torch.lstm`` is decomposed: on the CPU, torch 2.13's inductor lowers it to
``aten.mkldnn_rnn_layer`` and fails in training graphs. ``recurra::lstm_sequence`` keeps the whole
sequence as one call: the forward runs ``torch.lstm`` itself, the backward
(``recurra::lstm_sequence_backward``) runs it again with gradients and takes them with
``torch.autograd.grad`` (one more forward per step in compiled training; eager calls do not come here).
Their fake kernels give the tracers the output shapes. Equations: ``recurra.cells.lstm.fused_lstm``.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor


def _run(x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], has_biases: bool) -> tuple[Tensor, Tensor, Tensor]:
    y, h, c = torch.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, has_biases, 1, 0.0, False, False, False)
    return y, h[0], c[0]


@contextlib.contextmanager
def _autograd_recorded():
    keys = torch._C.DispatchKey
    with torch._C._SetExcludeDispatchKeyGuard(keys.AutogradFunctionality, False), \
         torch._C._SetExcludeDispatchKeyGuard(keys.ADInplaceOrView, False):  # fmt: skip
        yield


@torch.library.custom_op("recurra::lstm_sequence", mutates_args=())
def lstm_sequence(x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], has_biases: bool) -> tuple[Tensor, Tensor, Tensor]:
    """``(y (T, B, P), h_T (B, P), c_T (B, H))`` of ``torch.lstm`` over a dense time-major ``x (T, B, F)``;
    ``weights`` in ``torch.lstm``'s order (``w_ih, w_hh[, b_ih, b_hh][, w_hr]``)."""
    y, h, c = _run(x, h0, c0, weights, has_biases)
    return y, h.clone(), c.clone()


@lstm_sequence.register_fake
def _lstm_sequence_shapes(x, h0, c0, weights, has_biases):
    T, B = x.shape[0], x.shape[1]
    return x.new_empty(T, B, h0.shape[1]), h0.new_empty(h0.shape), c0.new_empty(c0.shape)


@torch.library.custom_op("recurra::lstm_sequence_backward", mutates_args=())
def lstm_sequence_backward(
    grad_y: Tensor, grad_h: Tensor, grad_c: Tensor, x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], has_biases: bool
) -> tuple[Tensor, Tensor, Tensor, list[Tensor]]:
    """The gradients of ``lstm_sequence``'s inputs: its forward again, with autograd (which a custom op's
    kernel runs below: the guards let autograd record this one inner computation)."""
    with _autograd_recorded(), torch.enable_grad():
        leaves = [t.detach().requires_grad_() for t in (x, h0, c0, *weights)]
        outputs = _run(leaves[0], leaves[1], leaves[2], leaves[3:], has_biases)
        grads = torch.autograd.grad(outputs, leaves, (grad_y, grad_h, grad_c), allow_unused=True)
    grads = [torch.zeros_like(leaf) if g is None else g for g, leaf in zip(grads, leaves)]
    return grads[0], grads[1], grads[2], grads[3:]


@lstm_sequence_backward.register_fake
def _lstm_sequence_backward_shapes(grad_y, grad_h, grad_c, x, h0, c0, weights, has_biases):
    return torch.empty_like(x), torch.empty_like(h0), torch.empty_like(c0), [torch.empty_like(w) for w in weights]


def _setup_context(ctx, inputs, output):
    x, h0, c0, weights, has_biases = inputs
    ctx.save_for_backward(x, h0, c0, *weights)
    ctx.has_biases = has_biases


def _backward(ctx, grad_y, grad_h, grad_c):
    x, h0, c0, *weights = ctx.saved_tensors
    dx, dh0, dc0, dweights = lstm_sequence_backward(grad_y, grad_h, grad_c, x, h0, c0, weights, ctx.has_biases)
    return dx, dh0, dc0, dweights, None


lstm_sequence.register_autograd(_backward, setup_context=_setup_context)

__all__ = ["lstm_sequence", "lstm_sequence_backward"]
