"""Scores of generated text against one reference each: BLEU and chrF (sacrebleu), exact match, ROUGE.

BLEU and chrF are corpus-level and on sacrebleu's 0-100 scale (its default tokenisation, case kept);
exact match and ROUGE are shares in [0, 1]. ROUGE-1, ROUGE-2 and ROUGE-L are F1 scores on lowercased
word tokens (``\\w+``), computed for each pair and averaged.

>>> rouge(["the cat sat"], ["the cat ran"])["rouge1"]
0.6666666666666666
>>> exact_match(["Hola. ", "adiós"], ["Hola.", "Adiós"])
0.5
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ...errors import InputValueError

_WORD = re.compile(r"\w+")


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[list[str], list[str]]:
    hyps, refs = list(hypotheses), list(references)
    if len(hyps) != len(refs):
        raise InputValueError(f"expected one reference per hypothesis, got {len(hyps)} hypotheses and {len(refs)} references")
    if not hyps:
        raise InputValueError("expected at least one hypothesis and its reference, got 0 hypotheses and 0 references")
    for kind, texts in (("hypothesis", hyps), ("reference", refs)):
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputValueError(f"expected each {kind} to be a string, got {type(text).__name__} at position {i}")
    return hyps, refs


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0 to 100) by sacrebleu's ``BLEU`` with its defaults (13a tokenisation, case kept)."""
    from sacrebleu.metrics import BLEU

    hyps, refs = _check(hypotheses, references)
    return float(BLEU().corpus_score(hyps, [refs]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0 to 100) by sacrebleu's ``CHRF`` with its defaults (character 6-grams, beta 2)."""
    from sacrebleu.metrics import CHRF

    hyps, refs = _check(hypotheses, references)
    return float(CHRF().corpus_score(hyps, [refs]).score)


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """The share of hypotheses equal to their reference once surrounding blanks are stripped (0 to 1)."""
    hyps, refs = _check(hypotheses, references)
    return sum(h.strip() == r.strip() for h, r in zip(hyps, refs)) / len(hyps)


def words(text: str) -> list[str]:
    """The lowercased word tokens (``\\w+``) ROUGE counts."""
    return _WORD.findall(text.lower())


def _f1(overlap: float, n_hyp: int, n_ref: int) -> float:
    if n_hyp == 0 and n_ref == 0:
        return 1.0  # two empty token lists are identical
    if overlap == 0:
        return 0.0
    precision, recall = overlap / n_hyp, overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def ngram_f1(hyp: list[str], ref: list[str], n: int) -> float:
    """ROUGE-N F1 of one pair: n-grams in common, each counted at most as often as in the other text."""
    h = Counter(zip(*(hyp[i:] for i in range(n))))
    r = Counter(zip(*(ref[i:] for i in range(n))))
    return _f1(sum((h & r).values()), sum(h.values()), sum(r.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """The length of the longest common subsequence of two token lists (dynamic programming, one row kept)."""
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):
            above = row[j]
            row[j] = diagonal + 1 if x == y else max(row[j], row[j - 1])
            diagonal = above
    return row[-1]


def rouge(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1, averaged over the pairs: ``{"rouge1", "rouge2", "rougeL"}`` in [0, 1].

    On lowercased ``\\w+`` tokens, no stemming. A pair whose texts both have no n-gram scores 1 (they are
    identical); one side without any scores 0.
    """
    hyps, refs = _check(hypotheses, references)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for h_text, r_text in zip(hyps, refs):
        h, r = words(h_text), words(r_text)
        totals["rouge1"] += ngram_f1(h, r, 1)
        totals["rouge2"] += ngram_f1(h, r, 2)
        totals["rougeL"] += _f1(lcs_length(h, r), len(h), len(r))
    return {name: total / len(hyps) for name, total in totals.items()}


def translation_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """``{"bleu", "chrf", "exact_match"}`` of a corpus of translations."""
    return {"bleu": bleu(hypotheses, references), "chrf": chrf(hypotheses, references),
            "exact_match": exact_match(hypotheses, references)}


def summary_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """``{"rouge1", "rouge2", "rougeL", "exact_match"}`` of a corpus of summaries."""
    return {**rouge(hypotheses, references), "exact_match": exact_match(hypotheses, references)}
