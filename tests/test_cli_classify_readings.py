"""`recurra classify train | predict` on a long table of sensor readings (one row per sequence and step)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from recurra.cli import app

runner = CliRunner()


def readings(n: int, seed: int) -> pd.DataFrame:
    """Accelerometer-like readings: 'shake' sequences oscillate fast, 'rest' ones drift slowly; ~9.8 offset."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = "shake" if i % 2 else "rest"
        T = int(rng.integers(15, 30))
        t = np.arange(T)
        z = 9.8 + (np.sin(2.5 * t) if label == "shake" else 0.05 * t / T) + rng.normal(scale=0.05, size=T)
        for step in rng.permutation(T):  # rows out of order: --time-col sorts them
            rows.append({"series": f"s{i}", "t": int(step), "acc_x": rng.normal(scale=0.1), "acc_z": z[step], "label": label})
    return pd.DataFrame(rows)


def test_train_and_predict_on_readings(tmp_path):
    readings(40, 0).to_csv(tmp_path / "train.csv", index=False)
    readings(10, 1).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "activity"
    args = ["classify", "train", str(tmp_path / "train.csv"), "--id-col", "series", "--time-col", "t", "--standardize",
            "--cell", "gru", "--units", "16", "--epochs", "40", "--test-fraction", "0.25", "--out", str(out),
            "--verbose", "0"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out (10 rows): accuracy" in result.output
    pred = runner.invoke(app, ["classify", "predict", str(out), str(tmp_path / "new.csv"), "--label-col", "label",
                               "--out", str(tmp_path / "p.csv"), "--plot", str(tmp_path / "steps.png")])  # fmt: skip
    assert pred.exit_code == 0, pred.output
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table.columns[:3]) == ["series", "label", "predicted"] and len(table) == 10
    assert (table.label == table.predicted).mean() >= 0.8
    assert "accuracy" in pred.output
    assert (tmp_path / "steps.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_readings_are_named(tmp_path):
    df = readings(6, 0)
    df.loc[4, "label"] = "shake" if df.loc[4, "label"] == "rest" else "rest"
    df.to_csv(tmp_path / "mixed.csv", index=False)
    result = runner.invoke(app, ["classify", "train", str(tmp_path / "mixed.csv"), "--id-col", "series", "--time-col", "t",
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code != 0
    assert "one label per sequence" in result.output and "Traceback" not in result.output
