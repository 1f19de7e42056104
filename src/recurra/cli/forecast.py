"""``recurra forecast ...``: train, predict and backtest forecasters from CSV files."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from ..data.series import load_airline
from ..errors import RecurraError, TrainingInterrupted
from ..forecast import Forecaster, load_forecaster

forecast_app = typer.Typer(help="Time-series forecasting: train, predict, backtest.", no_args_is_help=True)
console = Console()

# `recurra forecast train` with no data: the bundled airline series, with the settings chosen on its
# validation years (1949-1958; see docs/forecasting.md), the last 24 months held out and scored.
AIRLINE: dict[str, Any] = dict(
    time_col="month",
    target=["passengers"],
    horizon=12,
    holdout=24,
    lookback=24,
    cell="lstm",
    units=32,
    epochs=200,
    batch_size=16,
    learning_rate=3e-3,
    output="gaussian",
)
DEFAULTS: dict[str, Any] = dict(
    horizon=12, lookback=24, cell="lstm", units=32, epochs=100, batch_size=32, learning_rate=1e-3, output="gaussian"
)

Data = Annotated[Path | None, typer.Argument(help="A CSV file with a time column (default: the bundled airline series).")]
TimeCol = Annotated[str | None, typer.Option("--time-col", help="The time column (default: the first one).")]
Target = Annotated[list[str] | None, typer.Option("--target", help="Column to forecast (repeat for several).")]
SeriesCol = Annotated[str | None, typer.Option("--series-col", help="Column telling many series apart.")]
Past = Annotated[list[str] | None, typer.Option("--past", help="A past covariate column (repeatable).")]
Future = Annotated[list[str] | None, typer.Option("--future", help="A known-future covariate column (repeatable).")]
Horizon = Annotated[int | None, typer.Option(min=1, help="Steps to forecast (default 12).")]
Lookback = Annotated[int | None, typer.Option(min=1, help="Steps of history the network reads (default 24).")]
Cell = Annotated[str | None, typer.Option(help="lstm, gru, rnn, indrnn, mingru, minlstm or esn (default lstm).")]
Units = Annotated[int | None, typer.Option(min=1, help="Units per recurrent layer (default 32).")]
Layers = Annotated[int, typer.Option(min=1, help="Stacked recurrent layers.")]
Strategy = Annotated[str, typer.Option(help="direct (one output per step) or recursive (forecasts fed back).")]
Output = Annotated[str | None, typer.Option(help="point, gaussian or quantile (default gaussian: 90% intervals).")]
Scaler = Annotated[str, typer.Option(help="standard, minmax, robust or none (per series).")]
Transform = Annotated[str | None, typer.Option(help="log: forecast the log of the targets.")]
Calendar = Annotated[bool, typer.Option("--calendar", help="Add calendar features (month, weekday ...) for the time step.")]
Fill = Annotated[str | None, typer.Option(help="Fill gaps and NaNs: interpolate, ffill, zero or a number (default: refuse).")]
Epochs = Annotated[int | None, typer.Option(min=0, help="Training epochs (default 100).")]
BatchSize = Annotated[int | None, typer.Option(min=1, help="Windows per batch (default 32).")]
LearningRate = Annotated[float | None, typer.Option(help="Adam's learning rate (default 1e-3).")]
Seed = Annotated[int, typer.Option(help="Random seed (the same seed repeats the run).")]
Verbose = Annotated[int, typer.Option(min=0, max=2, help="0 silent, 1 progress bar, 2 one line per epoch.")]
Threads = Annotated[
    int, typer.Option(min=1, help="CPU threads for torch (1: small networks train fastest on one, above all on a busy machine).")
]


def _threads(n: int) -> None:
    torch.set_num_threads(n)


def _fail(e: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
    return typer.Exit(2)


def _fill(value: str | None) -> str | float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _settings(data: Path | None, given: dict[str, Any]) -> dict[str, Any]:
    """The options given, else the airline preset (no data) or the general defaults."""
    preset = AIRLINE if data is None else DEFAULTS
    return {k: (v if v is not None else preset.get(k)) for k, v in given.items()}


def _forecaster(s: dict[str, Any], **extra: Any):
    keys = ("cell", "units", "layers", "lookback", "horizon", "strategy", "output", "scaler", "transform", "calendar",
            "epochs", "batch_size", "learning_rate", "seed")  # fmt: skip
    return Forecaster(**{k: s[k] for k in keys}, fill=_fill(s["fill"]), **extra)


def _data(data: Path | None) -> Any:
    if data is not None:
        return data
    return load_airline()


def _columns(s: dict[str, Any]) -> dict[str, Any]:
    target = s["target"]
    return dict(
        time_col=s["time_col"],
        target=None if not target else (target[0] if len(target) == 1 else list(target)),
        series_col=s["series_col"],
        past_covariates=s["past"] or (),
        future_covariates=s["future"] or (),
    )


def _metrics_table(result: Any, title: str) -> Table:
    table = Table(title=title)
    table.add_column("forecaster")
    for name in ("MAE", "RMSE", "sMAPE %", "MASE", f"{result.level:.0%} coverage"):
        table.add_column(name, justify="right")
    for name, row in result.metrics.iterrows():
        cov = "" if math.isnan(row["coverage"]) else f"{row['coverage']:.0%}"
        table.add_row(str(name), f"{row['MAE']:.4g}", f"{row['RMSE']:.4g}", f"{row['sMAPE']:.2f}", f"{row['MASE']:.3f}", cov)
    return table


def _verdict(result: Any) -> str:
    """The model's errors over the seasonal naive forecast's (below 1: better), and what is undefined."""
    m = result.metrics
    model = m.index[0]
    ratios = []
    for metric in ("MASE", "sMAPE", "MAE"):
        ours, theirs = m.loc[model, metric], m.loc["seasonal naive", metric]
        if math.isfinite(ours) and math.isfinite(theirs) and theirs > 0:
            ratios.append(f"{metric} {ours / theirs:.2f}")
    lines = [f"{model} / seasonal naive (season {result.season}): {', '.join(ratios)} (below 1: the model is better)"]
    if not ratios:
        lines = [f"{model} vs seasonal naive (season {result.season}): no ratio is defined (the baseline's errors are 0)"]
    return "\n".join(lines + [f"note: {n}" for n in result.notes])


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
    layers: Layers = 1,
    strategy: Strategy = "direct",
    output: Output = None,
    scaler: Scaler = "standard",
    transform: Transform = None,
    calendar: Calendar = False,
    fill: Fill = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    holdout: Annotated[
        int | None, typer.Option(min=0, help="Steps held out at the end of each series and scored (default 2 x horizon).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")] = Path("forecast-model"),
    plot: Annotated[Path, typer.Option("--plot", help="PNG of the held-out forecasts.")] = Path("forecast.png"),
    seed: Seed = 0,
    verbose: Verbose = 0,
    threads: Threads = 1,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUT/checkpoints.")] = False,
) -> None:
    """Train a forecaster, score it on the held-out end of the data next to the naive baselines, write a
    plot and save the model (checkpoints in OUT/checkpoints; --resume continues an interrupted run)."""
    s = _settings(data, dict(locals()))
    s["holdout"] = holdout if holdout is not None else (AIRLINE["holdout"] if data is None else 2 * s["horizon"])
    where = str(data) if data is not None else "the bundled airline passengers (monthly, 1949-1960)"
    _threads(threads)
    try:
        fc = _forecaster(s, verbose=verbose)
        console.print(f"Training {fc.label} ({s['strategy']}, {s['output']}) on {where}; last {s['holdout']} steps held out")
        table_data = _data(data)
        start = time.perf_counter()
        fc.fit(table_data, **_columns(s), holdout=s["holdout"], checkpoint_dir=out / "checkpoints", resume=resume)
        seconds = time.perf_counter() - start
        fc.save(out)
        if s["holdout"]:
            result = fc.evaluate(table_data, holdout=s["holdout"])
            result.plot(plot, last=4 * s["horizon"], title=f"{fc.label}: the last {s['holdout']} steps, held out")
    except TrainingInterrupted as e:
        console.print(f"[yellow]{e}[/yellow]")
        raise typer.Exit(130) from None
    except RecurraError as e:
        raise _fail(e) from None
    if s["holdout"]:
        title = f"Held-out: last {s['holdout']} steps, {result.folds} forecast(s) of {fc.horizon} ({seconds:.1f} s of training)"
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
    try:
        fc = load_forecaster(model)
        forecast = fc.predict(data, future=future)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            forecast.to_csv(out, index=False)
        if plot is not None:
            fc.plot(forecast, plot, data=data, last=4 * fc.horizon)
    except RecurraError as e:
        raise _fail(e) from None
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
    layers: Layers = 1,
    strategy: Strategy = "direct",
    output: Output = None,
    scaler: Scaler = "standard",
    transform: Transform = None,
    calendar: Calendar = False,
    fill: Fill = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV of every forecast point.")] = None,
    plot: Annotated[Path, typer.Option("--plot", help="PNG of the folds' forecasts.")] = Path("backtest.png"),
    seed: Seed = 0,
    threads: Threads = 1,
) -> None:
    """Rolling-origin backtest: MAE, RMSE, sMAPE, MASE and interval coverage next to the naive baselines."""
    s = _settings(data, dict(locals()))
    _threads(threads)
    try:
        fc = _forecaster(s)
        console.print(f"Backtesting {fc.label}: {folds} origins, {fc.horizon} steps each, {'refit' if refit else 'fitted once'}")
        start = time.perf_counter()
        result = fc.backtest(_data(data), folds=folds, step=step, refit=refit, **_columns(s))
        seconds = time.perf_counter() - start
        result.plot(plot, last=4 * fc.horizon)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            result.forecasts.to_csv(out, index=False)
    except RecurraError as e:
        raise _fail(e) from None
    console.print(_metrics_table(result, f"Backtest: {result.folds} folds x {result.horizon} steps ({seconds:.1f} s)"))
    console.print(_verdict(result))
    console.print(f"plot: {plot}")
    if out is not None:
        console.print(f"forecasts: {out}")
