"""``recurra tag train | run | accents``: sequence taggers from CoNLL or CSV files, and Spanish accent
restoration (thin commands over ``recurra.SequenceTagger``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InputValueError
from ..io import atomic_write_bytes, dump_json, read_json
from ..text import SequenceTagger, load_tagger
from ..text.accent_corpus import load_accent_corpus
from ..text.accent_training import PRESET, restore_accents, train_accent_tagger
from ..text.accent_view import marks
from ..text.accents import MostFrequentForm, accent_report
from ..text.datasets import read_text_file
from ..text.tag_files import conll_text, read_tagged, write_conll
from ..text.tagging_metrics import TaggingReport
from .console import console, running, set_threads
from .options import (
    Cell,
    Dropout,
    Epochs,
    Layers,
    LearningRate,
    LrSchedule,
    ModelDir,
    ModelOut,
    Seed,
    Threads,
    Units,
    Verbose,
    given,
)
from .progress import EpochBar

tag_app = typer.Typer(help="Tag every token of a sequence (CoNLL or CSV files); restore Spanish accents.", no_args_is_help=True)
accents_app = typer.Typer(help="Restore the accents of Spanish text (a character tagger).", no_args_is_help=True)
tag_app.add_typer(accents_app, name="accents")

FORMS_FILE = "forms.json"  # beside an accent model: the word forms seen in training

TokensCol = Annotated[str, typer.Option("--tokens-col", help="CSV: the column of space-separated tokens.")]
TagsCol = Annotated[str, typer.Option("--tags-col", help="CSV: the column of space-separated tags.")]


def print_report(report: TaggingReport, what: str) -> None:
    line = f"{what}: token accuracy {report.accuracy:.3f} ({report.tokens} tokens)"
    if report.span_f1 is not None:
        line += f", span F1 {report.span_f1:.3f} (precision {report.span_precision:.3f}, recall {report.span_recall:.3f})"
    console.print(line, highlight=False)
    table = Table(title="per tag")
    for col in ("tag", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "tag" else "right")
    for tag in report.f1:
        table.add_row(escape(str(tag)), f"{report.precision[tag]:.3f}", f"{report.recall[tag]:.3f}", f"{report.f1[tag]:.3f}",
                      str(report.support[tag]))  # fmt: skip
    console.print(table)


@tag_app.command("train")
def tag_train(
    data: Annotated[Path, typer.Argument(help="CoNLL-style (token and tag per line, blank line between sentences) or .csv.")],
    out: ModelOut,
    tokens_col: TokensCol = "tokens",
    tags_col: TagsCol = "tags",
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    embedding: Annotated[int | None, typer.Option(min=1, help="Token vector size.")] = None,
    crf: Annotated[bool, typer.Option("--crf", help="A CRF over the tags (Viterbi decoding).")] = False,
    dropout: Dropout = None,
    epochs: Epochs = None,
    test_fraction: Annotated[float, typer.Option(min=0.0, max=0.9, help="The last sentences, held out for the report.")] = 0.2,
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train a tagger; prints held-out token accuracy, span F1 (BIO tags) and each tag's scores."""
    set_threads(threads)
    with running(resume=None):
        tokens, tags = read_tagged(data, tokens_col, tags_col)
        if tags is None:
            raise InputValueError(f"expected a tag for each token in {data}, got tokens only")
        options = given(cell=cell, units=units, layers=layers, embedding=embedding, dropout=dropout, epochs=epochs)
        tagger = SequenceTagger(**options, crf=crf, seed=seed)
        n_test = int(len(tokens) * test_fraction) if len(tokens) > 1 else 0
        cut = len(tokens) - n_test
        bar = [EpochBar(tagger.epochs, f"training {tagger.cell.upper()}({tagger.units})")] if verbose == 1 else None
        tagger.fit(tokens[:cut], tags[:cut], verbose=2 if verbose == 2 else 0, callbacks=bar)
        tagger.save(out)
        unseen = {t for row in tags[cut:] for t in row} - set(tagger.tags_)
        report = tagger.evaluate(tokens[cut:], tags[cut:]) if n_test and not unseen else None
    if report is not None:
        print_report(report, f"held-out ({n_test} sentences)")
    elif n_test:
        console.print(f"no held-out report: the held-out sentences hold tags never seen in training: {sorted(map(str, unseen))}")
    console.print(f"saved to {out}")


