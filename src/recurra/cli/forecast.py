"""``recurra forecast train | predict | backtest``: forecasters from CSV files (thin commands over
``recurra.Forecaster``)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..data.series import load_airline
from ..forecast import BacktestResult, Forecaster, load_forecaster
from .console import console, running, set_threads
from .options import BatchSize, Cell, Epochs, LearningRate, ModelOut, Resume, Seed, Threads, Units, Verbose, given
from .progress import EpochBar

forecast_app = typer.Typer(help="Time-series forecasting: train, predict, backtest.", no_args_is_help=True)

# `recurra forecast train` with no data: the bundled airline series, with the settings chosen on its
# validation years (1949-1958; docs/forecasting.md), the last 24 months held out and scored.
AIRLINE_COLUMNS: dict[str, Any] = dict(time_col="month", target=["passengers"], holdout=24)
AIRLINE: dict[str, Any] = dict(
    horizon=12, lookback=24, cell="lstm", units=32, epochs=200, batch_size=16, learning_rate=3e-3, output="gaussian"
)
A_CSV: dict[str, Any] = dict(output="gaussian")  # any other table: the Forecaster's defaults, with intervals

Data = Annotated[Path | None, typer.Argument(help="A CSV file with a time column (default: the bundled airline series).")]
TimeCol = Annotated[str | None, typer.Option("--time-col", help="The time column (default: the first one).")]
Target = Annotated[list[str] | None, typer.Option("--target", help="Column to forecast (repeat for several).")]
SeriesCol = Annotated[str | None, typer.Option("--series-col", help="Column telling many series apart.")]
Past = Annotated[list[str] | None, typer.Option("--past", help="A past covariate column (repeatable).")]
Future = Annotated[list[str] | None, typer.Option("--future", help="A known-future covariate column (repeatable).")]
Horizon = Annotated[int | None, typer.Option(min=1, help=Forecaster.why("horizon").capitalize() + " (default 12).")]
Lookback = Annotated[int | None, typer.Option(min=1, help=Forecaster.why("lookback").capitalize() + " (default 24).")]
Layers = Annotated[int | None, typer.Option(min=1, help=Forecaster.why("layers").capitalize() + ".")]
Strategy = Annotated[str | None, typer.Option(help="direct (one output per step) or recursive (forecasts fed back).")]
Output = Annotated[str | None, typer.Option(help="point, gaussian or quantile (default gaussian: 90% intervals).")]
Scaler = Annotated[str | None, typer.Option(help="standard, minmax, robust or none (per series).")]
Transform = Annotated[str | None, typer.Option(help="log: forecast the log of the targets.")]
Calendar = Annotated[bool, typer.Option("--calendar", help="Add calendar features (month, weekday ...) for the time step.")]
Fill = Annotated[str | None, typer.Option(help="Fill gaps and NaNs: interpolate, ffill, zero or a number (default: refuse).")]
Plot = Annotated[Path, typer.Option("--plot", help="PNG of the forecasts.")]


def _fill(value: str | None) -> str | float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _forecaster(data: Path | None, options: dict[str, Any]) -> Forecaster:
    """The airline preset (no data) or a CSV's, overridden by the options given."""
    return Forecaster(**{**(AIRLINE if data is None else A_CSV), **options})


def _columns(data: Path | None, time_col, target, series_col, past, future) -> dict[str, Any]:
    columns = dict(given(time_col=time_col, target=target, series_col=series_col))
    if data is None:
        columns = {**{k: v for k, v in AIRLINE_COLUMNS.items() if k != "holdout"}, **columns}
    target = columns.get("target")
    return dict(
        time_col=columns.get("time_col"),
        target=None if not target else (target[0] if len(target) == 1 else list(target)),
        series_col=columns.get("series_col"),
        past_covariates=past or (),
        future_covariates=future or (),
    )


def _metrics_table(result: BacktestResult, title: str) -> Table:
    table = Table(title=title)
    table.add_column("forecaster")
    for name in ("MAE", "RMSE", "sMAPE %", "MASE", f"{result.level:.0%} coverage"):
        table.add_column(name, justify="right")
    for name, row in result.metrics.iterrows():
        cov = "" if math.isnan(row["coverage"]) else f"{row['coverage']:.0%}"
        table.add_row(str(name), f"{row['MAE']:.4g}", f"{row['RMSE']:.4g}", f"{row['sMAPE']:.2f}", f"{row['MASE']:.3f}", cov)
    return table


def _verdict(result: BacktestResult) -> str:
    """The model's errors over the seasonal naive forecast's (below 1: better)."""
    m = result.metrics
    model = m.index[0]
    ratios = []
    for metric in ("MASE", "sMAPE", "MAE"):
        ours, theirs = m.loc[model, metric], m.loc["seasonal naive", metric]
        if math.isfinite(ours) and math.isfinite(theirs) and theirs > 0:
            ratios.append(f"{metric} {ours / theirs:.2f}")
    if not ratios:
        return f"{model} vs seasonal naive (season {result.season}): no ratio is defined (the baseline's errors are 0)"
    return f"{model} / seasonal naive (season {result.season}): {', '.join(ratios)} (below 1: the model is better)"


