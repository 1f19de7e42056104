"""The same speech model read out three ways, on the real Asterisk prompts: greedy; prefix beam search with a
character 6-gram language model fused (``CharNgram`` trained on 30,000 texts of ``spoken_texts`` and the
grammar's words, never on a test transcript); and ``choices``, the most probable text of the grammar (the
1,103 texts the model is trained to say: 0–999 in words, weekdays, months, ordinals, menu words).

Run: ``python benchmarks/speech_decoding.py src/recurra/speech/model --json benchmarks/results/speech_decoding.json``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from recurra.ctc import CharNgram, cer, wer
from recurra.speech import SpeechRecognizer, asterisk_prompts, fold, spoken_texts
from recurra.speech.spanish import grammar_texts

KINDS = ("numbers", "weekdays", "months", "words", "phrases")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--lm-weight", type=float, default=0.6)
    p.add_argument("--insertion-bonus", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = SpeechRecognizer.load(args.model)
    texts = [fold(t) for t in spoken_texts(30000, np.random.default_rng(7))] + grammar_texts()
    lm = CharNgram(model.alphabet_, n=6).fit(texts)
    prompts = asterisk_prompts(KINDS)
    groups = {kind: [p for p in prompts if p.kind == kind] for kind in KINDS}
    groups["numbers+weekdays+months"] = [p for p in prompts if p.kind in ("numbers", "weekdays", "months")]
    result: dict = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    for name, chosen in groups.items():
        paths, refs = [str(p.path) for p in chosen], [p.text for p in chosen]
        ways = {
            "greedy": model.transcribe(paths),
            "beam+lm": model.transcribe(
                paths, beam=args.beam, lm=lm, lm_weight=args.lm_weight, insertion_bonus=args.insertion_bonus
            ),
        }
        if name != "phrases":
            ways["grammar"] = model.transcribe(paths, choices=grammar_texts())
        result[name] = {way: {"cer": cer(h, refs), "wer": wer(h, refs), "count": len(refs)} for way, h in ways.items()}
        print(f"{name:<26}" + "  ".join(f"{way} CER {s['cer']:.3f} WER {s['wer']:.3f}" for way, s in result[name].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
