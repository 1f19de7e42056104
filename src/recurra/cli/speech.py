"""``recurra speech train | transcribe | evaluate``: speech to text (thin commands over
``recurra.speech.SpeechRecognizer``).

``train`` learns from a table of recordings (``--data``: a CSV or TSV with ``path`` and ``text`` columns,
paths relative to the table) or from ``--synthetic N`` utterances of Spanish made by code, and with
``--colombian K`` also from ``K`` copies (each through a random channel) of the Colombian Asterisk prompts of
numbers and dates, a second real speaker; ``transcribe``
writes the text of WAV files (the bundled Spanish model unless ``--model``), with ``--stream`` block by
block as audio would arrive and ``--plot`` a picture of what was heard and written; ``evaluate`` reports
CER and WER on a table of recordings or on the real Asterisk prompts (``--asterisk``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from ..ctc.choices import best_choices
from ..ctc.error_rates import cer, wer
from ..errors import InputValueError
from ..signals.audio import log_mel, normalize_utterance
from ..speech import (
    KINDS,
    SpeechRecognizer,
    asterisk_prompts,
    colombian_training_speech,
    fold,
    grammar_texts,
    synthetic_speech,
)
from ..speech.bundled import spanish_model
from ..speech.features import audio_samples
from ..speech.plot import plot_transcriptions
from .console import console, running, set_threads
from .options import Cell, Epochs, Layers, LearningRate, LrSchedule, Seed, Threads, Units, Verbose, given
from .progress import EpochBar

speech_app = typer.Typer(help="Speech to text: train, transcribe WAV files, evaluate.", no_args_is_help=True)
Grammar = Annotated[
    bool,
    typer.Option("--grammar", help="Write the most probable of the Spanish grammar's 1,103 texts (numbers, days, months ...)."),
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="A model directory (default: the bundled Spanish model; with --stream its one-way twin)."),
]


def read_table(path: Path) -> tuple[list[str], list[str]]:
    """The recordings (paths, made absolute) and texts of a CSV/TSV table with ``path`` and ``text`` columns."""
    if not path.is_file():
        raise InputValueError(
            f"expected a table of recordings (CSV or TSV with path and text columns), got {path}: it does not exist"
        )
    table = pd.read_csv(path, sep="\t" if path.suffix.lower() in (".tsv", ".tab") else ",", dtype=str, keep_default_na=False)
    missing = [c for c in ("path", "text") if c not in table.columns]
    if missing:
        raise InputValueError(f"expected columns path and text in {path}, got {list(table.columns)}")
    paths = [str((path.parent / p).resolve()) if not Path(p).is_absolute() else p for p in table["path"]]
    return paths, table["text"].tolist()


def _model(model: Path | None, streaming: bool = False) -> SpeechRecognizer:
    return spanish_model(streaming) if model is None else SpeechRecognizer.load(model)


@speech_app.command("train")
def speech_train(
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")],
    data: Annotated[Path | None, typer.Option("--data", help="A CSV/TSV table of recordings: path and text columns.")] = None,
    synthetic: Annotated[
        int, typer.Option("--synthetic", min=0, help="Spanish utterances made by code (when no --data).")
    ] = 4000,
    colombian: Annotated[
        int,
        typer.Option(min=0, help="Copies of each Colombian Asterisk prompt of numbers and dates (a real speaker) to add."),
    ] = 0,
    diphone_share: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of the --synthetic utterances spoken by MBROLA's Spanish diphone voices."),
    ] = 0.0,
    cell: Cell = None,
    units: Units = None,
    layers: Layers = None,
    epochs: Epochs = None,
    streaming: Annotated[
        bool, typer.Option("--streaming", help="One-way layers and causal normalisation (for --stream).")
    ] = False,
    lookahead: Annotated[
        int | None, typer.Option(min=0, max=64, help="Subsampled frames (20 ms each) a one-way model hears ahead.")
    ] = None,
    head_lookahead: Annotated[
        int | None,
        typer.Option(min=0, max=64, help="Steps of the recurrent outputs (20 ms each) a one-way model's CTC head reads ahead."),
    ] = None,
    chunk: Annotated[
        int | None,
        typer.Option(min=0, max=256, help="A one-way model's backward direction within chunks of this many steps (20 ms each)."),
    ] = None,
    teacher: Annotated[
        Path | None,
        typer.Option(help="A saved model (say a bidirectional one) whose per-frame posteriors the new model learns too."),
    ] = None,
    distill_weight: Annotated[
        float | None, typer.Option(min=0.0, help="The weight of the teacher's per-frame KL divergence beside CTC.")
    ] = None,
    learning_rate: LearningRate = None,
    lr_schedule: LrSchedule = None,
    seed: Seed = 0,
    verbose: Verbose = 1,
    threads: Threads = None,
) -> None:
    """Train a speech recogniser; prints CER and WER on the held-out share."""
    set_threads(threads)
    with running(resume=None):
        taught_by = None if teacher is None else SpeechRecognizer.load(teacher)  # a bad path fails before any work
        if data is not None:
            audio, texts = read_table(data)
        else:
            voices = "eSpeak NG and MBROLA" if diphone_share else "eSpeak NG"
            with console.status(f"speaking {synthetic} Spanish utterances with {voices}"):
                audio, texts = synthetic_speech(synthetic, np.random.default_rng(seed), diphone_share=diphone_share)
        if colombian:
            real_audio, real_texts = colombian_training_speech(colombian, np.random.default_rng(seed + 2))
            audio, texts = [*audio, *real_audio], [*texts, *real_texts]
        options = given(cell=cell, units=units, layers=layers, epochs=epochs, lookahead=lookahead, learning_rate=learning_rate,
                        lr_schedule=lr_schedule, head_lookahead=head_lookahead,
                        distill_weight=distill_weight, chunk=chunk)  # fmt: skip
        model = SpeechRecognizer(
            **options, seed=seed, bidirectional=not streaming, normalization="running" if streaming else "utterance"
        )
        bar = [EpochBar(model.epochs, f"training {model.cell.upper()}({model.units})")] if verbose == 1 else None
        model.fit(audio, texts, verbose=2 if verbose == 2 else 0, callbacks=bar, teacher=taught_by)
        model.save(out)
        held = np.random.default_rng(seed).permutation(len(audio))[: max(1, round(model.validation * len(audio)))]
        scores = model.evaluate([audio[i] for i in held], [texts[i] for i in held]) if model.validation else None
    if scores is not None:
        console.print(f"held-out ({scores.count} recordings): CER {scores.cer:.3f}, WER {scores.wer:.3f}")
    console.print(f"saved to {out}")


@speech_app.command("transcribe")
def speech_transcribe(
    files: Annotated[list[Path], typer.Argument(help="WAV files (any common rate and width, mono).")],
    model: ModelOption = None,
    beam: Annotated[int, typer.Option(min=1, help="Prefix beam search width (1: greedy).")] = 1,
    grammar: Grammar = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Feed 100 ms blocks as they would arrive (a streaming model).")
    ] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the spectrograms and the emitted characters (PNG).")] = None,
) -> None:
    """Write the text of each WAV file."""
    with running(resume=None):
        recognizer = _model(model, streaming=stream)
        paths = [str(f) for f in files]
        if stream:
            texts, took, heard, streamed = [], 0.0, 0.0, []
            s = recognizer.stream()
            s.prepare()  # builds the compiled loops (once per machine) before the clock starts
            block = recognizer.sample_rate // 10
            for path in paths:
                samples = audio_samples(path, recognizer.sample_rate)
                s.reset()
                start = time.perf_counter()
                for a in range(0, len(samples), block):
                    s.update(samples[a : a + block])
                texts.append(s.finish())
                took += time.perf_counter() - start
                heard += len(samples) / recognizer.sample_rate
                streamed.append(s.log_probabilities)
            if grammar:  # the most probable text of the grammar, from what the stream heard
                choices = grammar_texts()
                candidates = [recognizer.alphabet_.encode(c, where=f"choice {i}") for i, c in enumerate(choices)]
                texts = [choices[i] for i in best_choices(streamed, candidates)[0]]
        else:
            texts = recognizer.transcribe(paths, beam=beam, choices=grammar_texts() if grammar else None)
        if plot is not None:
            shown = paths[:4]
            rate = recognizer.sample_rate
            spectrograms = [normalize_utterance(log_mel(audio_samples(p, rate), rate, recognizer.n_mels)) for p in shown]
            plot_transcriptions(spectrograms, recognizer.log_probabilities(shown),
                                "".join(recognizer.alphabet_.characters), plot,
                                titles=[f"{Path(p).name}: {t!r}" for p, t in zip(shown, texts)])  # fmt: skip
    for path, text in zip(paths, texts):
        typer.echo(f"{path}\t{text}")  # tab-separated, unwrapped: for pipes and scripts
    if stream:
        console.print(
            f"streamed {heard:.1f} s of audio in {took:.2f} s of computing ({took / max(heard, 1e-9) * 1000:.0f} ms per second)"
        )
    if plot is not None:
        console.print(f"plot written to {plot}")


@speech_app.command("evaluate")
def speech_evaluate(
    model: ModelOption = None,
    data: Annotated[Path | None, typer.Option("--data", help="A CSV/TSV table of recordings: path and text columns.")] = None,
    asterisk: Annotated[
        list[str] | None, typer.Option("--asterisk", help=f"Real Asterisk prompts of these kinds ({', '.join(KINDS)}).")
    ] = None,
    beam: Annotated[int, typer.Option(min=1, help="Prefix beam search width (1: greedy).")] = 1,
    grammar: Grammar = False,
) -> None:
    """CER and WER of a model on a table of recordings, or on the real Asterisk prompts by kind."""
    with running(resume=None):
        recognizer = _model(model)
        sets: dict[str, tuple[list[str], list[str]]] = {}
        if data is not None:
            paths, texts = read_table(data)
            sets[data.name] = (paths, [fold(t) for t in texts])
        kinds = asterisk or ([] if data is not None else ["numbers", "weekdays", "months", "words"])
        prompts = asterisk_prompts(tuple(kinds)) if kinds else []
        for kind in kinds:
            chosen = [p for p in prompts if p.kind == kind]
            sets[f"asterisk {kind}"] = ([str(p.path) for p in chosen], [p.text for p in chosen])
        table = Table(title="speech recognition")
        for column in ("recordings", "count", "CER", "WER", "e.g. (said -> written)"):
            table.add_column(column)
        for name, (paths, texts) in sets.items():
            hyps = recognizer.transcribe(paths, beam=beam, choices=grammar_texts() if grammar else None)
            table.add_row(name, str(len(texts)), f"{cer(hyps, texts):.3f}", f"{wer(hyps, texts):.3f}", f"{texts[0]} -> {hyps[0]}")
    console.print(table)
