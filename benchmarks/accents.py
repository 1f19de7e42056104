"""Spanish accent restoration: a character-level SequenceTagger against the most-frequent-form baseline.

Data: the Reina-Valera 1909 Bible (Debian sword-text-sparv) and Debian's fortunes-es (the bundled
refranes when it is missing), each split in order into train / validation / test blocks (85 / 5 / 10 %),
so the held-out text is whole passages: the end of the New Testament and the last fortune files. The
tagger (a two-layer bidirectional GRU over characters, ``recurra.text.accent_training.PRESET``) learns
from 100-character windows of the training block with their accents stripped; the baseline maps each
stripped word to its most frequent form in the same block ("seen forms": the tagger's words that are no
form seen in that block replaced by the closest seen one). All restore the test block; the script prints
character accuracy, word accuracy, accuracy on the words of ``AMBIGUOUS`` (el/él, mas/más, esta/está
...) and on those of them whose right form is not the baseline's (rare forms: the baseline is wrong on every
one), overall and by source, and draws a few held-out lines with the corrections marked.

Run from the repository root:

    python benchmarks/accents.py                           # the preset, at most 10 minutes of training
    python benchmarks/accents.py --minutes 2 --epochs 1    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter

import torch

from recurra.text.accent_corpus import load_accent_corpus
from recurra.text.accent_training import PRESET, restore_accents, train_accent_tagger
from recurra.text.accent_view import accent_figure
from recurra.text.accents import WORD, AccentReport, MostFrequentForm, accent_report


def row(name: str, r: AccentReport, seconds: str) -> str:
    amb_errors = round((1 - r.ambiguous_accuracy) * r.ambiguous_words)
    rare_right = round(r.rare_form_accuracy * r.rare_form_words)
    return (
        f"| {name} | {100 * r.char_accuracy:.2f} | {100 * r.word_accuracy:.2f} | {100 * r.ambiguous_accuracy:.2f} "
        f"({amb_errors} wrong of {r.ambiguous_words}) | {100 * r.rare_form_accuracy:.2f} ({rare_right} right of "
        f"{r.rare_form_words}) | {seconds} |"
    )


def wrong_words(true: list[str], restored: list[str], top: int = 12) -> list[tuple[str, int]]:
    """The most frequent mistakes as "true -> restored" (lowercased) with their counts."""
    wrong: Counter[str] = Counter()
    for t, r in zip(true, restored):
        for m in WORD.finditer(t):
            got = r[m.start() : m.end()]
            if got != m.group(0):
                wrong[f"{m.group(0).lower()} -> {got.lower()}"] += 1
    return wrong.most_common(top)


def figure_lines(test: dict[str, list[str]], model, baseline, width: int, per_source: int = 3) -> list[str]:
    """The first short held-out lines of each source in which the model or the baseline errs."""
    chosen = []
    for lines in test.values():
        picked = 0
        for line in lines:
            if len(line) > width:
                continue
            got, base = restore_accents(model, [line])[0], baseline.restore(line)
            if got != line or base != line:
                chosen.append(line)
                picked += 1
            if picked == per_source:
                break
    return chosen


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="the longest training time")
    p.add_argument("--epochs", type=int, default=PRESET["epochs"])
    p.add_argument("--cell", default=PRESET["cell"])
    p.add_argument("--units", type=int, default=PRESET["units"])
    p.add_argument("--layers", type=int, default=PRESET["layers"])
    p.add_argument("--crf", action="store_true", help="a CRF over the tags (Viterbi decoding)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: 1 when the machine is busy, else all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", default="docs/images/accents.png")
    p.add_argument("--json", default=None, help="write the numbers here")
    p.add_argument("--save", default=None, help="save the trained tagger in this directory")
    args = p.parse_args()
    load = os.getloadavg()[0]
    threads = args.threads or (1 if load > 0.5 else torch.get_num_threads())
    torch.set_num_threads(threads)
    print(f"load average {load:.2f}: {threads} torch thread(s)")

    corpus = load_accent_corpus()
    for block in ("train", "validation", "test"):
        sizes = ", ".join(f"{k} {len(v):,} lines / {sum(map(len, v)):,} chars" for k, v in getattr(corpus, block).items())
        print(f"{block}: {sizes}")
    t = time.perf_counter()
    baseline = MostFrequentForm().fit(corpus.lines("train"))
    base_seconds = time.perf_counter() - t
    settings = dict(cell=args.cell, units=args.units, layers=args.layers, epochs=args.epochs, crf=args.crf, seed=args.seed)
    t = time.perf_counter()
    model = train_accent_tagger(corpus, seconds=60 * args.minutes, verbose=2, settings=settings)
    train_seconds = time.perf_counter() - t
    params = sum(p.numel() for p in model.network_.parameters())
    print(f"trained {train_seconds:.0f} s, {params:,} parameters, epochs run: {len(model.history_['loss'])}")
    if args.save:
        print("saved to", model.save(args.save))

    results = {}
    header = "| restorer | char acc. % | word acc. % | ambiguous-word acc. % | rare-form acc. % | training |"
    lines = [header, "|---|---:|---:|---:|---:|---:|"]
    for source, test in [("all", corpus.lines("test")), *corpus.test.items()]:
        t = time.perf_counter()
        restored = restore_accents(model, test)
        predict_seconds = time.perf_counter() - t
        m, b, s = (
            accent_report(test, texts, frequent_forms=baseline.forms)
            for texts in (restored, [baseline.restore(x) for x in test], [baseline.to_seen_forms(x) for x in restored])
        )
        results[source] = {"model": m.as_dict(), "model_seen_forms": s.as_dict(), "baseline": b.as_dict(),
                           "predict_seconds": predict_seconds}  # fmt: skip
        label = "" if source == "all" else f" ({source})"
        lines.append(row(f"{model.cell.upper()} tagger{label}", m, f"{train_seconds:.0f} s"))
        lines.append(row(f"{model.cell.upper()} tagger, seen forms{label}", s, f"{train_seconds:.0f} s"))
        lines.append(row(f"most frequent form{label}", b, f"{base_seconds:.1f} s"))
    print("\n".join(lines))
    test = corpus.lines("test")
    for name, restored in (("tagger", restore_accents(model, test)), ("baseline", [baseline.restore(x) for x in test])):
        print(f"most frequent mistakes of the {name}:", ", ".join(f"{w} ({n})" for w, n in wrong_words(test, restored)))
    shown = figure_lines(corpus.test, model, baseline, 84)
    restorers = {"tagger": restore_accents(model, shown), "baseline": [baseline.restore(x) for x in shown], "true": shown}
    print("figure:", accent_figure(shown, restorers, args.figure, title="held-out lines: green = accent restored, red = wrong"))
    if args.json:
        settings = {**PRESET, **settings}
        doc = {"results": results, "train_seconds": train_seconds, "parameters": params, "settings": settings, "threads": threads}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
