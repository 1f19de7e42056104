"""Sequences of readings from a long table: one row per (sequence, time), one column per channel.

    id,time,acc_x,acc_y,acc_z,label
    walk-1,0,0.12,9.71,0.03,walking
    walk-1,1,0.15,9.64,0.01,walking
    ...

``read_long_sequences`` groups the rows by ``id`` (in order of first appearance), sorts each group by
``time``, and gives one ``(T_i, channels)`` array per sequence — what ``SequenceClassifier.fit`` takes —
with its label (the ``label`` column must hold one value per sequence).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputValueError


@dataclass
class LongSequences:
    """``sequences`` (one ``(T_i, C)`` float array each), ``labels`` (one each, or None), ``ids``, ``channels``."""

    sequences: list[np.ndarray]
    labels: list[Any] | None
    ids: list[Any]
    channels: list[str]


def _table(data: str | os.PathLike | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "the table"
    path = Path(data)
    if not path.is_file():
        raise InputValueError(f"expected a CSV file of readings, got {path}: it does not exist")
    try:
        return pd.read_csv(path), str(path)
    except pd.errors.EmptyDataError:
        raise InputValueError(f"expected a CSV table of readings in {path}, got an empty file") from None
    except UnicodeDecodeError as e:
        raise InputValueError(f"expected UTF-8 text in {path}, got bytes that are not UTF-8 ({e.reason})") from None


def read_long_sequences(
    data: str | os.PathLike | pd.DataFrame,
    id_column: str = "id",
    time_column: str | None = "time",
    label_column: str | None = None,
    channels: Sequence[str] | None = None,
) -> LongSequences:
    """The sequences of a long table (a CSV path or a DataFrame); see the module docstring.

    ``channels``: the reading columns (default: every column but the id, time and label). Without a
    ``time_column`` the rows keep their order. Named errors: a missing column, a non-numeric or
    non-finite reading (its row and column), a time repeated within a sequence, a label that changes
    within a sequence, a table without rows.
    """
    df, where = _table(data)
    df = df.reset_index(drop=True)
    named = [c for c in (id_column, time_column, label_column) if c is not None]
    wanted = named + list(channels or [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputValueError(f"expected column(s) {missing} in {where}, got columns {list(df.columns)}")
    if df.empty:
        raise InputValueError(f"expected rows of readings in {where}, got a header only")
    chans = list(channels) if channels is not None else [c for c in df.columns if c not in named]
    if not chans:
        raise InputValueError(f"expected at least one channel column in {where} besides {named}, got none")
    values = df[chans].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)  # (rows, C)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = bad[0]
        raise InputValueError(
            f"expected finite numbers in the channel columns of {where}, got {df[chans[col]].iloc[row]!r} "
            f"in column {chans[col]!r}, row {row + 2} of the file (row {row} of the table)"
        )
    sequences, labels, ids = [], [], []
    for key, rows in df.groupby(id_column, sort=False).groups.items():
        rows = np.asarray(rows)
        if time_column is not None:
            times = df.loc[rows, time_column]
            if times.duplicated().any():
                raise InputValueError(f"sequence {key!r} in {where} has time {times[times.duplicated()].iloc[0]} twice")
            rows = rows[np.argsort(times.to_numpy(), kind="stable")]
        sequences.append(values[rows])
        ids.append(key)
        if label_column is not None:
            found = pd.unique(df.loc[rows, label_column])
            if len(found) != 1:
                raise InputValueError(
                    f"expected one label per sequence in {where}, got {list(found)[:5]} within sequence {key!r}"
                )
            labels.append(found[0].item() if isinstance(found[0], np.generic) else found[0])
    return LongSequences(sequences, labels if label_column is not None else None, ids, chans)
