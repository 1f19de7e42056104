"""Character and word tokenizers: Unicode-correct (NFC), optional lowercasing, punctuation as tokens.

Text is normalised to NFC first, so ``"n" + U+0303`` and the precomposed ``"ñ"`` are one character and
one token. Accents, ``ñ``, ``¿`` and ``¡`` are kept. A text is read line by line: every non-empty line
is one sequence, and the language model sees it as ``<start> tokens <end>``.

>>> WordTokenizer().tokenize("¿Dónde está el niño?")
['¿', 'dónde', 'está', 'el', 'niño', '?']
>>> CharTokenizer(lower=False).tokenize("Año")
['A', 'ñ', 'o']
>>> WordTokenizer().detokenize(["¿", "qué", "tal", "?", "bien", ",", "gracias", "."])
'¿qué tal? bien, gracias.'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..errors import ConfigError

# a word: letters/digits (any script), with inner apostrophes or hyphens ("don't", "arco-iris"); else one symbol
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)
# no space before these when words are joined again; none after the openers
_CLOSERS = set(".,;:!?)]}»”…%")
_OPENERS = set("¿¡([{«“")


def normalize(text: str, lower: bool = False) -> str:
    """NFC normalisation (composed accents), then lowercasing when asked."""
    text = unicodedata.normalize("NFC", text)
    return text.lower() if lower else text


def split_lines(text: str) -> list[str]:
    """The non-empty lines of ``text`` (``\\n``, ``\\r\\n`` or ``\\r``), stripped of surrounding blanks."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class Tokenizer:
    """Base class: ``tokenize(text) -> tokens``, ``detokenize(tokens) -> text``, ``get_config()``."""

    level = "base"

    def __init__(self, lower: bool = False):
        self.lower = bool(lower)

    def normalize(self, text: str) -> str:
        return normalize(text, self.lower)

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "lower": self.lower, "normalization": "NFC"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower={self.lower})"


class CharTokenizer(Tokenizer):
    """One token per character (after NFC), spaces included."""

    level = "char"

    def tokenize(self, text: str) -> list[str]:
        return list(self.normalize(text))

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)


class WordTokenizer(Tokenizer):
    """Words (letters and digits of any script, with inner ``'`` or ``-``) and single punctuation marks."""

    level = "word"

    def __init__(self, lower: bool = True):
        super().__init__(lower)

    def tokenize(self, text: str) -> list[str]:
        return WORD_RE.findall(self.normalize(text))

    def detokenize(self, tokens: list[str]) -> str:
        out: list[str] = []
        for tok in tokens:
            if out and tok not in _CLOSERS and out[-1] not in _OPENERS and out[-1] != "\n" and tok != "\n":
                out.append(" ")
            out.append(tok)
        return "".join(out)

    @staticmethod
    def is_word(token: str) -> bool:
        """True for a word, False for punctuation."""
        return bool(token) and (token[0].isalnum() or token[0] == "_")


TOKENIZERS: dict[str, type[Tokenizer]] = {"char": CharTokenizer, "word": WordTokenizer}


def make_tokenizer(level: str, lower: bool | None = None) -> Tokenizer:
    """``"char"`` (default ``lower=False``) or ``"word"`` (default ``lower=True``)."""
    if level not in TOKENIZERS:
        raise ConfigError(f"expected level 'char' or 'word', got {level!r}")
    cls = TOKENIZERS[level]
    return cls() if lower is None else cls(lower=lower)


def tokenizer_from_config(config: dict[str, Any]) -> Tokenizer:
    return make_tokenizer(config.get("level", "char"), bool(config.get("lower", False)))
