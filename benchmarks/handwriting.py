"""Online handwriting recognition: pen trajectories of the Hershey fonts -> text, tested on a font never trained on.

Texts are the bundled Spanish proverbs (``refranes.txt``) folded to a-z and spaces (``plain_text``), cut into
phrases of one to three words; the last tenth of the proverbs is held out for testing. Each training phrase
is written (``handwriting``) in one of the training fonts, picked at random, by a random hand (slant,
rotation, scale, pen speed, jitter, wobble); the test phrases are written by random hands in ``--test-font``
(default ``scriptc``, a script face the model never sees) and, for reference, in the training fonts.

``CTCRecognizer(cell, units, layers=2, subsample=4)`` reads ``pen_features`` (``dx``, ``dy``, ``pen_up`` per
point) and is scored by CER and WER, greedy and with beam search; next to it, the same network with one-way
layers (it could transcribe while the pen moves). A plot shows test trajectories with their transcriptions.

Run: ``python benchmarks/handwriting.py --threads 2 --json benchmarks/results/handwriting.json \
--plot docs/images/handwriting.png``
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from recurra import CTCRecognizer
from recurra.signals import HERSHEY_FONTS, handwriting, pen_features, plain_text, plot_pen


def phrases(seed: int) -> tuple[list[str], list[str]]:
    """Training and held-out phrases of one to three words from the proverbs (the last tenth held out)."""
    lines = resources.files("recurra.text").joinpath("corpora/refranes.txt").read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(seed)
    out: list[list[str]] = [[], []]
    cut = int(len(lines) * 0.9)
    for k, line in enumerate(lines):
        words = plain_text(line).split()
        while words:
            n = int(rng.integers(1, 4))
            out[k >= cut].append(" ".join(words[:n]))
            words = words[n:]
    return out[0], out[1]


def written(texts: list[str], fonts: tuple[str, ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [handwriting(t, fonts[int(rng.integers(len(fonts)))], rng) for t in texts]


def scores(model: CTCRecognizer, X: list[np.ndarray], texts: list[str], beam: int) -> dict:
    t = time.perf_counter()
    greedy = model.evaluate(X, texts)
    seconds = time.perf_counter() - t
    beamed = model.evaluate(X, texts, beam=beam)
    return {"cer": round(greedy.cer, 4), "wer": round(greedy.wer, 4), f"cer_beam{beam}": round(beamed.cer, 4),
            f"wer_beam{beam}": round(beamed.wer, 4), "sequences_per_second": round(len(X) / seconds, 1)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=8000, help="Training phrases written (each by a random font and hand).")
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--test-font", default="scriptc", choices=HERSHEY_FONTS)
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--one-way", action="store_true", help="Also train the one-way (streaming) network.")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--plot", type=Path, default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    train_fonts = tuple(f for f in HERSHEY_FONTS if f != args.test_font)
    seen, held_out = phrases(args.seed)
    rng = np.random.default_rng(args.seed)
    train_texts = [seen[int(i)] for i in rng.integers(len(seen), size=args.train)]
    test_texts = [held_out[int(i)] for i in rng.integers(len(held_out), size=args.test)]
    train_points = written(train_texts, train_fonts, args.seed + 1)
    test_points = written(test_texts, (args.test_font,), args.seed + 2)
    seen_font_points = written(test_texts, train_fonts, args.seed + 3)
    X, X_test, X_seen = ([pen_features(q) for q in pts] for pts in (train_points, test_points, seen_font_points))
    print(f"{len(X):,} training phrases in {len(train_fonts)} fonts ({sum(map(len, X)):,} points); "
          f"{len(X_test)} test phrases in {args.test_font}", flush=True)  # fmt: skip
    results: dict = {"train": len(X), "test": len(X_test), "test_font": args.test_font, "train_fonts": list(train_fonts)}
    variants = [("bidirectional", True)] + ([("one-way", False)] if args.one_way else [])
    for name, both_ways in variants:
        model = CTCRecognizer("gru", args.units, layers=2, bidirectional=both_ways, subsample=4, epochs=args.epochs,
                              batch_size=32, learning_rate=2e-3, validation=0.05, patience=3, seed=args.seed)  # fmt: skip
        t = time.perf_counter()
        model.fit(X, train_texts, verbose=2)
        row = {"train_minutes": round((time.perf_counter() - t) / 60, 1), "epochs_run": len(model.history_["loss"])}
        row[f"held-out font ({args.test_font})"] = scores(model, X_test, test_texts, args.beam)
        row["training fonts, held-out phrases"] = scores(model, X_seen, test_texts, args.beam)
        print(name, json.dumps(row), flush=True)
        results[f"CTCRecognizer GRU({args.units}) x2, {name}"] = row
        if args.plot and both_ways:
            got = model.transcribe(X_test[:6])
            plot_pen(test_points[:6], args.plot, titles=[f"written: {t!r}   read: {g!r}" for t, g in zip(test_texts, got)])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
