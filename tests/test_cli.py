"""The command line: `recurra demo` and `recurra version`."""

from __future__ import annotations

from typer.testing import CliRunner

from recurra import __version__
from recurra.cli import app
from recurra.demo import run_demo

runner = CliRunner()


def test_demo_prints_the_comparison_table():
    result = runner.invoke(app, ["demo", "--epochs", "1", "--units", "8", "--verbose", "0"])
    assert result.exit_code == 0, result.output
    assert "LSTM(8)" in result.output
    assert "naive (last value)" in result.output
    assert "best baseline MSE" in result.output


def test_demo_refuses_an_unknown_cell():
    result = runner.invoke(app, ["demo", "--cell", "transformer"])
    assert result.exit_code == 2
    assert "expected --cell in gru, lstm, rnn, got 'transformer'" in result.output


def test_version():
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_demo_beats_the_naive_forecasts_and_repeats_under_a_seed():
    a = run_demo("gru", units=16, epochs=3, seed=1)
    b = run_demo("gru", units=16, epochs=3, seed=1)
    assert a.test_mse == b.test_mse
    assert a.test_mse < a.naive_mse
    assert a.test_mse < a.seasonal_naive_mse


def test_demo_checkpoints_and_resumes(tmp_path):
    first = runner.invoke(app, ["demo", "--epochs", "1", "--units", "4", "--verbose", "0", "--checkpoint-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert any(p.name.startswith("ckpt-") for p in tmp_path.iterdir())
    args = ["demo", "--epochs", "2", "--units", "4", "--verbose", "2", "--checkpoint-dir", str(tmp_path), "--resume"]
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "resumed from" in again.output and "Epoch 2/2" in again.output and "Epoch 1/2" not in again.output


def test_resume_needs_a_checkpoint_dir():
    result = runner.invoke(app, ["demo", "--resume"])
    assert result.exit_code == 2 and "--resume needs --checkpoint-dir" in result.output
