"""Sequences from a long table of readings: grouping, ordering by time, labels, and named errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recurra.errors import InputValueError
from recurra.signals import read_long_sequences


def readings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["b", "b", "a", "a", "a", "b"],
            "time": [1, 0, 2, 0, 1, 2],
            "x": [1.0, 0.0, 5.0, 3.0, 4.0, 2.0],
            "y": [10, 0, 50, 30, 40, 20],
            "label": ["walk", "walk", "run", "run", "run", "walk"],
        }
    )


def test_groups_in_first_appearance_order_sorted_by_time(tmp_path):
    path = tmp_path / "readings.csv"
    readings().to_csv(path, index=False)
    got = read_long_sequences(path, label_column="label")
    assert got.ids == ["b", "a"] and got.labels == ["walk", "run"] and got.channels == ["x", "y"]
    np.testing.assert_array_equal(got.sequences[0], [[0, 0], [1, 10], [2, 20]])
    np.testing.assert_array_equal(got.sequences[1], [[3, 30], [4, 40], [5, 50]])
    only_x = read_long_sequences(readings(), channels=["x"], time_column=None)
    assert only_x.labels is None
    np.testing.assert_array_equal(only_x.sequences[0][:, 0], [1.0, 0.0, 2.0])  # file order without a time column


def test_bad_tables_are_named(tmp_path):
    with pytest.raises(InputValueError, match=r"column\(s\) \['label'\]"):
        read_long_sequences(readings().drop(columns="label"), label_column="label")
    bad = readings()
    bad["x"] = bad["x"].astype(object)
    bad.loc[3, "x"] = "oops"
    with pytest.raises(InputValueError, match=r"'oops' in column 'x', row 5 of the file"):
        read_long_sequences(bad, label_column="label")
    twice = readings()
    twice.loc[0, "time"] = 0
    with pytest.raises(InputValueError, match=r"sequence 'b' .* has time 0 twice"):
        read_long_sequences(twice, label_column="label")
    mixed = readings()
    mixed.loc[0, "label"] = "run"
    with pytest.raises(InputValueError, match=r"one label per sequence.*within sequence 'b'"):
        read_long_sequences(mixed, label_column="label")
    with pytest.raises(InputValueError, match="does not exist"):
        read_long_sequences(tmp_path / "missing.csv")
    (tmp_path / "header.csv").write_text("id,time,x\n")
    with pytest.raises(InputValueError, match="header only"):
        read_long_sequences(tmp_path / "header.csv")
    with pytest.raises(InputValueError, match="at least one channel"):
        read_long_sequences(readings()[["id", "time", "label"]], label_column="label")
