"""`recurra translate ...`: train on a TSV of pairs, resume, run on texts and files, evaluate with the attention
plot, and errors."""

from __future__ import annotations

from typer.testing import CliRunner

from recurra.cli import app

from .text.test_seq2seq import numbers
from .text.test_seq2seq_copy import third_then_first
from .text.test_seq2seq_lexicon import reversed_translation

runner = CliRunner()


def test_translate_train_resume_run_and_evaluate(tmp_path):
    src, tgt = numbers(300)
    data = tmp_path / "pairs.tsv"
    data.write_text("es\ten\n" + "".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)), encoding="utf-8")
    out = tmp_path / "model"
    args = ["translate", "train", str(data), "--out", str(out), "--level", "word", "--units", "32", "--embedding", "16",
            "--learning-rate", "0.01", "--batch-size", "32"]  # fmt: skip
    result = runner.invoke(app, args + ["--epochs", "8", "--verbose", "0"])
    assert result.exit_code == 0, result.output
    assert "300 pairs" in result.output and (out / "source_vocab.json").exists()
    again = runner.invoke(app, args + ["--epochs", "12", "--resume", "--verbose", "2"])
    assert again.exit_code == 0, again.output
    assert "resumed from" in again.output and "Epoch 12/12" in again.output and "Epoch 1/12" not in again.output

    run = runner.invoke(app, ["translate", "run", str(out), "uno dos", "tres", "--beam", "3"])
    assert run.exit_code == 0, run.output
    assert run.output.splitlines()[:2] == ["two one", "three"]
    texts = tmp_path / "in.txt"
    texts.write_text("cuatro cinco\n\nseis\n", encoding="utf-8")
    plot = tmp_path / "attention.png"
    run = runner.invoke(app, ["translate", "run", str(out), "--file", str(texts), "--plot", str(plot)])
    assert run.exit_code == 0, run.output
    assert run.output.splitlines()[:2] == ["five four", "six"] and plot.stat().st_size > 1000

    test = tmp_path / "test.csv"
    test.write_text("es,en\nuno dos,two one\nsiete,seven\n", encoding="utf-8")
    ev = runner.invoke(app, ["translate", "evaluate", str(out), str(test)])
    assert ev.exit_code == 0, ev.output
    assert "copy the source" in ev.output and "100.00" in ev.output


def pairs_file(path, sources: list[str], targets: list[str]):
    """A TSV of pairs with a header, at ``path``."""
    path.write_text("a\tb\n" + "".join(f"{s}\t{t}\n" for s, t in zip(sources, targets)), encoding="utf-8")
    return path


def train_small(data, out, *options: str):
    """``translate train`` of a small word-level model on ``data`` into ``out``, no dropout, no validation."""
    args = ["translate", "train", str(data), "--out", str(out), "--level", "word", "--units", "32", "--embedding", "16",
            "--dropout", "0", "--validation", "0", "--verbose", "0", *options]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_translate_train_with_copying(tmp_path):
    out = tmp_path / "model"
    train_small(pairs_file(tmp_path / "pairs.tsv", *third_then_first(400, 0)), out, "--batch-size", "32", "--epochs", "15",
                "--copy")  # fmt: skip
    held, expected = third_then_first(3, 1)
    run = runner.invoke(app, ["translate", "run", str(out), *held])
    assert run.exit_code == 0 and run.output.splitlines()[:3] == expected, run.output


def test_translate_train_with_a_lexicon(tmp_path):
    out = tmp_path / "model"
    train_small(pairs_file(tmp_path / "pairs.tsv", *reversed_translation(300, 0)), out, "--batch-size", "16", "--epochs", "6",
                "--lexicon", "2")  # fmt: skip
    test = pairs_file(tmp_path / "test.tsv", *reversed_translation(20, 1))
    ev = runner.invoke(app, ["translate", "evaluate", str(out), str(test)])
    assert ev.exit_code == 0, ev.output
    chrf = float(ev.output.split("model")[1].split()[3])  # the model's row: │ BLEU │ chrF │ exact match
    assert chrf > 40, ev.output


def test_translate_errors_are_named(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("only\nuno\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", "train", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "expected two columns (source, target)" in result.output
    result = runner.invoke(app, ["translate", "run", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    good = tmp_path / "good.tsv"
    good.write_text("a\tb\nuno\tone\ndos\ttwo\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", "train", str(good), "--out", str(tmp_path / "m"), "--lr-schedule", "linear"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "lr_schedule" in result.output and "cosine" in result.output