@tag_app.command("run")
def tag_run(
    model: ModelDir,
    data: Annotated[Path, typer.Argument(help="CoNLL-style or .csv (tags, when present, give a report), or text (--text).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the tags here (CoNLL-style; printed when not given).")] = None,
    text: Annotated[bool, typer.Option("--text", help="Read DATA as plain text, one sequence per line.")] = False,
    tokens_col: TokensCol = "tokens",
    tags_col: TagsCol = "tags",
) -> None:
    """Tag every token of a file: CoNLL-style lines out (token, tab, tag), a blank line between sequences."""
    with running(resume=None):
        tagger = load_tagger(model)
        if text:
            lines = [line for line in read_text_file(data).splitlines() if line.strip()]
            tokens, tags = [tagger.tokenize(line) for line in lines], None
        else:
            tokens, tags = read_tagged(data, tokens_col, tags_col)
        predicted = tagger.predict(tokens)
        unseen = sorted({str(t) for row in tags or [] for t in row} - {str(t) for t in tagger.tags_})
        report = tagger.evaluate(tokens, tags) if tags is not None and not unseen else None
    if out is not None:
        write_conll(out, tokens, predicted)
        console.print(f"{len(tokens)} sequences tagged, written to {out}")
    else:
        typer.echo(conll_text(tokens, predicted), nl=False)  # tabs kept: the output is a file's content
    if report is not None:
        print_report(report, "against the file's tags")
    elif unseen:
        console.print(f"no report: the file holds tags the tagger was not trained on: {unseen[:10]}", highlight=False)


@accents_app.command("train")
def accents_train(
    out: ModelOut,
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    crf: Annotated[bool, typer.Option("--crf", help="A CRF over the tags (Viterbi decoding).")] = False,
    epochs: Epochs = None,
    learning_rate: LearningRate = None,
    lr_schedule: LrSchedule = None,
    minutes: Annotated[float | None, typer.Option(min=0.0, help="Stop training after this many minutes.")] = None,
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train an accent restorer on the Reina-Valera 1909 Bible and Spanish fortunes; prints how it and the
    most-frequent-form baseline restore the held-out text."""
    set_threads(threads)
    with running(resume=None):
        corpus = load_accent_corpus()
        options = given(
            cell=cell, units=units, layers=layers, epochs=epochs, learning_rate=learning_rate, lr_schedule=lr_schedule
        )
        settings = {**options, "crf": crf, "seed": seed}
        n_epochs = settings.get("epochs", PRESET["epochs"])
        bar = [EpochBar(n_epochs, f"training {settings.get('cell', PRESET['cell']).upper()}")] if verbose == 1 else None
        seconds = None if minutes is None else 60 * minutes
        tagger = train_accent_tagger(corpus, seconds=seconds, verbose=2 if verbose == 2 else 0, callbacks=bar, settings=settings)
        tagger.save(out)
        base = MostFrequentForm().fit(corpus.lines("train"))
        atomic_write_bytes(out / FORMS_FILE, dump_json(base.to_json(), "the seen forms"))
        test = corpus.lines("test")
        restored = restore_accents(tagger, test)
        model, seen, baseline = (
            accent_report(test, texts, frequent_forms=base.forms)
            for texts in (restored, [base.to_seen_forms(x) for x in restored], [base.restore(x) for x in test])
        )
    counts = f"{model.chars:,} characters, {model.words:,} words, {model.ambiguous_words:,} ambiguous"
    table = Table(title=f"held-out text ({counts}, {model.rare_form_words:,} of them in a rare form)")
    table.add_column("restorer", no_wrap=True)
    for col in ("characters", "words", "ambiguous", "rare forms"):
        table.add_column(col, justify="right")
    for name, r in (("tagger", model), ("tagger, seen forms", seen), ("most frequent form", baseline)):
        figures = (r.char_accuracy, r.word_accuracy, r.ambiguous_accuracy, r.rare_form_accuracy)
        table.add_row(name, *(f"{x:.2%}" for x in figures))
    console.print(table)
    console.print(f"saved to {out}")


def highlighted(restored: str) -> str:
    """``restored`` as rich markup: the letters that gained an accent in bold green."""
    kinds = marks(restored, restored)  # against itself: every accented letter counts as restored
    return "".join(f"[bold green]{escape(c)}[/bold green]" if k else escape(c) for c, k in zip(restored, kinds))


@accents_app.command("run")
def accents_run(
    model: ModelDir,
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to restore (any accents are removed first).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Restore every line of this UTF-8 file.")] = None,
    seen_forms: Annotated[bool, typer.Option("--seen-forms/--any-forms", help="Keep words to forms seen in training.")] = True,
) -> None:
    """Print each text with its accents restored, the letters that gained one highlighted. A word the tagger
    writes in a form never seen in training becomes the closest seen form (unless --any-forms)."""
    with running(resume=None):
        if not texts and file is None:
            raise InputValueError("expected texts to restore or --file FILE, got neither")
        lines = list(texts or []) + (read_text_file(file).splitlines() if file is not None else [])
        tagger = load_tagger(model)
        forms = model / FORMS_FILE
        seen = MostFrequentForm.from_json(read_json(forms), str(forms)) if seen_forms and forms.exists() else None
        restored = restore_accents(tagger, lines, seen=seen)
    for got in restored:
        console.print(highlighted(got), highlight=False, soft_wrap=True)
