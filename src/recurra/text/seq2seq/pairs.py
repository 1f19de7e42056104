"""Sentence pairs as given by a user: two lists of strings, or a CSV/TSV file of two columns, checked.

Each problem is named: lists of unequal counts, no pairs, a pair whose source or target is empty or not
a string (with its position), a file that is missing, not UTF-8, or without two columns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InputValueError


def _as_list(texts: Any, name: str) -> list:
    if isinstance(texts, str):
        raise InputValueError(f"expected {name} as a list of texts, got one string")
    if isinstance(texts, (pd.Series, np.ndarray)):
        return texts.tolist()
    try:
        return list(texts)
    except TypeError:
        raise InputValueError(f"expected {name} as a list of texts, got {type(texts).__name__}") from None


def check_pairs(sources: Any, targets: Any, *, what: str = "training") -> tuple[list[str], list[str]]:
    """``sources`` and ``targets`` as lists of non-empty strings of one length."""
    if targets is None:
        raise InputValueError(f"expected {what} targets beside the sources, got None")
    src, tgt = _as_list(sources, f"{what} sources"), _as_list(targets, f"{what} targets")
    if len(src) != len(tgt):
        raise InputValueError(f"expected as many {what} targets as sources, got {len(tgt)} targets for {len(src)} sources")
    if not src:
        raise InputValueError(f"expected at least one {what} pair, got none")
    for side, texts in (("source", src), ("target", tgt)):
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InputValueError(f"expected {what} {side}s as strings, got {type(t).__name__} at position {i}")
            if not t.strip():
                raise InputValueError(f"expected non-empty {what} {side}s, got an empty one at position {i}")
    return src, tgt


def read_pairs(
    path: str | os.PathLike, source_col: str | None = None, target_col: str | None = None
) -> tuple[list[str], list[str]]:
    """Sources and targets from a CSV (``.csv``) or tab-separated (any other suffix) file: the named
    columns, or the first two columns of a file with a header row."""
    path = Path(path)
    if not path.exists():
        raise InputValueError(f"expected a CSV or TSV file of sentence pairs, got {path}: it does not exist")
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        df = pd.read_csv(path, sep=sep, encoding="utf-8", dtype=str, keep_default_na=False, quoting=3 if sep == "\t" else 0)
    except UnicodeDecodeError as e:
        raise InputValueError(f"expected UTF-8 text in {path}, got bytes that are not UTF-8 ({e.reason} at {e.start})") from None
    except pd.errors.EmptyDataError:
        raise InputValueError(f"expected sentence pairs in {path}, got an empty file") from None
    except pd.errors.ParserError as e:
        raise InputValueError(f"expected {'comma' if sep == ',' else 'tab'}-separated pairs in {path}: {e}") from None
    cols = list(df.columns)
    if source_col is None and target_col is None:
        if len(cols) < 2:
            raise InputValueError(f"expected two columns (source, target) in {path}, got {len(cols)}: {cols}")
        source_col, target_col = cols[0], cols[1]
    missing = [c for c in (source_col, target_col) if c not in cols]
    if missing:
        raise InputValueError(f"expected column(s) {missing} in {path}, got columns {cols}")
    return check_pairs(df[source_col].tolist(), df[target_col].tolist(), what=f"{path}'s")
