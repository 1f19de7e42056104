"""best_choices: each candidate scored by the sum over its alignments (brute force), the best one picked."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recurra.ctc.choices import best_choices
from recurra.errors import InputValueError

from .test_loss import brute_force_nll

CANDIDATES = [[1], [2], [1, 2], [2, 1], [1, 1], [2, 2, 1]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_are_the_sum_over_alignments_and_the_best_is_the_largest(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    log_probs = [torch.log_softmax(torch.randn(5, 3, generator=g, dtype=torch.float64), -1).numpy() for _ in range(2)]
    best, scores = best_choices(log_probs, CANDIDATES)
    for n, lp in enumerate(log_probs):
        expected = [-brute_force_nll(torch.from_numpy(lp), c) for c in CANDIDATES]
        np.testing.assert_allclose(scores[n], expected, rtol=1e-9)
        assert best[n] == int(np.argmax(expected))


def test_a_candidate_too_long_for_the_frames_scores_minus_infinity() -> None:
    lp = np.log(np.full((2, 3), 1 / 3))
    _, scores = best_choices([lp], [[1], [1, 1]])  # "aa" needs 3 frames (a, blank, a)
    assert math.isfinite(scores[0, 0]) and scores[0, 1] == -math.inf


def test_empty_candidates_are_refused() -> None:
    with pytest.raises(InputValueError, match="non-empty candidate"):
        best_choices([np.zeros((3, 3))], [[1], []])
