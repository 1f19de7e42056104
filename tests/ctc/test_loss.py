"""CTC's loss against a brute-force sum over every alignment, and its refusals."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from recurra.ctc import CTCHead, collapse, ctc_loss, frames_needed
from recurra.errors import InputValueError, ShapeError


def brute_force_nll(log_probs: torch.Tensor, labels: list[int]) -> float:
    """-log Σ over all T-step paths π with B(π) = labels of Π_t y_t[π_t]."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        if collapse(path) == labels:
            total += math.exp(sum(float(log_probs[t, c]) for t, c in enumerate(path)))
    return -math.log(total)


@pytest.mark.parametrize("labels", [[1], [1, 2], [2, 2], [1, 2, 1], [2, 2, 1]])
def test_loss_equals_the_sum_over_alignments(labels):
    g = torch.Generator().manual_seed(len(labels))
    log_probs = torch.log_softmax(torch.randn(1, 5, 3, generator=g, dtype=torch.float64), -1)
    got = ctc_loss(log_probs, [5], [labels], reduction="none")
    assert got.shape == (1,)
    assert float(got[0]) == pytest.approx(brute_force_nll(log_probs[0], labels), rel=1e-10)


def test_shorter_inputs_use_only_their_frames_and_mean_divides_by_target_length():
    g = torch.Generator().manual_seed(3)
    log_probs = torch.log_softmax(torch.randn(2, 6, 4, generator=g, dtype=torch.float64), -1)
    targets = [[1, 3], [2, 2, 3]]
    each = ctc_loss(log_probs, [4, 6], targets, reduction="none")
    assert float(each[0]) == pytest.approx(brute_force_nll(log_probs[0, :4], [1, 3]), rel=1e-10)
    assert float(each[1]) == pytest.approx(brute_force_nll(log_probs[1], [2, 2, 3]), rel=1e-10)
    assert float(ctc_loss(log_probs, [4, 6], targets, reduction="sum")) == pytest.approx(float(each.sum()))
    assert float(ctc_loss(log_probs, [4, 6], targets)) == pytest.approx(float((each / torch.tensor([2.0, 3.0])).mean()))


def test_the_loss_has_gradients_through_the_head():
    head = CTCHead(8, 5).double()
    h = torch.randn(2, 7, 8, dtype=torch.float64, requires_grad=True)
    log_probs = head(h)
    assert log_probs.shape == (2, 7, 5)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(2, 7, dtype=torch.float64))
    torch.autograd.gradcheck(lambda x: ctc_loss(head(x), [7, 5], [[1, 2], [4]]), (h,))


def test_frames_needed_counts_a_blank_between_repeats():
    assert frames_needed([]) == 0
    assert frames_needed([1, 2, 3]) == 3
    assert frames_needed([1, 1, 2, 2, 2]) == 8


def test_a_transcript_too_long_for_its_frames_is_refused_not_inf():
    log_probs = torch.log_softmax(torch.randn(2, 4, 3), -1)
    with pytest.raises(InputValueError, match=r"utterance 1 is too short.*4 labels need at least 6 frames, got 4"):
        ctc_loss(log_probs, [4, 4], [[1], [1, 1, 2, 2]])


def test_bad_inputs_are_named():
    log_probs = torch.log_softmax(torch.randn(2, 4, 3), -1)
    with pytest.raises(ShapeError, match=r"\(batch, time, classes\)"):
        ctc_loss(log_probs[0], [4], [[1]])
    with pytest.raises(InputValueError, match="one target per utterance"):
        ctc_loss(log_probs, [4, 4], [[1]])
    with pytest.raises(InputValueError, match=r"label ids in 1\.\.2.*\[0\] in target 0"):
        ctc_loss(log_probs, [4, 4], [[0], [1]])
    with pytest.raises(InputValueError, match=r"label ids in 1\.\.2.*\[3\] in target 1"):
        ctc_loss(log_probs, [4, 4], [[1], [3]])
    with pytest.raises(InputValueError, match=r"input lengths in 1\.\.4"):
        ctc_loss(log_probs, [5, 4], [[1], [1]])
    with pytest.raises(InputValueError, match="reduction"):
        ctc_loss(log_probs, [4, 4], [[1], [1]], reduction="avg")
    with pytest.raises(InputValueError, match="at least 2 classes"):
        CTCHead(4, 1)
