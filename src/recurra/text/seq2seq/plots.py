"""The attention heatmap: for each output token (rows), how much weight each source token (columns) had."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...io import save_figure

Alignment = tuple[Sequence[str], Sequence[str], np.ndarray]  # source tokens, output tokens, weights (out, src)


def _label(token: str) -> str:
    return token.replace("▁", "·") if token.strip() else repr(token)


def plot_attention(alignments: Sequence[Alignment], path: str | os.PathLike, *, title: str | None = None) -> Path:
    """One heatmap per sentence, stacked, written atomically to ``path`` (PNG, SVG or PDF by its suffix)."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(alignments)
    if n == 0:
        raise ValueError("expected at least one sentence to plot")
    heights = [max(2.0, 0.28 * len(out) + 1.2) for _, out, _ in alignments]
    width = max(4.0, 0.3 * max(len(src) for src, _, _ in alignments) + 2.0)
    fig, axes = plt.subplots(n, 1, figsize=(min(width, 18), min(sum(heights), 60)), gridspec_kw={"height_ratios": heights})
    axes = np.atleast_1d(axes)
    for ax, (src, out, w) in zip(axes, alignments):
        ax.imshow(np.asarray(w), cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(src)), [_label(t) for t in src], rotation=90, fontsize=8)
        ax.set_yticks(range(len(out)), [_label(t) for t in out], fontsize=8)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
