"""``recurra text train | generate | suggest``: language models on text files (thin commands over
``recurra.LanguageModel``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..text import LanguageModel, load_language_model
from .console import console, running, set_threads
from .options import (
    BatchSize,
    Cell,
    Dropout,
    Epochs,
    LearningRate,
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

text_app = typer.Typer(help="Language models: train on text files, generate, suggest words.", no_args_is_help=True)

Corpus = Annotated[list[Path], typer.Argument(help="UTF-8 text files (one or more); each non-empty line is one sequence.")]
Level = Annotated[str | None, typer.Option(help="Tokens: char or word (default char).")]
Layers = Annotated[int | None, typer.Option(min=1, help="Stacked recurrent layers.")]
Embedding = Annotated[int | None, typer.Option(min=1, help=LanguageModel.why("embedding").capitalize() + ".")]
TieWeights = Annotated[bool, typer.Option("--tie-weights", help="Share the embedding with the output layer.")]
Bptt = Annotated[int | None, typer.Option(min=1, help="Truncated BPTT length in tokens (default 64).")]
Window = Annotated[int | None, typer.Option(min=1, help="Tokens per training row (default 4 x bptt).")]
Validation = Annotated[float | None, typer.Option(min=0.0, max=0.9, help="Share of lines held out (default 0.1).")]


@text_app.command("train")
def text_train(
    corpus: Corpus,
    out: ModelOut,
    level: Level = None,
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    embedding: Embedding = None,
    dropout: Dropout = None,
    tie_weights: TieWeights = False,
    epochs: Epochs = None,
    bptt: Bptt = None,
    window: Window = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    validation: Validation = None,
    seed: Seed = 0,
    resume: Resume = False,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train a language model on text files; checkpoints go to OUT/checkpoints (resume with --resume)."""
    set_threads(threads)
    with running():
        options = given(level=level, cell=cell, units=units, layers=layers, embedding=embedding, dropout=dropout,
                        epochs=epochs, bptt=bptt, window=window, batch_size=batch_size, learning_rate=learning_rate,
                        validation=validation)  # fmt: skip
        lm = LanguageModel(**options, tie_weights=tie_weights, seed=seed)
        bar = [EpochBar(lm.epochs, f"training {lm.cell.upper()}({lm.units})")] if verbose == 1 else None
        lm.fit(files=[str(p) for p in corpus], verbose=2 if verbose == 2 else 0, checkpoint_dir=out / "checkpoints",
               resume=resume, callbacks=bar)  # fmt: skip
        lm.save(out)
    title = f"{lm.level}-level {lm.cell.upper()}({lm.units}) x {lm.layers}: {len(lm.vocab_):,} tokens in the vocabulary"
    table = Table(title=title)
    table.add_column("validation")
    table.add_column("value", justify="right")
    for key in ("perplexity", "bits_per_token", "bits_per_char"):
        if key in lm.metrics_:
            table.add_row(key.replace("_", " "), f"{lm.metrics_[key]:.3f}")
    console.print(table)
    console.print(f"saved to {out}")


@text_app.command("generate")
def text_generate(
    model: ModelDir,
    prime: Annotated[str, typer.Option(help="Text to start from.")] = "",
    length: Annotated[int, typer.Option(min=0, help="Tokens to generate at most.")] = 200,
    temperature: Annotated[float, typer.Option(min=1e-6, help="Sampling temperature (lower: safer).")] = 1.0,
    top_k: Annotated[int | None, typer.Option(min=1, help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Sample within the smallest set of mass p.")] = None,
    strategy: Annotated[str, typer.Option(help="sample, greedy or beam.")] = "sample",
    beam_width: Annotated[int, typer.Option(min=1, help="Hypotheses kept by beam search.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Random seed (the same seed repeats the text).")] = None,
    count: Annotated[int, typer.Option(min=1, help="How many texts to generate.")] = 1,
    keep_going: Annotated[bool, typer.Option("--keep-going", help="Go past the end of a line.")] = False,
) -> None:
    """Generate text from a trained language model."""
    with running(resume=None):
        lm = load_language_model(model)
        for i in range(count):
            s = None if seed is None else seed + i
            text = lm.generate(
                prime=prime, length=length, temperature=temperature, top_k=top_k, top_p=top_p, seed=s,
                strategy=strategy, beam_width=beam_width, stop_at_end=not keep_going,
            )  # fmt: skip
            console.print(prime + text, markup=False, highlight=False)


@text_app.command("suggest")
def text_suggest(
    model: ModelDir,
    text: Annotated[str, typer.Argument(help="What has been typed so far, e.g. 'Voy al parque con mi per'.")],
    k: Annotated[int, typer.Option(min=1, help="Suggestions of each kind.")] = 3,
) -> None:
    """Complete the word being typed and suggest the next words (the predictive keyboard)."""
    with running(resume=None):
        lm = load_language_model(model)
        s = lm.suggest(text, k)
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
