"""`recurra tag ...`: train and run taggers on CoNLL and CSV files, accent restoration, and refused files."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from recurra.cli import app
from recurra.text.accent_corpus import AccentCorpus
from recurra.text.accents import strip_accents
from recurra.text.tag_files import read_conll_text

runner = CliRunner()
SENTENCES = [
    ("ana vive en new york", "B-PER O O B-LOC I-LOC"),
    ("luis vio a ana", "B-PER O O B-PER"),
    ("en san jose vive luis", "O B-LOC I-LOC O B-PER"),
    ("ana y luis", "B-PER O B-PER"),
]
SMALL = ["--units", "16", "--embedding", "8", "--epochs", "12", "--verbose", "0"]


def conll(rows) -> str:
    return "".join("".join(f"{w} {t}\n" for w, t in zip(s.split(), tags.split())) + "\n" for s, tags in rows)


def test_train_and_run_on_conll_files(tmp_path):
    (tmp_path / "train.conll").write_text("-DOCSTART- O\n\n" + conll(SENTENCES * 8), encoding="utf-8")
    out = tmp_path / "model"
    result = runner.invoke(app, ["tag", "train", str(tmp_path / "train.conll"), "--out", str(out), "--crf", *SMALL])
    assert result.exit_code == 0, result.output
    assert "token accuracy" in result.output and "span F1" in result.output and "per tag" in result.output
    assert (out / "vocab.json").exists()

    (tmp_path / "new.conll").write_text(conll(SENTENCES[:2]), encoding="utf-8")
    run = runner.invoke(app, ["tag", "run", str(out), str(tmp_path / "new.conll"), "--out", str(tmp_path / "tags.conll")])
    assert run.exit_code == 0, run.output
    assert "2 sequences tagged" in run.output and "against the file's tags: token accuracy" in run.output
    tokens, tags = read_conll_text((tmp_path / "tags.conll").read_text(encoding="utf-8"))
    assert tokens == [s.split() for s, _ in SENTENCES[:2]] and [len(t) for t in tags] == [5, 4]

    (tmp_path / "org.conll").write_text("ana B-PER\nibm B-ORG\n", encoding="utf-8")
    run = runner.invoke(app, ["tag", "run", str(out), str(tmp_path / "org.conll")])
    assert run.exit_code == 0 and "ana\t" in run.output and "not trained on: ['B-ORG']" in run.output

    (tmp_path / "plain.txt").write_text("luis vive en san jose\nana\n", encoding="utf-8")
    run = runner.invoke(app, ["tag", "run", str(out), str(tmp_path / "plain.txt"), "--text"])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("luis\t") and "jose\t" in run.output and "ana\t" in run.output


def test_train_on_a_csv_file(tmp_path):
    pd.DataFrame({"words": [s for s, _ in SENTENCES] * 6, "tags": [t for _, t in SENTENCES] * 6}).to_csv(
        tmp_path / "data.csv", index=False
    )
    args = ["tag", "train", str(tmp_path / "data.csv"), "--tokens-col", "words", "--out", str(tmp_path / "m"), *SMALL]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out (4 sentences): token accuracy" in result.output


def test_bad_files_are_refused(tmp_path):
    (tmp_path / "tokens.conll").write_text("ana\nvive\n\nluis\n", encoding="utf-8")
    result = runner.invoke(app, ["tag", "train", str(tmp_path / "tokens.conll"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "got tokens only" in result.output
    (tmp_path / "mixed.conll").write_text("ana B-PER\nvive\n", encoding="utf-8")
    result = runner.invoke(app, ["tag", "train", str(tmp_path / "mixed.conll"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "line 2 differs" in result.output
    pd.DataFrame({"tokens": ["a b", "c d e"], "tags": ["X Y", "X Y"]}).to_csv(tmp_path / "bad.csv", index=False)
    result = runner.invoke(app, ["tag", "train", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "row 1 has 3 tokens and 2 tags" in result.output
    result = runner.invoke(app, ["tag", "run", str(tmp_path / "nothing"), str(tmp_path / "bad.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.fixture
def tiny_corpus(monkeypatch):
    lines = ["el niño está aquí y él no está allí", "sí, el niño sabe más que él", "mañana está aquí el niño"] * 150
    corpus = AccentCorpus(train={"toy": lines}, validation={"toy": []}, test={"toy": lines[:6]})
    monkeypatch.setattr("recurra.cli.tag.load_accent_corpus", lambda: corpus)
    return corpus


def test_accents_train_and_run(tmp_path, tiny_corpus):
    out = tmp_path / "accents"
    args = ["tag", "accents", "train", "--out", str(out), "--units", "24", "--layers", "1", "--epochs", "30"]
    args += ["--learning-rate", "0.03", "--verbose", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tagger" in result.output and "most frequent form" in result.output and "ambiguous" in result.output
    assert "seen forms" in result.output and (out / "forms.json").exists()
    baseline_row = next(line for line in result.output.splitlines() if "most frequent form" in line)
    assert baseline_row.split("│")[-2].strip() == "0.00%"  # the rare forms: the baseline is wrong on each
    run = runner.invoke(app, ["tag", "accents", "run", str(out), "el nino esta aqui", "manana"])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert [strip_accents(line) for line in lines] == ["el nino esta aqui", "manana"]
    assert lines[0] == "el niño está aquí"
    (out / "forms.json").write_text('{"format": "recurra.accent_forms", "counts": {"niño": "many"}}', encoding="utf-8")
    damaged = runner.invoke(app, ["tag", "accents", "run", str(out), "nino"])
    assert damaged.exit_code == 2 and "forms.json is damaged" in damaged.output
    assert runner.invoke(app, ["tag", "accents", "run", str(out), "nino", "--any-forms"]).exit_code == 0
    empty = runner.invoke(app, ["tag", "accents", "run", str(out)])
    assert empty.exit_code == 2 and "expected texts to restore or --file FILE" in empty.output