@forecast_app.command("train")
def train(
    data: Data = None,
    time_col: TimeCol = None,
    target: Target = None,
    series_col: SeriesCol = None,
    past: Past = None,
    future: Future = None,
    horizon: Horizon = None,
    lookback: Lookback = None,
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    strategy: Strategy = None,
    output: Output = None,
    scaler: Scaler = None,
    transform: Transform = None,
    calendar: Calendar = False,
    fill: Fill = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    holdout: Annotated[
        int | None, typer.Option(min=0, help="Steps held out at the end of each series and scored (default 2 x horizon).")
    ] = None,
    out: ModelOut = Path("forecast-model"),
    plot: Plot = Path("forecast.png"),
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = 1,
    resume: Resume = False,
) -> None:
    """Train a forecaster, score it on the held-out end of the data next to the naive baselines, write a
    plot and save the model (checkpoints in OUT/checkpoints; --resume continues an interrupted run)."""
    set_threads(threads)
    with running():
        options = given(horizon=horizon, lookback=lookback, cell=cell, units=units, layers=layers, strategy=strategy,
                        output=output, scaler=scaler, transform=transform, fill=_fill(fill), epochs=epochs,
                        batch_size=batch_size, learning_rate=learning_rate, calendar=calendar, seed=seed)  # fmt: skip
        fc = _forecaster(data, {**options, "verbose": 2 if verbose == 2 else 0})
        held = holdout if holdout is not None else (AIRLINE_COLUMNS["holdout"] if data is None else 2 * fc.horizon)
        where = str(data) if data is not None else "the bundled airline passengers (monthly, 1949-1960)"
        console.print(f"Training {fc.label} ({fc.strategy}, {fc.output}) on {where}; last {held} steps held out")
        table_data = data if data is not None else load_airline()
        columns = _columns(data, time_col, target, series_col, past, future)
        bar = [EpochBar(fc.epochs, f"training {fc.label}")] if verbose == 1 else None
        start = time.perf_counter()
        fc.fit(table_data, **columns, holdout=held, checkpoint_dir=out / "checkpoints", resume=resume, callbacks=bar)
        seconds = time.perf_counter() - start
        fc.save(out)
        if held:
            result = fc.evaluate(table_data, holdout=held)
            result.plot(plot, last=4 * fc.horizon, title=f"{fc.label}: the last {held} steps, held out")
    if held:
        title = f"Held-out: last {held} steps, {result.folds} forecast(s) of {fc.horizon} ({seconds:.1f} s of training)"
        console.print(_metrics_table(result, title))
        console.print(_verdict(result))
        console.print(f"plot: {plot}")
    console.print(f"model: {out}  (recurra forecast predict {out} DATA.csv --out forecast.csv)")


@forecast_app.command("predict")
def predict(
    model: Annotated[Path, typer.Argument(help="A directory written by `recurra forecast train`.")],
    data: Annotated[Path | None, typer.Argument(help="History to forecast from (default: the end of the training data).")] = None,
    future: Annotated[Path | None, typer.Option("--future", help="CSV with the known-future covariates.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the forecast (CSV).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of the history and the forecast.")] = None,
) -> None:
    """Forecast the next horizon steps after the end of each series."""
    with running(resume=None):
        fc = load_forecaster(model)
        forecast = fc.predict(data, future=future)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            forecast.to_csv(out, index=False)
        if plot is not None:
            fc.plot(forecast, plot, data=data, last=4 * fc.horizon)
    table = Table(title=f"{fc.label} forecast, {fc.horizon} steps")
    for c in forecast.columns:
        table.add_column(str(c), justify="right" if c in ("forecast", "lower", "upper") else "left")
    for _, row in forecast.head(40).iterrows():
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    if len(forecast) > 40:
        console.print(f"... {len(forecast) - 40} more rows")
    if out is not None:
        console.print(f"forecast: {out}")
    if plot is not None:
        console.print(f"plot: {plot}")


@forecast_app.command("backtest")
def backtest(
    data: Data = None,
    time_col: TimeCol = None,
    target: Target = None,
    series_col: SeriesCol = None,
    past: Past = None,
    future: Future = None,
    horizon: Horizon = None,
    folds: Annotated[int, typer.Option(min=1, help="Forecast origins.")] = 5,
    step: Annotated[int | None, typer.Option(min=1, help="Steps between origins (default: horizon).")] = None,
    refit: Annotated[bool, typer.Option("--refit/--no-refit", help="Fit again before every origin, or once.")] = True,
    lookback: Lookback = None,
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    strategy: Strategy = None,
    output: Output = None,
    scaler: Scaler = None,
    transform: Transform = None,
    calendar: Calendar = False,
    fill: Fill = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV of every forecast point.")] = None,
    plot: Plot = Path("backtest.png"),
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = 1,
) -> None:
    """Rolling-origin backtest: MAE, RMSE, sMAPE, MASE and interval coverage next to the naive baselines."""
    set_threads(threads)
    with running(resume=None):
        options = given(horizon=horizon, lookback=lookback, cell=cell, units=units, layers=layers, strategy=strategy,
                        output=output, scaler=scaler, transform=transform, fill=_fill(fill), epochs=epochs,
                        batch_size=batch_size, learning_rate=learning_rate, calendar=calendar, seed=seed)  # fmt: skip
        fc = _forecaster(data, options)
        console.print(f"Backtesting {fc.label}: {folds} origins, {fc.horizon} steps each, {'refit' if refit else 'fitted once'}")
        columns = _columns(data, time_col, target, series_col, past, future)
        bar = [EpochBar(fc.epochs, f"fitting {fc.label}")] if verbose else None
        start = time.perf_counter()
        table_data = data if data is not None else load_airline()
        result = fc.backtest(table_data, folds=folds, step=step, refit=refit, callbacks=bar, **columns)
        seconds = time.perf_counter() - start
        result.plot(plot, last=4 * fc.horizon)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            result.forecasts.to_csv(out, index=False)
    console.print(_metrics_table(result, f"Backtest: {result.folds} folds x {result.horizon} steps ({seconds:.1f} s)"))
    console.print(_verdict(result))
    console.print(f"plot: {plot}")
    if out is not None:
        console.print(f"forecasts: {out}")
