"""Spanish as it is spoken: numbers, dates and times written out in words, and the texts a speech model learns.

- ``number_words(n)``: ``0 <= n < 10**9`` in words (``21 -> "veintiuno"``, ``101 -> "ciento uno"``,
  ``21000 -> "veintiún mil"``, ``2_000_000 -> "dos millones"``), with the accents of the written language;
- ``spoken_texts(count, rng)``: a sample of what the bundled speech model is trained to recognise —
  numbers (read alone and within phrases), weekdays, months, dates, times, ordinals and everyday words;
- ``grammar_texts()``: the single words and short texts among them, as ``choices`` for a recogniser;
- ``fold(text)``: the form recognisers write and score: lower case, accents removed (``á -> a``, ``ü -> u``),
  ``ñ`` kept, anything else that is not a letter or a space dropped, spaces collapsed.

>>> number_words(1987), number_words(21_000), number_words(100)
('mil novecientos ochenta y siete', 'veintiún mil', 'cien')
>>> fold("¿Miércoles, 3 de Junio?  Mañana")
'miercoles de junio mañana'
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from ..errors import InputValueError

UNITS = (
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis diecisiete "
    "dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete "
    "veintiocho veintinueve"
).split()
TENS = {30: "treinta", 40: "cuarenta", 50: "cincuenta", 60: "sesenta", 70: "setenta", 80: "ochenta", 90: "noventa"}
HUNDREDS = {
    1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos", 6: "seiscientos",
    7: "setecientos", 8: "ochocientos", 9: "novecientos",
}  # fmt: skip
WEEKDAYS = ("domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
    "diciembre",
)  # fmt: skip
ORDINALS = (
    "primero", "segundo", "tercero", "cuarto", "quinto", "sexto", "séptimo", "octavo", "noveno", "décimo", "undécimo",
    "duodécimo", "décimo tercero", "décimo cuarto", "décimo quinto", "décimo sexto", "décimo séptimo", "décimo octavo",
    "décimo noveno", "vigésimo", "trigésimo", "cuadragésimo", "quincuagésimo", "sexagésimo", "septuagésimo",
    "octogésimo", "nonagésimo", "centésimo", "milésimo", "millonésimo", "billonésimo",
)  # fmt: skip
WORDS = (
    "hoy", "mañana", "ayer", "mil", "millón", "millones", "menos", "y", "un", "una", "cien", "ciento", "veinti", "de",
    "el", "la", "a las", "de la tarde", "de la mañana", "de la noche", "en punto", "y media", "y cuarto", "dólares",
    "pesos", "horas", "minutos", "segundos", "número", "asterisco", "punto", "sí", "no", "gracias", "por favor",
    "hola", "adiós", "buenos días", "buenas tardes", "buenas noches", "mensaje", "mensajes", "nuevo", "nuevos",
    "tiene", "usted", "extensión", "contraseña", "llamada", "teléfono", "oprima", "marque", "tecla de número", "espere",
)  # fmt: skip
PHRASES = (
    "usted tiene {n} mensajes nuevos", "marque el número {n}", "oprima {d}", "son las {h} {tod}",
    "hoy es {w} {day} de {m}", "la llamada dura {n} minutos", "su extensión es {n}", "espere {n} segundos",
    "el {w} a las {h}", "tiene {n} mensaje nuevo", "el {day} de {m} de {y}", "cuesta {n} pesos",
    "son {n} dólares", "menos {n}", "mañana es {w}", "ayer fue {w}", "del {day} al {day2} de {m}",
)  # fmt: skip


def _below_thousand(n: int, apocope: bool) -> str:
    if n < 30:
        word = UNITS[n]
        return {"uno": "un", "veintiuno": "veintiún"}.get(word, word) if apocope else word
    if n < 100:
        tens, unit = divmod(n, 10)
        return TENS[tens * 10] + (f" y {_below_thousand(unit, apocope)}" if unit else "")
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    return HUNDREDS[hundreds] + (f" {_below_thousand(rest, apocope)}" if rest else "")


def number_words(n: int) -> str:
    """``n`` (``0 <= n < 10**9``) written in Spanish words."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 0 <= n < 10**9:
        raise InputValueError(f"expected a whole number from 0 to 999,999,999, got {n!r}")
    n = int(n)
    if n < 1000:
        return _below_thousand(n, apocope=False)
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    parts = []
    if millions:
        parts.append("un millón" if millions == 1 else f"{_below_thousand(millions, apocope=True)} millones")
    if thousands:
        parts.append("mil" if thousands == 1 else f"{_below_thousand(thousands, apocope=True)} mil")
    if units:
        parts.append(_below_thousand(units, apocope=False))
    return " ".join(parts)


def grammar_texts() -> list[str]:
    """The 1,103 single texts the bundled model is trained to say, folded: 0–999 in words, weekdays, months,
    ordinals and menu words — ``choices`` for ``transcribe`` when a recording says one of them."""
    return sorted({fold(t) for t in [number_words(n) for n in range(1000)] + [*WEEKDAYS, *MONTHS, *ORDINALS, *WORDS]})


def fold(text: str) -> str:
    """``text`` as recognisers write it: lower case, no accents but ``ñ``, letters and single spaces only."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text).lower()):
        if ch == "ñ":
            out.append(ch)
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base if "a" <= base <= "z" else " ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _number(rng: np.random.Generator) -> int:
    scale = rng.choice([31, 100, 1000, 10_000, 1_000_000], p=[0.4, 0.25, 0.15, 0.1, 0.1])
    return int(rng.integers(0, scale))


def spoken_text(rng: np.random.Generator) -> str:
    """One text of the kinds ``spoken_texts`` draws (see the module docstring)."""
    kind = rng.choice(["number", "word", "weekday", "month", "ordinal", "date", "phrase"],
                      p=[0.34, 0.12, 0.1, 0.1, 0.06, 0.1, 0.18])  # fmt: skip
    if kind == "number":
        return number_words(_number(rng))
    if kind == "word":
        return str(rng.choice(WORDS))
    if kind == "weekday":
        return str(rng.choice(WEEKDAYS))
    if kind == "month":
        return str(rng.choice(MONTHS))
    if kind == "ordinal":
        return str(rng.choice(ORDINALS))
    if kind == "date":
        day = number_words(int(rng.integers(1, 32))) if rng.random() < 0.8 else "primero"
        text = f"{day} de {rng.choice(MONTHS)}"
        if rng.random() < 0.4:
            text = f"{rng.choice(WEEKDAYS)} {text}"
        if rng.random() < 0.3:
            text += f" de {number_words(int(rng.integers(1900, 2100)))}"
        return text
    day = int(rng.integers(1, 29))
    return str(rng.choice(PHRASES)).format(
        n=number_words(_number(rng)), d=number_words(int(rng.integers(0, 10))), h=number_words(int(rng.integers(1, 13))),
        tod=rng.choice(["en punto", "y media", "y cuarto", "de la tarde", "de la mañana", "de la noche"]),
        w=rng.choice(WEEKDAYS), m=rng.choice(MONTHS), day=number_words(day), day2=number_words(day + int(rng.integers(1, 3))),
        y=number_words(int(rng.integers(1900, 2100))),
    )  # fmt: skip


def spoken_texts(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` texts drawn by ``spoken_text`` (with their accents; ``fold`` them for labels)."""
    return [spoken_text(rng) for _ in range(int(count))]
