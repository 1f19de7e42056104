"""Spanish accent restoration as tagging: each character of a text written without accents gets the tag
of the letter it was.

``strip_accents`` removes the marks Spanish spelling adds (á é í ó ú ü ñ, and the capitals) and keeps
every other character; each character maps to one character, so a text and its stripped form align
letter by letter. ``accent_tags`` gives one tag per character: ``"="`` for a character left as it is,
else the lowercase accented letter it was (``"á"`` ... ``"ñ"``; a capital keeps its case from the
stripped letter). ``restore`` puts the accents back.

>>> strip_accents("¿Él está aquí? Sí, mañana.")
'¿El esta aqui? Si, manana.'
>>> accent_tags("Él está")
('El esta', ['é', '=', '=', '=', '=', '=', 'á'])
>>> restore("El esta", ['é', '=', '=', '=', '=', '=', 'á'])
'Él está'

A stripped word can be several words: ``el`` (the) and ``él`` (he), ``esta`` (this) and ``está`` (is),
``publico`` / ``público`` / ``publicó``. ``AMBIGUOUS`` lists such groups; ``MostFrequentForm``, the
baseline, restores every word to its most frequent form in the training text, so on these words it is
wrong whenever the less frequent form is meant. ``accent_report`` measures character accuracy, word
accuracy, word accuracy on the words of ``AMBIGUOUS``, and, given the baseline's forms, word accuracy on the
ambiguous words whose right form is not the baseline's (where the baseline must fail).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..errors import InputValueError, ModelFileError, ShapeError
from .tokenizers import normalize

ACCENTED = "áéíóúüñ"
PLAIN = "aeiouun"
KEEP = "="  # the tag of a character left as it is
FORMS_FORMAT = "recurra.accent_forms"
TAGS = [KEEP, *ACCENTED]
_STRIP = str.maketrans(ACCENTED + ACCENTED.upper(), PLAIN + PLAIN.upper())
_BASE = dict(zip(ACCENTED, PLAIN))
WORD = re.compile(r"\w+")


def strip_accents(text: str) -> str:
    """``text`` (NFC) with á é í ó ú ü ñ and their capitals as a e i o u u n; every other character kept."""
    return normalize(text).translate(_STRIP)


def accent_tags(text: str) -> tuple[str, list[str]]:
    """The stripped text and one tag per character: ``"="`` (unchanged) or the lowercase accented letter."""
    text = normalize(text)
    return text.translate(_STRIP), [c.lower() if c.lower() in _BASE else KEEP for c in text]


def restore(stripped: str, tags: Sequence[str], strict: bool = True) -> str:
    """Put the accents ``tags`` name back on ``stripped`` (one tag per character; capitals stay capitals).

    A tag that does not fit its letter (``"ó"`` on an ``a``) raises ``InputValueError``, or with
    ``strict=False`` leaves the letter as it is (what a model's prediction may ask for).
    """
    stripped = normalize(stripped)
    if len(tags) != len(stripped):
        raise ShapeError(f"expected one tag per character: {len(stripped)} characters and {len(tags)} tags")
    out = []
    for i, (c, tag) in enumerate(zip(stripped, tags)):
        if tag == KEEP:
            out.append(c)
        elif _BASE.get(tag) == c.lower():
            out.append(tag.upper() if c.isupper() else tag)
        elif strict:
            raise InputValueError(f"expected a tag in {TAGS} that fits the letter, got {tag!r} on {c!r} at position {i}")
        else:
            out.append(c)
    return "".join(out)


def with_case_of(form: str, word: str) -> str:
    """``form`` (lowercase, as long as ``word``) with the capitals of ``word``."""
    return "".join(f.upper() if w.isupper() else f for f, w in zip(form, word))


class MostFrequentForm:
    """The baseline: each stripped word becomes its most frequent form in the training text (lowercased;
    ties: the form first seen); words never seen stay as they are. ``counts`` keeps every form seen."""

    def __init__(self) -> None:
        self.forms: dict[str, str] = {}
        self.counts: dict[str, Counter[str]] = {}

    def fit(self, texts: Sequence[str]) -> MostFrequentForm:
        counts: dict[str, Counter[str]] = {}
        for text in texts:
            for word in WORD.findall(normalize(text, lower=True)):
                counts.setdefault(word.translate(_STRIP), Counter())[word] += 1
        self.counts = counts
        self.forms = {key: c.most_common(1)[0][0] for key, c in counts.items()}
        return self

    def closest(self, word: str) -> str:
        """``word`` (as another restorer wrote it) if it is a form seen in training, or its stripped form was
        never seen; else the seen form that agrees with it on the most letters (ties: the more frequent)."""
        low = word.lower()
        seen = self.counts.get(low.translate(_STRIP))
        if not seen or low in seen:
            return word
        best = max(seen, key=lambda f: (sum(a == b for a, b in zip(f, low)), seen[f]))
        return with_case_of(best, word) if len(best) == len(word) else word

    def to_json(self) -> dict[str, Any]:
        """Every form seen, with its count (a restorer's lexicon, saved beside a model)."""
        return {"format": FORMS_FORMAT, "format_version": 1, "counts": {f: n for c in self.counts.values() for f, n in c.items()}}

    @classmethod
    def from_json(cls, doc: Any, where: str = "the seen forms") -> MostFrequentForm:
        counts = doc.get("counts") if isinstance(doc, dict) and doc.get("format") == FORMS_FORMAT else None
        if not isinstance(counts, dict) or not all(isinstance(f, str) and isinstance(n, int) for f, n in counts.items()):
            expected = f"expected format {FORMS_FORMAT!r} with counts of forms (strings to integers)"
            raise ModelFileError(f"{where} is damaged: {expected}")
        grouped: dict[str, Counter[str]] = {}
        for form, n in counts.items():
            grouped.setdefault(form.translate(_STRIP), Counter())[form] = n
        out = cls()
        out.counts = grouped
        out.forms = {key: c.most_common(1)[0][0] for key, c in grouped.items()}
        return out

    def to_seen_forms(self, text: str) -> str:
        """``text`` with each word that is no form seen in training replaced by ``closest``."""
        return WORD.sub(lambda m: self.closest(m.group(0)), normalize(text))

    def restore(self, text: str) -> str:
        """``text`` with accents put back word by word (it is stripped first)."""
        forms = self.forms

        def one(m: re.Match) -> str:
            word = m.group(0)
            form = forms.get(word.lower())
            return with_case_of(form, word) if form is not None and len(form) == len(word) else word

        return WORD.sub(one, strip_accents(text))


# Groups of words that differ only by their accents: the baseline can be right on one of each group only.
AMBIGUOUS: list[tuple[str, ...]] = [
    # the diacritic accent: pronoun or article, adverb or conjunction, verb or preposition ...
    ("el", "él"), ("si", "sí"), ("tu", "tú"), ("mi", "mí"), ("te", "té"), ("se", "sé"), ("de", "dé"),
    ("mas", "más"), ("aun", "aún"), ("solo", "sólo"),
    # demonstratives (accented as pronouns in older spelling) and a verb
    ("esta", "está", "ésta"), ("este", "esté", "éste"), ("estas", "estás", "éstas"), ("estos", "éstos"),
    ("ese", "ése"), ("esa", "ésa"), ("esos", "ésos"), ("esas", "ésas"), ("aquel", "aquél"), ("aquella", "aquélla"),
    # question words
    ("que", "qué"), ("como", "cómo"), ("donde", "dónde"), ("cuando", "cuándo"), ("quien", "quién"),
    ("quienes", "quiénes"), ("cual", "cuál"), ("cuales", "cuáles"), ("cuanto", "cuánto"), ("cuanta", "cuánta"),
    ("adonde", "adónde"), ("porque", "porqué"),
    # the stress a verb's person and tense moves: noun or adjective / I ... / he ... (past)
    ("publico", "público", "publicó"), ("continuo", "continúo", "continuó"), ("practico", "práctico", "practicó"),
    ("termino", "término", "terminó"), ("animo", "ánimo", "animó"), ("ejercito", "ejército", "ejercitó"),
    ("deposito", "depósito", "depositó"), ("ultimo", "último", "ultimó"), ("transito", "tránsito", "transitó"),
    ("limite", "límite", "limité"), ("hablo", "habló"), ("llego", "llegó"), ("entro", "entró"), ("tomo", "tomó"),
    ("paso", "pasó"), ("mando", "mandó"), ("llamo", "llamó"), ("quedo", "quedó"), ("dejo", "dejó"), ("hallo", "halló"),
    ("pregunto", "preguntó"), ("camino", "caminó"), ("trabajo", "trabajó"), ("canto", "cantó"), ("amo", "amó"),
    ("envio", "envió"), ("hacia", "hacía"), ("seria", "sería"), ("sabia", "sabía"), ("rio", "río", "rió"),
    ("papa", "papá"), ("mama", "mamá"), ("ingles", "inglés"), ("sabana", "sábana"),
]  # fmt: skip
AMBIGUOUS_KEYS = frozenset(group[0].translate(_STRIP) for group in AMBIGUOUS)


@dataclass
class AccentReport:
    """``char_accuracy`` over all characters, ``word_accuracy`` over words (``\\w+``), ``ambiguous_accuracy``
    over the words whose stripped form is in ``AMBIGUOUS``, ``rare_form_accuracy`` over those of them whose
    right form is not the most frequent one (the baseline's, when ``accent_report`` is given its forms;
    ``rare_form_words`` is 0 otherwise); the counts each is over."""

    char_accuracy: float
    word_accuracy: float
    ambiguous_accuracy: float
    chars: int
    words: int
    ambiguous_words: int
    rare_form_accuracy: float = 0.0
    rare_form_words: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def accent_report(
    true_texts: Sequence[str],
    restored_texts: Sequence[str],
    ambiguous: frozenset[str] = AMBIGUOUS_KEYS,
    frequent_forms: Mapping[str, str] | None = None,
) -> AccentReport:
    """Compare restored texts with the true ones (the same texts, so the same lengths, character by character).

    ``frequent_forms`` (``MostFrequentForm.forms``: stripped word -> its most frequent form, lowercase) picks
    the rare-form words: an ambiguous word whose lowercase form is not ``frequent_forms`` of its stripped form
    (a stripped form never seen stays as it is), so the most-frequent-form baseline is wrong on every one."""
    if len(true_texts) != len(restored_texts):
        raise ShapeError(f"expected as many restored texts as true ones, got {len(restored_texts)} for {len(true_texts)}")
    chars = char_hits = words = word_hits = amb = amb_hits = rare = rare_hits = 0
    for i, (true, got) in enumerate(zip(true_texts, restored_texts)):
        true, got = normalize(true), normalize(got)
        if len(true) != len(got):
            raise ShapeError(f"expected restored text {i} as long as the true one ({len(true)} characters), got {len(got)}")
        chars += len(true)
        char_hits += sum(a == b for a, b in zip(true, got))
        for m in WORD.finditer(true):
            right = got[m.start() : m.end()] == m.group(0)
            words += 1
            word_hits += right
            low = m.group(0).lower()
            key = low.translate(_STRIP)
            if key in ambiguous:
                amb += 1
                amb_hits += right
                if frequent_forms is not None and frequent_forms.get(key, key) != low:
                    rare += 1
                    rare_hits += right
    return AccentReport(
        char_accuracy=char_hits / max(chars, 1), word_accuracy=word_hits / max(words, 1),
        ambiguous_accuracy=amb_hits / max(amb, 1), chars=chars, words=words, ambiguous_words=amb,
        rare_form_accuracy=rare_hits / max(rare, 1), rare_form_words=rare,
    )  # fmt: skip


__all__ = [
    "ACCENTED",
    "KEEP",
    "TAGS",
    "AMBIGUOUS",
    "AMBIGUOUS_KEYS",
    "AccentReport",
    "MostFrequentForm",
    "accent_report",
    "accent_tags",
    "restore",
    "strip_accents",
    "with_case_of",
]
