"""Gate and state traces: every gate and state of a recurrent layer at every step, as arrays and heatmaps.

``trace`` recomputes them: it runs the cell's reference step over the sequence with the layer's own
weights, in ``torch.no_grad``, through ``step_quantities``, the method in which each cell writes its
equations once and names every gate (``step`` is the same code). The layer itself is not called
and not changed, so whatever kernel it normally runs (torch's fused LSTM, the compiled IndRNN loop,
the log-space scan ...) gives exactly what it gave before; the tests check that the traced states
equal the layer's fast-path outputs.

Quantities per family (each ``(B, T, H)``):

========================  ==========================================================================
cell                      quantities
========================  ==========================================================================
LSTM                      ``f`` forget, ``u`` update (input), ``c_tilde`` candidate, ``c`` cell,
                          ``o`` output gate, ``a`` hidden state (the output)
GRU                       ``z`` update, ``r`` reset, ``h_tilde`` candidate, ``h`` state
SimpleRNN                 ``h`` (and ``y`` for ``feedback="indirect"`` / ``"complete"``)
IndRNN                    ``h``
MinGRU                    ``z`` update, ``h_tilde`` candidate, ``h``
MinLSTM                   ``f``, ``i``, ``f_prime``, ``i_prime`` (normalised gates), ``h_tilde``, ``h``
Reservoir / ESN           ``h``: the reservoir state ``x_t``
any other cell            every tensor of its ``State``, from its ``step``
========================  ==========================================================================
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import ConfigError, RecurraWarning, ShapeError, format_shape
from ..layers.masking import resolve_mask
from ..layers.recurrent import Recurrent, check_sequence_input
from . import _plot
from ._common import as_tensor, dtype_of, find_recurrent, layer_input, require_built


def descriptions_of(cell: Any) -> dict[str, str]:
    """The equation of each quantity, as the cell declares it (``RecurrentCell.quantities``)."""
    return dict(getattr(cell, "quantities", {}) or {})


@dataclass
class Trace:
    """Every gate and state of a recurrent layer at every step (``trace``'s result).

    ``values[name]`` is a ``(B, T, H)`` float array, steps in the order the layer runs them (reversed
    with ``go_backwards``, like the layer's own outputs); NaN at masked steps. ``names`` keeps the
    equations' order; ``descriptions[name]`` is the quantity's equation; ``output`` names the
    layer's output (``"a"`` for an LSTM, ``"h"`` otherwise, ``"y"`` for a Jordan SimpleRNN).
    """

    cell: str
    names: list[str]
    values: dict[str, np.ndarray]
    descriptions: dict[str, str] = field(default_factory=dict)
    output: str = "h"
    go_backwards: bool = False
    gates: set[str] = field(default_factory=set)  # quantities in [0, 1], drawn on that fixed scale

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.values:
            raise KeyError(f"{self.cell} trace has no {name!r}; it has {', '.join(self.names)}")
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def __iter__(self):
        return iter(self.names)


def _step_quantities(cell, x_t, state):
    """One step of ``cell`` with every named quantity of its equations (``RecurrentCell.step_quantities``:
    the same code as its ``step``); a cell without that method gives its new state's tensors."""
    reason = cell.trace_reason() if hasattr(cell, "trace_reason") else None
    if reason:
        raise ConfigError(f"trace cannot run {reason}")
    if hasattr(cell, "step_quantities"):
        return cell.step_quantities(x_t, state)
    _, new = cell.step(x_t, state)
    return dict(zip(type(new)._fields, new)), new


def trace_cell(cell, x: torch.Tensor, state: Any, mask: torch.Tensor | None = None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Run ``cell``'s equations over ``x (B, T, F)`` from ``state``, keeping every quantity.

    ``mask (B, T)``: at a masked step the state is carried unchanged (as in the layers) and every
    quantity is NaN. Returns the names in order and ``{name: (B, T, H) array}``.
    """
    xs = x.unbind(1)  # T tensors (B, F)
    ms = mask.unsqueeze(-1).unbind(1) if mask is not None else None  # T tensors (B, 1)
    collected: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad():
        for t, x_t in enumerate(xs):
            quantities, new_state = _step_quantities(cell, x_t, state)
            if ms is not None:
                m = ms[t]
                new_state = type(new_state)(*[torch.where(m, n, o) for n, o in zip(new_state, state)])
                quantities = {k: torch.where(m, v, torch.full_like(v, float("nan"))) for k, v in quantities.items()}
            state = new_state
            for k, v in quantities.items():
                collected.setdefault(k, []).append(v)
    names = list(collected)
    return names, {k: torch.stack(v, 1).cpu().numpy() for k, v in collected.items()}  # (B, T, H)


def _esn_trace(esn: Any, x: Any) -> Trace:
    if esn.reservoir is None:
        raise ConfigError("trace needs the EchoStateNetwork's reservoir: fit it (or call initialize) first")
    u = as_tensor(x, "x", torch.float64)
    if u.dim() == 2:
        u = u[None]  # (T, F) -> (1, T, F)
    if u.dim() != 3 or u.shape[-1] != esn.input_dim:
        raise ShapeError(
            f"expected x of shape (time, {esn.input_dim}) or (batch, time, {esn.input_dim}), got {format_shape(u.shape)}"
        )
    cell = esn.reservoir
    state = cell.zero_state(u.shape[0], dtype=u.dtype, device=u.device)
    names, values = trace_cell(cell, u, state)
    return Trace(type(cell).__name__, names, values, descriptions_of(cell), gates=set(cell.gates))


def trace(
    module: Any,
    x: Any,
    *,
    layer: Recurrent | None = None,
    mask: Any = None,
    lengths: Any = None,
    initial_state: Any = None,
) -> Trace:
    """Every gate and state of a recurrent layer at every step (see the module docstring's table).

    ``module``: a recurrent layer, a model containing one (``layer=`` picks one of several; default
    the first), or an ``EchoStateNetwork`` (its reservoir states from the zero state; ``x (T, F)``).
    For a model, the layer is traced on the input it receives inside the model (masks made by the
    model's ``Embedding`` / ``Masking`` included). For a layer, ``mask`` / ``lengths`` /
    ``initial_state`` are those of the layer's call.

    It recomputes: the cell's equations run again over the sequence with the layer's weights (no
    gradients); the layer is not called, so its kernel and its results are unchanged.
    """
    from ..esn import EchoStateNetwork

    if isinstance(module, EchoStateNetwork):
        return _esn_trace(module, x)
    target = find_recurrent(module, layer, what="trace")
    dtype = dtype_of(module)
    xt = as_tensor(x, "x", dtype)
    if module is target:
        require_built(target, "trace")
        x_in, kwargs = xt, {"mask": mask, "lengths": lengths, "initial_state": initial_state}
    else:
        if mask is not None or lengths is not None or initial_state is not None:
            raise ConfigError("mask=, lengths= and initial_state= are for tracing a layer; a model makes its own masks")
        call = layer_input(module, target, xt)
        x_in, kwargs = call.x, {"mask": None, "lengths": None, "initial_state": None, **call.kwargs}
    check_sequence_input(target, x_in, target.cell.input_size)
    with torch.no_grad():
        m = resolve_mask(x_in, kwargs["mask"], kwargs["lengths"])
        state = target.get_initial_state(x_in, kwargs["initial_state"])
        if target.go_backwards:
            x_in = x_in.flip(1)
            m = None if m is None else m.flip(1)
        names, values = trace_cell(target.cell, x_in, state, m)
    cell = target.cell
    output = getattr(cell, "trace_output", getattr(cell, "output_state", "h"))
    gates = set(getattr(cell, "gates", ()))
    return Trace(type(cell).__name__, names, values, descriptions_of(cell), output, target.go_backwards, gates)


def plot_trace(
    tr: Trace,
    path: str | os.PathLike | None = None,
    *,
    sample: int = 0,
    names: Sequence[str] | None = None,
    max_units: int = 64,
) -> Any:
    """Heatmaps of a trace, one panel per quantity: units (rows, at most ``max_units``) against steps
    (columns), for sequence ``sample``. Gates share the scale ``[0, 1]``; other quantities a scale
    symmetric about 0. Writes ``path`` (``.png``, ``.svg``, ``.pdf``) when given; returns the ``Figure``."""
    names = list(names) if names is not None else tr.names
    for n in names:
        tr[n]  # noqa: B018 (raises a KeyError naming the quantities there are)
    B = tr[names[0]].shape[0]
    if isinstance(sample, bool) or not isinstance(sample, int) or not 0 <= sample < B:
        raise ConfigError(f"expected sample in [0, {B - 1}], got {sample!r}")
    fig = _plot.new_figure(7.0, 1.0 + 1.6 * len(names))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, n in zip(axes, names):
        v = tr[n][sample, :, :max_units].T  # (H, T)
        if n in tr.gates:
            im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0, vmax=1.0)
        else:
            lim = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 1.0
            im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap="RdBu_r", vmin=-lim or -1, vmax=lim or 1)
        ax.set_ylabel(f"{n}\nunit")
        ax.set_title(tr.descriptions.get(n, n), fontsize=9, loc="left")
        fig.colorbar(im, ax=ax, pad=0.01)
    axes[-1].set_xlabel("step t" + (" (reversed: go_backwards)" if tr.go_backwards else ""))
    _plot.save(fig, path)
    return fig


def __getattr__(name: str) -> Any:
    """``DESCRIPTIONS`` and ``GATES``, deprecated: each cell declares its ``quantities`` and ``gates`` now."""
    if name in ("DESCRIPTIONS", "GATES"):
        warnings.warn(
            f"recurra.inspect.traces.{name} is deprecated; each cell declares its own: cell.quantities and cell.gates",
            RecurraWarning,
            stacklevel=2,
        )
        from ..cells import GRUCell, IndRNNCell, LSTMCell, MinGRUCell, MinLSTMCell, ReservoirCell

        cells = (LSTMCell, GRUCell, IndRNNCell, MinGRUCell, MinLSTMCell, ReservoirCell)
        if name == "DESCRIPTIONS":
            return {cls: dict(cls.quantities) for cls in cells}
        return set().union(*(cls.gates for cls in cells))
    raise AttributeError(f"module 'recurra.inspect.traces' has no attribute {name!r}")


__all__ = ["Trace", "descriptions_of", "plot_trace", "trace", "trace_cell"]
