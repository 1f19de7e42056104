"""Summarising code: a Python function's body -> the first sentence of its docstring, on held-out packages.

The pairs come from the Python sources installed on the machine (the standard library and
site-packages, parsed with ``ast``: ``load_python_docstrings``), split by whole top-level packages
(``split_by_package``: 5 % of the rows for validation, 5 % for test), so no test function shares a
package with a training one. The counts depend on what is installed; they are printed.

The model reads each body as words (``--source words``, the default: ``code_as_words`` splits the
identifiers at ``_`` and case changes, ``readTextFile`` -> "read text file", so the words of names are
shared between functions) or as the raw source (``--source code``). ``Seq2Seq`` (subword pieces on
both sides, lowercased, attention) trains on the training packages for ``--epochs``
epochs; on the test packages its beam-search summaries are scored by ROUGE-1/2/L F1 against the
docstrings, next to the lead baseline (the function's name split into words: ``read_text_file`` ->
"read text file") and a constant baseline (the most frequent training summary).
Run: ``python benchmarks/summarisation.py --threads 2 --json benchmarks/results/summarisation.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from recurra.text.parallel import code_as_words, load_python_docstrings, split_by_package
from recurra.text.seq2seq import Seq2Seq
from recurra.text.seq2seq.baselines import lead_summary
from recurra.text.seq2seq.metrics import rouge


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-body-tokens", type=int, default=120)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--subword-vocab", type=int, default=4000)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--attention", default="general")
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--source", choices=("words", "code"), default="words", help="The body as words or as raw code.")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--copy", action="store_true", help="A pointer-generator: the decoder may copy source tokens.")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    t = time.perf_counter()
    df = load_python_docstrings(max_body_tokens=args.max_body_tokens, max_summary_words=25)
    train, val, test = split_by_package(df)
    print(f"{len(df):,} pairs from {df.package.nunique()} packages in {time.perf_counter() - t:.0f} s; "
          f"train {len(train):,}, validation {len(val):,} ({val.package.nunique()} packages), "
          f"test {len(test):,} ({test.package.nunique()} packages)", flush=True)  # fmt: skip
    model = Seq2Seq(units=args.units, embedding=128, subword_vocab=args.subword_vocab, attention=args.attention, lower=True,
                    epochs=args.epochs, max_source_length=1000, max_target_length=100, dropout=args.dropout,
                    copy=args.copy)  # fmt: skip
    source = (lambda bodies: [code_as_words(b) for b in bodies]) if args.source == "words" else list
    t = time.perf_counter()
    model.fit(source(train.body), train.summary.tolist(), validation_data=(source(val.body), val.summary.tolist()), verbose=2)
    minutes = (time.perf_counter() - t) / 60
    refs = test.summary.tolist()
    outputs = model.translate(source(test.body), beam=args.beam, max_length=40)
    constant = train.summary.value_counts().index[0]
    results = {
        "pairs": len(df), "train": len(train), "validation": len(val), "test": len(test),
        "test_packages": sorted(test.package.unique()), "source": args.source, "copy": args.copy,
        "train_minutes": round(minutes, 1),
        "epochs_run": len(model.history_["loss"]), "best_val_loss": round(min(model.history_["val_loss"]), 4),
        "Seq2Seq": rouge(outputs, refs),
        "lead (function name in words)": rouge([lead_summary(n) for n in test.name], refs),
        f"constant ({constant!r})": rouge([constant] * len(refs), refs),
        "examples": [{"name": n, "reference": r, "output": o} for n, r, o in zip(test.qualname[:12], refs[:12], outputs[:12])],
    }  # fmt: skip
    print(f"{'':40} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    for name, row in results.items():
        if isinstance(row, dict) and "rougeL" in row:
            print(f"{name:40} {row['rouge1']:8.3f} {row['rouge2']:8.3f} {row['rougeL']:8.3f}")
    for ex in results["examples"]:
        print(f"  {ex['name']}: {ex['output']!r}  (docstring: {ex['reference']!r})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
