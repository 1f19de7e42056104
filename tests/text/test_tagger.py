"""SequenceTagger: learns a tagging task that needs context, the CRF path, padded batches tag every sequence
as it is tagged alone, saving and loading, every refused input, and span F1 on BIO tags."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import recurra
from recurra.errors import InputValueError, NotBuiltError, ShapeError
from recurra.text import SequenceTagger, TaggingReport, load_tagger
from recurra.text.tag_inputs import padded
from recurra.text.tagging_metrics import bio_spans, looks_like_bio, span_scores, tagging_report

PRONOUNS, DETERMINERS, EITHER, NOUNS = ["they", "we", "you"], ["the", "a", "my"], ["run", "walk", "fish", "swim"], ["dog", "cat"]


def sentences(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """Clauses "they run" (V) and "the run" (N), chained: the tag of run/walk/fish/swim depends on the word before."""
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for _ in range(n):
        words, tags = [], []
        for _ in range(int(rng.integers(1, 4))):
            if rng.integers(2):
                words += [str(rng.choice(PRONOUNS)), str(rng.choice(EITHER))]
                tags += ["P", "V"]
            else:
                words += [str(rng.choice(DETERMINERS)), str(rng.choice(EITHER + NOUNS))]
                tags += ["D", "N"]
        X.append(words)
        Y.append(tags)
    return X, Y


def entities(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """BIO tags: "new york" and "san jose" are places (B-LOC I-LOC), "ana" and "luis" people (B-PER)."""
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for _ in range(n):
        words, tags = [], []
        for _ in range(int(rng.integers(1, 4))):
            kind = int(rng.integers(3))
            if kind == 0:
                words += list(["new york", "san jose"][int(rng.integers(2))].split())
                tags += ["B-LOC", "I-LOC"]
            elif kind == 1:
                words.append(str(rng.choice(["ana", "luis"])))
                tags.append("B-PER")
            else:
                words.append(str(rng.choice(["in", "saw", "and", "with"])))
                tags.append("O")
        X.append(words)
        Y.append(tags)
    return X, Y


FAST = dict(cell="gru", units=16, embedding=8, learning_rate=0.02, validation=0.0, batch_size=16)


@pytest.fixture(scope="module")
def tagger() -> SequenceTagger:
    X, Y = sentences(120)
    return SequenceTagger(**FAST, epochs=12).fit(X, Y)


def test_it_learns_a_task_that_needs_context(tagger):
    X, Y = sentences(60, seed=1)
    report = tagger.evaluate(X, Y)
    assert isinstance(report, TaggingReport)
    assert report.accuracy == 1.0 and report.tokens == sum(map(len, Y))
    assert report.f1 == {"D": 1.0, "N": 1.0, "P": 1.0, "V": 1.0}
    assert report.span_f1 is None  # not BIO tags
    assert tagger.tags_ == ["D", "N", "P", "V"]
    assert tagger.predict([["they", "fish"], ["the", "fish"]]) == [["P", "V"], ["D", "N"]]


def test_the_crf_path_learns_bio_spans_and_decodes_with_viterbi():
    X, Y = entities(120)
    tagger = SequenceTagger(**FAST, epochs=10, crf=True).fit(X, Y)
    assert tagger.network_.crf is not None and tagger.network_.crf.num_tags == 4
    report = tagger.evaluate(*entities(40, seed=1))
    assert report.accuracy == 1.0 and report.span_f1 == 1.0 and report.spans > 0
    ids = padded(tagger._ids([["ana", "saw", "new", "york"]]), 0)
    emissions = tagger.network_(ids)
    viterbi = tagger.network_.crf.decode(emissions, ids != 0)[0]
    assert tagger.predict([["ana", "saw", "new", "york"]]) == [[tagger.tags_[k] for k in viterbi]]
    assert viterbi == [tagger.tags_.index(t) for t in ["B-PER", "O", "B-LOC", "I-LOC"]]


@pytest.mark.parametrize("crf, cell", [(False, "lstm"), (True, "gru")])
def test_a_padded_batch_tags_every_sequence_as_it_is_tagged_alone(crf, cell):
    X, Y = sentences(40)
    tagger = SequenceTagger(cell=cell, units=8, embedding=8, epochs=1, validation=0.0, crf=crf).fit(X, Y)
    batch = [["the", "dog"], ["they", "run", "a", "cat", "we", "swim"], ["you"], ["my", "fish", "we", "walk"]]
    assert tagger.predict(batch) == [tagger.predict([x])[0] for x in batch]
    ids = padded(tagger._ids(batch), 0)  # (4, 6)
    with torch.no_grad():
        together = tagger.network_(ids)
        for i, x in enumerate(batch):
            alone = tagger.network_(padded(tagger._ids([x]), 0))[0]
            torch.testing.assert_close(together[i, : len(x)], alone, atol=1e-6, rtol=0)


def test_strings_are_split_into_characters_or_words():
    texts = ["abc ba", "cab", "aa bb"] * 6
    tags = [["up" if ch == "a" else "-" for ch in t] for t in texts]
    tagger = SequenceTagger(**{**FAST, "units": 8}, level="char", epochs=15).fit(texts, tags)
    assert tagger.tokenize("ab c") == ["a", "b", " ", "c"]
    assert tagger.predict(["bca a"]) == [["-", "-", "up", "-", "up"]]
    words = SequenceTagger(units=4, embedding=4, epochs=1, validation=0.0).fit(["¿Dónde está?"], [["O", "W", "W", "O"]])
    assert words.tokenize("¿Dónde está?") == ["¿", "Dónde", "está", "?"] and len(words.predict(["Hola, Ana"])[0]) == 3


def test_save_and_load_give_the_same_predictions(tagger, tmp_path):
    X, _ = sentences(20, seed=2)
    tagger.save(tmp_path / "tagger")
    files = sorted(p.name for p in (tmp_path / "tagger").iterdir())
    assert files == ["config.json", "manifest.json", "vocab.json", "weights.safetensors"]
    for again in (load_tagger(tmp_path / "tagger"), recurra.load(tmp_path / "tagger"), SequenceTagger.load(tmp_path / "tagger")):
        assert type(again) is SequenceTagger and again.tags_ == tagger.tags_
        assert again.predict(X) == tagger.predict(X)
    crf = SequenceTagger(units=4, embedding=4, epochs=1, validation=0.0, crf=True).fit(X, sentences(20, seed=2)[1])
    crf.save(tmp_path / "crf")
    again = load_tagger(tmp_path / "crf")
    torch.testing.assert_close(again.network_.crf.transitions, crf.network_.crf.transitions, atol=0, rtol=0)
    assert again.predict(X) == crf.predict(X)


def test_bad_inputs_are_refused_naming_what_was_expected_and_found(tagger):
    X, Y = sentences(4)
    fresh = SequenceTagger(units=4, embedding=4, epochs=1, validation=0.0)
    with pytest.raises(ShapeError, match="expected one tag per token: row 1 has 4 tokens and 3 tags"):
        fresh.fit([["a", "b"], ["a", "b", "c", "d"]], [["x", "y"], ["x", "y", "z"]])
    with pytest.raises(ShapeError, match="expected as many tag sequences as token sequences, got 1 tag sequences for 2"):
        fresh.fit([["a"], ["b"]], [["x"]])
    with pytest.raises(InputValueError, match="expected at least one token in every sequence, got an empty sequence at row 1"):
        fresh.fit([["a"], [], ["b"]], [["x"], [], ["y"]])
    with pytest.raises(InputValueError, match="got an empty sequence at row 0"):
        tagger.predict([""])
    with pytest.raises(InputValueError, match="expected at least one of the token sequences"):
        fresh.fit([], [])
    with pytest.raises(InputValueError, match=r"not trained on: \['ADJ'\]; known tags: \['D', 'N', 'P', 'V'\]"):
        tagger.evaluate([["the", "big"]], [["D", "ADJ"]])
    with pytest.raises(InputValueError, match="expected a list of token sequences .*got one string"):
        tagger.predict("the dog")
    with pytest.raises(InputValueError, match="expected a list of token sequences .*got dict"):
        tagger.predict({"a": 1})
    with pytest.raises(InputValueError, match="to be a list of tokens or a string, got int at row 1"):
        tagger.predict([["the"], 5])
    with pytest.raises(InputValueError, match="expected tokens that are strings, got int at row 0, position 1"):
        tagger.predict([["the", 3]])
    with pytest.raises(InputValueError, match="expected each tag sequence to be a list of tags, got str at row 0"):
        fresh.fit([["a", "b"]], ["xy"])
    with pytest.raises(InputValueError, match="expected tags that are strings or numbers, got NoneType at row 0"):
        fresh.fit([["a"]], [[None]])
    with pytest.raises(NotBuiltError, match="not fitted"):
        fresh.predict(X)


def test_spans_are_read_as_conlleval_reads_them():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
    assert bio_spans(["O", "I-PER", "I-PER"]) == [("PER", 1, 3)]  # I- after O begins a span
    assert bio_spans(["B-PER", "I-LOC", "B-LOC", "B-LOC"]) == [("PER", 0, 1), ("LOC", 1, 2), ("LOC", 2, 3), ("LOC", 3, 4)]
    assert bio_spans(["O", "O"]) == [] and bio_spans(["B-X"]) == [("X", 0, 1)]
    assert looks_like_bio(["O", "B-PER", "I-PER"]) and not looks_like_bio(["N", "V"]) and not looks_like_bio(["O", "I-PER"])


def test_span_f1_on_hand_made_examples():
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    # PER right; LOC predicted as ORG (wrong type); the ORG span found; one spurious PER
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-PER"]]
    precision, recall, f1, n = span_scores(true, pred)
    assert (precision, recall, n) == (2 / 4, 2 / 3, 3) and f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    # a span cut short does not count: exact start and end only
    assert span_scores([["B-LOC", "I-LOC", "I-LOC"]], [["B-LOC", "I-LOC", "O"]])[:3] == (0.0, 0.0, 0.0)
    report = tagging_report(true, pred, ["B-LOC", "B-ORG", "B-PER", "I-PER", "O"])
    assert report.accuracy == pytest.approx(4 / 6) and report.span_f1 == pytest.approx(f1)
    assert report.precision["B-ORG"] == 0.5 and report.recall["B-ORG"] == 1.0 and report.support["B-LOC"] == 1
    assert report.f1["B-LOC"] == 0.0 and report.precision["O"] == 1.0 and report.recall["O"] == 0.5
