"""``recurra classify train | predict``: text classifiers from CSV files (thin commands over
``recurra.SequenceClassifier``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from sklearn.model_selection import train_test_split

from ..errors import InputValueError
from ..io import atomic_write_bytes
from ..text import SequenceClassifier, load_classifier
from .console import console, running, set_threads
from .options import Cell, Dropout, Epochs, ModelDir, ModelOut, Seed, Threads, Units, Verbose, given
from .progress import EpochBar

classify_app = typer.Typer(help="Classify texts from a CSV file (e.g. sentiment).", no_args_is_help=True)
CLI_FILE = "cli.json"  # beside the model: the text column the command line trained on

TextCol = Annotated[str, typer.Option("--text-col", help="The column holding the texts.")]
LabelCol = Annotated[str, typer.Option("--label-col", help="The column holding the labels.")]
PredictionsOut = Annotated[Path | None, typer.Option("--out", help="The predictions as CSV (printed when not given).")]


def read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    """A CSV table holding ``columns``; ``InputValueError`` naming the file and what is wrong."""
    if not path.exists():
        raise InputValueError(f"expected a CSV file, got {path}: it does not exist")
    try:
        df = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputValueError(f"expected UTF-8 text in {path}, got bytes that are not UTF-8 ({e.reason} at {e.start})") from None
    except pd.errors.EmptyDataError:
        raise InputValueError(f"expected a CSV table in {path}, got an empty file") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputValueError(f"expected column(s) {missing} in {path}, got columns {list(df.columns)}")
    if df.empty:
        raise InputValueError(f"expected rows in {path}, got a header only")
    return df


def _split(texts: list, labels: list, fraction: float, seed: int) -> tuple[list, list, tuple | None]:
    """Training texts and labels, and the held-out pair (stratified when every class has two rows)."""
    if fraction <= 0 or len(set(labels)) < 2:
        return texts, labels, None
    strat = labels if min(Counter(labels).values()) >= 2 else None
    tr, te = train_test_split(list(range(len(texts))), test_size=fraction, random_state=seed, stratify=strat)
    return [texts[i] for i in tr], [labels[i] for i in tr], ([texts[i] for i in te], [labels[i] for i in te])


@classify_app.command("train")
def classify_train(
    data: Annotated[Path, typer.Argument(help="A CSV file with a text column and a label column.")],
    out: ModelOut,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    cell: Cell = None,
    units: Units = None,
    layers: Annotated[int | None, typer.Option(min=1, help="Stacked recurrent layers.")] = None,
    bidirectional: Annotated[bool, typer.Option("--bidirectional", help="Read each text both ways.")] = False,
    pooling: Annotated[str | None, typer.Option(help="last, mean or max over the real steps.")] = None,
    embedding: Annotated[int | None, typer.Option(min=1, help="Word vector size.")] = None,
    dropout: Dropout = None,
    balanced: Annotated[bool, typer.Option("--balanced", help="Weight classes by inverse frequency.")] = False,
    epochs: Epochs = None,
    test_fraction: Annotated[float, typer.Option(min=0.0, max=0.9, help="Rows held out for the report.")] = 0.2,
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train a text classifier; prints held-out accuracy, macro-F1 and the confusion matrix."""
    set_threads(threads)
    with running(resume=None):
        df = read_csv(data, [text_col, label_col]).dropna(subset=[label_col])
        texts, labels = df[text_col].fillna("").astype(str).tolist(), df[label_col].tolist()
        options = given(cell=cell, units=units, layers=layers, pooling=pooling, embedding=embedding, dropout=dropout,
                        epochs=epochs)  # fmt: skip
        clf = SequenceClassifier(**options, bidirectional=bidirectional, class_weight="balanced" if balanced else None, seed=seed)
        texts, labels, test = _split(texts, labels, test_fraction, seed)
        bar = [EpochBar(clf.epochs, f"training {clf.cell.upper()}({clf.units})")] if verbose == 1 else None
        clf.fit(texts, labels, verbose=2 if verbose == 2 else 0, callbacks=bar)
        clf.save(out)
        atomic_write_bytes(out / CLI_FILE, json.dumps({"text_col": text_col}).encode())
        report = clf.evaluate(*test) if test is not None else None
    if report is not None:
        console.print(f"held-out ({len(test[0])} rows): accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
        table = Table(title="confusion (rows: true, columns: predicted)")
        table.add_column("")
        for c in report.confusion.columns:
            table.add_column(str(c), justify="right")
        for c, row in report.confusion.iterrows():
            table.add_row(str(c), *[str(v) for v in row])
        console.print(table)
    console.print(f"saved to {out}")


@classify_app.command("predict")
def classify_predict(
    model: ModelDir,
    data: Annotated[Path, typer.Argument(help="A CSV file with the text column.")],
    out: PredictionsOut = None,
    text_col: Annotated[str | None, typer.Option("--text-col", help="The text column (default: the training one).")] = None,
    label_col: Annotated[str | None, typer.Option("--label-col", help="True labels: report accuracy, macro-F1.")] = None,
) -> None:
    """Predict a label (and each class's probability) for every row of a CSV file."""
    with running(resume=None):
        clf = load_classifier(model)
        if text_col is None:
            meta = model / CLI_FILE
            text_col = json.loads(meta.read_text())["text_col"] if meta.exists() else "text"
        df = read_csv(data, [text_col] + ([label_col] if label_col else []))
        texts = df[text_col].fillna("").astype(str).tolist()
        proba = clf.predict_proba(texts)
        report = clf.evaluate(texts, df[label_col].tolist()) if label_col else None
    result = df.copy()
    result["predicted"] = [clf.classes_[i] for i in proba.argmax(1)]
    for j, c in enumerate(clf.classes_):
        result[f"p_{c}"] = proba[:, j].round(6)
    if out is not None:
        result.to_csv(out, index=False)
        console.print(f"{len(result)} predictions written to {out}")
    else:
        console.print(result.to_string(index=False), markup=False, highlight=False)
    if report is not None:
        console.print(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
