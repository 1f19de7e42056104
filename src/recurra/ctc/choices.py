"""Recognition among known texts: the candidate whose CTC probability, summed over all its alignments to the
frames, is highest — what a grammar or a keyword list gives a recogniser of numbers, dates or commands.

``best_choices(log_probs, candidates)`` scores each candidate labelling ``l`` by
``log p(l | x) = log Σ_{π ∈ B⁻¹(l)} Π_t y_t[π_t]`` (torch's ``ctc_loss``, negated) and returns, per
sequence, the index of the best candidate and every score. A candidate too long for the frames scores
``-inf``.

>>> import numpy as np
>>> y = np.log(np.array([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]))  # frames: a, blank, b
>>> best, scores = best_choices([y], [[1, 2], [2, 1], [1]])
>>> int(best[0]), bool(scores[0, 0] > scores[0, 2] > scores[0, 1])
(0, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import InputValueError
from .alphabet import BLANK


def best_choices(log_probs: Sequence[np.ndarray], candidates: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(best, scores)``: per sequence the index of the most probable candidate, and ``(N, C)`` log-probabilities."""
    if not candidates or any(len(c) == 0 for c in candidates):
        raise InputValueError("expected a list of non-empty candidate labellings, got an empty one")
    targets = torch.tensor([i for c in candidates for i in c], dtype=torch.long)
    target_lengths = torch.tensor([len(c) for c in candidates], dtype=torch.long)
    scores = np.empty((len(log_probs), len(candidates)))
    for n, lp in enumerate(log_probs):
        y = torch.as_tensor(np.asarray(lp), dtype=torch.float64)  # (T, K)
        frames = y.unsqueeze(1).expand(-1, len(candidates), -1)  # (T, C, K)
        lengths = torch.full((len(candidates),), y.shape[0], dtype=torch.long)
        loss = F.ctc_loss(frames, targets, lengths, target_lengths, blank=BLANK, reduction="none", zero_infinity=False)
        scores[n] = -loss.numpy()
    return scores.argmax(1), scores
