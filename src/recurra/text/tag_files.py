"""Tagged text in files: CoNLL-style (one token per line, its tag in the last column, a blank line
between sentences) and CSV (a column of space-separated tokens, a column of space-separated tags).

>>> read_conll_text("El DET\\nperro NOUN\\n\\nLadra VERB\\n")
([['El', 'perro'], ['Ladra']], [['DET', 'NOUN'], ['VERB']])
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputValueError
from ..io import atomic_write_bytes
from .datasets import read_text_file


def read_conll_text(text: str, where: str = "the text") -> tuple[list[list[str]], list[list[str]] | None]:
    """Sentences of tokens and their tags (``None`` when every line holds a token only). Lines that start
    with ``-DOCSTART-`` are skipped; the first column is the token, the last the tag."""
    sentences: list[list[str]] = [[]]
    tags: list[list[str]] = [[]]
    widths = set()
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            if sentences[-1]:
                sentences.append([])
                tags.append([])
            continue
        if parts[0] == "-DOCSTART-":
            continue
        widths.add(min(len(parts), 2))
        if len(widths) > 1:
            expected = f"expected every line of {where} to hold a token and a tag, or every line a token only"
            raise InputValueError(f"{expected}; line {n} differs")
        sentences[-1].append(parts[0])
        tags[-1].append(parts[-1])
    if not sentences[-1]:
        sentences.pop()
        tags.pop()
    if not sentences:
        raise InputValueError(f"expected tokens in {where}, got none")
    return sentences, (tags if widths == {2} else None)


def read_conll(path: str | os.PathLike) -> tuple[list[list[str]], list[list[str]] | None]:
    """``read_conll_text`` on a UTF-8 file."""
    return read_conll_text(read_text_file(path), str(path))


def read_tag_csv(path: str | os.PathLike, tokens_col: str = "tokens", tags_col: str | None = "tags") -> tuple[list, list | None]:
    """Token and tag sequences from a CSV file whose columns hold space-separated tokens and tags."""
    path = Path(path)
    if not path.exists():
        raise InputValueError(f"expected a CSV file, got {path}: it does not exist")
    try:
        df = pd.read_csv(path, encoding="utf-8", dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        raise InputValueError(f"expected a UTF-8 CSV table in {path}, got {type(e).__name__}: {e}") from None
    wanted = [tokens_col] + ([tags_col] if tags_col is not None else [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputValueError(f"expected column(s) {missing} in {path}, got columns {list(df.columns)}")
    tokens = [s.split() for s in df[tokens_col]]
    return tokens, ([s.split() for s in df[tags_col]] if tags_col is not None else None)


def read_tagged(path: str | os.PathLike, tokens_col: str = "tokens", tags_col: str = "tags") -> tuple[list, list | None]:
    """A ``.csv`` file by ``read_tag_csv`` (the tags column when present), any other by ``read_conll``."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return read_conll(path)
    if not path.exists():
        raise InputValueError(f"expected a CSV file, got {path}: it does not exist")
    header = pd.read_csv(path, nrows=0, encoding="utf-8").columns
    return read_tag_csv(path, tokens_col, tags_col if tags_col in header else None)


def conll_text(sentences: list[list[str]], tags: list[list[object]]) -> str:
    """Tokens and tags, a tab between them, one per line, a blank line after each sentence."""
    return "".join("".join(f"{tok}\t{tag}\n" for tok, tag in zip(s, t)) + "\n" for s, t in zip(sentences, tags))


def write_conll(path: str | os.PathLike, sentences: list[list[str]], tags: list[list[object]]) -> None:
    atomic_write_bytes(Path(path), conll_text(sentences, tags).encode("utf-8"))


__all__ = ["read_conll", "read_conll_text", "read_tag_csv", "read_tagged", "conll_text", "write_conll"]
