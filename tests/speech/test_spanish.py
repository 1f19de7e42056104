"""Spanish numbers in words, checked against how they are written, and the folded form recognisers score."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.speech.spanish import WEEKDAYS, fold, number_words, spoken_texts

WRITTEN = {
    0: "cero", 7: "siete", 15: "quince", 16: "dieciséis", 21: "veintiuno", 22: "veintidós", 30: "treinta",
    31: "treinta y uno", 45: "cuarenta y cinco", 99: "noventa y nueve", 100: "cien", 101: "ciento uno",
    115: "ciento quince", 200: "doscientos", 500: "quinientos", 555: "quinientos cincuenta y cinco",
    700: "setecientos", 999: "novecientos noventa y nueve", 1000: "mil", 1001: "mil uno", 1987: "mil novecientos ochenta y siete",
    2000: "dos mil", 21_000: "veintiún mil", 31_000: "treinta y un mil", 100_000: "cien mil", 101_000: "ciento un mil",
    1_000_000: "un millón", 2_500_000: "dos millones quinientos mil", 21_000_021: "veintiún millones veintiuno",
}  # fmt: skip


@pytest.mark.parametrize("n", sorted(WRITTEN))
def test_number_words(n: int) -> None:
    assert number_words(n) == WRITTEN[n]


@pytest.mark.parametrize("bad", [-1, 10**9, 2.5, "3", True])
def test_number_words_refuses_what_it_cannot_say(bad: object) -> None:
    with pytest.raises(InputValueError, match="whole number from 0 to 999,999,999"):
        number_words(bad)


def test_fold_keeps_letters_enye_and_single_spaces() -> None:
    assert fold("¿Miércoles, 3 de Junio?  Pingüino AÑO") == "miercoles de junio pinguino año"
    assert fold("   ") == ""


def test_spoken_texts_are_seeded_and_say_every_kind() -> None:
    a, b = spoken_texts(300, np.random.default_rng(1)), spoken_texts(300, np.random.default_rng(1))
    assert a == b
    assert any(t in WEEKDAYS for t in a) and any(" de " in t for t in a) and any("mil" in t for t in a)
    assert all(fold(t) for t in a)
