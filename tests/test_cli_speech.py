"""`recurra speech ...`: train from a table of WAV files or from synthetic speech, transcribe (whole, streamed,
plotted) and evaluate on tables and the real Asterisk prompts; the bundled model out of the box."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.io import wavfile
from typer.testing import CliRunner

from recurra.cli import app
from recurra.speech import SpeechRecognizer, synthetic_speech

runner = CliRunner()


def said(output: str, name: str, text: str) -> bool:
    """Whether ``output`` has the line ``<path ending in name> <text>`` (the console turns tabs into spaces)."""
    return re.search(rf"{re.escape(name)}[ \t]*{re.escape(text)}\n", output) is not None


SMALL = ["--units", "8", "--layers", "1", "--epochs", "1", "--verbose", "0"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A TSV table of 12 synthetic WAV files (16 kHz int16) with their texts."""
    folder = tmp_path_factory.mktemp("wavs")
    audio, texts = synthetic_speech(12, np.random.default_rng(2), rate=16000)
    rows = ["path\ttext"]
    for i, (x, t) in enumerate(zip(audio, texts)):
        wavfile.write(folder / f"{i}.wav", 16000, (x * 32767).astype(np.int16))
        rows.append(f"{i}.wav\t{t}")
    (folder / "data.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_train_transcribe_and_evaluate_from_a_table(tmp_path, table):
    out = tmp_path / "m"
    result = runner.invoke(app, ["speech", "train", "--data", str(table / "data.tsv"), "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert "held-out (1 recordings): CER" in result.output and (out / "weights.safetensors").exists()
    plot = tmp_path / "heard.png"
    run = runner.invoke(
        app, ["speech", "transcribe", str(table / "0.wav"), str(table / "1.wav"), "--model", str(out), "--plot", str(plot)]
    )
    assert run.exit_code == 0, run.output
    assert plot.stat().st_size > 10_000
    expected = SpeechRecognizer.load(out).transcribe([str(table / "0.wav")])[0]
    assert said(run.output, "0.wav", expected)
    evaluated = runner.invoke(
        app, ["speech", "evaluate", "--model", str(out), "--data", str(table / "data.tsv"), "--asterisk", "months"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "data.tsv" in evaluated.output and "asterisk months" in evaluated.output and "CER" in evaluated.output


def test_a_streaming_model_from_synthetic_speech_and_a_real_speaker(tmp_path, table):
    out = tmp_path / "s"
    options = ["--lookahead", "3", "--head-lookahead", "2", "--lr-schedule", "cosine", "--colombian", "1"]
    options += ["--diphone-share", "0.5", "--chunk", "4"]
    result = runner.invoke(app, ["speech", "train", "--synthetic", "20", "--streaming", *options, "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert "held-out (10 recordings)" in result.output  # a tenth of 20 synthetic + 83 Colombian
    saved = SpeechRecognizer.load(out)
    assert (saved.lookahead, saved.head_lookahead, saved.chunk, saved.lr_schedule) == (3, 2, 4, "cosine")
    run = runner.invoke(app, ["speech", "transcribe", str(table / "3.wav"), "--model", str(out), "--stream"])
    assert run.exit_code == 0, run.output
    assert "ms per second" in run.output
    expected = SpeechRecognizer.load(out).transcribe([str(table / "3.wav")])[0]
    assert said(run.output, "3.wav", expected)


def test_a_streaming_model_taught_by_a_bidirectional_one(tmp_path):
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    result = runner.invoke(app, ["speech", "train", "--synthetic", "16", "--out", str(teacher), *SMALL])
    assert result.exit_code == 0, result.output
    options = ["--streaming", "--teacher", str(teacher), "--distill-weight", "2.5", "--head-lookahead", "1"]
    result = runner.invoke(app, ["speech", "train", "--synthetic", "16", *options, "--out", str(student), *SMALL])
    assert result.exit_code == 0, result.output
    saved = SpeechRecognizer.load(student)
    assert (saved.bidirectional, saved.distill_weight) == (False, 2.5)
    assert saved.alphabet_.characters == SpeechRecognizer.load(teacher).alphabet_.characters


def test_the_bundled_model_transcribes_real_recordings_out_of_the_box():
    digits = "/usr/share/asterisk/sounds/es_MX_f_Allison/digits"
    run = runner.invoke(app, ["speech", "transcribe", f"{digits}/mon-4.wav", f"{digits}/21.wav"])
    assert run.exit_code == 0, run.output
    assert said(run.output, "mon-4.wav", "mayo") and said(run.output, "21.wav", "veintiuno")
    chosen = runner.invoke(app, ["speech", "transcribe", f"{digits}/mon-0.wav", "--grammar"])
    assert chosen.exit_code == 0 and said(chosen.output, "mon-0.wav", "enero"), chosen.output
    scored = runner.invoke(app, ["speech", "evaluate", "--asterisk", "months", "--grammar"])
    assert scored.exit_code == 0 and "asterisk months" in scored.output, scored.output


def test_the_bundled_streaming_model_transcribes_while_the_audio_arrives():
    from recurra.speech import spanish_model

    digits = "/usr/share/asterisk/sounds/es_MX_f_Allison/digits"
    files = [f"{digits}/21.wav", f"{digits}/day-0.wav"]
    run = runner.invoke(app, ["speech", "transcribe", *files, "--stream"])
    assert run.exit_code == 0 and "ms per second" in run.output, run.output
    whole = spanish_model(streaming=True).transcribe(files)  # streamed block by block = the whole file at once
    assert said(run.output, "21.wav", whole[0]) and said(run.output, "day-0.wav", whole[1])
    chosen = runner.invoke(app, ["speech", "transcribe", *files, "--stream", "--grammar"])
    assert chosen.exit_code == 0, chosen.output
    assert said(chosen.output, "21.wav", "veintiuno") and said(chosen.output, "day-0.wav", "domingo"), chosen.output


def test_bad_tables_and_files_are_named(tmp_path, table):
    (tmp_path / "t.csv").write_text("file,words\na.wav,hola\n")
    result = runner.invoke(app, ["speech", "train", "--data", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "expected columns path and text" in result.output
    (tmp_path / "x.wav").write_text("not audio")
    run = runner.invoke(app, ["speech", "transcribe", str(tmp_path / "x.wav")])
    assert run.exit_code != 0 and "expected a WAV file" in run.output
