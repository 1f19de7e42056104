"""The inputs of ``SequenceTagger``, checked at the boundary: token sequences, tag sequences aligned with them,
and the padded tensors the network takes.

A token sequence is a list of tokens (strings) or a string, which the tagger splits into words or
characters; each is checked to hold at least one token, and each tag sequence to hold one tag per token.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from ..errors import InputValueError, ShapeError
from .tagger_network import PAD_TAG
from .tokenizers import Tokenizer


def as_list(data: Any, what: str) -> list[Any]:
    """``data`` as a list of rows: a list, tuple or pandas Series; one string, or anything else, is refused."""
    if isinstance(data, str):
        raise InputValueError(f"expected a list of {what}, got one string (wrap it in a list: [text])")
    if isinstance(data, pd.Series):
        data = data.tolist()
    if not isinstance(data, (list, tuple)):
        raise InputValueError(f"expected a list of {what}, got {type(data).__name__}")
    if not data:
        raise InputValueError(f"expected at least one of the {what}, got none")
    return list(data)


def token_rows(X: Any, tokenizer: Tokenizer) -> list[list[str]]:
    """The tokens of each input: a string split by ``tokenizer``, a list or tuple of strings as given."""
    rows = []
    for i, x in enumerate(as_list(X, "token sequences (lists of tokens, or strings)")):
        if isinstance(x, str):
            row = tokenizer.tokenize(x)
        elif isinstance(x, (list, tuple)):
            bad = next((j for j, t in enumerate(x) if not isinstance(t, str)), None)
            if bad is not None:
                raise InputValueError(f"expected tokens that are strings, got {type(x[bad]).__name__} at row {i}, position {bad}")
            row = list(x)
        else:
            found = f"got {type(x).__name__} at row {i}"
            raise InputValueError(f"expected each token sequence to be a list of tokens or a string, {found}")
        if not row:
            raise InputValueError(f"expected at least one token in every sequence, got an empty sequence at row {i}")
        rows.append(row)
    return rows


def json_tag(v: Any, row: int) -> Any:
    """A tag as a JSON value (string, integer, number or boolean), or ``InputValueError`` naming its row."""
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (str, int, float, bool)):
        raise InputValueError(f"expected tags that are strings or numbers, got {type(v).__name__} at row {row}")
    return v


def tag_rows(y: Any, rows: Sequence[Sequence[str]]) -> list[list[Any]]:
    """The tag sequences, checked: as many as ``rows``, each a list with one tag per token."""
    tags = as_list(y, "tag sequences (one list of tags per token sequence)")
    if len(tags) != len(rows):
        raise ShapeError(f"expected as many tag sequences as token sequences, got {len(tags)} tag sequences for {len(rows)}")
    out = []
    for i, (row, t) in enumerate(zip(rows, tags)):
        if isinstance(t, np.ndarray):
            t = t.tolist()
        if not isinstance(t, (list, tuple)):
            raise InputValueError(f"expected each tag sequence to be a list of tags, got {type(t).__name__} at row {i}")
        if len(t) != len(row):
            raise ShapeError(f"expected one tag per token: row {i} has {len(row)} tokens and {len(t)} tags")
        out.append([json_tag(v, i) for v in t])
    return out


def pieces(rows: Sequence[Sequence[Any]], max_length: int | None) -> list[Sequence[Any]]:
    """Each row cut into consecutive pieces of at most ``max_length`` items (``None``: rows as they are)."""
    if max_length is None:
        return list(rows)
    return [row[a : a + max_length] for row in rows for a in range(0, len(row), max_length)]


def padded(rows: Sequence[Sequence[int]], fill: int) -> torch.Tensor:
    """Rows of ids right-padded with ``fill`` to the longest: ``(N, T)`` int64."""
    T = max(len(r) for r in rows)
    out = np.full((len(rows), T), fill, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return torch.from_numpy(out)


def padded_targets(rows: Sequence[Sequence[int]]) -> torch.Tensor:
    """Tag ids ``(N, T)``, ``PAD_TAG`` on padded steps."""
    return padded(rows, PAD_TAG)


__all__ = ["as_list", "token_rows", "tag_rows", "json_tag", "pieces", "padded", "padded_targets"]
