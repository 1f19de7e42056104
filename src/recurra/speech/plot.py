"""What a recogniser heard and wrote: each recording's log-mel spectrogram, and under it CTC's probability of
"no new character" (the blank) per frame with each written character at the frame it was emitted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ctc.alphabet import BLANK
from ..errors import InputValueError
from ..io import save_figure


def plot_transcriptions(
    spectrograms: Sequence[np.ndarray],
    log_probabilities: Sequence[np.ndarray],
    characters: str,
    path: str | os.PathLike,
    *,
    titles: Sequence[str] | None = None,
    hop_s: float = 0.010,
) -> Path:
    """One panel pair per recording: ``(T, bands)`` log-mel frames on top, and below the blank's probability
    over ``log_probabilities`` ``(T', K)`` (``T' ≈ T / subsample``) with the characters (``characters[k - 1]``
    for class ``k``) written where greedy decoding emits them. Written whole to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not spectrograms or len(spectrograms) != len(log_probabilities):
        raise InputValueError(
            f"expected one array of log-probabilities per recording, got {len(log_probabilities)} for {len(spectrograms)}"
        )
    n = len(spectrograms)
    fig, axes = plt.subplots(2 * n, 1, figsize=(9, 3.2 * n), squeeze=False, gridspec_kw={"height_ratios": [2, 1] * n})
    for j, (spec, lp) in enumerate(zip(spectrograms, log_probabilities)):
        top, bottom = axes[2 * j, 0], axes[2 * j + 1, 0]
        seconds = len(spec) * hop_s
        top.imshow(np.asarray(spec).T, origin="lower", aspect="auto", extent=(0, seconds, 0, spec.shape[1]), cmap="magma")
        top.set_ylabel("mel band")
        top.set_title(titles[j] if titles else f"recording {j}", fontsize=10)
        top.set_xlim(0, seconds)
        p = np.exp(np.asarray(lp))  # (T', K)
        step = seconds / max(len(p), 1)
        times = (np.arange(len(p)) + 0.5) * step
        bottom.plot(times, p[:, BLANK], color="0.5", lw=1, label="P(blank)")
        best, last = p.argmax(1), BLANK
        for t, k in enumerate(best):
            if k != BLANK and k != last:
                bottom.text(times[t], 0.5, characters[k - 1] if characters[k - 1] != " " else "␣", ha="center", fontsize=11)
                bottom.axvline(times[t], color="tab:blue", lw=0.5, alpha=0.5)
            last = k
        bottom.set_ylim(0, 1.05)
        bottom.set_xlim(0, seconds)
        bottom.set_ylabel("probability")
        bottom.set_xlabel("time (s)")
        bottom.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path)
