"""Time-series tables: read, check, regularise, add calendar features, cut into windows.

A table is a pandas ``DataFrame`` (or a CSV path) with a time column, one or more target columns,
optionally a ``series_id`` column (many series in one table, stacked) and covariate columns. Every
problem is refused with a ``recurra.errors.SeriesError`` that names the column, the row (0-based, as
in the table given) or the length: a missing column, a timestamp that does not parse, unsorted or
repeated timestamps, a gap in the time grid, a NaN value, a series too short to window.

Gaps (missing timestamps) and NaN values are refused unless ``fill=`` says how to fill them:
``"ffill"`` (the last value before, then the next one for a leading gap), ``"interpolate"``
(linear in time order), ``"zero"`` or a number.

>>> df = pd.DataFrame({"t": [0, 1, 2, 4], "y": [1.0, 2.0, 3.0, 5.0]})
>>> panel = check_frame(df, time_col="t", targets=["y"], fill="interpolate")
>>> panel.values[panel.ids[0]][:, 0].tolist()
[1.0, 2.0, 3.0, 4.0, 5.0]
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, SeriesError
from ..limits import MAX_VALUE

FILLS = ("ffill", "interpolate", "zero")
# calendar feature -> (function of a DatetimeIndex giving a position in the cycle, cycle length)
CALENDAR: dict[str, tuple[Any, float]] = {
    "month": (lambda t: t.month - 1, 12.0),
    "weekofyear": (lambda t: t.isocalendar().week.to_numpy(dtype=np.float64) - 1, 52.18),
    "dayofweek": (lambda t: t.dayofweek, 7.0),
    "dayofyear": (lambda t: t.dayofyear - 1, 365.25),
    "hour": (lambda t: t.hour + t.minute / 60.0, 24.0),
}


def check_fill(fill: Any) -> str | float | None:
    """``None``, one of ``FILLS`` or a finite number; a ``ConfigError`` otherwise."""
    if fill is None or (isinstance(fill, str) and fill in FILLS):
        return fill
    if isinstance(fill, (int, float, np.number)) and not isinstance(fill, bool) and np.isfinite(fill):
        return float(fill)
    raise ConfigError(f"expected fill in {FILLS}, a number or None (refuse gaps), got {fill!r}")


def read_table(data: Any) -> pd.DataFrame:
    """A ``DataFrame`` (copied, index reset) from a ``DataFrame`` or a CSV path."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=isinstance(data.index, pd.RangeIndex))
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise SeriesError(f"no CSV file at {path}")
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
            raise SeriesError(f"{path} is not a readable CSV file ({e})") from None
    raise SeriesError(f"expected a pandas DataFrame or a CSV path, got {type(data).__name__}")


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str = "column") -> None:
    """Refuse a table that lacks any of ``columns``, naming it and the columns there are."""
    for c in columns:
        if c not in df.columns:
            have = ", ".join(repr(str(x)) for x in df.columns)
            raise SeriesError(f"expected a {what} {c!r} in the table, got the columns {have}")


def parse_times(column: pd.Series, name: str) -> pd.Series:
    """Integers stay integers (a step count); anything else is parsed as dates, naming a bad row."""
    if pd.api.types.is_integer_dtype(column):
        return column.astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.tz_localize(None) if getattr(column.dt, "tz", None) is not None else column
    if pd.api.types.is_float_dtype(column):
        raise SeriesError(f"expected dates or integer steps in the time column {name!r}, got floats ({column.iloc[0]!r} ...)")
    parsed = pd.to_datetime(column, errors="coerce")
    if (parsed.isna() & column.notna()).any():  # the format of the first value does not fit all: each alone
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    bad = parsed.isna() & column.notna()
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise SeriesError(f"the time column {name!r} is empty at row {row}")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SeriesError(f"cannot read {column.iloc[row]!r} in the time column {name!r} (row {row}) as a date")
    return parsed


