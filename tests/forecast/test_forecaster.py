"""``recurra.Forecaster``: exact futures (no off-by-one), every cell, covariates, many series,
intervals, backtests against the baselines, saving and loading, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from recurra import Forecaster, load_forecaster
from recurra.errors import ConfigError, ModelFileError, NotBuiltError, RecurraWarning, SeriesError
from recurra.forecast.network import CELLS

from ..helpers import rewrite_model_file

PATTERN = np.array([1.0, 3.0, 2.0, 5.0])  # period 4, noiseless


def seasonal(n: int = 30, start: str = "2001-01", offset: float = 0.0) -> pd.DataFrame:
    """The pattern repeated, monthly; n not a multiple of 4, so the forecast starts mid-period."""
    return pd.DataFrame({"month": pd.date_range(start, periods=n, freq="MS"), "y": np.resize(PATTERN, n) + offset})


def continuation(n: int, horizon: int, offset: float = 0.0) -> np.ndarray:
    return np.resize(PATTERN, n + horizon)[n:] + offset


class SeasonalCopy(torch.nn.Module):
    """Hand-set weights: forecast step h repeats the input ``period`` steps before it (in the scaled space)."""

    def __init__(self, lookback: int, horizon: int, period: int, n_targets: int = 1):
        super().__init__()
        self.index = [lookback - period + h % period for h in range(horizon)]
        self.K = n_targets

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index, : self.K, None]  # (B, H, K, 1)


# -- exact futures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("scaler,transform", [("standard", None), ("minmax", "log"), ("robust", None)])
def test_a_seasonal_copy_forecasts_the_pattern_exactly(strategy, scaler, transform):
    """Windows, targets, recursive feedback and unscaling line up: a network that copies the last
    season reproduces a noiseless seasonal series to float tolerance, with the right timestamps."""
    n, L, H = 30, 8, 7  # H > period: direct repeats the season, recursive feeds its own forecasts back
    fc = Forecaster("lstm", 4, lookback=L, horizon=H, strategy=strategy, scaler=scaler, transform=transform, epochs=0)
    fc.fit(seasonal(n), time_col="month", target="y")
    fc.network_ = SeasonalCopy(L, fc.model_horizon, 4)
    out = fc.predict()
    np.testing.assert_allclose(out["forecast"].to_numpy(), continuation(n, H), rtol=1e-6)
    assert out["month"].tolist() == list(pd.date_range("2003-07", periods=H, freq="MS"))
    # from a history given at predict time (another level, the same pattern) and from backtest origins
    other = seasonal(27, start="1990-01", offset=10.0)
    np.testing.assert_allclose(fc.predict(other)["forecast"].to_numpy(), continuation(27, H, 10.0), rtol=1e-6)


@pytest.mark.filterwarnings("ignore:MASE is undefined")  # a noiseless pattern: seasonal naive is exact
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_an_echo_state_forecaster_learns_the_pattern_to_float_tolerance(strategy):
    """Trained end to end (the ridge readout is solved exactly): the same exactness with a fitted model."""
    n = 62
    fc = Forecaster("esn", 50, lookback=8, horizon=6, strategy=strategy, esn_options={"ridge": 1e-10}, seed=0)
    fc.fit(seasonal(n), time_col="month", target="y")
    np.testing.assert_allclose(fc.predict()["forecast"].to_numpy(), continuation(n, 6), atol=1e-6)
    result = fc.backtest(seasonal(n), folds=3, refit=False)
    f = result.forecasts
    np.testing.assert_allclose(f["forecast"], f["actual"], atol=1e-6)
    np.testing.assert_allclose(f["seasonal_naive"], f["actual"], atol=1e-12)  # the baseline is exact here too
    assert result.metrics.loc["seasonal naive", "MAE"] == 0.0


def test_a_small_gru_learns_the_pattern():
    fc = Forecaster("gru", 16, lookback=8, horizon=4, epochs=30, batch_size=16, learning_rate=1e-2, seed=0)
    fc.fit(seasonal(100), time_col="month", target="y")
    err = np.abs(fc.predict()["forecast"].to_numpy() - continuation(100, 4))
    assert err.max() < 0.1, err


# -- the family, outputs, covariates ---------------------------------------------------------------
@pytest.mark.parametrize("cell", [*CELLS, "esn"])
def test_every_cell_fits_and_forecasts(cell):
    fc = Forecaster(cell, 4, lookback=6, horizon=3, epochs=1, seed=0, esn_options={"ridge": 1e-6})
    fc.fit(seasonal(40), time_col="month", target="y")
    out = fc.predict()
    assert out.columns.tolist() == ["month", "forecast"] and len(out) == 3
    assert np.isfinite(out["forecast"]).all()


@pytest.mark.parametrize("output", ["gaussian", "quantile"])
@pytest.mark.parametrize("cell", ["gru", "esn"])
def test_probabilistic_outputs_give_ordered_calibrated_intervals(output, cell):
    fc = Forecaster(cell, 8, lookback=8, horizon=4, output=output, epochs=3, seed=0, esn_options={"ridge": 1e-4})
    rng = np.random.default_rng(0)
    df = seasonal(120)
    df["y"] += rng.normal(0, 0.3, len(df))
    fc.fit(df, time_col="month", target="y")
    out = fc.predict()
    assert out.columns.tolist() == ["month", "forecast", "lower", "upper"]
    assert (out["lower"] <= out["forecast"]).all() and (out["forecast"] <= out["upper"]).all()
    assert fc.calibration_ > 0
    uncalibrated = Forecaster(cell, 8, lookback=8, horizon=4, output=output, epochs=3, seed=0, calibrate=0,
                              esn_options={"ridge": 1e-4}).fit(df, time_col="month", target="y")  # fmt: skip
    assert uncalibrated.calibration_ == (1.0 if output == "gaussian" else 0.0)


def test_quantiles_must_hold_the_interval_ends():
    with pytest.raises(ConfigError, match="the 90% interval needs the quantiles 0.05 and 0.95"):
        Forecaster(output="quantile", quantiles=(0.1, 0.5, 0.9))
    Forecaster(output="quantile", quantiles=(0.1, 0.5, 0.9), level=0.8)


@pytest.mark.filterwarnings("ignore:MASE is undefined")  # a noiseless pattern: seasonal naive is exact
def test_many_series_several_targets_and_covariates():
    rng = np.random.default_rng(0)
    frames = []
    for shop, n, level in (("a", 40, 0.0), ("b", 36, 100.0)):
        d = seasonal(n, offset=level)
        d["shop"] = shop
        d["visits"] = d["y"] * 2 + rng.normal(0, 0.1, n)  # a second target
        d["rain"] = rng.normal(size=n)  # known up to the origin only
        d["promo"] = (np.arange(n) % 5 == 0).astype(float)  # planned: known ahead
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    fc = Forecaster("lstm", 8, lookback=6, horizon=3, calendar=True, output="gaussian", epochs=2, seed=0)
    fc.fit(df, time_col="month", target=["y", "visits"], series_col="shop", past_covariates=["rain"], future_covariates=["promo"])
    assert fc.n_known == 1 + 2  # promo + sin/cos of the month
    with pytest.raises(SeriesError, match=r"pass their next 3 values as future="):
        fc.predict()
    future = pd.DataFrame(
        {
            "shop": ["a"] * 3 + ["b"] * 3,
            "month": list(pd.date_range("2004-05", periods=3, freq="MS")) + list(pd.date_range("2004-01", periods=3, freq="MS")),
            "promo": [1.0, 0, 0, 0, 1, 0],
        }
    )
    out = fc.predict(future=future)
    assert out.columns.tolist() == ["shop", "month", "target", "forecast", "lower", "upper"]
    assert len(out) == 2 * 2 * 3
    assert out[out.shop == "b"]["month"].min() == pd.Timestamp("2004-01-01")
    b = out[(out.shop == "b") & (out.target == "y")]["forecast"]
    assert b.mean() > 50  # each series in its own units (scaled per series)
    with pytest.raises(SeriesError, match="future= lacks the time 2004-07-01 00:00:00 for series 'a'"):
        fc.predict(future=future.iloc[[0, 1, 3, 4, 5]])
    result = fc.backtest(df, folds=2, refit=False)
    assert len(result.forecasts) == 2 * 2 * 2 * 3  # series × targets × folds × steps
    assert set(result.metrics.index) == {fc.label, "naive", "seasonal naive"}


def test_recursive_refuses_past_covariates():
    df = seasonal(30).assign(rain=1.0)
    with pytest.raises(ConfigError, match="past covariates \\['rain'\\] have no future values"):
        Forecaster(strategy="recursive", epochs=0).fit(df, time_col="month", target="y", past_covariates=["rain"])


# -- backtests -------------------------------------------------------------------------------------
def test_backtest_folds_origins_and_baselines():
    df = seasonal(48)
    df["y"] = df["y"] + np.arange(48) * 0.5  # a trend: the naive forecasts now err
    fc = Forecaster("gru", 4, lookback=8, horizon=4, output="quantile", season=4, epochs=1, seed=0)
    result = fc.backtest(df, folds=3, step=2, refit=True)
    f = result.forecasts
    assert result.folds == 3 and result.refit and len(f) == 3 * 4
    origins = sorted(set(f["origin"]))
    assert origins == list(pd.date_range("2001-01", periods=48, freq="MS")[[39, 41, 43]])  # the last seen time
    last = f[f.fold == 2]
    assert last["month"].tolist() == list(pd.date_range("2004-09", periods=4, freq="MS"))
    np.testing.assert_allclose(last["actual"], df["y"].iloc[-4:])
    np.testing.assert_allclose(last["naive"], df["y"].iloc[-5])
    np.testing.assert_allclose(last["seasonal_naive"], df["y"].iloc[-8:-4].to_numpy())
    np.testing.assert_allclose(last["seasonal_naive"] - last["actual"], -2.0)  # one period of the trend
    m = result.metrics
    assert m.loc["seasonal naive", "MAE"] == pytest.approx(2.0) and m.loc["seasonal naive", "sMAPE"] > 0
    assert 0 <= m.loc[fc.label, "coverage"] <= 1 and np.isnan(m.loc["naive", "coverage"])
    assert not fc.fitted  # backtests fit copies


def test_backtest_refuses_too_few_steps():
    with pytest.raises(SeriesError, match="leave 14 steps before the first origin, fewer than lookback \\+ horizon = 16"):
        Forecaster(lookback=12, horizon=4, epochs=0).backtest(seasonal(30), folds=4, time_col="month", target="y")


@pytest.mark.filterwarnings("ignore:MASE is undefined")  # a noiseless pattern: seasonal naive is exact
def test_evaluate_scores_the_held_out_end():
    df = seasonal(40)
    fc = Forecaster("gru", 4, lookback=8, horizon=4, epochs=0).fit(df.iloc[:32], time_col="month", target="y")
    fc.network_ = SeasonalCopy(8, 4, 4)
    r = fc.evaluate(df, holdout=8)
    assert r.folds == 2 and r.metrics.loc[fc.label, "MAE"] == pytest.approx(0, abs=1e-5)
    with pytest.raises(ConfigError, match="multiple of horizon = 4"):
        fc.evaluate(df, holdout=6)


# -- files, plots, seeds ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell,output", [("lstm", "gaussian"), ("esn", "quantile")])
def test_save_and_load_give_the_same_forecasts(tmp_path, cell, output):
    df = seasonal(60)
    df["y"] += np.random.default_rng(0).normal(0, 0.2, 60)
    fc = Forecaster(cell, 8, lookback=8, horizon=3, output=output, calendar=["month"], epochs=2, seed=0).fit(df, time_col="month")
    fc.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["config.json", "manifest.json", "scaler.json", "weights.safetensors"]
    again = load_forecaster(tmp_path / "m")
    pd.testing.assert_frame_equal(fc.predict(), again.predict())
    pd.testing.assert_frame_equal(fc.predict(df.iloc[:50]), again.predict(df.iloc[:50]))


def test_damaged_model_directories(tmp_path):
    with pytest.raises(ModelFileError, match="no forecaster at"):
        load_forecaster(tmp_path / "nothing")
    fc = Forecaster("gru", 4, lookback=4, horizon=2, epochs=0).fit(seasonal(20), time_col="month", target="y")
    fc.save(tmp_path / "m")
    cfg = tmp_path / "m" / "config.json"
    doc = json.loads(cfg.read_text())
    rewrite_model_file(tmp_path / "m", "config.json", json.dumps({**doc, "format": "recurra.model"}).encode())
    with pytest.raises(ModelFileError, match="not a recurra forecaster"):
        load_forecaster(tmp_path / "m")
    rewrite_model_file(tmp_path / "m", "config.json", json.dumps(doc).encode())
    rewrite_model_file(tmp_path / "m", "scaler.json", b"{")
    with pytest.raises(ModelFileError, match="scaler.json is damaged: not valid JSON"):
        load_forecaster(tmp_path / "m")
    (tmp_path / "m" / "scaler.json").write_text("{}")  # changed behind the manifest's back
    with pytest.raises(ModelFileError, match="scaler.json is damaged: its size or SHA-256 differs"):
        load_forecaster(tmp_path / "m")


@pytest.mark.parametrize("level", [5.0, 0.0])
def test_metrics_undefined_on_a_constant_series_are_named(level):
    df = pd.DataFrame({"t": np.arange(40), "y": np.full(40, level)})
    fc = Forecaster("gru", 4, lookback=6, horizon=3, epochs=1).fit(df, time_col="t", holdout=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecurraWarning)
        result = fc.evaluate(df, holdout=6)
    said = [str(w.message) for w in caught if issubclass(w.category, RecurraWarning)]
    assert np.isnan(result.metrics["MASE"]).all() and said == result.notes
    assert said[0].startswith("MASE is undefined (NaN): before the forecast origin the series repeats exactly every")
    assert any(n.startswith("sMAPE says nothing here") for n in said) == (level == 0.0)


def test_the_same_seed_repeats_the_forecast():
    a = Forecaster("lstm", 8, lookback=6, horizon=3, epochs=2, seed=3).fit(seasonal(40), time_col="month").predict()
    b = Forecaster("lstm", 8, lookback=6, horizon=3, epochs=2, seed=3).fit(seasonal(40), time_col="month").predict()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.filterwarnings("ignore:MASE is undefined")  # a noiseless pattern: seasonal naive is exact
def test_plot_writes_a_png(tmp_path):
    fc = Forecaster("gru", 4, lookback=6, horizon=3, output="gaussian", epochs=1).fit(seasonal(40), time_col="month")
    path = fc.plot(path=tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = fc.backtest(seasonal(40), folds=2, refit=False)
    assert r.plot(tmp_path / "b.png", last=10).stat().st_size > 1000


# -- errors ----------------------------------------------------------------------------------------
def test_errors_name_what_is_wrong():
    with pytest.raises(ConfigError, match="expected cell to be one of"):
        Forecaster("transformer")
    with pytest.raises(ConfigError, match="expected strategy to be one of 'direct', 'recursive', got 'multi'"):
        Forecaster(strategy="multi")
    with pytest.raises(ConfigError, match=r"expected lookback to be an integer in \[1, 10000000\], got '24'"):
        Forecaster(lookback="24")  # a mistyped value, as a config.json might hold it
    with pytest.raises(ConfigError, match=r"expected units to be an integer in \[1, 65536\], got 1000000"):
        Forecaster(units=1_000_000)  # refused before anything is allocated
    with pytest.raises(NotBuiltError, match="Forecaster is not fitted: predict\\(\\) needs fit"):
        Forecaster().predict()
    with pytest.raises(SeriesError, match="at least lookback \\+ horizon = 24 \\+ 12 = 36 steps, got 30"):
        Forecaster(epochs=0).fit(seasonal(30), time_col="month", target="y")
    neg = seasonal(30)
    neg.loc[7, "y"] = -1.0
    with pytest.raises(SeriesError, match="transform='log' needs positive targets, got -1.0 in column 'y' at 2001-08-01"):
        Forecaster(lookback=4, horizon=2, transform="log", epochs=0).fit(neg, time_col="month", target="y")
    gap = seasonal(30).drop(index=[10])
    with pytest.raises(SeriesError, match="gap in 'month'"):
        Forecaster(lookback=4, horizon=2, epochs=0).fit(gap, time_col="month", target="y")
    Forecaster(lookback=4, horizon=2, epochs=0, fill="interpolate").fit(gap, time_col="month", target="y")
    with pytest.raises(SeriesError, match="expected a target column 'sales'"):
        Forecaster(epochs=0).fit(seasonal(30), time_col="month", target="sales")
