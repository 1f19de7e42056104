"""The alphabet: ids from 1 (0 is the blank), unknown characters named, JSON round trip."""

from __future__ import annotations

import pytest

from recurra.ctc import BLANK, Alphabet
from recurra.errors import InputValueError, ModelFileError


def test_ids_start_after_the_blank_and_round_trip():
    a = Alphabet.from_texts(["dos", "once"])
    assert a.characters == ("c", "d", "e", "n", "o", "s")
    assert BLANK == 0 and len(a) == 7
    assert a.decode(a.encode("son")) == "son"
    assert a.decode([0, 6, 0]) == "s"
    assert Alphabet.from_json(a.to_json()) == a


def test_characters_outside_the_alphabet_are_named():
    a = Alphabet("abc ")
    assert a.unknown("abzx z") == ["z", "x"]
    with pytest.raises(InputValueError, match=r"transcript 3 has characters outside the model's alphabet: 'ñ'"):
        a.encode("añ", where="transcript 3")


def test_bad_alphabets_are_refused():
    with pytest.raises(InputValueError, match="each character once"):
        Alphabet("aba")
    with pytest.raises(InputValueError, match="single characters"):
        Alphabet(["ab"])
    with pytest.raises(InputValueError, match="at least one character"):
        Alphabet("")
    with pytest.raises(ModelFileError, match="'characters'"):
        Alphabet.from_json('{"chars": "ab"}')
