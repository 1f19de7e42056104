"""Baselines: copying the source, a word dictionary learned by IBM Model 1 (or Dice), the lead of a name."""

from __future__ import annotations

import pytest

from recurra.errors import ConfigError, InputValueError, NotBuiltError
from recurra.text.seq2seq.baselines import WordDictionary, copy_source, first_tokens, lead_summary

SOURCES = ["la casa", "la flor", "una casa", "una flor", "la casa verde", "una flor roja"]
TARGETS = ["the house", "the flower", "a house", "a flower", "the green house", "a red flower"]
DICTIONARY = {"la": "the", "casa": "house", "flor": "flower", "una": "a", "verde": "green", "roja": "red"}


@pytest.mark.parametrize("method", ["model1", "dice"])
def test_learns_a_toy_dictionary_exactly(method):
    d = WordDictionary(method).fit(SOURCES, TARGETS)
    assert d.dictionary_ == DICTIONARY
    back = WordDictionary(method).fit(TARGETS, SOURCES)
    assert back.dictionary_ == {v: k for k, v in DICTIONARY.items()}


def test_model1_gives_a_frequent_word_to_its_own_source():
    # "casa" shares its 3 sentences with "the" as much as with "house" (the most frequent co-occurring word is a
    # tie, "the" first); EM explains "the" by "la", which is in all 4 sentences, and leaves "house" to "casa"
    d = WordDictionary().fit(["la casa"] * 3 + ["la flor"], ["the house"] * 3 + ["the flower"], iterations=10)
    assert d.dictionary_ == {"la": "the", "casa": "house", "flor": "flower"}


def test_translate_copies_unknown_words_and_punctuation_and_keeps_case():
    d = WordDictionary().fit(SOURCES, TARGETS)
    assert d.translate(["La casa de Pedro, ¿verde?", "UNA FLOR 3"]) == ["The house de Pedro, ¿green?", "A FLOWER 3"]
    assert d.translate([]) == []


def test_word_dictionary_errors():
    with pytest.raises(ConfigError, match="method"):
        WordDictionary("model2")
    with pytest.raises(NotBuiltError, match="fit"):
        WordDictionary().translate(["hola"])
    with pytest.raises(InputValueError, match="got 2 and 1"):
        WordDictionary().fit(["a", "b"], ["c"])


def test_copy_source_and_lead_baselines():
    assert copy_source(["Hola.", "adiós"]) == ["Hola.", "adiós"]
    assert lead_summary("read_text_file") == "read text file"
    assert lead_summary("getHTTPResponse") == "get http response"
    assert lead_summary("Path.read_text") == "path read text"
    assert lead_summary("__init__") == "init"
    assert lead_summary("to_utf8") == "to utf 8"
    assert first_tokens("def f(x):\n    return x + 1", 3) == "def f(x): return"
    with pytest.raises(InputValueError):
        first_tokens("a", -1)
