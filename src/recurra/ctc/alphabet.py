"""The characters a CTC model writes, with the blank at index 0.

>>> a = Alphabet("ab ")
>>> a.encode("ba b")
[2, 1, 3, 2]
>>> a.decode([2, 1, 3, 2])
'ba b'
>>> len(a)  # the blank and three characters
4
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..errors import InputValueError, ModelFileError

BLANK = 0


class Alphabet:
    """Characters ``c_1 .. c_K`` at ids ``1 .. K``; id ``0`` is CTC's blank, which no text contains.

    ``Alphabet.from_texts(texts)`` collects the characters of a corpus (sorted); ``encode`` refuses a
    character outside the alphabet, naming it and where it is.
    """

    def __init__(self, characters: Iterable[str]) -> None:
        chars = list(characters)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise InputValueError(f"expected single characters for the alphabet, got {c!r}")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise InputValueError(f"expected each character once in the alphabet, got {repeated} more than once")
        if not chars:
            raise InputValueError("expected at least one character for the alphabet, got none")
        self.characters: tuple[str, ...] = tuple(chars)
        self._ids = {c: i + 1 for i, c in enumerate(chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Alphabet:
        """The sorted characters that occur in ``texts``."""
        return cls(sorted(set().union(*(set(t) for t in texts))))

    def __len__(self) -> int:
        return len(self.characters) + 1

    def __repr__(self) -> str:
        return f"Alphabet({''.join(self.characters)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and other.characters == self.characters

    def __hash__(self) -> int:
        return hash(self.characters)

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` outside the alphabet, each once, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._ids))

    def encode(self, text: str, where: str = "the text") -> list[int]:
        """The ids of ``text``'s characters; a character outside the alphabet is an ``InputValueError``."""
        missing = self.unknown(text)
        if missing:
            raise InputValueError(
                f"{where} has characters outside the model's alphabet: {''.join(missing)!r} "
                f"(expected only {''.join(self.characters)!r})"
            )
        return [self._ids[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids`` (blanks skipped; no collapsing of repeats: that is the decoder's job)."""
        return "".join(self.characters[i - 1] for i in ids if i != BLANK)

    def to_json(self) -> str:
        return json.dumps({"characters": "".join(self.characters)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Alphabet:
        try:
            chars = json.loads(text)["characters"]
        except (ValueError, KeyError, TypeError) as e:
            raise ModelFileError(f"expected an alphabet as JSON with a 'characters' string, got {text[:80]!r}") from e
        if not isinstance(chars, str):
            raise ModelFileError(f"expected the alphabet's 'characters' as a string, got {type(chars).__name__}")
        return cls(chars)
