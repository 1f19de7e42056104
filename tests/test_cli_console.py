"""What every command shares (``recurra.cli.console``, ``recurra.cli.progress``): an interrupted training says
how to continue (``--resume``) and exits with 130; errors exit with 2, warnings print as notes; the
commands that train show their progress (epochs, runs)."""

from __future__ import annotations

import signal
import warnings

import pytest
import typer
from typer.testing import CliRunner

from recurra.cli import app
from recurra.cli.console import EXIT_ERROR, EXIT_INTERRUPTED, running
from recurra.cli.progress import EpochBar
from recurra.errors import ConfigError, RecurraWarning, TrainingInterrupted

runner = CliRunner()
SMALL = ["--epochs", "3", "--units", "4", "--lookback", "12"]
RESUME_HINT = "run the same command again with --resume to continue where it stopped"


def said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_ctrl_c_during_training_checkpoints_says_to_add_resume_and_exits_130(tmp_path, monkeypatch):
    sent = []

    class CtrlCAfterTheFirstEpoch(EpochBar):
        """The bar the command draws, pressing Ctrl-C (a real SIGINT to this process) once, after epoch 1."""

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if not sent:
                sent.append(epoch)
                signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr("recurra.cli.forecast.EpochBar", CtrlCAfterTheFirstEpoch)
    out = tmp_path / "model"
    args = ["forecast", "train", *SMALL, "--out", str(out), "--plot", str(tmp_path / "f.png")]
    result = runner.invoke(app, args)
    assert sent == [0]
    assert result.exit_code == EXIT_INTERRUPTED == 130, result.output
    text = said(result)
    assert "training stopped by SIGINT" in text
    assert f"checkpoint: {out / 'checkpoints'}" in text and RESUME_HINT in text
    assert not (out / "config.json").exists()  # stopped before the model was saved

    again = runner.invoke(app, [*args, "--resume", "--verbose", "2"])
    assert again.exit_code == 0, again.output
    assert "resumed from" in said(again) and (out / "config.json").is_file()


def _invoke(body, resume="--resume"):
    """Run ``body`` inside ``running(resume)`` as a one-command app would."""
    one = typer.Typer()

    @one.command()
    def command() -> None:
        with running(resume=resume):
            body()

    return runner.invoke(one, [])


def _interrupted(checkpoint):
    def body():
        raise TrainingInterrupted(
            "fit stopped", checkpoint=checkpoint, reason="training stopped by SIGTERM after epoch 2, step 3"
        )

    return body


def test_an_interruption_without_a_checkpoint_says_the_run_starts_again():
    result = _invoke(_interrupted(None))
    assert result.exit_code == 130
    assert "training stopped by SIGTERM after epoch 2, step 3" in said(result)
    assert "no checkpoint was written: the run starts again from the beginning" in said(result)
    assert "--resume" not in said(result)


def test_a_command_without_resume_names_the_checkpoint_but_no_option():
    result = _invoke(_interrupted("runs/ckpt-12"), resume=None)
    assert result.exit_code == 130
    assert "training stopped by SIGTERM" in said(result) and "--resume" not in said(result)


@pytest.mark.parametrize("resume", ["--resume", None])
def test_a_ctrl_c_that_stops_at_once_exits_130_too(resume):
    def body():
        raise KeyboardInterrupt

    result = _invoke(body, resume=resume)
    assert result.exit_code == 130
    assert "stopped at once by Ctrl-C" in said(result)
    assert ("run the same command again with --resume to continue" in said(result)) == (resume is not None)
    assert "Aborted" not in said(result)


def test_errors_exit_2_and_warnings_print_as_notes():
    def body():
        warnings.warn("MASE is undefined (NaN) here", RecurraWarning, stacklevel=1)
        raise ConfigError("expected units to be at least 1, got 0")

    result = _invoke(body)
    assert result.exit_code == EXIT_ERROR == 2
    assert "error: expected units to be at least 1, got 0" in said(result)
    assert "note: MASE is undefined (NaN) here" in said(result)


# -- progress -------------------------------------------------------------------------------------------
def test_forecast_train_draws_a_bar_over_the_epochs_of_each_fit(tmp_path):
    args = ["forecast", "train", *SMALL, "--out", str(tmp_path / "m"), "--plot", str(tmp_path / "f.png")]
    result = runner.invoke(app, args)  # --verbose 1, the default: bars, not epoch lines
    assert result.exit_code == 0, result.output
    text = said(result)
    # the calibration fit, then the final fit, each with its bar at 3/3 and the last loss
    assert "training LSTM(4) ━" in text and "training LSTM(4) (2) ━" in text
    assert text.count("3/3") == 2 and "loss " in text and "Epoch 1/3" not in text


def test_text_train_draws_a_bar(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["el perro come pan", "la gata bebe leche"] * 20), encoding="utf-8")
    args = ["text", "train", str(corpus), "--out", str(tmp_path / "m"), "--units", "8", "--epochs", "2", "--bptt", "8"]
    result = runner.invoke(app, [*args, "--window", "32"])
    assert result.exit_code == 0, result.output
    assert "training LSTM(8) ━" in said(result) and "2/2" in said(result)


def test_compare_draws_a_bar_over_its_runs_and_prints_each_run_as_it_ends(tmp_path):
    args = ["compare", "--task", "adding", "--length", "5", "--cells", "rnn,gru", "--seeds", "1", "--budget-steps", "3"]
    args += ["--params", "300", "--n-train", "32", "--n-test", "16", "--batch-size", "16", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "runs ━" in text and "2/2" in text
    assert "rnn seed 0:" in text and "gru seed 0:" in text and "3 steps," in text
