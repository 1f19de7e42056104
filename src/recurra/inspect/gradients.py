"""Gradient flow through time: how much of the loss's gradient reaches each step of a recurrent layer.

For a recurrent layer with state ``h_t`` (``t = 0`` the initial state, ``t = 1..T`` the steps) inside
a model with loss ``L``::

    g_t = ‖∂L/∂h_t‖                (Frobenius norm over the batch: ‖·‖ of the (B, H) gradient)
    J   = ∂h_T/∂h_0 = Π_{t=T..1} ∂h_t/∂h_{t-1}      (one (H, H) matrix per sequence)

``∂L/∂h_t`` is the total derivative: everything the loss receives through ``h_t``, by the recurrence
and (with ``return_sequences``) by the step's own output. In a simple RNN
``∂h_t/∂h_{t-1} = diag(1 - h_t²) W_hh``, so ``g_t`` shrinks (or grows) geometrically with the
distance ``T - t``: the vanishing (exploding) gradient. In an LSTM the cell state carries
``∂c_t/∂c_{t-1} = diag(f_t)`` and the forget gate decides.

``gradient_flow`` runs the model once with the layer on its reference loop (the cell's equations,
the same numbers as its fast kernels up to rounding), keeps every ``h_t``, and takes the gradients
by autograd; the model's parameters and their ``.grad`` are left untouched.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, InputValueError
from ..layers.recurrent import Recurrent
from ..train import losses as losses_mod
from . import _plot
from ._common import as_tensor, dtype_of, find_recurrent, inference, layer_input, require_built
from ._record import recording


@dataclass
class GradientFlow:
    """The result of ``gradient_flow``.

    - ``grad_norm (T + 1,)``: ``‖∂L/∂h_t‖`` for ``t = 0..T`` (``t = 0``: the initial state), ``h``
      the layer's output state (the LSTM's ``a``), steps in the order the layer runs them (reversed
      with ``go_backwards``); 0 at masked steps;
    - ``grad_norms``: the same for every state tensor of the cell (LSTM: ``"h"`` and ``"c"``);
    - ``jacobian_norm``: ``‖∂h_T/∂h_0‖₂`` (largest singular value), averaged over the first
      ``jacobian_samples`` sequences; ``state_jacobian_norm``: the same for the whole state
      (``[h; c]`` for an LSTM; equal to ``jacobian_norm`` for one-tensor states);
    - ``loss``: the loss ``L`` of the batch.
    """

    layer: str
    output_state: str
    grad_norm: np.ndarray
    grad_norms: dict[str, np.ndarray]
    loss: float
    jacobian_norm: float | None = None
    state_jacobian_norm: float | None = None
    jacobian_samples: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> np.ndarray:
        """``t = 0..T``, the x-axis of ``grad_norm``."""
        return np.arange(len(self.grad_norm))

    def decay(self, over: int = 100) -> float:
        """``‖∂L/∂h_T‖ / ‖∂L/∂h_{T - over}‖``: how much the gradient shrinks over ``over`` steps back
        from the last one (``> 1``: it vanishes; ``< 1``: it grows). ``inf`` when it reaches 0."""
        T = len(self.grad_norm) - 1
        if isinstance(over, bool) or not isinstance(over, int) or not 0 < over <= T:
            raise ConfigError(f"expected over in [1, T] = [1, {T}], got {over!r}")
        last, early = float(self.grad_norm[T]), float(self.grad_norm[T - over])
        if early == 0.0:
            return math.inf
        return last / early

    def orders_of_decay(self, over: int = 100) -> float:
        """``log10(decay(over))``: orders of magnitude lost over ``over`` steps."""
        d = self.decay(over)
        return math.inf if d == math.inf else math.log10(d) if d > 0 else -math.inf

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "layer": self.layer,
            "output_state": self.output_state,
            "grad_norm": [float(v) for v in self.grad_norm],
            "grad_norms": {k: [float(v) for v in a] for k, a in self.grad_norms.items()},
            "loss": self.loss,
            "jacobian_norm": self.jacobian_norm,
            "state_jacobian_norm": self.state_jacobian_norm,
            "jacobian_samples": self.jacobian_samples,
        }


def _output_of(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _rows(value: Any, n: int) -> Any:
    if isinstance(value, torch.Tensor):
        return value[:n]
    if isinstance(value, (list, tuple)):
        return [_rows(v, n) for v in value]
    return value


def gradient_flow(
    model: nn.Module,
    x: Any,
    y: Any,
    *,
    loss: Any = "mse",
    layer: Recurrent | None = None,
    jacobian: bool = True,
    jacobian_samples: int = 8,
) -> GradientFlow:
    """``‖∂L/∂h_t‖`` for every step ``t`` of a recurrent layer, and ``‖∂h_T/∂h_0‖`` (module docstring).

    ``model``: a recurrent layer, or any model containing one (``Sequential``, a ``Model`` subclass,
    an ``nn.Module``); ``layer=`` picks one of several (default: the first). ``x``, ``y``: one batch
    of inputs and targets (arrays or tensors); ``loss``: a loss name (``"mse"``,
    ``"sparse_categorical_crossentropy"`` ...), a ``recurra`` loss or a callable
    ``(y_pred, y_true)``. The model runs in eval mode (no dropout) and its carried states, parameters
    and gradients are left as they were.

    ``jacobian=True`` also computes ``J = ∂s_T/∂s_0`` for the first ``jacobian_samples`` sequences
    (one backward pass per state unit, by vectorised autograd): its largest singular value for the
    output state, ``‖∂h_T/∂h_0‖₂``, and for the whole state. ``h_0`` is the layer's initial state in
    this call (zeros unless given).
    """
    target = find_recurrent(model, layer, what="gradient_flow")
    loss_fn = losses_mod.get(loss)
    if isinstance(jacobian_samples, bool) or not isinstance(jacobian_samples, int) or jacobian_samples < 1:
        raise ConfigError(f"expected jacobian_samples to be a positive integer, got {jacobian_samples!r}")
    dtype = dtype_of(model)
    xt = as_tensor(x, "x", dtype)
    yt = as_tensor(y, "y", dtype)
    if xt.shape[0] != yt.shape[0]:
        raise InputValueError(f"expected x and y with the same number of samples, got {xt.shape[0]} and {yt.shape[0]}")

    with inference(model), torch.enable_grad(), recording(target) as rec:
        out = _output_of(model(xt))
        L = loss_fn(out, yt)
    require_built(target, "gradient_flow")
    if L.dim() != 0:
        raise InputValueError(f"expected the loss to be one number, got a tensor of shape {tuple(L.shape)}")
    if not L.requires_grad:
        raise InputValueError("the loss does not depend on the recurrent layer's states (no gradient reaches them)")
    fields = type(rec.states[0])._fields
    flat = [s for state in rec.states for s in state]  # (T + 1)·len(fields) tensors (B, H)
    grads = torch.autograd.grad(L, flat, allow_unused=True)
    norms = np.zeros((len(rec.states), len(fields)))
    for i, g in enumerate(grads):
        if g is not None:
            norms[i // len(fields), i % len(fields)] = float(torch.linalg.vector_norm(g.double()))
    output_state = getattr(target.cell, "output_state", "h")
    grad_norms = {f: norms[:, k].copy() for k, f in enumerate(fields)}
    result = GradientFlow(
        layer=type(target).__name__,
        output_state=output_state,
        grad_norm=grad_norms[output_state],
        grad_norms=grad_norms,
        loss=float(L.detach()),
    )
    if jacobian:
        n = min(jacobian_samples, xt.shape[0])
        call = layer_input(model, target, xt[:n])
        state_norm, out_norm = jacobian_norms(target, call.x, **{k: _rows(v, n) for k, v in call.kwargs.items()})
        result.jacobian_norm, result.state_jacobian_norm, result.jacobian_samples = out_norm, state_norm, n
    return result


def state_jacobian(layer: Recurrent, x: torch.Tensor, **kwargs: Any) -> tuple[torch.Tensor, tuple[str, ...], list[int]]:
    """``J = ∂s_T/∂s_0`` for each sequence of ``x (B, T, F)``: ``(B, D, D)`` with ``s = [h; c; ...]`` the
    layer's state tensors side by side (``D`` their total size), the state's field names, and each
    field's size. ``kwargs``: the layer call's ``mask`` / ``lengths`` / ``initial_state``."""
    require_built(layer, "state_jacobian")
    with inference(layer), torch.enable_grad(), recording(layer) as rec:
        layer(x, **kwargs)
    s0, sT = list(rec.states[0]), list(rec.final)
    sizes = [s.shape[-1] for s in sT]
    D, B = sum(sizes), x.shape[0]
    eye = torch.eye(D, dtype=sT[0].dtype, device=sT[0].device)  # row i picks output coordinate i
    seeds = eye[:, None, :].expand(D, B, D)  # (D, B, D): the same coordinate for every sequence
    grad_outputs = tuple(seeds.split(sizes, -1))  # per field (D, B, d_k)
    outputs = [o if o.requires_grad else o + 0 * s0[0].sum() for o in sT]  # a state that ignores s_0 still has a graph
    try:
        rows = torch.autograd.grad(outputs, s0, grad_outputs=grad_outputs, is_grads_batched=True, allow_unused=True)
    except RuntimeError:  # an operation without a batching rule: one backward pass per row instead
        per_row = [
            torch.autograd.grad(outputs, s0, grad_outputs=tuple(g[i] for g in grad_outputs), retain_graph=True, allow_unused=True)
            for i in range(D)
        ]
        rows = tuple(
            None if per_row[0][k] is None else torch.stack([r[k] for r in per_row]) for k in range(len(s0))
        )  # per field (D, B, d_k)
    blocks = [torch.zeros(D, B, d, dtype=eye.dtype, device=eye.device) if r is None else r for r, d in zip(rows, sizes)]
    J = torch.cat(blocks, -1).permute(1, 0, 2)  # (D, B, D) -> (B, D, D): J[b, i, j] = ∂s_T[b, i] / ∂s_0[b, j]
    return J.detach(), type(rec.final)._fields, sizes


def jacobian_norms(layer: Recurrent, x: torch.Tensor, **kwargs: Any) -> tuple[float, float]:
    """``(‖∂s_T/∂s_0‖₂, ‖∂h_T/∂h_0‖₂)`` averaged over the sequences of ``x``; ``h`` the output state."""
    J, fields, sizes = state_jacobian(layer, x, **kwargs)
    k = fields.index(getattr(layer.cell, "output_state", "h"))
    a = sum(sizes[:k])
    Jh = J[:, a : a + sizes[k], a : a + sizes[k]]  # (B, H, H)
    spectral = lambda M: float(torch.linalg.matrix_norm(M.double(), ord=2).mean())  # noqa: E731
    return spectral(J), spectral(Jh)


def plot_gradient_flow(
    flows: GradientFlow | Mapping[str, GradientFlow],
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    state: str | None = None,
) -> Any:
    """``‖∂L/∂h_t‖`` against ``t`` on a log scale, one curve per flow (a mapping gives the labels).
    ``state="c"`` plots another state tensor (where the cell has it). Writes ``path`` (``.png``,
    ``.svg``, ``.pdf``) when given; returns the matplotlib ``Figure``."""
    if isinstance(flows, GradientFlow):
        flows = {flows.layer: flows}
    fig = _plot.new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    for label, flow in flows.items():
        values = flow.grad_norm if state is None else flow.grad_norms.get(state)
        if values is None:
            raise ConfigError(f"{label} has no state {state!r}; it has {', '.join(flow.grad_norms)}")
        shown = np.where(values > 0, values, np.nan)  # log scale: 0 (masked steps, no path) left out
        ax.semilogy(flow.steps, shown, label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel(f"‖∂L/∂{state or 'h'}_t‖")
    ax.set_title(title or "Gradient reaching each step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    _plot.save(fig, path)
    return fig


__all__ = ["GradientFlow", "gradient_flow", "jacobian_norms", "plot_gradient_flow", "state_jacobian"]
