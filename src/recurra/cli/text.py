"""``recurra text ...`` (language models) and ``recurra classify ...`` (sequence classification)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import InputValueError, RecurraError, TrainingInterrupted
from ..io import atomic_write_bytes
from ..text import LanguageModel, SequenceClassifier, load_classifier, load_language_model

text_app = typer.Typer(help="Language models: train on text files, generate, suggest words.", no_args_is_help=True)
classify_app = typer.Typer(help="Classify texts from a CSV file (e.g. sentiment).", no_args_is_help=True)
console = Console()


def _fail(e: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@text_app.command("train")
def text_train(
    corpus: Annotated[list[Path], typer.Argument(help="UTF-8 text files (one or more); each non-empty line is one sequence.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")],
    level: str = typer.Option("char", help="Tokens: char or word."),
    cell: str = typer.Option("lstm", help="lstm, gru, rnn, indrnn, mingru or minlstm."),
    units: int = typer.Option(128, min=1, help="Units per recurrent layer."),
    layers: int = typer.Option(1, min=1, help="Stacked recurrent layers."),
    embedding: int = typer.Option(None, min=1, help="Token vector size (default 32 for char, 64 for word)."),
    dropout: float = typer.Option(0.0, min=0.0, max=0.99, help="Dropout rate."),
    tie_weights: bool = typer.Option(False, "--tie-weights", help="Share the embedding with the output layer."),
    epochs: int = typer.Option(10, min=0, help="Training epochs."),
    bptt: int = typer.Option(64, min=1, help="Truncated BPTT length in tokens."),
    window: int = typer.Option(None, min=1, help="Tokens per training row (default 4 x bptt)."),
    batch_size: int = typer.Option(32, min=1, help="Rows per batch."),
    learning_rate: float = typer.Option(2e-3, help="Adam's learning rate."),
    validation: float = typer.Option(0.1, min=0.0, max=0.9, help="Fraction of lines held out."),
    seed: int = typer.Option(0, help="Random seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint in OUT/checkpoints."),
    verbose: int = typer.Option(1, min=0, max=2, help="0 silent, 1 progress bar, 2 one line per epoch."),
) -> None:
    """Train a language model on text files; checkpoints go to OUT/checkpoints (resume with --resume)."""
    try:
        lm = LanguageModel(
            level=level, cell=cell, units=units, layers=layers, embedding=embedding, dropout=dropout, tie_weights=tie_weights,
            bptt=bptt, window=window, batch_size=batch_size, epochs=epochs, learning_rate=learning_rate,
            validation=validation, seed=seed,
        )  # fmt: skip
        lm.fit(files=[str(p) for p in corpus], verbose=verbose, checkpoint_dir=out / "checkpoints", resume=resume)
        lm.save(out)
    except TrainingInterrupted as e:
        console.print(f"[yellow]{e}[/yellow]")
        raise typer.Exit(130) from None
    except RecurraError as e:
        raise _fail(e) from None
    table = Table(title=f"{level}-level {cell.upper()}({units}) x {layers}: {len(lm.vocab_):,} tokens in the vocabulary")
    table.add_column("validation")
    table.add_column("value", justify="right")
    for key in ("perplexity", "bits_per_token", "bits_per_char"):
        if key in lm.metrics_:
            table.add_row(key.replace("_", " "), f"{lm.metrics_[key]:.3f}")
    console.print(table)
    console.print(f"saved to {out}")


@text_app.command("generate")
def text_generate(
    model: Annotated[Path, typer.Argument(help="A directory written by `recurra text train`.")],
    prime: str = typer.Option("", help="Text to start from."),
    length: int = typer.Option(200, min=0, help="Tokens to generate at most."),
    temperature: float = typer.Option(1.0, min=1e-6, help="Sampling temperature (lower: safer)."),
    top_k: int = typer.Option(None, min=1, help="Sample among the k most likely tokens."),
    top_p: float = typer.Option(None, min=0.0, max=1.0, help="Sample within the smallest set of mass p."),
    strategy: str = typer.Option("sample", help="sample, greedy or beam."),
    beam_width: int = typer.Option(5, min=1, help="Hypotheses kept by beam search."),
    seed: int = typer.Option(None, help="Random seed (the same seed repeats the text)."),
    count: int = typer.Option(1, min=1, help="How many texts to generate."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Go past the end of a line."),
) -> None:
    """Generate text from a trained language model."""
    try:
        lm = load_language_model(model)
        for i in range(count):
            s = None if seed is None else seed + i
            text = lm.generate(
                prime=prime, length=length, temperature=temperature, top_k=top_k, top_p=top_p, seed=s,
                strategy=strategy, beam_width=beam_width, stop_at_end=not keep_going,
            )  # fmt: skip
            console.print(prime + text, markup=False, highlight=False)
    except RecurraError as e:
        raise _fail(e) from None


@text_app.command("suggest")
def text_suggest(
    model: Annotated[Path, typer.Argument(help="A directory written by `recurra text train`.")],
    text: str = typer.Argument(..., help="What has been typed so far, e.g. 'Voy al parque con mi per'."),
    k: int = typer.Option(3, min=1, help="Suggestions of each kind."),
) -> None:
    """Complete the word being typed and suggest the next words (the predictive keyboard)."""
    try:
        lm = load_language_model(model)
        s = lm.suggest(text, k)
    except RecurraError as e:
        raise _fail(e) from None
    if s.partial:
        table = Table(title=f"completions of {s.partial!r}")
        table.add_column("word")
        table.add_column("probability", justify="right")
        for w, p in s.completions:
            table.add_row(w, f"{p:.4f}")
        console.print(table)
    title = "next words" + (f" (after {s.completions[0][0]!r})" if s.completions else "")
    table = Table(title=title)
    table.add_column("word")
    table.add_column("probability", justify="right")
    for w, p in s.next_words:
        table.add_row(w, f"{p:.4f}")
    console.print(table)


def _read_csv(path: Path, columns: list[str]):
    import pandas as pd

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


@classify_app.command("train")
def classify_train(
    data: Annotated[Path, typer.Argument(help="A CSV file with a text column and a label column.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained classifier.")],
    text_col: str = typer.Option("text", "--text-col", help="The column holding the texts."),
    label_col: str = typer.Option("label", "--label-col", help="The column holding the labels."),
    cell: str = typer.Option("lstm", help="lstm, gru, rnn, indrnn, mingru or minlstm."),
    units: int = typer.Option(64, min=1, help="Units per recurrent layer."),
    layers: int = typer.Option(1, min=1, help="Stacked recurrent layers."),
    bidirectional: bool = typer.Option(False, "--bidirectional", help="Read each text both ways."),
    pooling: str = typer.Option("last", help="last, mean or max over the real steps."),
    embedding: int = typer.Option(64, min=1, help="Word vector size."),
    dropout: float = typer.Option(0.0, min=0.0, max=0.99, help="Dropout rate."),
    balanced: bool = typer.Option(False, "--balanced", help="Weight classes by inverse frequency."),
    epochs: int = typer.Option(10, min=1, help="Training epochs (at most; the best epoch on validation is kept)."),
    test_fraction: float = typer.Option(0.2, min=0.0, max=0.9, help="Rows held out for the report."),
    seed: int = typer.Option(0, help="Random seed."),
    verbose: int = typer.Option(0, min=0, max=2, help="0 silent, 1 progress bar, 2 one line per epoch."),
) -> None:
    """Train a text classifier; prints held-out accuracy, macro-F1 and the confusion matrix."""
    try:
        df = _read_csv(data, [text_col, label_col])
        df = df.dropna(subset=[label_col])
        texts, labels = df[text_col].fillna("").astype(str).tolist(), df[label_col].tolist()
        clf = SequenceClassifier(
            cell=cell, units=units, layers=layers, bidirectional=bidirectional, pooling=pooling, embedding=embedding,
            dropout=dropout, class_weight="balanced" if balanced else None, epochs=epochs, seed=seed,
        )  # fmt: skip
        test = None
        if test_fraction > 0 and len(set(labels)) > 1:
            from sklearn.model_selection import train_test_split

            strat = labels if min(pd_counts(labels)) >= 2 else None
            tr, te = train_test_split(list(range(len(texts))), test_size=test_fraction, random_state=seed, stratify=strat)
            test = ([texts[i] for i in te], [labels[i] for i in te])
            texts, labels = [texts[i] for i in tr], [labels[i] for i in tr]
        clf.fit(texts, labels, verbose=verbose)
        clf.save(out)
        _write_text_col(out, text_col)
    except RecurraError as e:
        raise _fail(e) from None
    if test is not None:
        r = clf.evaluate(*test)
        console.print(f"held-out ({len(test[0])} rows): accuracy {r.accuracy:.3f}, macro-F1 {r.macro_f1:.3f}")
        table = Table(title="confusion (rows: true, columns: predicted)")
        table.add_column("")
        for c in r.confusion.columns:
            table.add_column(str(c), justify="right")
        for c, row in r.confusion.iterrows():
            table.add_row(str(c), *[str(v) for v in row])
        console.print(table)
    console.print(f"saved to {out}")


def pd_counts(labels: list) -> list[int]:
    return list(Counter(labels).values())


def _write_text_col(out: Path, text_col: str) -> None:
    import json

    atomic_write_bytes(out / "cli.json", json.dumps({"text_col": text_col}).encode())


@classify_app.command("predict")
def classify_predict(
    model: Annotated[Path, typer.Argument(help="A directory written by `recurra classify train`.")],
    data: Annotated[Path, typer.Argument(help="A CSV file with the text column.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the predictions (CSV); printed when not given.")
    ] = None,
    text_col: str = typer.Option(None, "--text-col", help="The text column (default: the one used in training)."),
    label_col: str = typer.Option(None, "--label-col", help="A column of true labels: report accuracy and macro-F1."),
) -> None:
    """Predict a label (and each class's probability) for every row of a CSV file."""
    import json

    try:
        clf = load_classifier(model)
        if text_col is None:
            meta = model / "cli.json"
            text_col = json.loads(meta.read_text())["text_col"] if meta.exists() else "text"
        df = _read_csv(data, [text_col] + ([label_col] if label_col else []))
        texts = df[text_col].fillna("").astype(str).tolist()
        proba = clf.predict_proba(texts)
        report = clf.evaluate(texts, df[label_col].tolist()) if label_col else None
    except RecurraError as e:
        raise _fail(e) from None
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
