"""`recurra text ...` and `recurra classify ...`: train, generate, suggest, resume, predict, and errors."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from recurra.cli import app

runner = CliRunner()
CORPUS = "\n".join(["el perro come pan", "la gata bebe leche", "mi perro corre mucho", "el niño come pan"] * 15)


def test_text_train_generate_suggest_and_resume(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = tmp_path / "model"
    args = ["text", "train", str(corpus), "--out", str(out), "--units", "16", "--epochs", "1", "--bptt", "8", "--window", "32"]
    result = runner.invoke(app, args + ["--verbose", "0"])
    assert result.exit_code == 0, result.output
    assert "bits per char" in result.output and (out / "vocab.json").exists()
    assert any(p.name.startswith("ckpt-") for p in (out / "checkpoints").iterdir())
    again = runner.invoke(app, args[:-2] + ["--epochs", "2", "--resume", "--verbose", "2"])
    assert again.exit_code == 0, again.output
    assert "resumed from" in again.output and "Epoch 2/2" in again.output and "Epoch 1/2" not in again.output

    gen = runner.invoke(app, ["text", "generate", str(out), "--prime", "el ", "--length", "20", "--seed", "1", "--count", "2"])
    assert gen.exit_code == 0, gen.output
    assert gen.output.count("el ") >= 2
    sug = runner.invoke(app, ["text", "suggest", str(out), "mi per"])
    assert sug.exit_code == 0, sug.output
    assert "completions of 'per'" in sug.output and "next words" in sug.output


def test_text_train_refuses_bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = runner.invoke(app, ["text", "train", str(empty), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "got an empty file" in result.output
    latin = tmp_path / "latin.txt"
    latin.write_bytes("canción\n".encode("latin-1"))
    result = runner.invoke(app, ["text", "train", str(latin), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "not UTF-8" in result.output
    short = tmp_path / "short.txt"
    short.write_text("hola\n")
    result = runner.invoke(app, ["text", "train", str(short), "--out", str(tmp_path / "m"), "--validation", "0"])
    assert result.exit_code == 2 and "expected a corpus of at least 257 char tokens" in result.output
    result = runner.invoke(app, ["text", "generate", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_classify_train_and_predict(tmp_path):
    texts = ["a good film", "great fun", "so good", "lovely and great", "bad plot", "awful film", "so bad", "dull and awful"] * 6
    labels = ["fresh"] * 4 + ["rotten"] * 4
    pd.DataFrame({"review": texts, "label": labels * 6}).to_csv(tmp_path / "reviews.csv", index=False)
    out = tmp_path / "clf"
    args = ["classify", "train", str(tmp_path / "reviews.csv"), "--text-col", "review", "--label-col", "label"]
    result = runner.invoke(app, args + ["--out", str(out), "--units", "8", "--epochs", "3", "--embedding", "8"])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "macro-F1" in result.output and "confusion" in result.output

    pd.DataFrame({"review": ["good fun", "awful"], "label": ["fresh", "rotten"]}).to_csv(tmp_path / "new.csv", index=False)
    pred = runner.invoke(app, ["classify", "predict", str(out), str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv")])
    assert pred.exit_code == 0, pred.output
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table.columns) == ["review", "label", "predicted", "p_fresh", "p_rotten"] and len(table) == 2

    pd.DataFrame({"review": ["meh"], "label": ["neutral"]}).to_csv(tmp_path / "unseen.csv", index=False)
    bad = runner.invoke(app, ["classify", "predict", str(out), str(tmp_path / "unseen.csv"), "--label-col", "label"])
    assert bad.exit_code == 2 and "not trained on: ['neutral']" in bad.output


def test_classify_refuses_bad_tables(tmp_path):
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}).to_csv(tmp_path / "one.csv", index=False)
    result = runner.invoke(app, ["classify", "train", str(tmp_path / "one.csv"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "expected at least two classes in the labels, got only 'x'" in result.output
    args = ["classify", "train", str(tmp_path / "one.csv"), "--text-col", "body", "--out", str(tmp_path / "c")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "expected column(s) ['body']" in result.output and "got columns ['text', 'label']" in result.output
