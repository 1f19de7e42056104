"""Translation and summary metrics: BLEU and chrF through sacrebleu, exact match, ROUGE computed by hand."""

from __future__ import annotations

import pytest
import sacrebleu

from recurra.errors import InputValueError
from recurra.text.seq2seq.metrics import bleu, chrf, exact_match, lcs_length, rouge, summary_scores, translation_scores

HYPS = ["the cat sat on the mat", "Read the file.", "police killed the gunman"]
REFS = ["the cat is on the mat", "read a text file", "the gunman killed police"]


def test_identical_texts_score_full_marks():
    texts = ["In the beginning God created the heaven and the earth.", "Y dijo Dios: Sea la luz: y fué la luz."]
    assert bleu(texts, texts) == pytest.approx(100.0)
    assert chrf(texts, texts) == pytest.approx(100.0)
    assert exact_match(texts, texts) == 1.0
    assert rouge(texts, texts) == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert rouge(["..."], ["!"]) == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}  # no words on either side


def test_rouge_by_hand():
    # 1. "the cat sat on the mat" / "the cat is on the mat": 6 words each
    #    unigrams in common: the x2, cat, on, mat = 5 -> P = R = 5/6 -> F1 = 5/6
    #    bigrams (5 each) in common: "the cat", "on the", "the mat" = 3 -> F1 = 3/5
    #    LCS "the cat on the mat" = 5 -> F1 = 5/6
    # 2. "read the file" (3) / "read a text file" (4): lowercased, punctuation dropped
    #    unigrams in common: read, file = 2 -> P = 2/3, R = 2/4 -> F1 = 2 * (1/3) / (7/6) = 4/7
    #    bigrams: none in common -> 0; LCS "read file" = 2 -> 4/7
    # 3. "police killed the gunman" / "the gunman killed police": 4 words each
    #    unigrams: all 4 -> 1; bigrams in common: "the gunman" = 1 of 3 -> 1/3
    #    LCS: "the gunman" = 2 -> P = R = 2/4 -> 1/2
    assert rouge(HYPS[:1], REFS[:1]) == pytest.approx({"rouge1": 5 / 6, "rouge2": 3 / 5, "rougeL": 5 / 6})
    assert rouge(HYPS[1:2], REFS[1:2]) == pytest.approx({"rouge1": 4 / 7, "rouge2": 0.0, "rougeL": 4 / 7})
    assert rouge(HYPS[2:], REFS[2:]) == pytest.approx({"rouge1": 1.0, "rouge2": 1 / 3, "rougeL": 1 / 2})
    expected = {"rouge1": (5 / 6 + 4 / 7 + 1) / 3, "rouge2": (3 / 5 + 0 + 1 / 3) / 3, "rougeL": (5 / 6 + 4 / 7 + 1 / 2) / 3}
    assert rouge(HYPS, REFS) == pytest.approx(expected)
    assert summary_scores(HYPS, REFS) == pytest.approx({**expected, "exact_match": 0.0})


def test_rouge_clips_repeated_words():
    # "the the the the" / "the cat": "the" counts once (the reference has it once): P = 1/4, R = 1/2
    # F1 = 2 * (1/8) / (3/4) = 1/3; no bigram in common; LCS = 1 -> 1/3
    assert rouge(["the the the the"], ["the cat"]) == pytest.approx({"rouge1": 1 / 3, "rouge2": 0.0, "rougeL": 1 / 3})
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4


def test_bleu_and_chrf_are_sacrebleus():
    assert bleu(HYPS, REFS) == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    assert chrf(HYPS, REFS) == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    assert 0 < bleu(HYPS, REFS) < 100
    scores = translation_scores(HYPS, REFS)
    assert set(scores) == {"bleu", "chrf", "exact_match"} and scores["exact_match"] == 0.0


def test_exact_match_strips_blanks():
    assert exact_match([" a b ", "c", "D"], ["a b", "c", "d"]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("metric", [bleu, chrf, exact_match, rouge])
def test_errors_name_the_counts(metric):
    with pytest.raises(InputValueError, match="got 2 hypotheses and 1 references"):
        metric(["a", "b"], ["a"])
    with pytest.raises(InputValueError, match="got 0 hypotheses"):
        metric([], [])
    with pytest.raises(InputValueError, match="string, got int at position 1"):
        metric(["a", 3], ["a", "b"])
