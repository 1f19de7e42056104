"""A sequence of readings and the label a streaming classifier gives it at every step."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputValueError
from ..io import save_figure


def plot_step_labels(
    sequences: Sequence[np.ndarray],
    probabilities: Sequence[np.ndarray],
    classes: Sequence[Any],
    path: str | os.PathLike,
    *,
    channels: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
) -> Path:
    """For each sequence, its channels (top) and each class's probability after every step (bottom).

    ``sequences``: ``(T_i, C)`` arrays; ``probabilities``: ``(T_i, K)`` arrays (``predict_proba_steps``).
    Written whole to ``path`` (PNG, SVG or PDF by its suffix).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not sequences or len(sequences) != len(probabilities):
        raise InputValueError(f"expected one array of probabilities per sequence, got {len(probabilities)} for {len(sequences)}")
    n = len(sequences)
    fig, axes = plt.subplots(2, n, figsize=(4.5 * n, 5.5), squeeze=False, sharex="col")
    for j, (x, p) in enumerate(zip(sequences, probabilities)):
        x, p = np.asarray(x), np.asarray(p)
        steps = np.arange(1, len(x) + 1)
        for c in range(x.shape[1]):
            axes[0, j].plot(steps, x[:, c], lw=1, label=channels[c] if channels else f"channel {c}")
        axes[0, j].set_ylabel("reading")
        axes[0, j].set_title(titles[j] if titles else f"sequence {j}")
        for k, name in enumerate(classes):
            axes[1, j].plot(steps, p[:, k], lw=1.5, label=str(name))
        axes[1, j].set_ylim(-0.02, 1.02)
        axes[1, j].set_xlabel("step")
        axes[1, j].set_ylabel("probability of the sequence so far")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[1, 0].legend(fontsize=7, loc="best", title="class")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_pen(
    trajectories: Sequence[np.ndarray], path: str | os.PathLike, *, titles: Sequence[str] | None = None, cols: int = 2
) -> Path:
    """Pen trajectories (``(T, 3)``: ``x``, ``y``, ``pen_up``), one panel each, the pen-down strokes drawn
    and the points dotted; ``titles`` (e.g. the text and its transcription) above each. Written whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not trajectories:
        raise InputValueError("expected at least one trajectory to plot, got none")
    rows = -(-len(trajectories) // cols)
    fig, axes = plt.subplots(rows, min(cols, len(trajectories)), figsize=(6.0 * min(cols, len(trajectories)), 1.9 * rows),
                             squeeze=False)  # fmt: skip
    for k, ax in enumerate(axes.flat):
        if k >= len(trajectories):
            ax.axis("off")
            continue
        p = np.asarray(trajectories[k])
        ends = np.flatnonzero(p[:, 2] > 0.5) + 1
        for stroke in np.split(p, ends[:-1]):
            ax.plot(stroke[:, 0], stroke[:, 1], "-", lw=1.4, color="#1f3b73")
        ax.plot(p[:, 0], p[:, 1], ".", ms=1.5, color="#d62728")
        ax.set_aspect("equal")
        ax.set_xlabel("x (letter heights)")
        ax.set_ylabel("y")
        if titles:
            ax.set_title(titles[k], fontsize=9, loc="left")
    fig.tight_layout()
    return save_figure(fig, path)