def _check_magnitudes(values: np.ndarray, rows: np.ndarray, columns: list[str], times: np.ndarray, where: str) -> None:
    """Refuse infinities and values beyond float32's range (the networks compute in float32, where they
    become infinite), naming the first by column, row and time."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_VALUE)
    if bad.any():
        i, c = np.argwhere(bad)[0]
        v = values[i, c]
        beyond = f"the value {v:.4g}, beyond float32's range (|v| <= {MAX_VALUE:.4g}),"
        what = f"an infinite value ({v})" if np.isinf(v) else beyond
        raise SeriesError(
            f"{what} in column {columns[c]!r} at row {rows[i]} ({_fmt(times[i])}){where}: {int(bad.sum())} such value(s) in all; "
            "expected finite numbers a model can be trained on (rescale the column, or remove those rows)"
        )


def infer_freq(times: pd.Index) -> str | int | None:
    """The step of a time grid: an offset alias (``"MS"``, ``"W-SAT"``, ``"30min"``) or an integer step.

    Found on the whole series, else (gaps) the most common answer over short runs of it.
    """
    if len(times) < 2:
        return None
    if not isinstance(times, pd.DatetimeIndex):
        diffs = np.diff(np.asarray(times, dtype=np.int64))
        positive = diffs[diffs > 0]
        return int(positive.min()) if len(positive) else None
    if len(times) >= 3:
        f = _infer(times)
        if f is not None:
            return f
    n = len(times)
    for run in (5, 3):
        counts: Counter = Counter()
        for s in np.unique(np.linspace(0, max(n - run, 0), num=min(40, max(n - run + 1, 1))).astype(int)):
            f = _infer(times[s : s + run])
            if f is not None:
                counts[f] += 1
        if counts:
            return counts.most_common(1)[0][0]
    return None


def _infer(times: pd.DatetimeIndex) -> str | None:
    if len(times) < 3:
        return None
    try:
        with warnings.catch_warnings():  # pandas 3 warns that infer_freq will return an offset
            warnings.simplefilter("ignore")
            f = pd.infer_freq(times)
    except (ValueError, TypeError):
        return None
    return None if f is None else pd.tseries.frequencies.to_offset(f).freqstr


def future_times(last: Any, freq: str | int, n: int) -> pd.Index:
    """The ``n`` timestamps after ``last`` on the grid ``freq``."""
    if isinstance(freq, int):
        return pd.Index(int(last) + freq * np.arange(1, n + 1, dtype=np.int64))
    return pd.date_range(last, periods=n + 1, freq=freq)[1:]


def calendar_features(times: pd.Index, names: Sequence[str]) -> np.ndarray:
    """``(T, 2·len(names))``: ``sin`` and ``cos`` of each feature's position in its cycle."""
    if not names:
        return np.zeros((len(times), 0))
    if not isinstance(times, pd.DatetimeIndex):
        raise ConfigError("calendar features need dates in the time column, got integer steps")
    cols = []
    for name in names:
        fn, period = CALENDAR[name]
        angle = 2 * np.pi * np.asarray(fn(times), dtype=np.float64) / period
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, 1)


def default_calendar(freq: str | int) -> list[str]:
    """The calendar features that vary within a season of the grid ``freq``."""
    if isinstance(freq, int):
        return []
    base = pd.tseries.frequencies.to_offset(freq).rule_code.split("-")[0].upper()
    if base in ("MS", "ME", "M", "BMS", "BME", "QS", "QE", "Q"):
        return ["month"]
    if base.startswith("W"):
        return ["weekofyear"]
    if base in ("D", "B"):
        return ["dayofweek", "dayofyear"]
    return ["hour", "dayofweek"]


