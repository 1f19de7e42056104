"""Greedy decoding and prefix beam search on hand-made and random posteriors, with and without a language model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from recurra.ctc import collapse, greedy_decode, prefix_beam_search
from recurra.errors import InputValueError, ShapeError


def posteriors(rows: list[list[float]]) -> torch.Tensor:
    """(1, T, C) log-probabilities from rows of probabilities."""
    return torch.tensor([rows], dtype=torch.float64).log()


def test_collapse_merges_runs_then_drops_blanks():
    assert collapse([1, 1, 0, 1, 2, 2, 0, 0]) == [1, 1, 2]
    assert collapse([0, 0]) == []


def test_hand_made_posteriors():
    # frames: a a ∅ a b → "aab"
    lp = posteriors([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    assert greedy_decode(lp) == [[1, 1, 2]]
    assert prefix_beam_search(lp, beam=4) == [[1, 1, 2]]


def test_beam_search_prefers_the_labelling_with_most_probability():
    # best path is ∅ ∅ (empty, p = 0.36), but "a" gathers 0.4·0.6 + 0.6·0.4 + 0.4·0.4 = 0.64
    lp = posteriors([[0.6, 0.4], [0.6, 0.4]])
    assert greedy_decode(lp) == [[]]
    assert prefix_beam_search(lp, beam=4) == [[1]]


@pytest.mark.parametrize("scale", [1.0, 3.0, 10.0])
def test_viterbi_beam_one_is_greedy_exactly(scale):
    g = torch.Generator().manual_seed(int(scale))
    lp = torch.log_softmax(scale * torch.randn(200, 12, 4, generator=g), -1)
    lengths = torch.randint(1, 13, (200,), generator=g)
    assert prefix_beam_search(lp, lengths, beam=1, merge="max", prune=-1e9) == greedy_decode(lp, lengths)


def test_a_wide_beam_finds_the_most_probable_labelling():
    g = torch.Generator().manual_seed(5)
    for _ in range(20):
        lp = torch.log_softmax(torch.randn(1, 5, 3, generator=g, dtype=torch.float64), -1)[0]
        mass: dict[tuple[int, ...], float] = {}
        for path in itertools.product(range(3), repeat=5):
            key = tuple(collapse(path))
            mass[key] = mass.get(key, 0.0) + math.exp(sum(float(lp[t, c]) for t, c in enumerate(path)))
        best = max(mass, key=mass.get)
        assert prefix_beam_search(lp[None], beam=1000, prune=-1e9) == [list(best)]


def test_batched_search_equals_one_utterance_at_a_time():
    g = torch.Generator().manual_seed(7)
    lp = torch.log_softmax(2 * torch.randn(6, 10, 5, generator=g), -1)
    lengths = [10, 3, 7, 0, 10, 5]
    batched = prefix_beam_search(lp, lengths, beam=3)
    assert batched == [prefix_beam_search(lp[i : i + 1, : lengths[i]], beam=3)[0] for i in range(6)]
    assert batched[3] == []


def test_a_language_model_changes_the_choice():
    # the frames cannot tell label 1 from label 2; a model that expects 2 after nothing decides
    lp = posteriors([[0.1, 0.45, 0.45], [0.9, 0.05, 0.05]])

    def prefers_two(prefix: tuple[int, ...]) -> np.ndarray:
        return np.log(np.array([1e-9, 0.1, 0.9]))

    def prefers_one(prefix: tuple[int, ...]) -> np.ndarray:
        return np.log(np.array([1e-9, 0.9, 0.1]))

    assert prefix_beam_search(lp, beam=4, lm=prefers_two, lm_weight=1.0) == [[2]]
    assert prefix_beam_search(lp, beam=4, lm=prefers_one, lm_weight=1.0) == [[1]]
    assert prefix_beam_search(lp, beam=4, lm=prefers_two, lm_weight=0.0) == prefix_beam_search(lp, beam=4)


def test_bad_arguments_are_named():
    lp = torch.log_softmax(torch.randn(2, 4, 3), -1)
    with pytest.raises(ShapeError, match=r"\(batch, time, classes\)"):
        greedy_decode(lp[0])
    with pytest.raises(InputValueError, match="2 lengths in 0..4"):
        prefix_beam_search(lp, [5, 1])
    with pytest.raises(InputValueError, match="beam width"):
        prefix_beam_search(lp, beam=0)
    with pytest.raises(InputValueError, match="without a language model"):
        prefix_beam_search(lp, lm_weight=0.5)
    with pytest.raises(InputValueError, match="merge"):
        prefix_beam_search(lp, merge="product")
