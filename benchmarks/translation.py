"""Spanish <-> English translation on the Reina-Valera 1909 and King James Bibles, held-out whole books.

For one direction (``--direction es-en`` or ``en-es``), on the same test books (``split_by_books``'s
defaults: Ruth, Esther, Jonah, Micah, Philippians, Colossians, James, 1 John, Jude; 841 verses):

- baselines: copying the source, and a word-by-word dictionary learned by IBM Model 1 on the training
  pairs (``WordDictionary``);
- ``Seq2Seq`` with attention (``--attention``, default general) and the same model without attention,
  trained on the 29,462 training verses for ``--epochs`` epochs (the validation books pick the best one);
- BLEU and chrF (sacrebleu) of greedy and beam-search (``--beam``) outputs, training time, and beam
  search's output tokens per second;
- the attention heatmap of three short test verses (``--plot``).

Results go to ``--json`` (one file per direction); ``--table A.json B.json`` prints the table of both.
Run: ``python benchmarks/translation.py --direction es-en --threads 1`` (and ``en-es``; the two run
side by side on two cores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from recurra.text.parallel import load_bible_pairs, split_by_books
from recurra.text.seq2seq import Seq2Seq
from recurra.text.seq2seq.baselines import WordDictionary, copy_source
from recurra.text.seq2seq.metrics import bleu, chrf
from recurra.text.seq2seq.plots import plot_attention
from recurra.train.estimator_fit import LR_SCHEDULES


def scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    return {"bleu": round(bleu(hyps, refs), 2), "chrf": round(chrf(hyps, refs), 2)}


def train_and_score(name: str, model: Seq2Seq, data: dict, beam: int) -> tuple[dict, Seq2Seq]:
    t = time.perf_counter()
    model.fit(data["train_src"], data["train_tgt"], validation_data=(data["val_src"], data["val_tgt"]), verbose=2)
    seconds = time.perf_counter() - t
    greedy = model.translate(data["test_src"])
    t = time.perf_counter()
    beamed = model.translate(data["test_src"], beam=beam)
    beam_seconds = time.perf_counter() - t
    tokens = sum(len(model.target_tokenizer_.tokenize(h)) + 1 for h in beamed)
    row = {
        "greedy": scores(greedy, data["test_tgt"]),
        f"beam{beam}": scores(beamed, data["test_tgt"]),
        "train_minutes": round(seconds / 60, 1),
        "epochs_run": len(model.history_["loss"]),
        "best_val_loss": round(min(model.history_["val_loss"]), 4),
        "beam_tokens_per_second": round(tokens / beam_seconds, 1),
        "examples": [{"source": s, "reference": r, "output": o} for s, r, o in
                     zip(data["test_src"][:5], data["test_tgt"][:5], beamed[:5])],
    }  # fmt: skip
    print(name, json.dumps({k: v for k, v in row.items() if k != "examples"}), flush=True)
    return row, model


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    src_lang, tgt_lang = args.direction.split("-")
    train, val, test = split_by_books(load_bible_pairs())
    data = {
        "train_src": train[src_lang].tolist(), "train_tgt": train[tgt_lang].tolist(),
        "val_src": val[src_lang].tolist(), "val_tgt": val[tgt_lang].tolist(),
        "test_src": test[src_lang].tolist(), "test_tgt": test[tgt_lang].tolist(),
    }  # fmt: skip
    results: dict = {"direction": args.direction, "train": len(train), "validation": len(val), "test": len(test)}
    results["copy the source"] = scores(copy_source(data["test_src"]), data["test_tgt"])
    t = time.perf_counter()
    dictionary = WordDictionary().fit(data["train_src"], data["train_tgt"])
    results["IBM Model 1 word by word"] = {**scores(dictionary.translate(data["test_src"]), data["test_tgt"]),
                                           "train_minutes": round((time.perf_counter() - t) / 60, 2)}  # fmt: skip
    print(json.dumps(results), flush=True)
    settings = dict(cell=args.cell, units=args.units, embedding=args.embedding, subword_vocab=args.subword_vocab,
                    epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, dropout=args.dropout,
                    lr_schedule=args.lr_schedule, max_source_length=400, max_target_length=400, seed=args.seed)  # fmt: skip
    results["settings"] = settings
    extras = dict(lexicon=args.lexicon, copy=args.copy)
    name = f"Seq2Seq, {args.attention} attention" + (f", lexicon {args.lexicon}" if args.lexicon else "") + (
        ", copying" if args.copy else ""
    )
    if args.plain_only:
        results["Seq2Seq, no attention"], _ = train_and_score("plain", Seq2Seq(**settings, attention=None), data, args.beam)
        return results
    results[name], model = train_and_score("attention", Seq2Seq(**settings, **extras, attention=args.attention), data, args.beam)
    if args.plot:
        short = sorted(range(len(data["test_src"])), key=lambda i: len(data["test_src"][i]))[:3]
        plot_attention([model.attention_weights(data["test_src"][i]) for i in short], args.plot,
                       title=f"where the decoder looks ({args.direction}, held-out verses)")  # fmt: skip
    if not args.skip_plain:
        results["Seq2Seq, no attention"], _ = train_and_score("plain", Seq2Seq(**settings, attention=None), data, args.beam)
    return results


def table(paths: list[str]) -> None:
    for path in paths:
        r = json.loads(Path(path).read_text())
        print(f"\n{r['direction']}: train {r['train']:,} verses, test {r['test']:,} verses (held-out books)")
        print(f"{'':34} {'BLEU':>6} {'chrF':>6} {'train min':>10} {'beam tok/s':>11}")
        for name, row in r.items():
            if not isinstance(row, dict) or name == "settings":
                continue
            for kind in ("greedy", "beam5") if "greedy" in row else ("",):
                s = row.get(kind, row) if kind else row
                label = f"{name} ({kind})" if kind else name
                extra = (
                    f"{row.get('train_minutes', ''):>10} {row.get('beam_tokens_per_second', '') if kind == 'beam5' else '':>11}"
                )
                print(f"{label:34} {s['bleu']:6.2f} {s['chrf']:6.2f} {extra}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--direction", choices=("es-en", "en-es"), default="es-en")
    p.add_argument("--attention", default="general", choices=("additive", "dot", "general"))
    p.add_argument("--cell", default="gru")
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--embedding", type=int, default=128)
    p.add_argument("--subword-vocab", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES)
    p.add_argument("--lexicon", type=int, default=0, help="The attention model's lexicon bias: translations per source piece.")
    p.add_argument("--copy", action="store_true", help="The attention model copies source pieces (pointer-generator).")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-plain", action="store_true", help="Train the attention model only.")
    p.add_argument("--plain-only", action="store_true", help="Train the model without attention only.")
    p.add_argument("--plot", type=Path, default=None, help="Write the attention heatmaps here (PNG).")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--table", nargs="+", default=None, help="Print the table of saved results and stop.")
    args = p.parse_args()
    if args.table:
        table(args.table)
        return
    results = run(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        table([str(args.json)])


if __name__ == "__main__":
    main()
