"""Hidden states along a sequence, projected to 2-D by principal component analysis.

With the states of every (real) step of every sequence stacked as rows ``S (N, H)``, their mean
``μ`` and the singular value decomposition of the centred rows ``S - μ = U Σ Vᵀ``::

    p_t = V_2ᵀ (h_t - μ)                    (2,): the state's coordinates on the first two components
    explained variance ratio_k = σ_k² / Σ_j σ_j²

``V_2`` holds the first two right singular vectors (each signed so that its largest entry is
positive, which makes the picture repeatable).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, ShapeError
from ..layers.recurrent import Recurrent
from . import _plot
from .traces import trace


@dataclass
class StateProjection:
    """``states``' result: ``points (B, T, 2)`` (NaN at masked steps), the ``states (B, T, H)`` they
    come from, ``mean (H,)``, ``components (2, H)`` and ``explained_variance_ratio (2,)``."""

    points: np.ndarray
    states: np.ndarray
    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    state: str

    def project(self, h: Any) -> np.ndarray:
        """Project other states ``(..., H)`` on the same components: ``(..., 2)``."""
        h = np.asarray(h, dtype=np.float64)
        return (h - self.mean) @ self.components.T


def pca_2d(states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(points (B, T, 2), mean (H,), components (2, H), explained_variance_ratio (2,))`` of ``states
    (B, T, H)`` (module docstring); rows with NaN (masked steps) are left out of the fit."""
    B, T, H = states.shape
    if H < 2:
        raise ShapeError(f"a 2-D projection needs states of at least 2 units, got {H}")
    rows = torch.from_numpy(np.ascontiguousarray(states, dtype=np.float64).reshape(B * T, H))  # (B·T, H)
    real = torch.isfinite(rows).all(1)
    if int(real.sum()) < 2:
        raise ShapeError("a 2-D projection needs at least 2 real steps")
    S = rows[real]
    mean = S.mean(0)
    _, sigma, Vh = torch.linalg.svd(S - mean, full_matrices=False)
    components = Vh[:2].clone()  # (2, H)
    flip = components.gather(1, components.abs().argmax(1, keepdim=True)) < 0  # largest entry positive
    components = torch.where(flip, -components, components)
    var = sigma**2
    ratio = (var[:2] / var.sum()).numpy() if float(var.sum()) > 0 else np.zeros(2)
    points = ((rows - mean) @ components.T).reshape(B, T, 2)  # (B·T, 2) -> (B, T, 2); NaN rows stay NaN
    return points.numpy(), mean.numpy(), components.numpy(), ratio


def states(module: Any, x: Any, *, layer: Recurrent | None = None, state: str | None = None, **kwargs: Any) -> StateProjection:
    """The hidden states of a recurrent layer over ``x``, projected to 2-D by PCA.

    ``module``: a recurrent layer, a model containing one (``layer=`` picks one), or an
    ``EchoStateNetwork``; ``state``: which quantity of ``recurra.inspect.trace`` to project (default:
    the layer's output, ``a`` for an LSTM, ``h`` otherwise; ``"c"`` gives the LSTM's cell state).
    Other keywords (``mask``, ``lengths``, ``initial_state``) go to ``trace``. The states are
    recomputed by ``trace``; the layer is not changed.
    """
    tr = trace(module, x, layer=layer, **kwargs)
    name = state or tr.output
    if name not in tr:
        raise ConfigError(f"{tr.cell} has no state {name!r}; expected one of: {', '.join(tr.names)}")
    h = tr[name]  # (B, T, H)
    points, mean, components, ratio = pca_2d(h)
    return StateProjection(points, h, mean, components, ratio, name)


def plot_states(
    proj: StateProjection, path: str | os.PathLike | None = None, *, max_sequences: int = 8, title: str | None = None
) -> Any:
    """The projected trajectories of up to ``max_sequences`` sequences, coloured by step (a circle at
    the first step, a cross at the last). Writes ``path`` when given; returns the ``Figure``."""
    fig = _plot.new_figure(5.6, 4.6)
    ax = fig.add_subplot()
    B, T, _ = proj.points.shape
    scatter = None
    for b in range(min(B, max_sequences)):
        p = proj.points[b]
        ok = np.isfinite(p).all(1)
        steps = np.arange(T)[ok]
        p = p[ok]
        if len(p) == 0:
            continue
        ax.plot(p[:, 0], p[:, 1], color="0.75", linewidth=0.8, zorder=1)
        scatter = ax.scatter(p[:, 0], p[:, 1], c=steps, cmap="viridis", s=8, vmin=0, vmax=T - 1, zorder=2)
        ax.scatter(p[:1, 0], p[:1, 1], marker="o", facecolors="none", edgecolors="k", s=40, zorder=3)
        ax.scatter(p[-1:, 0], p[-1:, 1], marker="x", color="k", s=40, zorder=3)
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label="step t")
    r = proj.explained_variance_ratio
    ax.set_xlabel(f"PC 1 ({100 * r[0]:.1f} % of the variance)")
    ax.set_ylabel(f"PC 2 ({100 * r[1]:.1f} %)")
    ax.set_title(title or f"States {proj.state}_t projected on two principal components")
    _plot.save(fig, path)
    return fig


__all__ = ["StateProjection", "pca_2d", "plot_states", "states"]