def season_of(freq: str | int | None) -> int:
    """The usual seasonal period of a grid: 12 for months, 52 for weeks, 7 for days, 24 for hours ..."""
    if freq is None or isinstance(freq, int):
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.rule_code.split("-")[0].upper()
    n = getattr(offset, "n", 1) or 1
    table = {"MS": 12, "ME": 12, "M": 12, "BMS": 12, "BME": 12, "QS": 4, "QE": 4, "Q": 4, "D": 7, "B": 5}
    if base in table:
        return max(1, table[base] // n)
    if base.startswith("W"):
        return 52 // n
    if base in ("H", "h"):
        return max(1, 24 // n)
    if base in ("T", "MIN", "min"):
        return max(1, 1440 // n) if 1440 % n == 0 else 1
    return 1


@dataclass
class Panel:
    """Checked series on a regular grid: ``values[id]`` is ``(T, C)`` with the columns ``columns``."""

    ids: list[Any]
    times: dict[Any, pd.Index]
    values: dict[Any, np.ndarray]
    columns: list[str]
    freq: str | int
    filled: dict[Any, int] = field(default_factory=dict)  # how many values were filled, per series

    def head(self, ends: dict[Any, int]) -> Panel:
        """Each series up to (not including) its step ``ends[id]``."""
        for sid, end in ends.items():
            if end <= 0:
                where = "" if sid is None else f" (series {sid!r})"
                raise SeriesError(
                    f"holding out the end of the series{where} leaves nothing: it has {len(self.values[sid])} steps"
                )
        return Panel(
            list(self.ids),
            {sid: self.times[sid][: ends[sid]] for sid in self.ids},
            {sid: self.values[sid][: ends[sid]] for sid in self.ids},
            list(self.columns),
            self.freq,
        )

    def tail(self, n: int) -> Panel:
        """The last ``n`` steps of each series (copied)."""
        return Panel(
            list(self.ids),
            {sid: self.times[sid][-n:] for sid in self.ids},
            {sid: self.values[sid][-n:].copy() for sid in self.ids},
            list(self.columns),
            self.freq,
        )

    def select(self, series_id: Any) -> Panel:
        """One series alone."""
        return Panel(
            [series_id], {series_id: self.times[series_id]}, {series_id: self.values[series_id]}, list(self.columns), self.freq
        )


def check_frame(
    data: Any,
    *,
    time_col: str | None,
    targets: Sequence[str],
    series_col: str | None = None,
    covariates: Sequence[str] = (),
    fill: Any = None,
    freq: str | int | None = None,
) -> Panel:
    """Read and check a table; one regular series per ``series_col`` value (or one in all)."""
    fill = check_fill(fill)
    df = read_table(data)
    if time_col is None:
        time_col = str(df.columns[0])
    columns = list(targets) + [c for c in covariates if c not in targets]
    require_columns(df, [time_col], "time column")
    require_columns(df, list(targets), "target column")
    require_columns(df, [c for c in covariates if c not in targets], "covariate column")
    if series_col is not None:
        require_columns(df, [series_col], "series column")
    for c in columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            sample = df[c].dropna()
            raise SeriesError(
                f"expected numbers in column {c!r}, got {sample.iloc[0]!r}" if len(sample) else f"column {c!r} is empty"
            )
    times = parse_times(df[time_col], time_col)
    groups = [(None, np.arange(len(df)))] if series_col is None else _groups(df[series_col])
    out = Panel(ids=[], times={}, values={}, columns=columns, freq=freq)  # type: ignore[arg-type]
    for sid, rows in groups:
        where = "" if sid is None else f" (series {sid!r})"
        t = times.iloc[rows]
        tv = t.to_numpy()
        if len(tv) >= 2:
            back = np.flatnonzero(tv[1:] < tv[:-1])
            if len(back):
                i = back[0]
                raise SeriesError(
                    f"timestamps in {time_col!r} are not sorted{where}: row {rows[i + 1]} ({_fmt(tv[i + 1])}) comes after "
                    f"row {rows[i]} ({_fmt(tv[i])}); sort the table by time first"
                )
            same = np.flatnonzero(tv[1:] == tv[:-1])
            if len(same):
                i = same[0]
                raise SeriesError(f"duplicate timestamp {_fmt(tv[i])} in {time_col!r}{where}: rows {rows[i]} and {rows[i + 1]}")
        index = pd.DatetimeIndex(tv) if isinstance(tv[0], np.datetime64) else pd.Index(tv.astype(np.int64))
        if out.freq is None:
            out.freq = infer_freq(index)
            if out.freq is None:
                raise SeriesError(
                    f"cannot tell the time step of {time_col!r}{where} from {len(index)} timestamps; "
                    "pass freq= (e.g. 'MS', 'D', 'h')"
                )
        grid = _grid(index, out.freq)
        off = ~index.isin(grid)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise SeriesError(
                f"timestamp {_fmt(tv[i])} in {time_col!r} (row {rows[i]}){where} is not on the grid of step {out.freq!r} "
                f"that starts at {_fmt(tv[0])}"
            )
        frame = pd.DataFrame(df[columns].iloc[rows].to_numpy(dtype=np.float64), index=index, columns=columns)
        _check_magnitudes(frame.to_numpy(), rows, columns, tv, where)
        missing = len(grid) - len(index)
        if missing and fill is None:
            gap = grid[~grid.isin(index)][0]
            before = int(np.searchsorted(tv, np.asarray(gap, dtype=tv.dtype)))
            raise SeriesError(
                f"gap in {time_col!r}{where}: {missing} timestamp(s) missing on the grid of step {out.freq!r}, the first "
                f"{_fmt(gap)} between rows {rows[before - 1]} and {rows[before]}; pass fill='interpolate', 'ffill', "
                "'zero' or a number to fill gaps"
            )
        frame = frame.reindex(grid)
        if fill is None:
            for c in columns:
                nan = np.flatnonzero(frame[c].isna().to_numpy())
                if len(nan):
                    i = nan[0]
                    raise SeriesError(
                        f"NaN in column {c!r} at row {rows[i]} ({_fmt(grid[i])}){where}: {len(nan)} NaN value(s) in all; "
                        "pass fill='interpolate', 'ffill', 'zero' or a number to fill them"
                    )
            n_filled = 0
        else:
            n_filled = int(frame.isna().to_numpy().sum())
            for c in columns:
                if frame[c].isna().all():
                    raise SeriesError(f"column {c!r} holds no value at all{where}: nothing to fill from")
            frame = _fill(frame, fill)
        key = sid
        out.ids.append(key)
        out.times[key] = grid
        out.values[key] = frame.to_numpy(dtype=np.float64)  # (T, C)
        out.filled[key] = n_filled
    return out


def _groups(column: pd.Series) -> list[tuple[Any, np.ndarray]]:
    if column.isna().any():
        raise SeriesError(f"the series column {column.name!r} is empty at row {int(np.flatnonzero(column.isna().to_numpy())[0])}")
    codes, uniques = pd.factorize(column, sort=False)
    return [(_plain(u), np.flatnonzero(codes == i)) for i, u in enumerate(uniques)]


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _grid(index: pd.Index, freq: str | int) -> pd.Index:
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(freq, int):
            raise SeriesError(f"dates in the time column need a date step (freq='D', 'MS' ...), got the integer step {freq}")
        if len(index) > 2:
            steps = np.diff(index.asi8)
            if (steps == steps[0]).all() and index[0] + pd.tseries.frequencies.to_offset(freq) == index[1]:
                return index  # already a regular grid without gaps (building one costs 0.1 ms a step for weeks)
        return pd.date_range(index[0], index[-1], freq=freq)
    if not isinstance(freq, int):
        raise SeriesError(f"integer steps in the time column need an integer freq, got {freq!r}")
    return pd.Index(np.arange(int(index[0]), int(index[-1]) + 1, freq, dtype=np.int64))


def _fill(frame: pd.DataFrame, fill: str | float) -> pd.DataFrame:
    if fill == "ffill":
        return frame.ffill().bfill()
    if fill == "interpolate":
        return frame.interpolate(method="linear", limit_direction="both")
    return frame.fillna(0.0 if fill == "zero" else float(fill))


def _fmt(t: Any) -> str:
    if isinstance(t, (np.datetime64, pd.Timestamp)):
        ts = pd.Timestamp(t)
        return str(ts.date()) if ts == ts.normalize() else str(ts)
    return str(t)


def make_windows(
    values: np.ndarray, lookback: int, horizon: int, n_targets: int, *, n_known: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Every window of a series: inputs ``x (N, lookback [+ horizon], C)`` and targets ``y (N, horizon, K)``.

    Window ``i`` sees the rows ``i .. i + lookback - 1`` and must forecast the first ``K`` columns of
    the rows ``i + lookback .. i + lookback + horizon - 1``: ``y[i, h] = values[i + lookback + h, :K]``.
    ``n_known > 0`` (the last ``n_known`` columns are known in advance: calendar features, planned
    values) adds ``horizon`` rows to every window holding only the known values of the forecast steps
    (the other columns zero), so a network reads the future covariates it may use.

    >>> x, y = make_windows(np.arange(6.0)[:, None], 3, 2, 1)
    >>> x[:, :, 0].tolist(), y[:, :, 0].tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])
    """
    T = len(values)
    n = T - lookback - horizon + 1
    if n <= 0:
        raise SeriesError(f"expected a series of at least lookback + horizon = {lookback + horizon} steps, got {T}")
    idx = np.arange(n)[:, None] + np.arange(lookback)[None, :]  # (N, L)
    x = values[idx]  # (N, L, C)
    fut = np.arange(n)[:, None] + lookback + np.arange(horizon)[None, :]  # (N, H)
    y = values[fut][:, :, :n_targets]  # (N, H, K)
    if n_known:
        C = values.shape[1]
        extra = np.zeros((n, horizon, C), dtype=values.dtype)  # (N, H, C)
        extra[:, :, C - n_known :] = values[fut][:, :, C - n_known :]  # the known columns are the last ones
        x = np.concatenate([x, extra], 1)  # (N, L, C) + (N, H, C) -> (N, L + H, C)
    return x, y


__all__ = [
    "CALENDAR",
    "FILLS",
    "Panel",
    "calendar_features",
    "check_fill",
    "check_frame",
    "default_calendar",
    "future_times",
    "infer_freq",
    "make_windows",
    "parse_times",
    "read_table",
    "require_columns",
    "season_of",
]
