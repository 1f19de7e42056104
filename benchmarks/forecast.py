"""Forecasting: accuracy on real series against the naive baselines, and training speed.

    python benchmarks/forecast.py figures --split validation     # choose settings (never on the test years)
    python benchmarks/forecast.py figures --split test           # the figures of docs/forecasting.md
    python benchmarks/forecast.py speed --rounds 5               # time per epoch: recurra, hand-written PyTorch, darts

``figures``: for each series and cell, ``Forecaster.fit(..., holdout=H)`` then ``evaluate(holdout=H)``:
the last ``H`` steps are never trained on and are forecast from origins ``horizon`` steps apart, next
to the naive and seasonal-naive forecasts from the same history. ``--split validation`` drops the
test steps first and holds out the ``H`` steps before them instead. Then a rolling-origin
``backtest`` for the coverage of the 90% intervals.

``speed``: one LSTM forecaster, three ways, on the Mauna Loa CO2 series: recurra's ``Forecaster.fit``,
the same network and windowing written by hand in PyTorch, and darts' ``BlockRNNModel`` (the direct
multi-output LSTM: the same network; darts' ``RNNModel`` is its recursive one-step model) when darts
is installed. Each timed call reads the table, scales, windows and trains ``--epochs`` epochs from a
fresh network; the contenders alternate over ``--rounds`` rounds (the first one rotates) and the
median is reported per epoch. Accuracy: MAE of each on the last 48 weeks (4 origins, 12 weeks each).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from recurra import Forecaster
from recurra.data.series import load_airline, load_co2

# settings per series: columns, horizon, held-out steps, and the forecaster's arguments (chosen with
# --split validation; see docs/forecasting.md)
SERIES: dict[str, dict[str, Any]] = {
    "airline": dict(
        load=load_airline,
        columns=dict(time_col="month", target="passengers"),
        holdout=24,
        backtest=dict(folds=5, refit=True),
        forecaster=dict(units=32, lookback=24, horizon=12, epochs=200, batch_size=16, learning_rate=3e-3, output="gaussian"),
    ),
    "co2": dict(
        load=load_co2,
        columns=dict(time_col="week", target="co2"),
        holdout=104,
        backtest=dict(folds=4, refit=False),
        forecaster=dict(
            units=32,
            lookback=104,
            horizon=52,
            epochs=30,
            batch_size=32,
            learning_rate=3e-3,
            output="gaussian",
            fill="interpolate",
        ),  # fmt: skip
    ),
}


def figures(args: argparse.Namespace) -> None:
    rows = []
    for name in args.series:
        spec = SERIES[name]
        df = spec["load"]()
        if args.split == "validation":
            df = df.iloc[: len(df) - spec["holdout"]]
        settings = {**spec["forecaster"], **({"epochs": args.epochs} if args.epochs else {})}
        for cell in args.cells:
            for seed in args.seeds:
                start = time.perf_counter()
                fc = Forecaster(cell, seed=seed, **settings)
                fc.fit(df, **spec["columns"], holdout=spec["holdout"])
                m = fc.evaluate(df, holdout=spec["holdout"]).metrics
                cov = float("nan")
                if args.backtest:
                    cov = Forecaster(cell, seed=seed, **settings).backtest(df, **spec["backtest"], **spec["columns"]).metrics
                    cov = float(cov.loc[fc.label, "coverage"])
                row = dict(
                    series=name,
                    cell=cell,
                    seed=seed,
                    MASE=m.loc[fc.label, "MASE"],
                    sMAPE=m.loc[fc.label, "sMAPE"],
                    snaive_MASE=m.loc["seasonal naive", "MASE"],
                    snaive_sMAPE=m.loc["seasonal naive", "sMAPE"],
                    naive_MASE=m.loc["naive", "MASE"],
                    holdout_coverage=m.loc[fc.label, "coverage"],
                    backtest_coverage=cov,
                    seconds=time.perf_counter() - start,
                )
                rows.append(row)
                print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    print(f"\n{args.split} split: median over seeds {args.seeds} [min, max]")
    cols = ["MASE", "sMAPE", "snaive_MASE", "snaive_sMAPE", "naive_MASE", "holdout_coverage", "backtest_coverage"]
    for (series, cell), part in table.groupby(["series", "cell"], sort=False):
        cells = [f"{c} {part[c].median():.3f} [{part[c].min():.3f}, {part[c].max():.3f}]" for c in cols]
        print(f"{series:8s} {cell:6s} " + "; ".join(cells))


# -- speed -------------------------------------------------------------------------------------------
class HandLSTM(nn.Module):
    """What ``Forecaster("lstm", output="point", normalize="window")`` builds, by hand."""

    def __init__(self, units: int, horizon: int):
        super().__init__()
        self.lstm = nn.LSTM(1, units, batch_first=True)
        self.head = nn.Linear(units, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        level = x.mean(1, keepdim=True)  # (B, 1, 1): the window's level
        _, (h, _) = self.lstm(x - level)  # h: (1, B, U)
        return self.head(h[0]) + level[:, 0]  # (B, H)


def hand_fit(df: pd.DataFrame, lookback: int, horizon: int, units: int, epochs: int, batch_size: int, seed: int):
    torch.manual_seed(seed)
    s = df["co2"].interpolate(limit_direction="both").to_numpy(dtype=np.float64)
    mean, std = s.mean(), s.std()
    z = ((s - mean) / std).astype(np.float32)
    w = np.lib.stride_tricks.sliding_window_view(z, lookback + horizon)  # (N, L + H)
    x = torch.from_numpy(np.ascontiguousarray(w[:, :lookback, None]))  # (N, L, 1)
    y = torch.from_numpy(np.ascontiguousarray(w[:, lookback:]))  # (N, H)
    net = HandLSTM(units, horizon)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
    net.eval()
    return net, mean, std


def hand_mae(net, mean, std, df, lookback, horizon, holdout):
    s = df["co2"].interpolate(limit_direction="both").to_numpy(dtype=np.float64)
    errs = []
    for o in range(len(s) - holdout, len(s), horizon):
        x = torch.tensor(((s[o - lookback : o] - mean) / std)[None, :, None], dtype=torch.float32)
        with torch.no_grad():
            f = net(x)[0].double().numpy() * std + mean
        errs.append(np.abs(f - s[o : o + horizon]))
    return float(np.mean(errs))


def darts_fit(df, lookback, horizon, units, epochs, batch_size, seed):
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    d = df.assign(week=pd.to_datetime(df["week"]))
    d["co2"] = d["co2"].interpolate(limit_direction="both")
    series = TimeSeries.from_dataframe(d, time_col="week", value_cols="co2", freq="W-SAT")
    scaler = Scaler()
    scaled = scaler.fit_transform(series)
    model = BlockRNNModel(
        model="LSTM",
        input_chunk_length=lookback,
        output_chunk_length=horizon,
        hidden_dim=units,
        n_rnn_layers=1,
        dropout=0.0,
        batch_size=batch_size,
        n_epochs=epochs,
        random_state=seed,
        optimizer_kwargs={"lr": 1e-3},
        pl_trainer_kwargs=dict(
            accelerator="cpu", enable_progress_bar=False, enable_model_summary=False, logger=False, enable_checkpointing=False
        ),
    )
    model.fit(scaled, verbose=False)
    return model, scaler, series


def darts_mae(model, scaler, series, holdout, horizon):
    errs = []
    n = len(series)
    for o in range(n - holdout, n, horizon):
        f = scaler.inverse_transform(model.predict(horizon, series=scaler.transform(series[:o]), verbose=False))
        errs.append(np.abs(f.values()[:, 0] - series[o : o + horizon].values()[:, 0]))
    return float(np.mean(errs))


def speed(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    df = load_co2()
    L, H, U, E, B = args.lookback, args.horizon, args.units, args.epochs, args.batch_size
    try:
        import darts  # noqa: F401

        have_darts = True
    except ImportError as e:
        have_darts = False
        print(f"darts is not installed ({e}): its column is skipped (pip install -c <(echo torch==2.13.0) 'darts[torch]')")
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)

    def run_recurra(epochs):
        fc = Forecaster("lstm", U, lookback=L, horizon=H, epochs=epochs, batch_size=B, output="point", fill="interpolate", seed=0)
        return fc.fit(df, time_col="week", target="co2")

    contenders = {
        "recurra": run_recurra,
        "raw": lambda epochs: hand_fit(df, L, H, U, epochs, B, 0),
    }
    if have_darts:
        contenders["darts"] = lambda epochs: darts_fit(df, L, H, U, epochs, B, 0)
    for fn in contenders.values():  # warm-up: imports, first allocations
        fn(1)
    times: dict[str, list[float]] = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            contenders[name](E)
            times[name].append((time.perf_counter() - start) / E)
        print(f"round {r + 1}: " + ", ".join(f"{k} {times[k][-1]:.3f} s/epoch" for k in names), flush=True)
    n_windows = len(df) - L - H + 1
    print(
        f"\nLSTM({U}), lookback {L}, horizon {H}, {n_windows} windows, batch {B}, {E} epochs per call, {args.threads} thread(s)"
    )
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in names:
        print(f"{k:8s} median {med[k]:.3f} s/epoch  [min {min(times[k]):.3f}, max {max(times[k]):.3f}]")
    per_round = [a / b for a, b in zip(times["recurra"], times["raw"])]
    ratio = med["recurra"] / med["raw"]
    print(f"recurra / raw: {ratio:.3f} (median of per-round ratios {statistics.median(per_round):.3f}; goal <= 1.1)")
    if have_darts:
        per_round = [a / b for a, b in zip(times["recurra"], times["darts"])]
        ratio = med["recurra"] / med["darts"]
        print(f"recurra / darts: {ratio:.3f} (median of per-round ratios {statistics.median(per_round):.3f})")
    if args.accuracy_epochs:
        A = args.accuracy_epochs
        train = df.iloc[:-48]
        fc = Forecaster("lstm", U, lookback=L, horizon=H, epochs=A, batch_size=B, output="point", fill="interpolate", seed=0)
        fc.fit(df, time_col="week", target="co2", holdout=48)
        rec = fc.evaluate(df, holdout=48).metrics.loc[fc.label, "MAE"]
        net, mean, std = hand_fit(train, L, H, U, A, B, 0)
        raw = hand_mae(net, mean, std, df, L, H, 48)
        line = f"accuracy after {A} epochs, MAE on the last 48 weeks (ppm): recurra {rec:.3f}, raw {raw:.3f}"
        if have_darts:
            model, scaler, _ = darts_fit(train, L, H, U, A, B, 0)
            from darts import TimeSeries

            d = df.assign(week=pd.to_datetime(df["week"]))
            d["co2"] = d["co2"].interpolate(limit_direction="both")
            series = TimeSeries.from_dataframe(d, time_col="week", value_cols="co2", freq="W-SAT")
            line += f", darts {darts_mae(model, scaler, series, 48, H):.3f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("figures", help="accuracy against the baselines on the bundled series")
    f.add_argument("--split", choices=["validation", "test"], default="test")
    f.add_argument("--series", nargs="+", choices=sorted(SERIES), default=sorted(SERIES))
    f.add_argument("--cells", nargs="+", default=["lstm", "gru"])
    f.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    f.add_argument("--epochs", type=int, default=None, help="override the series' epochs")
    f.add_argument("--no-backtest", dest="backtest", action="store_false", help="skip the coverage backtest")
    f.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("speed", help="time per epoch against hand-written PyTorch (and darts)")
    s.add_argument("--rounds", type=int, default=5)
    s.add_argument("--epochs", type=int, default=2, help="epochs per timed call")
    s.add_argument("--lookback", type=int, default=52)
    s.add_argument("--horizon", type=int, default=12)
    s.add_argument("--units", type=int, default=64)
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--accuracy-epochs", type=int, default=20, help="0: skip the accuracy comparison")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    figures(args) if args.command == "figures" else speed(args)


if __name__ == "__main__":
    main()
