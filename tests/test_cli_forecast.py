"""``recurra forecast train / predict / backtest`` (small settings: seconds, not minutes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from recurra.cli import app
from recurra.data.series import load_airline

runner = CliRunner()


def said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())
SMALL = ["--epochs", "2", "--units", "4", "--lookback", "12"]


def test_train_with_no_data_uses_the_airline_series(tmp_path):
    out, plot = tmp_path / "model", tmp_path / "f.png"
    result = runner.invoke(app, ["forecast", "train", *SMALL, "--out", str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "airline passengers" in said(result) and "last 24 steps held out" in said(result)
    for row in ("LSTM(4)", "naive", "seasonal naive", "90% coverage", "/ seasonal naive (season 12): MASE"):
        assert row in said(result)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert (out / "config.json").is_file() and any((out / "checkpoints").iterdir())

    # predict from the saved model: the end of the training data, or a CSV's history
    csv = tmp_path / "air.csv"
    load_airline().to_csv(csv, index=False)
    fc_csv = tmp_path / "forecast.csv"
    result = runner.invoke(
        app, ["forecast", "predict", str(out), str(csv), "--out", str(fc_csv), "--plot", str(tmp_path / "p.png")]
    )
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(fc_csv)
    assert forecast.columns.tolist() == ["month", "forecast", "lower", "upper"] and len(forecast) == 12
    assert forecast["month"].iloc[0] == "1961-01-01"
    assert (tmp_path / "p.png").is_file()

    # --resume after a finished run: every epoch is already done, the same model comes out
    again = runner.invoke(
        app, ["forecast", "train", *SMALL, "--out", str(out), "--plot", str(plot), "--resume", "--verbose", "2"]
    )
    assert again.exit_code == 0, again.output
    # (the calibration fit runs first and prints its epochs; the final fit resumes after its last one)
    assert "resumed from" in said(again) and "Epoch" not in said(again).split("resumed from")[1]


def test_train_and_backtest_a_csv(tmp_path):
    n = 80
    t = pd.date_range("2020-01-01", periods=n, freq="D")
    df = pd.DataFrame({"date": t, "sales": 10 + np.sin(np.arange(n) * 2 * np.pi / 7) + 0.01 * np.arange(n)})
    csv = tmp_path / "sales.csv"
    df.to_csv(csv, index=False)
    args = ["--time-col", "date", "--target", "sales", "--horizon", "7", "--cell", "gru", "--output", "quantile", *SMALL]
    result = runner.invoke(
        app, ["forecast", "train", str(csv), *args, "--out", str(tmp_path / "m"), "--plot", str(tmp_path / "f.png")]
    )
    assert result.exit_code == 0, result.output
    assert "GRU(4)" in said(result) and "last 14 steps held out" in said(result) and "season 7" in said(result)
    result = runner.invoke(
        app,
        ["forecast", "backtest", str(csv), *args, "--folds", "2", "--no-refit", "--out", str(tmp_path / "bt.csv"),
         "--plot", str(tmp_path / "bt.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Backtest: 2 folds x 7 steps" in said(result)
    assert len(pd.read_csv(tmp_path / "bt.csv")) == 14 and (tmp_path / "bt.png").is_file()


def test_errors_exit_2_with_the_message(tmp_path):
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"date": ["2020-01-01", "2020-01-03", "2020-01-02", "2020-01-04"], "y": [1.0, 2, 3, 4]}).to_csv(csv, index=False)
    result = runner.invoke(app, ["forecast", "train", str(csv), "--target", "y", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "not sorted" in said(result) and "row 2" in said(result)
    result = runner.invoke(app, ["forecast", "train", str(csv), "--target", "sales"])
    assert result.exit_code == 2 and "expected a target column 'sales'" in said(result)
    result = runner.invoke(app, ["forecast", "predict", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no forecaster at" in said(result)
    result = runner.invoke(app, ["forecast", "train", "--cell", "transformer"])
    assert result.exit_code == 2 and "expected cell to be one of" in said(result)


def test_huge_values_are_refused_before_training(tmp_path):
    """A value of 1e308 used to train to an infinite model and exit 0; it is refused with its row named."""
    df = pd.DataFrame({"t": range(40), "y": [float(i % 7) for i in range(40)]})
    df.loc[17, "y"] = 1e308
    df.to_csv(tmp_path / "huge.csv", index=False)
    result = runner.invoke(app, ["forecast", "train", str(tmp_path / "huge.csv"), "--target", "y", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2, said(result)
    assert "1e+308, beyond float32's range" in said(result) and "row 17" in said(result)
    assert not (tmp_path / "m").exists()
