"""Reading, checking, filling, windowing and scaling time-series tables (``recurra.data.frames``,
``recurra.data.scalers``), and the bundled series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recurra.data.frames import (
    calendar_features,
    check_frame,
    default_calendar,
    future_times,
    infer_freq,
    make_windows,
    season_of,
)
from recurra.data.scalers import Scaler
from recurra.data.series import load_airline, load_co2
from recurra.errors import ConfigError, ModelFileError, SeriesError


def monthly(n: int = 12, start: str = "2000-01") -> pd.DataFrame:
    return pd.DataFrame({"month": pd.date_range(start, periods=n, freq="MS").strftime("%Y-%m"), "y": np.arange(n, dtype=float)})


# -- windows ---------------------------------------------------------------------------------------
def test_windows_targets_are_the_steps_right_after_the_inputs():
    s = np.arange(20.0)[:, None] * 10  # value = 10 · index: any misalignment shows
    x, y = make_windows(s, 5, 3, 1)
    assert x.shape == (13, 5, 1) and y.shape == (13, 3, 1)
    for i in range(13):
        assert x[i, :, 0].tolist() == [10.0 * (i + j) for j in range(5)]
        assert y[i, :, 0].tolist() == [10.0 * (i + 5 + h) for h in range(3)]


def test_windows_add_the_known_future_rows_and_only_the_known_columns():
    T = 10
    values = np.stack([np.arange(T), 100 + np.arange(T), 1000 + np.arange(T)], 1).astype(float)  # target, past, known
    x, y = make_windows(values, 4, 2, 1, n_known=1)
    assert x.shape == (5, 6, 3) and y.shape == (5, 2, 1)
    assert x[0, :4].tolist() == values[:4].tolist()
    assert x[0, 4:].tolist() == [[0.0, 0.0, 1004.0], [0.0, 0.0, 1005.0]]  # the known values of the forecast steps
    assert y[0, :, 0].tolist() == [4.0, 5.0]


def test_windows_refuse_a_short_series_naming_the_length():
    with pytest.raises(SeriesError, match="at least lookback \\+ horizon = 8 steps, got 7"):
        make_windows(np.zeros((7, 1)), 5, 3, 1)


# -- checks ----------------------------------------------------------------------------------------
def test_a_missing_column_is_named_with_the_columns_there_are():
    with pytest.raises(SeriesError, match="expected a target column 'sales' in the table, got the columns 'month', 'y'"):
        check_frame(monthly(), time_col="month", targets=["sales"])
    with pytest.raises(SeriesError, match="time column 'date'"):
        check_frame(monthly(), time_col="date", targets=["y"])


def test_unsorted_timestamps_name_the_rows():
    df = monthly(6).iloc[[0, 1, 3, 2, 4, 5]].reset_index(drop=True)
    with pytest.raises(SeriesError, match=r"not sorted: row 3 \(2000-03-01\) comes after row 2 \(2000-04-01\)"):
        check_frame(df, time_col="month", targets=["y"])


def test_duplicate_timestamps_name_the_rows():
    df = monthly(6)
    df.loc[3, "month"] = df.loc[2, "month"]
    with pytest.raises(SeriesError, match="duplicate timestamp 2000-03-01 in 'month': rows 2 and 3"):
        check_frame(df, time_col="month", targets=["y"])


def test_a_gap_is_refused_unless_fill_says_how():
    df = monthly(8).drop(index=[3, 4]).reset_index(drop=True)
    with pytest.raises(SeriesError, match=r"2 timestamp\(s\) missing .* the first 2000-04-01 between rows 2 and 3; pass fill="):
        check_frame(df, time_col="month", targets=["y"])
    expected = {"interpolate": [2, 3, 4, 5], "ffill": [2, 2, 2, 5], "zero": [2, 0, 0, 5], -1.0: [2, -1, -1, 5]}
    for fill, values in expected.items():
        panel = check_frame(df, time_col="month", targets=["y"], fill=fill)
        assert panel.values[None][2:6, 0].tolist() == values
        assert panel.filled[None] == 2 and len(panel.times[None]) == 8


def test_nan_targets_are_refused_naming_the_row_or_filled():
    df = monthly(6)
    df.loc[4, "y"] = np.nan
    with pytest.raises(SeriesError, match=r"NaN in column 'y' at row 4 \(2000-05-01\): 1 NaN value\(s\)"):
        check_frame(df, time_col="month", targets=["y"])
    assert check_frame(df, time_col="month", targets=["y"], fill="interpolate").values[None][4, 0] == 4.0


BEYOND = r"the value 1e\+308, beyond float32's range \(\|v\| <= 3.403e\+38\),"


@pytest.mark.parametrize(
    "value, found", [(np.inf, r"an infinite value \(inf\)"), (-np.inf, r"an infinite value \(-inf\)"), (1e308, BEYOND)]
)
def test_infinite_and_float32_overflowing_values_are_refused_naming_the_row(value, found):
    df = monthly(6)
    df.loc[3, "y"] = value
    with pytest.raises(SeriesError, match=found + r" in column 'y' at row 3 \(2000-04-01\): 1 such value"):
        check_frame(df, time_col="month", targets=["y"])
    with pytest.raises(SeriesError, match="in column 'y' at row 3"):  # filling is for gaps and NaN, not for these
        check_frame(df, time_col="month", targets=["y"], fill="interpolate")
    df.loc[3, "y"] = 3.0e38  # within float32's range: accepted
    check_frame(df, time_col="month", targets=["y"])


def test_a_scaler_with_a_non_finite_or_zero_scale_is_refused_at_load():
    good = Scaler("standard")
    good.fit(None, np.array([[1.0], [3.0]]))
    doc = good.to_json()
    for bad in (float("inf"), float("nan"), 0.0):
        damaged = {"kind": "standard", "series": {"": {"shift": [2.0], "scale": [bad]}}}
        with pytest.raises(ModelFileError, match="expected finite shifts and finite positive scales"):
            Scaler.from_json(damaged)
    assert Scaler.from_json(doc).transform(None, np.array([[3.0]])).tolist() == [[1.0]]


def test_bad_values_name_the_column_and_row():
    df = monthly(4)
    df.loc[2, "month"] = "not a date"
    with pytest.raises(SeriesError, match="cannot read 'not a date' in the time column 'month' \\(row 2\\)"):
        check_frame(df, time_col="month", targets=["y"])
    df = monthly(4).astype({"y": object})
    df.loc[1, "y"] = "n/a"
    with pytest.raises(SeriesError, match="expected numbers in column 'y'"):
        check_frame(df, time_col="month", targets=["y"])
    with pytest.raises(ConfigError, match="expected fill in"):
        check_frame(monthly(), time_col="month", targets=["y"], fill="mean")


def test_off_grid_timestamps_are_refused():
    days = ["2000-01-01", "2000-01-02", "2000-01-03", "2000-01-04", "2000-01-05 12:00"]  # the strings a CSV holds
    df = pd.DataFrame({"t": days, "y": np.arange(5.0)})
    with pytest.raises(SeriesError, match="2000-01-05 12:00:00 .* is not on the grid of step 'D'"):
        check_frame(df, time_col="t", targets=["y"])


def test_many_series_are_checked_one_by_one_with_the_rows_of_the_table():
    a, b = monthly(5), monthly(4, "2001-01")
    df = pd.concat([a.assign(shop="a"), b.assign(shop="b")], ignore_index=True)
    panel = check_frame(df, time_col="month", targets=["y"], series_col="shop")
    assert panel.ids == ["a", "b"] and [len(panel.values[s]) for s in panel.ids] == [5, 4]
    df.loc[7, "month"] = df.loc[6, "month"]  # rows 6 and 7 belong to series b
    with pytest.raises(SeriesError, match="series 'b'\\): rows 6 and 7"):
        check_frame(df, time_col="month", targets=["y"], series_col="shop")


def test_integer_time_steps():
    df = pd.DataFrame({"step": [0, 2, 4, 8], "y": [0.0, 1.0, 2.0, 4.0]})
    panel = check_frame(df, time_col="step", targets=["y"], fill="interpolate")
    assert panel.freq == 2 and panel.times[None].tolist() == [0, 2, 4, 6, 8] and panel.values[None][3, 0] == 3.0
    assert future_times(8, 2, 3).tolist() == [10, 12, 14]


def test_frequency_is_found_despite_gaps():
    t = pd.date_range("2000-01", periods=40, freq="MS").delete([5, 6, 20])
    assert infer_freq(t) == "MS"
    assert infer_freq(pd.date_range("2000-01-01", periods=10, freq="W-SAT")) == "W-SAT"
    assert season_of("MS") == 12 and season_of("W-SAT") == 52 and season_of("D") == 7 and season_of("h") == 24
    assert season_of("30min") == 48 and season_of(1) == 1


def test_calendar_features_are_sin_and_cos_of_the_cycle():
    t = pd.date_range("2000-01", periods=12, freq="MS")
    f = calendar_features(t, ["month"])
    assert f.shape == (12, 2)
    np.testing.assert_allclose(f[:, 0], np.sin(2 * np.pi * np.arange(12) / 12), atol=1e-12)
    np.testing.assert_allclose(f[:, 1], np.cos(2 * np.pi * np.arange(12) / 12), atol=1e-12)
    assert default_calendar("MS") == ["month"] and default_calendar("D") == ["dayofweek", "dayofyear"]
    with pytest.raises(ConfigError, match="need dates"):
        calendar_features(pd.Index([1, 2]), ["month"])


def test_a_csv_path_is_read(tmp_path):
    path = tmp_path / "s.csv"
    monthly().to_csv(path, index=False)
    assert check_frame(path, time_col=None, targets=["y"]).freq == "MS"  # time column: the first one
    with pytest.raises(SeriesError, match="no CSV file at"):
        check_frame(tmp_path / "missing.csv", time_col="month", targets=["y"])


# -- scalers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["standard", "minmax", "robust", "none"])
def test_scalers_round_trip_per_series_and_through_json(kind):
    rng = np.random.default_rng(0)
    s = Scaler(kind)
    a, b = rng.normal(5, 2, (50, 3)), rng.normal(-100, 30, (40, 3))
    a[:, 2] = 7.0  # a constant column gets the scale 1
    s.fit("a", a)
    s.fit(1, b)
    again = Scaler.from_json(s.to_json())
    for sid, v in (("a", a), (1, b)):
        z = s.transform(sid, v)
        np.testing.assert_allclose(again.inverse(sid, z), v, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(s.inverse(sid, z[:, :1]), v[:, :1], rtol=1e-12, atol=1e-9)  # the targets alone
    if kind == "standard":
        np.testing.assert_allclose(s.transform("a", a)[:, :2].mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(s.transform("a", a)[:, :2].std(0), 1, atol=1e-12)
    if kind == "minmax":
        assert s.transform(1, b)[:, :2].min() == pytest.approx(0) and s.transform(1, b)[:, :2].max() == pytest.approx(1)
    assert s.scale_of("a", 3)[2] == 1.0


def test_scaler_errors():
    with pytest.raises(ConfigError, match="expected scaler in"):
        Scaler("log")
    with pytest.raises(ConfigError, match="no scaling fitted for series 'x'"):
        Scaler().transform("x", np.zeros((2, 1)))
    with pytest.raises(ModelFileError, match="scaler file is damaged"):
        Scaler.from_json({"kind": "standard", "series": {"a": {"shift": [0.0], "scale": [-1.0]}}})


# -- bundled series --------------------------------------------------------------------------------
def test_bundled_series():
    air = load_airline()
    assert air.shape == (144, 2) and air["passengers"].iloc[[0, -1]].tolist() == [112, 432]
    co2 = load_co2()
    assert co2.shape == (2284, 2) and int(co2["co2"].isna().sum()) == 59
    panel = check_frame(co2, time_col="week", targets=["co2"], fill="interpolate")
    assert panel.freq == "W-SAT" and panel.filled[None] == 59
