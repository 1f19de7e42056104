"""Spanish speech to text trained on eSpeak NG's voices only, tested on real recordings of a human speaker.

Training data: ``--train`` utterances made by ``recurra.speech.synthetic_speech`` (numbers, dates, weekdays,
months, ordinals, everyday words and short phrases; random voice, speed, pitch, room, band and noise),
spoken by every eSpeak variant except the held-out ones (``--held-out-variants``); with ``--colombian N``, also
``N`` copies, each through its own random channel, of each of the 83 Colombian prompts of numbers, weekdays,
months and date words (``colombian_prompts``: a second real speaker, not the one tested on); with
``--diphone-share P``, a share ``P`` of the training utterances is spoken by MBROLA's seven Spanish diphone
voices (cut from real people's recordings) instead of eSpeak's. Tests:

- synthetic: ``--test`` new utterances spoken only by the held-out variants;
- real: the Asterisk prompts recorded by Allison Smith (``asterisk_prompts``; Debian
  ``asterisk-core-sounds-es-wav``), never trained on, per kind (numbers, weekdays, months, words, phrases).

Scores: CER and WER, greedy. The bidirectional model (utterance normalisation) is the one shipped in the
package with ``--save``; ``--models streaming`` trains the one-way model (running normalisation), with
``--teacher MODEL`` also learning that model's per-frame posteriors (distillation, ``--distill-weight``).

Run: ``python benchmarks/speech.py --threads 2 --json benchmarks/results/speech.json --save src/recurra/speech/model``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from speech_dtw import dtw_transcribe

from recurra.ctc import cer, wer
from recurra.signals.speech_synth import voice_variants
from recurra.speech import SpeechRecognizer, asterisk_prompts, colombian_training_speech, synthetic_speech
from recurra.speech.spanish import grammar_texts
from recurra.train.estimator_fit import LR_SCHEDULES

KINDS = ("numbers", "weekdays", "months", "words", "phrases")
HELD_OUT_VARIANTS = "f5,m7,klatt3,Alicia,linda,pedro,steph2,Gene2"  # eSpeak variants never trained on


def scores(model: SpeechRecognizer, audio: list, texts: list[str], choices: list[str] | None = None) -> dict[str, float]:
    hyps = model.transcribe(audio, choices=choices)
    return {"cer": cer(hyps, texts), "wer": wer(hyps, texts), "count": len(texts), "examples": list(zip(texts[:6], hyps[:6]))}


def train(args: argparse.Namespace, audio: list, texts: list[str], streaming: bool) -> tuple[SpeechRecognizer, float]:
    model = SpeechRecognizer(
        args.cell, args.units, layers=args.layers, subsample=args.subsample, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, lr_schedule=args.lr_schedule, validation=0.05, patience=args.patience, seed=args.seed,
        n_mels=args.n_mels, cepstra=args.cepstra, bidirectional=not streaming,
        normalization=args.normalization or ("running" if streaming else "utterance"),
        lookahead=args.lookahead if streaming else 0, warmup=args.warmup if streaming else 0.0,
        head_lookahead=args.head_lookahead if streaming else 0, distill_weight=args.distill_weight,
        chunk=args.chunk if streaming else 0,
    )  # fmt: skip
    teacher = SpeechRecognizer.load(args.teacher) if args.teacher and streaming else None
    start = time.perf_counter()
    model.fit(audio, texts, verbose=1, teacher=teacher)
    return model, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=12000)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--held-out-variants", default=HELD_OUT_VARIANTS)
    parser.add_argument("--colombian", type=int, default=0, help="copies of each Colombian prompt to train on")
    parser.add_argument("--diphone-share", type=float, default=0.0, help="share of training utterances by MBROLA voices")
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--subsample", type=int, default=2)
    parser.add_argument("--normalization", choices=("utterance", "running"), help="default: running when streaming")
    parser.add_argument("--warmup", type=float, default=0.0, help="the streaming model's warmup (seconds)")
    parser.add_argument("--lookahead", type=int, default=0, help="the streaming model's look-ahead (subsampled frames)")
    parser.add_argument("--chunk", type=int, default=0, help="the streaming model backward within chunks of this many steps")
    parser.add_argument("--head-lookahead", type=int, default=0, help="steps the streaming model's CTC head reads ahead")
    parser.add_argument("--teacher", type=Path, help="a saved model whose per-frame posteriors the streaming model learns")
    parser.add_argument("--distill-weight", type=float, default=1.0, help="the weight of the teacher's per-frame KL")
    parser.add_argument("--n-mels", type=int, default=40)
    parser.add_argument("--cepstra", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="bidirectional", help="bidirectional, streaming, both (comma) or none")
    parser.add_argument("--save", type=Path, help="save the bidirectional model here")
    parser.add_argument("--save-streaming", type=Path, help="save the streaming model here")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--dtw", action="store_true", help="run the 1-NN DTW template baseline too")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    held_out = args.held_out_variants.split(",")
    start = time.perf_counter()
    audio, texts = synthetic_speech(
        args.train, np.random.default_rng(args.seed), variants=[v for v in voice_variants() if v not in held_out],
        diphone_share=args.diphone_share,
    )
    if args.colombian:
        real_audio, real_texts = colombian_training_speech(args.colombian, np.random.default_rng(args.seed + 2))
        audio, texts = audio + real_audio, texts + real_texts
    test_audio, test_texts = synthetic_speech(args.test, np.random.default_rng(args.seed + 1), variants=held_out)
    made = time.perf_counter() - start
    hours = sum(len(a) for a in audio) / 8000 / 3600
    print(f"{len(audio)} training utterances ({hours:.2f} h) made in {made:.0f} s")
    prompts = asterisk_prompts(KINDS)
    result: dict = {
        "train_utterances": len(audio),
        "train_hours": hours,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    models = [m for m in args.models.split(",") if m]
    for name, streaming in [(m, m == "streaming") for m in models]:
        model, seconds = train(args, audio, texts, streaming)
        row = {
            "train_seconds": seconds,
            "epochs": len(model.history_.get("loss", [])),
            "synthetic_held_out": scores(model, test_audio, test_texts),
        }
        for kind in KINDS:
            chosen = [p for p in prompts if p.kind == kind]
            row[f"real_{kind}"] = scores(model, [str(p.path) for p in chosen], [p.text for p in chosen])
        digits = [p for p in prompts if p.kind in ("numbers", "weekdays", "months")]
        row["real_numbers_weekdays_months"] = scores(model, [str(p.path) for p in digits], [p.text for p in digits])
        words = [p for p in prompts if p.kind != "phrases"]
        for kind in ("numbers", "weekdays", "months", "words"):
            chosen = [p for p in words if p.kind == kind]
            row[f"real_{kind}_grammar"] = scores(model, [str(p.path) for p in chosen], [p.text for p in chosen], grammar_texts())
        row["real_numbers_weekdays_months_grammar"] = scores(
            model, [str(p.path) for p in digits], [p.text for p in digits], grammar_texts()
        )
        result[name] = row
        for key, val in row.items():
            if isinstance(val, dict):
                scores_text = f"CER {val['cer']:.3f}  WER {val['wer']:.3f}  ({val['count']})"
                print(f"{name:>13} {key:<30} {scores_text}  e.g. {val['examples'][:3]}")
        target = args.save if not streaming else args.save_streaming
        if target:
            model.save(target)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if args.dtw:
        digits = [p for p in prompts if p.kind in ("numbers", "weekdays", "months")]
        vocabulary = sorted({p.text for p in digits})
        start = time.perf_counter()
        hyps = dtw_transcribe([str(p.path) for p in digits], vocabulary, ["m1", "m3", "f1", "f2"])
        texts = [p.text for p in digits]
        result["dtw_baseline"] = {
            "cer": cer(hyps, texts), "wer": wer(hyps, texts), "count": len(texts), "vocabulary": len(vocabulary),
            "seconds": time.perf_counter() - start, "examples": list(zip(texts[:6], hyps[:6])),
        }  # fmt: skip
        base = result["dtw_baseline"]
        print(f"DTW baseline (closed vocabulary of {len(vocabulary)}): CER {base['cer']:.3f} WER {base['wer']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
