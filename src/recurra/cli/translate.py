"""``recurra translate train | run | evaluate``: encoder–decoder models on sentence pairs (thin commands over
``recurra.Seq2Seq``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputValueError
from ..text.datasets import read_text_file
from ..text.seq2seq import Seq2Seq, load_seq2seq
from ..text.seq2seq.batches import LengthBuckets
from ..text.seq2seq.pairs import read_pairs
from ..text.seq2seq.plots import plot_attention
from .console import console, running, set_threads
from .options import (
    BatchSize,
    Cell,
    Dropout,
    Epochs,
    LearningRate,
    LrSchedule,
    ModelDir,
    ModelOut,
    Resume,
    Seed,
    Threads,
    Units,
    Verbose,
    given,
)
from .progress import EpochBar

translate_app = typer.Typer(help="Translate (or summarise) text with an encoder–decoder.", no_args_is_help=True)

Pairs = Annotated[Path, typer.Argument(help="Sentence pairs: a CSV (.csv) or tab-separated file, source and target columns.")]
SourceCol = Annotated[str | None, typer.Option("--source-col", help="The source column (default: the first).")]
TargetCol = Annotated[str | None, typer.Option("--target-col", help="The target column (default: the second).")]
Beam = Annotated[int, typer.Option(min=1, help="Beam width (1: greedy).")]
Plot = Annotated[Path | None, typer.Option("--plot", help="Write the attention heatmaps of the first sentences here (PNG).")]


@translate_app.command("train")
def translate_train(
    data: Pairs,
    out: ModelOut,
    source_col: SourceCol = None,
    target_col: TargetCol = None,
    level: Annotated[str | None, typer.Option(help="Tokens: char, word or subword (default subword).")] = None,
    cell: Cell = None,
    units: Units = None,
    layers: Annotated[int | None, typer.Option(min=1, help="Stacked layers in the encoder and the decoder.")] = None,
    attention: Annotated[str | None, typer.Option(help="additive, dot, general or none.")] = None,
    copy: Annotated[bool, typer.Option("--copy", help="Pointer-generator: the decoder may copy source tokens.")] = False,
    lexicon: Annotated[int | None, typer.Option(min=0, help="Bias the decoder towards the K likeliest translations (IBM Model 1 "
                                                "of the training pairs) of the source tokens it attends to; 0: none.")] = None,
    embedding: Annotated[int | None, typer.Option(min=1, help=Seq2Seq.why("embedding").capitalize() + ".")] = None,
    subword_vocab: Annotated[int | None, typer.Option("--subword-vocab", min=16, help="Subword pieces per side.")] = None,
    dropout: Dropout = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    lr_schedule: LrSchedule = None,
    validation: Annotated[float | None, typer.Option(min=0.0, max=0.9, help="Share of pairs held out.")] = None,
    seed: Seed = 0,
    resume: Resume = False,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train an encoder–decoder on sentence pairs; checkpoints go to OUT/checkpoints (resume with --resume)."""
    set_threads(threads)
    with running():
        sources, targets = read_pairs(data, source_col, target_col)
        att = None if attention is not None and attention.lower() == "none" else attention
        options = given(level=level, cell=cell, units=units, layers=layers, embedding=embedding, subword_vocab=subword_vocab,
                        lexicon=lexicon, dropout=dropout, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                        lr_schedule=lr_schedule, validation=validation)  # fmt: skip
        if copy:
            options["copy"] = True
        model = Seq2Seq(**options, **({"attention": att} if attention is not None else {}), seed=seed)
        batches = len(LengthBuckets(range(round(len(sources) * (1 - model.validation))), model.batch_size, False))
        bar = [EpochBar(model.epochs, f"training {model.cell.upper()}({model.units})", batches=batches)] if verbose == 1 else None
        model.fit(sources, targets, verbose=2 if verbose == 2 else 0, checkpoint_dir=out / "checkpoints", resume=resume,
                  callbacks=bar)  # fmt: skip
        model.save(out)
    losses = model.history_.get("val_loss") or model.history_.get("loss") or [float("nan")]
    console.print(f"{len(sources):,} pairs, {len(model.source_vocab_):,} source and {len(model.target_vocab_):,} target tokens; "
                  f"best {'validation ' if 'val_loss' in model.history_ else ''}loss {min(losses):.4f}")  # fmt: skip
    console.print(f"saved to {out}")


def _texts(texts: list[str] | None, file: Path | None) -> list[str]:
    if file is not None:
        return [line.strip() for line in read_text_file(file).splitlines() if line.strip()]
    if not texts:
        raise InputValueError("expected texts to translate (arguments) or --file FILE, got neither")
    return list(texts)


@translate_app.command("run")
def translate_run(
    model: ModelDir,
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to translate.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A text file: one text per line.")] = None,
    beam: Beam = 5,
    max_length: Annotated[int | None, typer.Option("--max-length", min=1, help="Output tokens at most.")] = None,
    plot: Plot = None,
) -> None:
    """Translate texts given as arguments or in a file (one per line); prints one output per line."""
    with running(resume=None):
        s2s = load_seq2seq(model)
        inputs = _texts(texts, file)
        outputs = s2s.translate(inputs, beam=beam, max_length=max_length)
        if plot is not None:
            _plot(s2s, inputs[:4], outputs[:4], plot)
    for line in outputs:
        console.print(line, markup=False, highlight=False)
    if plot is not None:
        console.print(f"attention written to {plot}")


@translate_app.command("evaluate")
def translate_evaluate(
    model: ModelDir,
    data: Pairs,
    source_col: SourceCol = None,
    target_col: TargetCol = None,
    beam: Beam = 5,
    plot: Plot = None,
) -> None:
    """BLEU, chrF and exact match on held-out pairs (against copying the source, for scale)."""
    from ..text.seq2seq.metrics import bleu, chrf, exact_match

    with running(resume=None):
        s2s = load_seq2seq(model)
        sources, targets = read_pairs(data, source_col, target_col)
        outputs = s2s.translate(sources, beam=beam)
        if plot is not None:
            _plot(s2s, sources[:4], outputs[:4], plot)
    table = Table(title=f"{len(sources):,} pairs, beam {beam}")
    for col in ("", "BLEU", "chrF", "exact match"):
        table.add_column(col, justify="right" if col else "left")
    for name, hyps in (("model", outputs), ("copy the source", sources)):
        table.add_row(name, f"{bleu(hyps, targets):.2f}", f"{chrf(hyps, targets):.2f}", f"{exact_match(hyps, targets):.3f}")
    console.print(table)
    if plot is not None:
        console.print(f"attention written to {plot}")


def _plot(s2s: Seq2Seq, sources: list[str], outputs: list[str], path: Path) -> None:
    if s2s.attention is None:
        raise InputValueError("--plot needs a model with attention; this one has attention=None")
    plot_attention([s2s.attention_weights(s, o) for s, o in zip(sources, outputs)], path)
