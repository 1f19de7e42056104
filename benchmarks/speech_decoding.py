"""The same speech model read out three ways, on the real Asterisk prompts: greedy; prefix beam search with a
character 6-gram language model fused (``CharNgram`` trained on 30,000 texts of ``spoken_texts`` and the
grammar's words, never on a test transcript); and ``choices``, the most probable text of the grammar (the
1,103 texts the model is trained to say: 0–999 in words, weekdays, months, ordinals, menu words). With
``--synthetic N`` also greedy and beam on the held-out synthetic voices of ``benchmarks/speech.py`` (the same
``N`` utterances as its ``--test N`` with its default seed and held-out variants; their texts are the
generator's, so some are outside the grammar, which is not tried on them); ``--draws K``: K such sets, drawn
with seeds 1..K, after the real prompts. The held-out audio depends on what the process synthesised before: eSpeak
NG's library carries a little state from one call to the next, which moves an utterance by a few samples, and the
noise added to each is drawn sample by sample, so every later utterance of the set gets other voices and channels.
``benchmarks/speech.py`` makes its test set after the training speech; here it is made first, or after the
previous draw.

Run: ``python benchmarks/speech_decoding.py src/recurra/speech/model --json benchmarks/results/speech_decoding.json``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from recurra.ctc import CharNgram, cer, wer
from recurra.speech import SpeechRecognizer, asterisk_prompts, fold, spoken_texts, synthetic_speech
from recurra.speech.spanish import grammar_texts
from speech import HELD_OUT_VARIANTS, KINDS


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--lm-weight", type=float, default=0.6)
    p.add_argument("--insertion-bonus", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--synthetic", type=int, default=0, help="held-out synthetic utterances to decode too")
    p.add_argument("--draws", type=int, default=1, help="held-out synthetic sets, each of --synthetic utterances")
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
    sets = {name: ([str(p.path) for p in chosen], [p.text for p in chosen]) for name, chosen in groups.items()}
    for draw in range(1, args.draws + 1 if args.synthetic else 1):  # draw 1: benchmarks/speech.py's test set's texts
        audio, texts = synthetic_speech(args.synthetic, np.random.default_rng(draw), variants=HELD_OUT_VARIANTS.split(","))
        sets = {**sets, f"synthetic_held_out{'' if draw == 1 else f'_{draw}'}": (audio, texts)}
    for name, (paths, refs) in sets.items():
        ways = {
            "greedy": model.transcribe(paths),
            "beam+lm": model.transcribe(
                paths, beam=args.beam, lm=lm, lm_weight=args.lm_weight, insertion_bonus=args.insertion_bonus
            ),
        }
        if name != "phrases" and not name.startswith("synthetic"):
            ways["grammar"] = model.transcribe(paths, choices=grammar_texts())
        result[name] = {way: {"cer": cer(h, refs), "wer": wer(h, refs), "count": len(refs)} for way, h in ways.items()}
        print(f"{name:<26}" + "  ".join(f"{way} CER {s['cer']:.3f} WER {s['wer']:.3f}" for way, s in result[name].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
