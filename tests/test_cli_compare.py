"""`recurra compare`: the table, the files, and clear refusals."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recurra.cli import app

runner = CliRunner()


def test_compare_prints_the_table_and_writes_json_and_the_plot(tmp_path):
    args = ["compare", "--task", "adding", "--length", "6", "--cells", "rnn,lstm,mlp", "--seeds", "2", "--budget-steps", "3"]
    args += ["--params", "400", "--n-train", "64", "--n-test", "16", "--batch-size", "16", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    for text in ("adding problem, T=6", "lstm", "mlp", "±", "chance level: 0.1667", "3 steps per run"):
        assert text in output, text
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["cell"] for r in data["summary"]] == ["rnn", "lstm", "mlp"]
    assert (tmp_path / "learning_curves.png").exists()


def test_compare_refuses_an_unknown_cell_listing_the_valid_ones():
    result = runner.invoke(app, ["compare", "--cells", "lstm,transformer", "--budget-steps", "1"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "unknown cell 'transformer'; expected one of: esn, gru, indrnn, lstm, mingru, minlstm, mlp, rnn" in text


def test_compare_takes_one_budget():
    result = runner.invoke(app, ["compare", "--cells", "lstm", "--budget-steps", "5", "--budget-seconds", "1"])
    assert result.exit_code == 2 and "one of --budget-steps and --budget-seconds, not both" in " ".join(result.output.split())


def test_compare_keeps_the_trained_networks_and_decays_the_learning_rate(tmp_path):
    args = ["compare", "--task", "adding", "--length", "5", "--cells", "gru", "--seeds", "1", "--budget-steps", "2"]
    args += ["--params", "300", "--n-train", "32", "--n-test", "8", "--batch-size", "16", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--lr-schedule", "cosine", "--save-models", "--first-seed", "4"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "1 seed from 4" in output and "Adam lr 0.001 (cosine decay)" in output and "trained networks in" in output
    assert (tmp_path / "models" / "gru-seed4" / "config.json").exists()
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["lr_schedule"] == "cosine" and settings["seeds"] == [4]
