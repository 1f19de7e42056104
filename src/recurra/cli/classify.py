"""``recurra classify train | predict``: classifiers of texts, or of sequences of sensor readings, from CSV
files (thin commands over ``recurra.SequenceClassifier``).

Texts: one row per text (``--text-col``, ``--label-col``). Readings: a long table, one row per sequence
and time step (``--id-col`` names the sequence column, ``--time-col`` the step order, the other columns
but the label are channels), one label per sequence.
"""

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
from ..signals import plot_step_labels, read_long_sequences
from ..text import SequenceClassifier, load_classifier
from .console import console, running, set_threads
from .options import Cell, Dropout, Epochs, ModelDir, ModelOut, Seed, Threads, Units, Verbose, given
from .progress import EpochBar

classify_app = typer.Typer(help="Classify texts from a CSV file (e.g. sentiment).", no_args_is_help=True)
CLI_FILE = "cli.json"  # beside the model: the text column the command line trained on

TextCol = Annotated[str, typer.Option("--text-col", help="The column holding the texts.")]
LabelCol = Annotated[str, typer.Option("--label-col", help="The column holding the labels.")]
PredictionsOut = Annotated[Path | None, typer.Option("--out", help="The predictions as CSV (printed when not given).")]
IdCol = Annotated[str | None, typer.Option("--id-col", help="Readings: the column naming each sequence (a long table).")]
TimeCol = Annotated[str, typer.Option("--time-col", help="Readings: the column ordering the steps of a sequence.")]


def read_inputs(
    data: Path, text_col: str, label_col: str | None, id_col: str | None, time_col: str
) -> tuple[list, list | None, list]:
    """Texts (one per row) or sequences of readings (``id_col`` given), their labels, and their row names."""
    if id_col is None:
        df = read_csv(data, [text_col] + ([label_col] if label_col else []))
        if label_col:
            df = df.dropna(subset=[label_col])
        return df[text_col].fillna("").astype(str).tolist(), df[label_col].tolist() if label_col else None, df
    long = read_long_sequences(data, id_column=id_col, time_column=time_col, label_column=label_col)
    return long.sequences, long.labels, pd.DataFrame({id_col: long.ids})


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
    id_col: IdCol = None,
    time_col: TimeCol = "time",
    standardize: Annotated[bool, typer.Option("--standardize", help="Readings: scale each channel to mean 0, std 1.")] = False,
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
    """Train a classifier of texts or of sequences of readings; prints held-out accuracy, macro-F1 and the confusion matrix."""
    set_threads(threads)
    with running(resume=None):
        texts, labels, _ = read_inputs(data, text_col, label_col, id_col, time_col)
        options = given(cell=cell, units=units, layers=layers, pooling=pooling, embedding=embedding, dropout=dropout,
                        epochs=epochs)  # fmt: skip
        clf = SequenceClassifier(**options, bidirectional=bidirectional, class_weight="balanced" if balanced else None, seed=seed,
                                 standardize=standardize)  # fmt: skip
        texts, labels, test = _split(texts, labels, test_fraction, seed)
        bar = [EpochBar(clf.epochs, f"training {clf.cell.upper()}({clf.units})")] if verbose == 1 else None
        clf.fit(texts, labels, verbose=2 if verbose == 2 else 0, callbacks=bar)
        clf.save(out)
        atomic_write_bytes(out / CLI_FILE, json.dumps({"text_col": text_col, "id_col": id_col, "time_col": time_col}).encode())
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
    data: Annotated[Path, typer.Argument(help="A CSV file with the text column, or a long table of readings.")],
    out: PredictionsOut = None,
    text_col: Annotated[str | None, typer.Option("--text-col", help="The text column (default: the training one).")] = None,
    label_col: Annotated[str | None, typer.Option("--label-col", help="True labels: report accuracy, macro-F1.")] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Readings: plot the first sequences and their label after every step.")
    ] = None,
) -> None:
    """Predict a label (and each class's probability) for every text, or every sequence of readings, of a CSV file."""
    with running(resume=None):
        clf = load_classifier(model)
        meta = json.loads((model / CLI_FILE).read_text()) if (model / CLI_FILE).exists() else {}
        text_col = text_col or meta.get("text_col", "text")
        inputs, labels, df = read_inputs(data, text_col, label_col, meta.get("id_col"), meta.get("time_col", "time"))
        proba = clf.predict_proba(inputs)
        report = clf.evaluate(inputs, labels) if label_col else None
        if plot is not None:
            if meta.get("id_col") is None:
                raise InputValueError("--plot draws sequences of readings; this classifier was trained on texts")
            first = inputs[:4]
            plot_step_labels(first, clf.predict_proba_steps(first), clf.classes_, plot,
                             titles=[str(v) for v in df[meta["id_col"]].iloc[: len(first)]])  # fmt: skip
    result = df.copy() if meta.get("id_col") is None else df.assign(**({label_col: labels} if label_col else {}))
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
    if plot is not None:
        console.print(f"plot written to {plot}")
