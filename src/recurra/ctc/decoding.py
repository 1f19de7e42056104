"""Turning CTC's per-frame log-probabilities into label sequences.

- ``greedy_decode``: the best path, ``π_t = argmax_c y_t[c]``, collapsed (repeats merged, blanks
  dropped).
- ``prefix_beam_search``: keeps the ``k`` label prefixes ``l`` of highest probability, each with the
  two sums over the alignments of the frames so far that end in a blank (``p_b``) or in ``l``'s last
  label (``p_nb``); at frame ``t``, with ``y = y_t``:

      blank:                   p_b'(l)  += (p_b(l) + p_nb(l)) y[∅]
      the last label again:    p_nb'(l) += p_nb(l) y[l_last]          (merged)
                               p_nb'(l+c) += p_b(l) y[c]              (after a blank: a new label)
      another label c:         p_nb'(l+c) += (p_b(l) + p_nb(l)) y[c]

  and ranks prefixes by ``log(p_b + p_nb) + α log p_LM(l) + β |l|`` — shallow fusion with a
  character language model of weight ``α`` and a bonus ``β`` per label (both 0 without a model).

Summing over alignments, ``beam = 1`` can pick another prefix than the best path when the frames are
flat (the sum prefers the labelling with the most probability, not the most probable alignment; that
is the point of the search). With ``merge="max"`` every sum becomes a maximum (Viterbi beam search), and
``beam = 1`` without a language model is the greedy best path exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..errors import InputValueError, ShapeError, format_shape
from .alphabet import BLANK

# next-label log-probabilities of a language model given a prefix of label ids: (C,) over the classes
NextLogProbs = Callable[[tuple[int, ...]], np.ndarray]

_NEG = -math.inf


def collapse(path: Sequence[int]) -> list[int]:
    """``B(π)``: merge runs of one id, then drop the blanks. ``[1, 1, 0, 1, 2, 2] -> [1, 1, 2]``."""
    out: list[int] = []
    previous = None
    for p in path:
        if p != previous and p != BLANK:
            out.append(int(p))
        previous = p
    return out


def _check(log_probs: torch.Tensor | np.ndarray, lengths: Sequence[int] | torch.Tensor | None) -> tuple[np.ndarray, list[int]]:
    lp = log_probs.detach().cpu().double().numpy() if isinstance(log_probs, torch.Tensor) else np.asarray(log_probs, float)
    if lp.ndim != 3:
        raise ShapeError(f"expected log-probabilities of shape (batch, time, classes), got {format_shape(lp.shape)}")
    n = [lp.shape[1]] * lp.shape[0] if lengths is None else [int(v) for v in lengths]
    if len(n) != lp.shape[0] or any(not 0 <= v <= lp.shape[1] for v in n):
        raise InputValueError(f"expected {lp.shape[0]} lengths in 0..{lp.shape[1]}, got {n}")
    return lp, n


def greedy_decode(log_probs: torch.Tensor | np.ndarray, lengths: Sequence[int] | torch.Tensor | None = None) -> list[list[int]]:
    """The collapsed best path of each utterance of ``log_probs`` ``(B, T, C)`` (its first ``lengths[b]`` frames)."""
    lp, n = _check(log_probs, lengths)
    best = lp.argmax(-1)  # (B, T)
    return [collapse(best[b, : n[b]].tolist()) for b in range(lp.shape[0])]


def _logadd(a: float, b: float) -> float:
    if a == _NEG:
        return b
    if b == _NEG:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def _add(sums: dict[tuple[int, ...], list[float]], prefix: tuple[int, ...], slot: int, value: float, merge: Callable) -> None:
    cell = sums.setdefault(prefix, [_NEG, _NEG])
    cell[slot] = merge(cell[slot], value)


def _search_one(
    lp: np.ndarray, beam: int, lm: NextLogProbs | None, lm_weight: float, bonus: float, prune: float, merge: Callable
) -> list[int]:
    """Prefix beam search over one utterance's frames ``lp`` ``(T, C)``."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG)}  # prefix -> (log p_b, log p_nb)
    fused: dict[tuple[int, ...], float] = {(): 0.0}  # prefix -> α log p_LM(prefix) + β |prefix|
    lm_cache: dict[tuple[int, ...], np.ndarray] = {}
    for frame in lp:
        candidates = [c for c in np.flatnonzero(frame >= frame.max() + prune).tolist() if c != BLANK]
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = merge(pb, pnb)
            _add(nxt, prefix, 0, total + frame[BLANK], merge)
            last = prefix[-1] if prefix else None
            for c in candidates:
                extended = prefix + (c,)
                if extended not in fused:
                    extra = bonus
                    if lm is not None:
                        if prefix not in lm_cache:
                            lm_cache[prefix] = lm(prefix)
                        extra += lm_weight * float(lm_cache[prefix][c])
                    fused[extended] = fused[prefix] + extra
                if c == last:
                    _add(nxt, prefix, 1, pnb + frame[c], merge)
                    _add(nxt, extended, 1, pb + frame[c], merge)
                else:
                    _add(nxt, extended, 1, total + frame[c], merge)
        ranked = sorted(nxt.items(), key=lambda kv: merge(kv[1][0], kv[1][1]) + fused[kv[0]], reverse=True)
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in ranked[:beam]}
    best = max(beams.items(), key=lambda kv: merge(kv[1][0], kv[1][1]) + fused[kv[0]])
    return list(best[0])


def prefix_beam_search(
    log_probs: torch.Tensor | np.ndarray,
    lengths: Sequence[int] | torch.Tensor | None = None,
    beam: int = 8,
    lm: NextLogProbs | None = None,
    lm_weight: float = 0.0,
    insertion_bonus: float = 0.0,
    prune: float = -12.0,
    merge: str = "sum",
) -> list[list[int]]:
    """CTC prefix beam search of each utterance of ``log_probs`` ``(B, T, C)``; the best prefix's label ids.

    ``lm(prefix)`` gives the next label's log-probabilities ``(C,)`` after ``prefix`` (a tuple of label
    ids; entry 0 unused), fused with weight ``lm_weight`` (``α``) and ``insertion_bonus`` (``β``) per label.
    Labels whose frame log-probability is more than ``-prune`` below the frame's best are not tried.
    ``merge``: ``"sum"`` scores a prefix by all its alignments (the search above), ``"max"`` by its best
    one (Viterbi beam search: ``+=`` becomes ``max``); with ``"max"``, ``beam=1`` and no language model
    the result is the greedy best path exactly.
    """
    if beam < 1:
        raise InputValueError(f"expected a beam width >= 1, got {beam}")
    if lm is None and lm_weight:
        raise InputValueError(f"lm_weight={lm_weight} was given without a language model (lm=None)")
    if merge not in ("sum", "max"):
        raise InputValueError(f"expected merge 'sum' or 'max', got {merge!r}")
    combine = _logadd if merge == "sum" else max
    lp, n = _check(log_probs, lengths)
    return [_search_one(lp[b, : n[b]], beam, lm, lm_weight, insertion_bonus, prune, combine) for b in range(lp.shape[0])]
