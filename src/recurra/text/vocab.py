"""``Vocabulary``: tokens <-> integer ids, with the special tokens, saved as JSON.

Ids 0-3 are always ``<pad>`` (padding, masked out), ``<unk>`` (a token not in the vocabulary),
``<start>`` and ``<end>`` (around every line); the other tokens follow by decreasing count, ties in
alphabetical order, so the same corpus always gives the same ids.

>>> v = Vocabulary.build([["a", "b", "a"], ["c"]])
>>> v.encode(["a", "z"]), v.decode([4, 1])
([4, 1], ['a', '<unk>'])
>>> len(v)
7
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import ConfigError, ModelFileError
from ..io.files import atomic_write_bytes, read_json

PAD, UNK, START, END = "<pad>", "<unk>", "<start>", "<end>"
SPECIALS = (PAD, UNK, START, END)
FORMAT = "recurra.vocabulary"


class Vocabulary:
    """Tokens and their ids. ``vocab[token]`` (the id, ``<unk>``'s for unknown tokens), ``vocab.tokens[i]``."""

    def __init__(self, tokens: Sequence[str], counts: dict[str, int] | None = None):
        tokens = list(tokens)
        if tokens[: len(SPECIALS)] != list(SPECIALS):
            tokens = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        if len(set(tokens)) != len(tokens):
            raise ConfigError("a vocabulary cannot hold the same token twice")
        self.tokens: list[str] = tokens
        self.index: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.counts: dict[str, int] = dict(counts or {})

    pad_id, unk_id, start_id, end_id = 0, 1, 2, 3

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], *, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """The tokens seen at least ``min_count`` times, the ``max_size`` most frequent (specials not counted)."""
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ConfigError(f"expected min_count to be an integer >= 1, got {min_count!r}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
            raise ConfigError(f"expected max_size to be a positive integer or None, got {max_size!r}")
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(seq)
        for s in SPECIALS:
            counts.pop(s, None)
        kept = sorted((t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        return cls(list(SPECIALS) + kept, {t: counts[t] for t in kept})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def __getitem__(self, token: str) -> int:
        return self.index.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; unknown ones become ``<unk>``'s id (1)."""
        get, unk = self.index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        n = len(self.tokens)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ConfigError(f"expected token ids in [0, {n - 1}], got {i}")
            out.append(self.tokens[i])
        return out

    @property
    def specials(self) -> tuple[str, ...]:
        return SPECIALS

    # -- JSON -------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": 1, "specials": list(SPECIALS), "tokens": self.tokens, "counts": self.counts}

    @classmethod
    def from_json(cls, doc: Any, where: str = "vocabulary") -> Vocabulary:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("tokens"), list):
            raise ModelFileError(f"{where} is not a recurra vocabulary (expected format {FORMAT!r} and a token list)")
        tokens = doc["tokens"]
        if tokens[: len(SPECIALS)] != list(SPECIALS) or not all(isinstance(t, str) for t in tokens):
            raise ModelFileError(f"{where} is damaged: expected string tokens starting with {list(SPECIALS)}")
        return cls(tokens, doc.get("counts") or {})

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as UTF-8 JSON (atomically)."""
        atomic_write_bytes(path, json.dumps(self.to_json(), ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        path = Path(path)
        if not path.exists():
            raise ModelFileError(f"vocabulary file {path} is missing")
        return cls.from_json(read_json(path), str(path))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"
