"""Character and word error rates of transcripts (jiwer): edit distance over the references' length.

    CER = (S + D + I) / N    over characters,     WER = the same over words,

summed over the corpus (``S`` substitutions, ``D`` deletions, ``I`` insertions, ``N`` reference units),
so long references weigh more. Both are shares (0.25 is 25 %) and can exceed 1.

>>> cer(["hola mundo"], ["hola mundo"])
0.0
>>> wer(["uno dos"], ["uno tres"])
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

import jiwer

from ..errors import InputValueError


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[list[str], list[str]]:
    hyps, refs = [str(h) for h in hypotheses], [str(r) for r in references]
    if len(hyps) != len(refs):
        raise InputValueError(f"expected one reference per transcript, got {len(hyps)} transcripts and {len(refs)} references")
    if not refs:
        raise InputValueError("expected at least one transcript and its reference, got none")
    empty = [i for i, r in enumerate(refs) if not r.strip()]
    if empty:
        raise InputValueError(f"expected non-empty references, got empty ones at {empty[:5]}")
    return hyps, refs


def cer(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """The character error rate of ``hypotheses`` against ``references`` (one each)."""
    hyps, refs = _check(hypotheses, references)
    return float(jiwer.cer(reference=refs, hypothesis=hyps))


def wer(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """The word error rate of ``hypotheses`` against ``references`` (one each); an empty transcript counts every word deleted."""
    hyps, refs = _check(hypotheses, references)
    return float(jiwer.wer(reference=refs, hypothesis=hyps))
