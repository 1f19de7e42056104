"""Tokenizers and vocabularies: NFC, Spanish letters and marks, punctuation, special tokens, JSON."""

from __future__ import annotations

import json
import unicodedata

import pytest

from recurra.errors import ConfigError, ModelFileError
from recurra.text import CharTokenizer, Vocabulary, WordTokenizer, normalize
from recurra.text.tokenizers import make_tokenizer, split_lines, tokenizer_from_config
from recurra.text.vocab import SPECIALS


def test_nfc_makes_decomposed_and_composed_text_the_same_tokens():
    composed = "niño café"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed and len(decomposed) == len(composed) + 2
    assert CharTokenizer().tokenize(decomposed) == CharTokenizer().tokenize(composed) == list(composed)
    assert WordTokenizer().tokenize(decomposed) == ["niño", "café"]
    assert normalize(decomposed) == composed


def test_spanish_marks_accents_and_punctuation_are_kept_as_tokens():
    tokens = WordTokenizer().tokenize("¡Hola! ¿Qué tal, Íñigo? Año 1909: «bien».")
    assert tokens == ["¡", "hola", "!", "¿", "qué", "tal", ",", "íñigo", "?", "año", "1909", ":", "«", "bien", "»", "."]
    assert WordTokenizer(lower=False).tokenize("Íñigo Ñandú")[0] == "Íñigo"
    assert CharTokenizer(lower=True).tokenize("ÑÁ") == ["ñ", "á"]
    assert WordTokenizer().tokenize("don't arco-iris") == ["don't", "arco-iris"]


def test_detokenize_joins_words_and_marks_the_spanish_way():
    tok = WordTokenizer()
    text = "¿Dónde está? ¡Aquí, (cerca)!"
    assert tok.detokenize(tok.tokenize(text)) == text.lower()
    assert CharTokenizer().detokenize(list("ab c")) == "ab c"


def test_lines_and_tokenizer_config():
    assert split_lines("uno\r\n\n  dos \rtres\n") == ["uno", "dos", "tres"]
    for level, lower in (("char", False), ("word", True), ("word", False)):
        t = make_tokenizer(level, lower)
        again = tokenizer_from_config(json.loads(json.dumps(t.get_config())))
        assert type(again) is type(t) and again.lower == lower
    with pytest.raises(ConfigError, match="expected level 'char' or 'word', got 'byte'"):
        make_tokenizer("byte")


def test_vocabulary_ids_specials_and_unknown_tokens():
    v = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"], ["d"]], min_count=2)
    assert v.tokens == [*SPECIALS, "b", "a"]  # by count, then alphabetical; c and d seen once
    assert (v.pad_id, v.unk_id, v.start_id, v.end_id) == (0, 1, 2, 3)
    assert v.encode(["a", "zzz", "b"]) == [5, 1, 4]
    assert v.decode([4, 1]) == ["b", "<unk>"]
    assert len(Vocabulary.build([list("abc")], max_size=2)) == 6
    with pytest.raises(ConfigError, match="expected token ids in \\[0, 5\\], got 9"):
        v.decode([9])
    with pytest.raises(ConfigError, match="min_count"):
        Vocabulary.build([["a"]], min_count=0)


def test_vocabulary_round_trips_through_json(tmp_path):
    v = Vocabulary.build([list("¿qué año, niño?"), ["ñandú", "café"]])
    path = tmp_path / "vocab.json"
    v.save(path)
    assert "ñandú" in path.read_text(encoding="utf-8")  # readable UTF-8, not escapes
    again = Vocabulary.load(path)
    assert again == v and again.encode(["ñandú", "x"]) == v.encode(["ñandú", "x"]) and again.counts == v.counts
    path.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ModelFileError, match="not a recurra vocabulary"):
        Vocabulary.load(path)
    with pytest.raises(ModelFileError, match="is missing"):
        Vocabulary.load(tmp_path / "none.json")
