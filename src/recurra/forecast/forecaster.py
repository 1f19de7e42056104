"""``Forecaster``: time-series forecasting with any recurrent cell, from a table to a forecast table.

>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"t": np.arange(60), "y": np.sin(np.arange(60) * np.pi / 6)})
>>> fc = Forecaster("gru", units=8, lookback=12, horizon=3, epochs=2).fit(df, time_col="t", target="y")
>>> fc.predict().columns.tolist()
['t', 'forecast']
>>> fc.predict()["t"].tolist()
[60, 61, 62]

The flow: the table is read and checked (``recurra.data.frames``), the targets optionally
log-transformed, every column scaled per series (``recurra.data.scalers``), calendar features added,
and the series cut into windows of ``lookback`` steps whose targets are the next ``horizon`` steps.
A network (``recurra.forecast.network``) is trained on them with recurra's engine; its outputs are
unscaled (and exponentiated after a log transform) on the way out.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch

from ..checks import Integer, Mapping, Number, OneOf, Satisfies
from ..data.frames import (
    CALENDAR,
    FILLS,
    Panel,
    calendar_features,
    check_fill,
    check_frame,
    default_calendar,
    future_times,
    make_windows,
    parse_times,
    read_table,
    require_columns,
    season_of,
)
from ..data.scalers import SCALERS, Scaler
from ..errors import ConfigError, RecurraWarning, SeriesError
from ..estimator import Estimator, setting
from ..io import build_from_config, dump_json, load_state, module_tensors, open_model_directory, save_directory
from ..io.models import WEIGHTS_FILE
from ..limits import MAX_EPOCHS, MAX_LAYERS, MAX_STEPS, MAX_UNITS
from ..registry import register_format
from ..train.optimizers import Adam
from ..train.trainer import Trainer, set_seed
from .backtest import BacktestResult, baselines, metric_notes, metrics_table
from .files import FORMAT, FORMAT_VERSION, SCALER_FILE, json_default, tail_from_json, tail_to_json
from .network import CELLS, NORMALIZE, OUTPUTS, EsnForecaster, ForecastNetwork, check_quantiles, make_loss
from .plots import plot_forecast

STRATEGIES = ("direct", "recursive")
RESUMABLE = ("epochs", "verbose")  # the settings a resumed run may change (more epochs continue training)
TRANSFORMS = (None, "log")
ALL_CELLS = (*CELLS, "esn")


def _z(level: float) -> float:
    """The standard normal quantile of ``(1 + level) / 2`` (the half-width of a central interval)."""
    return float(torch.special.ndtri(torch.tensor((1 + level) / 2, dtype=torch.float64)))


def _calendar_ok(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return True
    return not isinstance(value, str) and hasattr(value, "__iter__") and all(c in CALENDAR for c in value)


def _fill_ok(value: Any) -> bool:
    try:
        check_fill(value)
    except ConfigError:
        return False
    return True


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"expected {name} to be an integer >= {minimum}, got {value!r}")
    return int(value)


CELL = OneOf(ALL_CELLS)
QUANTILES = Satisfies(lambda q: not isinstance(q, str) and hasattr(q, "__iter__"), "a list of numbers in (0, 1)")
LEVEL = Number(0, 1, open_min=True, open_max=True)
CAL = Satisfies(_calendar_ok, f"True, False or a list of {sorted(CALENDAR)}")
FILL = Satisfies(_fill_ok, f"one of {FILLS}, a finite number or None")
SEASON = Integer(1, MAX_STEPS, optional=True)
POSITIVE_OR_NONE = Number(0, open_min=True, optional=True)


@dataclass(eq=False, repr=False)
class Forecaster(Estimator):
    """Forecasts the next ``horizon`` steps of one or many series from their last ``lookback`` steps.

    The settings below are stored as given and checked together (``recurra.estimator``); ``fit``
    learns ``schema_`` (the columns and the time grid), ``scaler_``, ``network_``, ``calibration_``,
    ``season_``, ``history_`` (the loss per epoch) and ``tail_`` (the end of the training series, which
    ``predict()`` forecasts from).

    Intervals: ``calibrate`` holds out the share of each series' last windows (split conformal
    prediction: a first fit without them, the intervals widened or narrowed until they hold ``level``
    of those windows' targets, then the final fit on everything; twice the training time). ``0``: the
    intervals as the network gives them, which a network that fits its training windows closely makes
    too narrow. Not used by ``output="point"``.
    """

    cell: str = setting("lstm", "the recurrent cell, or esn: a reservoir with a closed-form readout", CELL, kw_only=False)
    units: int = setting(32, "units per recurrent layer (reservoir units for esn)", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(1, "stacked recurrent layers", Integer(1, MAX_LAYERS), kw_only=False)
    lookback: int = setting(24, "steps of history the network reads", Integer(1, MAX_STEPS), kw_only=False)
    horizon: int = setting(12, "steps to forecast", Integer(1, MAX_STEPS), kw_only=False)
    strategy: str = setting("direct", "direct: an output per step; recursive: one step, fed back", OneOf(STRATEGIES))
    output: str = setting("point", "point, gaussian (mean and scale) or quantile (pinball loss)", OneOf(OUTPUTS))
    quantiles: Sequence[float] = setting((0.05, 0.5, 0.95), "the quantiles output='quantile' forecasts", QUANTILES)
    level: float = setting(0.9, "the central interval given as lower / upper (0.9: 5% to 95%)", LEVEL)
    calibrate: float = setting(0.2, "share of each series' last windows that calibrates the intervals", Number(0, 0.5))
    scaler: str = setting("standard", "per-series scaling of every column, undone on output", OneOf(SCALERS))
    transform: str | None = setting(None, "log: forecast the log of the targets (positive values only)", OneOf(TRANSFORMS))
    normalize: str = setting("window", "window: subtract each window's mean level in the network", OneOf(NORMALIZE))
    calendar: bool | Sequence[str] = setting(False, "calendar features (True: for the time step) as known covariates", CAL)
    fill: str | float | None = setting(None, "fill gaps and NaNs: ffill, interpolate, zero, a number; None refuses", FILL)
    freq: str | int | None = setting(None, "the time step ('MS', 'D', 'h' or an integer; inferred when None)")
    season: int | None = setting(None, "seasonal period of the baselines and MASE (None: from the step)", SEASON)
    dropout: float = setting(0.0, "dropout between recurrent layers", Number(0, 1, open_max=True))
    epochs: int = setting(100, "training epochs", Integer(0, MAX_EPOCHS))
    batch_size: int = setting(32, "windows per batch", Integer(1, MAX_STEPS))
    learning_rate: float = setting(1e-3, "Adam's learning rate", Number(0, open_min=True))
    clipnorm: float | None = setting(1.0, "the largest gradient norm (None: no clipping)", POSITIVE_OR_NONE)
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())
    verbose: int = setting(0, "0 silent, 1 a progress bar, 2 a line per epoch", Integer(0, 2))
    esn_options: dict[str, Any] | None = setting(None, "EchoStateNetwork options when cell='esn'", Mapping(optional=True))

    fitted_attribute: ClassVar[str] = "network_"
    # earlier names of what fit learns (``scaler`` is the setting now; the fitted one is ``scaler_``)
    renamed: ClassVar[dict[str, str]] = {
        "network": "network_",
        "schema": "schema_",
        "history": "history_",
        "calibration": "calibration_",
    }

    def check_together(self) -> None:
        if self.output == "quantile":
            check_quantiles(self.quantiles, self.level)

    @property
    def params(self) -> dict[str, Any]:
        """Deprecated: ``get_params()``."""
        warnings.warn("Forecaster.params is deprecated; use get_params()", RecurraWarning, stacklevel=2)
        return self.get_params()

    @property
    def quantile_levels(self) -> list[float]:
        """``quantiles``, sorted (the order the network's outputs follow)."""
        return sorted(float(q) for q in self.quantiles)

    @property
    def model_horizon(self) -> int:
        """Steps the network forecasts at once: ``horizon`` (direct) or 1 (recursive)."""
        return self.horizon if self.strategy == "direct" else 1

    # -- the table --------------------------------------------------------------------------------
    def _schema(self, data: Any, time_col, target, series_col, past, future) -> dict[str, Any]:
        df = read_table(data)
        if time_col is None:
            time_col = str(df.columns[0])
        past = [past] if isinstance(past, str) else list(past or [])
        future = [future] if isinstance(future, str) else list(future or [])
        if target is None:
            skip = {time_col, series_col, *past, *future}
            numeric = [c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c])]
            if not numeric:
                raise SeriesError(f"found no numeric column to forecast besides {sorted(map(str, skip - {None}))}; pass target=")
            target = numeric[0]
        targets = [target] if isinstance(target, str) else list(target)
        if not targets:
            raise ConfigError("expected at least one target column")
        both = set(targets) & set(past + future) or set(past) & set(future)
        if both:
            raise ConfigError(f"a column cannot be a target and a covariate, or past and future at once: {sorted(both)}")
        if past and self.strategy == "recursive":
            raise ConfigError(
                f"strategy='recursive' feeds forecasts back as inputs, but past covariates {past} have no future values; "
                "use strategy='direct', or pass them as future_covariates if they are known ahead"
            )
        return {"time_col": time_col, "targets": targets, "series_col": series_col, "past": past, "future": future}

    def _panel(self, data: Any, schema: dict[str, Any], freq: Any = None) -> Panel:
        panel = check_frame(
            data,
            time_col=schema["time_col"],
            targets=schema["targets"],
            series_col=schema["series_col"],
            covariates=schema["past"] + schema["future"],
            fill=check_fill(self.fill),
            freq=freq if freq is not None else self.freq,
        )
        if self.transform == "log":
            K = len(schema["targets"])
            for sid in panel.ids:
                v = panel.values[sid][:, :K]
                bad = np.argwhere(v <= 0)
                if len(bad):
                    i, k = bad[0]
                    where = "" if sid is None else f" (series {sid!r})"
                    raise SeriesError(
                        f"transform='log' needs positive targets, got {v[i, k]} in column {schema['targets'][k]!r} at "
                        f"{panel.times[sid][i]}{where}"
                    )
        return panel

    @property
    def n_targets(self) -> int:
        return len(self.schema_["targets"])

    @property
    def n_known(self) -> int:
        return len(self.schema_["future"]) + 2 * len(self.schema_["calendar"])

    def _features(self, sid: Any, times: pd.Index, raw: np.ndarray) -> np.ndarray:
        """Model inputs ``(T, C)``: transformed and scaled ``[targets, past, future]``, then the calendar."""
        v = raw.astype(np.float64, copy=True)  # (T, K + P + Fu)
        K = self.n_targets
        if self.transform == "log":
            with np.errstate(invalid="ignore", divide="ignore"):
                v[:, :K] = np.log(v[:, :K])
        v = self.scaler_.transform(sid, v)
        cal = calendar_features(times, self.schema_["calendar"])  # (T, 2·Fc)
        return np.concatenate([v, cal], 1)  # (T, K + P + Fu) + (T, 2·Fc) -> (T, C)

    def _fit_scaler(self, panel: Panel) -> None:
        K = self.n_targets
        for sid in panel.ids:
            v = panel.values[sid].copy()
            if self.transform == "log":
                v[:, :K] = np.log(v[:, :K])
            self.scaler_.fit(sid, v)

    # -- fit --------------------------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        *,
        time_col: str | None = None,
        target: str | Sequence[str] | None = None,
        series_col: str | None = None,
        past_covariates: Sequence[str] = (),
        future_covariates: Sequence[str] = (),
        holdout: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
    ) -> Forecaster:
        """Fit on a ``DataFrame`` or CSV path (without the last ``holdout`` steps of each series, which
        ``evaluate(data, holdout=...)`` then scores). Returns ``self``.

        ``time_col`` (default: the first column) holds dates or integer steps; ``target`` one column
        or a list (default: the first numeric column); ``series_col`` tells many series apart;
        ``past_covariates`` are known up to the forecast origin only, ``future_covariates`` also over
        the horizon (``predict`` then needs their values: ``future=``). ``checkpoint_dir`` /
        ``resume``: the engine's checkpoints (``Trainer.fit``); ``callbacks``: the engine's callbacks, given
        to each fit (with ``calibrate``, the calibration fit comes first).
        """
        schema = self._schema(data, time_col, target, series_col, past_covariates, future_covariates)
        panel = self._panel(data, schema)
        holdout = _positive_int("holdout", holdout, 0)
        if holdout:
            panel = panel.head({sid: len(panel.values[sid]) - holdout for sid in panel.ids})
        self._fit_panel(panel, schema, checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks)
        return self

    def _fit_panel(self, panel: Panel, schema: dict[str, Any], *, checkpoint_dir=None, resume=False, callbacks=None) -> None:
        cal = self.calendar
        calendar = default_calendar(panel.freq) if cal is True else list(cal or [])
        if calendar and not isinstance(next(iter(panel.times.values())), pd.DatetimeIndex):
            raise ConfigError("calendar features need dates in the time column, got integer steps")
        self.schema_ = {**schema, "calendar": calendar, "freq": panel.freq}
        self.season_ = self.season or season_of(panel.freq)
        self.scaler_ = Scaler(self.scaler)
        self._fit_scaler(panel)
        L, Hm, K = self.lookback, self.model_horizon, self.n_targets
        xs, ys = [], []
        for sid in panel.ids:
            T = len(panel.values[sid])
            if T < L + Hm:
                where = "" if sid is None else f" (series {sid!r})"
                raise SeriesError(
                    f"expected a series of at least lookback + horizon = {L} + {Hm} = {L + Hm} steps{where}, got {T}"
                )
            feats = self._features(sid, panel.times[sid], panel.values[sid])
            x, y = make_windows(feats, L, Hm, K, n_known=self.n_known)
            xs.append(x)
            ys.append(y)
        dtype = np.float32 if self.cell != "esn" else np.float64
        x = np.concatenate(xs).astype(dtype)  # (N, L [+ Hm], C)
        y = np.concatenate(ys).astype(dtype)  # (N, Hm, K)
        C = x.shape[2]
        self.calibration_ = 1.0 if self.output == "gaussian" else 0.0
        if self.output != "point" and self.calibrate > 0:
            # split conformal: fit without the last windows of each series, widen the intervals until they
            # hold `level` of those windows' targets, then fit again on everything
            fit_x, fit_y, cal_x, cal_y = [], [], [], []
            for xi, yi in zip(xs, ys):
                n_cal = max(1, int(round(self.calibrate * len(xi))))
                keep = len(xi) - n_cal - (Hm - 1)  # windows whose targets reach into the held-out ones are left out
                if keep < 1:
                    raise SeriesError(
                        f"calibrate={self.calibrate} holds out {n_cal} of {len(xi)} windows and leaves none to fit on; "
                        "give more data or calibrate=0"
                    )
                fit_x.append(xi[:keep]), fit_y.append(yi[:keep]), cal_x.append(xi[-n_cal:]), cal_y.append(yi[-n_cal:])
            # the first fit is checkpointed too, so a resumed run calibrates with the very same network
            first_dir = None if checkpoint_dir is None else Path(checkpoint_dir) / "calibration"
            fit_x, fit_y = np.concatenate(fit_x).astype(dtype), np.concatenate(fit_y).astype(dtype)
            self.network_ = self._train(fit_x, fit_y, C, checkpoint_dir=first_dir, resume=resume, callbacks=callbacks)[0]
            self.calibration_ = self._calibrate(np.concatenate(cal_x), np.concatenate(cal_y))
        self.network_, self.history_ = self._train(x, y, C, checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks)
        self.tail_ = panel.tail(L)

    def _train(self, x: np.ndarray, y: np.ndarray, C: int, *, checkpoint_dir=None, resume=False, callbacks=None):
        """A network trained on windows ``x (N, L [+ Hm], C)``, ``y (N, Hm, K)``; and its history."""
        set_seed(self.seed)
        common = dict(lookback=self.lookback, horizon=self.model_horizon, n_targets=self.n_targets, n_known=self.n_known)
        if self.cell == "esn":
            esn = EsnForecaster(
                units=self.units,
                output=self.output,
                quantiles=self.quantile_levels,
                seed=self.seed,
                options=self.esn_options,
                **common,
            )
            esn.fit(x, y)
            return esn, {}
        net = ForecastNetwork(
            cell=self.cell,
            units=self.units,
            layers=self.layers,
            n_features=C,
            output=self.output,
            quantiles=self.quantile_levels,
            dropout=self.dropout,
            normalize=self.normalize,
            **common,
        )
        trainer = Trainer(net).compile(
            Adam(learning_rate=self.learning_rate), make_loss(self.output, self.quantile_levels), clipnorm=self.clipnorm
        )
        hist = trainer.fit(
            x,
            y,
            batch_size=self.batch_size,
            epochs=self.epochs,
            verbose=self.verbose,
            callbacks=callbacks,
            seed=self.seed,
            checkpoint_dir=checkpoint_dir,
            resume=resume,
            settings={k: v for k, v in self.get_params().items() if k not in RESUMABLE},
        )
        net.eval()
        return net, {k: [float(v) for v in vals] for k, vals in hist.history.items()}

    def _calibrate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The interval correction that makes the held-out windows' coverage ``level``: a factor on the
        Gaussian scale, or a width added to both ends of the quantile interval (scaled units)."""
        params = self._run(x)  # (N, Hm, K, P)
        n = y.size
        q = min(1.0, self.level * (n + 1) / n)  # the finite-sample correction of split conformal prediction
        if self.output == "gaussian":
            ratio = np.abs(y - params[..., 0]) / (_z(self.level) * params[..., 1])  # (N, Hm, K): 1 = on the edge
            return float(np.quantile(ratio, q))
        lower, upper = self._interval(params, calibrated=False)
        return float(np.quantile(np.maximum(lower - y, y - upper), q))

    # -- forecasting ------------------------------------------------------------------------------
    def _params_at(self, hist: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Distribution parameters ``(N, H, K, P)`` in scaled space from ``hist (N, L, C)`` and
        ``known (N, H, Fk)``, by the direct network or by feeding the one-step one back."""
        H, K, Fk = self.horizon, self.n_targets, self.n_known
        N, L, C = hist.shape
        if self.strategy == "direct":
            return self._run(_with_known(hist, known, C))
        window = hist.copy()
        steps = []
        for h in range(H):
            out = self._run(_with_known(window, known[:, h : h + 1], C))  # (N, 1, K, P)
            steps.append(out)
            row = np.zeros((N, 1, C))
            row[:, 0, :K] = self._point(out)[:, 0]  # the forecast becomes the next input
            if Fk:
                row[:, 0, C - Fk :] = known[:, h]
            window = np.concatenate([window[:, 1:], row], 1)  # (N, L - 1, C) + (N, 1, C) -> (N, L, C)
        return np.concatenate(steps, 1)  # (N, H, K, P)

    def _run(self, x: np.ndarray) -> np.ndarray:
        if isinstance(self.network_, EsnForecaster):
            return self.network_.predict(x.astype(np.float64))
        with torch.no_grad():
            return self.network_(torch.as_tensor(x, dtype=torch.float32)).double().numpy()

    def _point(self, params: np.ndarray) -> np.ndarray:
        """The point forecast ``(N, H, K)``: the value, the mean, or the median (0.5) quantile."""
        if self.output != "quantile":
            return params[..., 0]
        qs = self.quantile_levels
        srt = np.sort(params, -1)  # quantiles that cross are put back in order
        return srt[..., qs.index(0.5)] if 0.5 in qs else srt.mean(-1)

    def _interval(self, params: np.ndarray, calibrated: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``level`` interval ``(lower, upper)``, each ``(N, H, K)``, with the calibration applied."""
        if self.output == "point":
            return None
        if self.output == "gaussian":
            half = _z(self.level) * params[..., 1] * (self.calibration_ if calibrated else 1.0)
            return params[..., 0] - half, params[..., 0] + half
        srt = np.sort(params, -1)
        qs = np.asarray(self.quantile_levels)
        lo = int(np.argmin(np.abs(qs - (1 - self.level) / 2)))
        hi = int(np.argmin(np.abs(qs - (1 + self.level) / 2)))
        widen = self.calibration_ if calibrated else 0.0
        return srt[..., lo] - widen, srt[..., hi] + widen

    def _unscale(self, sid: Any, v: np.ndarray) -> np.ndarray:
        """``(H, K)`` scaled -> the targets' own units."""
        out = self.scaler_.inverse(sid, v)
        return np.exp(out) if self.transform == "log" else out

    def _origins(self, items: list[tuple[Any, np.ndarray, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """Forecasts from many origins at once. ``items``: ``(series, hist (L, C), known (H, Fk))``."""
        hist = np.stack([h for _, h, _ in items])  # (N, L, C)
        known = np.stack([k for _, _, k in items])  # (N, H, Fk)
        params = self._params_at(hist, known)  # (N, H, K, P)
        point = self._point(params)
        interval = self._interval(params)
        out = []
        for i, (sid, _, _) in enumerate(items):
            r = {"forecast": self._unscale(sid, point[i])}
            if interval is not None:
                r["lower"] = self._unscale(sid, interval[0][i])
                r["upper"] = self._unscale(sid, interval[1][i])
            out.append(r)
        return out

    def predict(self, data: Any = None, *, future: Any = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of each series.

        ``data``: the history (a table like the one given to ``fit``; ``None``: the end of the training
        data). ``future``: a table with the time (and series) column and the future covariates for the
        ``horizon`` steps after each series' end, when the model has future covariates.
        Returns a ``DataFrame``: the series column (with several series), the time column, ``target``
        (with several targets), ``forecast``, and ``lower`` / ``upper`` (the ``level`` interval; not for
        ``output="point"``).
        """
        self._require_fitted("predict()")
        panel = self.tail_ if data is None else self._panel(data, self.schema_, freq=self.schema_["freq"])
        L, H, Fu = self.lookback, self.horizon, len(self.schema_["future"])
        fut = None
        if Fu:
            if future is None:
                raise SeriesError(
                    f"the model reads future covariates {self.schema_['future']}: pass their next {H} values as future="
                )
            fut = self._future_table(future)
        items, times = [], []
        for sid in panel.ids:
            T = len(panel.values[sid])
            if T < L:
                where = "" if sid is None else f" (series {sid!r})"
                raise SeriesError(f"expected at least lookback = {L} steps of history{where}, got {T}")
            if not self.scaler_.has(sid):
                self._fit_scaler(Panel([sid], {sid: panel.times[sid]}, {sid: panel.values[sid]}, panel.columns, panel.freq))
            ftimes = future_times(panel.times[sid][-1], self.schema_["freq"], H)
            raw = np.full((H, panel.values[sid].shape[1]), np.nan)
            if Fu:
                raw[:, raw.shape[1] - Fu :] = self._future_values(fut, sid, ftimes)
            hist = self._features(sid, panel.times[sid][-L:], panel.values[sid][-L:])  # (L, C)
            ahead = self._features(sid, ftimes, raw)[:, hist.shape[1] - self.n_known :]  # (H, Fk)
            items.append((sid, hist, ahead))
            times.append(ftimes)
        results = self._origins(items)
        return self._frame([(sid, t, r) for (sid, _, _), t, r in zip(items, times, results)])

    def _future_table(self, future: Any) -> pd.DataFrame:
        df = read_table(future)
        s = self.schema_
        require_columns(df, [s["time_col"]], "time column")
        require_columns(df, s["future"], "future covariate column")
        if s["series_col"] is not None:
            require_columns(df, [s["series_col"]], "series column")
        df = df.copy()
        df[s["time_col"]] = parse_times(df[s["time_col"]], s["time_col"])
        return df

    def _future_values(self, fut: pd.DataFrame, sid: Any, ftimes: pd.Index) -> np.ndarray:
        s = self.schema_
        rows = fut if s["series_col"] is None else fut[fut[s["series_col"]].astype(str) == str(sid)]
        rows = rows.set_index(s["time_col"])
        missing = [t for t in ftimes if t not in rows.index]
        if missing:
            where = "" if sid is None else f" for series {sid!r}"
            raise SeriesError(
                f"future= lacks the time {missing[0]}{where}: future covariates are needed for all {len(ftimes)} steps"
            )
        v = rows.loc[list(ftimes), s["future"]].to_numpy(dtype=np.float64)
        if np.isnan(v).any():
            raise SeriesError(f"future= holds NaN in {s['future']} within the {len(ftimes)} steps to forecast")
        return v

    def _frame(self, rows: list[tuple[Any, pd.Index, dict[str, np.ndarray]]], extra: list[dict] | None = None) -> pd.DataFrame:
        s = self.schema_
        parts = []
        for i, (sid, times, r) in enumerate(rows):
            for k, name in enumerate(s["targets"]):
                d: dict[str, Any] = {}
                if extra is not None:
                    d.update({key: (v[:, k] if isinstance(v, np.ndarray) and v.ndim == 2 else v) for key, v in extra[i].items()})
                if s["series_col"] is not None:
                    d[s["series_col"]] = [sid] * len(times)
                d[s["time_col"]] = np.asarray(times)
                if len(s["targets"]) > 1:
                    d["target"] = [name] * len(times)
                for key, v in r.items():
                    d[key] = v[:, k]
                parts.append(pd.DataFrame(d))
        df = pd.concat(parts, ignore_index=True)
        order = ["fold", "origin", s["series_col"], s["time_col"], "target", "actual", "forecast", "lower", "upper"]
        front = [c for c in order if c is not None and c in df.columns]
        return df[front + [c for c in df.columns if c not in front]]

    def _score(self, panel: Panel, origins: dict[Any, list[int]], fold_models: list[Forecaster] | None = None) -> BacktestResult:
        """Forecast from every origin (an index into each series: the first step not seen) with this
        forecaster (or ``fold_models[fold]``), next to the naive and seasonal-naive forecasts from the
        same history, and score them all against what happened."""
        L, H, K = self.lookback, self.horizon, self.n_targets
        rows, extras = [], []
        n_folds = max(len(v) for v in origins.values())
        for fold in range(n_folds):
            model = self if fold_models is None else fold_models[fold]
            items, meta = [], []
            for sid in panel.ids:
                if fold >= len(origins[sid]):
                    continue
                o = origins[sid][fold]
                if o < L:
                    raise SeriesError(f"the origin {panel.times[sid][o]} leaves {o} steps of history, fewer than lookback = {L}")
                if not model.scaler_.has(sid):
                    model._fit_scaler(panel.select(sid).head({sid: o}))
                feats = model._features(sid, panel.times[sid][o - L : o + H], panel.values[sid][o - L : o + H])
                items.append((sid, feats[:L], feats[L:, feats.shape[1] - model.n_known :]))
                meta.append((sid, o))
            for (sid, o), r in zip(meta, model._origins(items)):
                extra = {"fold": fold, "origin": panel.times[sid][o - 1], "actual": panel.values[sid][o : o + H, :K]}
                extra.update(baselines(panel.values[sid][:o, :K], H, self.season_))
                rows.append((sid, panel.times[sid][o : o + H], r))
                extras.append(extra)
        forecasts = self._frame(rows, extras)
        notes = metric_notes(forecasts, self.schema_["series_col"], self.season_)
        for note in notes:
            warnings.warn(note, RecurraWarning, stacklevel=3)
        return BacktestResult(
            notes=notes,
            metrics=metrics_table(forecasts, self.label),
            forecasts=forecasts,
            history=self._history_frame(panel),
            horizon=H,
            folds=n_folds,
            season=self.season_,
            level=self.level,
            refit=fold_models is not None,
            time_col=self.schema_["time_col"],
            target_name=", ".join(self.schema_["targets"]),
        )

    @property
    def label(self) -> str:
        """``"LSTM(32)"``, ``"ESN(300)"``: the forecaster's name in tables."""
        return f"{self.cell.upper() if self.cell in ('lstm', 'gru', 'rnn', 'esn') else self.cell}({self.units})"

    def _history_frame(self, panel: Panel) -> pd.DataFrame:
        s = self.schema_
        parts = []
        for sid in panel.ids:
            for k, name in enumerate(s["targets"]):
                d: dict[str, Any] = {}
                if s["series_col"] is not None:
                    d[s["series_col"]] = sid
                d[s["time_col"]] = np.asarray(panel.times[sid])
                if len(s["targets"]) > 1:
                    d["target"] = name
                d["actual"] = panel.values[sid][:, k]
                parts.append(pd.DataFrame(d))
        return pd.concat(parts, ignore_index=True)

    def evaluate(self, data: Any, *, holdout: int) -> BacktestResult:
        """Score this fitted forecaster on the last ``holdout`` steps of each series, from origins every
        ``horizon`` steps (``holdout`` a multiple of ``horizon``), next to the baselines; no training.

        Meaningful when the model was fitted without those steps (``recurra forecast train`` does so).
        """
        self._require_fitted("evaluate()")
        holdout = _positive_int("holdout", holdout)
        if holdout % self.horizon:
            raise ConfigError(f"expected holdout as a multiple of horizon = {self.horizon}, got {holdout}")
        panel = self._panel(data, self.schema_, freq=self.schema_["freq"])
        origins = {
            sid: [len(panel.values[sid]) - holdout + k * self.horizon for k in range(holdout // self.horizon)]
            for sid in panel.ids
        }
        return self._score(panel, origins)

    def backtest(
        self,
        data: Any,
        *,
        folds: int = 5,
        step: int | None = None,
        refit: bool = True,
        time_col: str | None = None,
        target: str | Sequence[str] | None = None,
        series_col: str | None = None,
        past_covariates: Sequence[str] = (),
        future_covariates: Sequence[str] = (),
        callbacks: Sequence[Any] | None = None,
    ) -> BacktestResult:
        """Rolling-origin evaluation: ``folds`` origins ``step`` steps apart (default ``horizon``), the
        last one ``horizon`` steps before each series' end; the ``horizon`` steps after each origin are
        forecast and scored next to the naive and seasonal-naive forecasts from the same history.

        ``refit=True``: a fresh forecaster (these settings) is fitted on the data before each origin;
        ``False``: one, fitted on the data before the first origin, forecasts from every origin. This
        forecaster is left as it is. The columns default to those of the last ``fit``. ``callbacks``: the
        engine's callbacks, given to every fit.
        """
        folds = _positive_int("folds", folds)
        step = self.horizon if step is None else _positive_int("step", step)
        if getattr(self, "schema_", None) is not None and time_col is None and target is None:
            s = self.schema_
            schema = {k: s[k] for k in ("time_col", "targets", "series_col", "past", "future")}
        else:
            schema = self._schema(data, time_col, target, series_col, past_covariates, future_covariates)
        panel = self._panel(data, schema)
        H, L = self.horizon, self.lookback
        origins = {}
        for sid in panel.ids:
            T = len(panel.values[sid])
            origins[sid] = [T - H - (folds - 1 - k) * step for k in range(folds)]
            need = L + self.model_horizon
            if origins[sid][0] < need:
                where = "" if sid is None else f" (series {sid!r})"
                raise SeriesError(
                    f"{folds} folds {step} steps apart with horizon {H} leave {origins[sid][0]} steps before the first "
                    f"origin{where}, fewer than lookback + horizon = {need}: the series has {T} steps"
                )
        models = []
        for k in range(folds if refit else 1):
            train = panel.head({sid: origins[sid][k] for sid in panel.ids})
            m = self.clone().set_params(verbose=0)
            m._fit_panel(train, schema, callbacks=callbacks)
            models.append(m)
        scorer = models[0]
        return scorer._score(panel, origins, models if refit else [models[0]] * folds)

    # -- plots ------------------------------------------------------------------------------------
    def plot(self, forecast: pd.DataFrame | None = None, path: str | os.PathLike = "forecast.png", *, data: Any = None,
             last: int | None = None) -> Path:  # fmt: skip
        """History (``data``, else the end of the training data) and a forecast (``predict()``'s when
        ``None``) with its interval, to a PNG; one panel per series and target (at most 6)."""
        self._require_fitted("plot()")
        panel = self.tail_ if data is None else self._panel(data, self.schema_, freq=self.schema_["freq"])
        if forecast is None:
            forecast = self.predict(data)
        return plot_forecast(
            self._history_frame(panel),
            forecast,
            path,
            time_col=self.schema_["time_col"],
            last=last,
            title=f"{self.label} forecast",
            ylabel=", ".join(self.schema_["targets"]),
            level=None if self.output == "point" else self.level,
        )

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path/config.json`` (settings, columns, the end of the training series),
        ``path/scaler.json``, ``path/weights.safetensors`` and their manifest, as one unit (a crash
        leaves the previous forecaster or this one); no pickle. ``Forecaster.load(path)`` reads it back."""
        self._require_fitted("save()")
        is_esn = isinstance(self.network_, EsnForecaster)
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "schema": self.schema_,
            "season": self.season_,
            "calibration": self.calibration_,
            "network": self.network_.esn_config() if is_esn else self.network_.config,
            "tail": tail_to_json(self.tail_),
            "history": self.history_,
        }
        tensors = self.network_.tensors() if is_esn else module_tensors(self.network_)
        scaler = dump_json(self.scaler_.to_json(), "the forecaster's scaler")
        extra = {SCALER_FILE: scaler}
        return save_directory(path, document, tensors, what="the forecaster", extra=extra, json_default=json_default)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Forecaster:
        """Rebuild a forecaster saved by ``save``: the same forecasts from the same data. Every file is
        checked against the directory's manifest and every value before anything is built."""
        directory = open_model_directory(path, FORMAT, what="recurra forecaster")
        doc = directory.document

        def rebuild() -> Forecaster:
            fc = cls(**doc["params"])
            fc.schema_ = doc["schema"]
            fc.season_ = int(doc["season"])
            fc.calibration_ = float(doc["calibration"])
            fc.history_ = doc.get("history", {})
            fc.tail_ = tail_from_json(doc["tail"])
            fc.scaler_ = Scaler.from_json(directory.json(SCALER_FILE))
            return fc

        fc = build_from_config(directory, rebuild, "a forecaster")
        tensors = directory.tensors(WEIGHTS_FILE)
        if fc.cell == "esn":
            net = EsnForecaster(
                units=fc.units, lookback=fc.lookback, horizon=fc.model_horizon, n_targets=fc.n_targets, n_known=fc.n_known,
                output=fc.output, quantiles=fc.quantile_levels, seed=fc.seed, options=fc.esn_options,
            )  # fmt: skip
            build_from_config(directory, lambda: net.load(doc["network"], tensors), "an Echo State Network")
        else:
            net = build_from_config(directory, lambda: ForecastNetwork(**doc["network"]), "a network")
            load_state(net, tensors, directory.path / WEIGHTS_FILE)
            net.eval()
        fc.network_ = net
        return fc


def _with_known(hist: np.ndarray, known: np.ndarray, C: int) -> np.ndarray:
    """``(N, L, C)`` history + ``(N, H, Fk)`` known values -> ``make_windows``'s layout ``(N, L + H, C)``."""
    Fk = known.shape[2]
    if not Fk:
        return hist
    extra = np.zeros((hist.shape[0], known.shape[1], C))  # (N, H, C)
    extra[:, :, C - Fk :] = known
    return np.concatenate([hist, extra], 1)  # (N, L, C) + (N, H, C) -> (N, L + H, C)


def load_forecaster(path: str | os.PathLike) -> Forecaster:
    """Rebuild a ``Forecaster`` saved by ``save`` (the same as ``Forecaster.load(path)``)."""
    return Forecaster.load(path)


register_format(FORMAT, Forecaster.load)

__all__ = ["Forecaster", "BacktestResult", "load_forecaster"]
