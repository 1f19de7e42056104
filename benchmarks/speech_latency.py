"""How fast the streaming speech model keeps up: real recordings fed in blocks as a microphone would give them.

Each Asterisk prompt (``--kinds``) is fed to ``SpeechRecognizer.stream()`` in blocks of ``--block-ms``; per
block the computing time is measured. Reported: milliseconds of computing per second of audio (the real-time
factor × 1000), the median and 99th percentile of one block's computing time, and the latency of a character:
the block it arrives in + the 25 ms window + the front end's look-ahead (``subsample - 1`` frames of 10 ms, and
``lookahead · subsample`` more with a ``lookahead``) + the head's (``head_lookahead · subsample``) + a chunk's
(``(chunk - 1) · subsample`` with a ``chunk``: the first step of a chunk waits for its last) + the block's
computing time. With a ``warmup`` of ``W`` seconds the first frames wait until ``W`` seconds have arrived
(to be normalised together): a character spoken at the start is written at most the block + the 25 ms window +
``W`` + the computing after it, reported beside the latency after the warmup. The streamed texts are checked
equal to ``transcribe`` of the whole files.

Run: ``python benchmarks/speech_latency.py MODEL --threads 1``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from recurra.speech import SpeechRecognizer, asterisk_prompts
from recurra.speech.features import audio_samples


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("--block-ms", type=int, default=100)
    p.add_argument("--kinds", default="numbers,weekdays,months,phrases")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = SpeechRecognizer.load(args.model)
    prompts = asterisk_prompts(tuple(args.kinds.split(",")))
    block = model.sample_rate * args.block_ms // 1000
    stream, per_block, heard, equal = model.stream(), [], 0.0, 0
    stream.prepare()  # the compiled loops built or loaded before the clock starts
    for prompt in prompts:
        samples = audio_samples(str(prompt.path), model.sample_rate)
        stream.reset()
        for a in range(0, len(samples), block):
            t = time.perf_counter()
            stream.update(samples[a : a + block])
            per_block.append(time.perf_counter() - t)
        t = time.perf_counter()
        text = stream.finish()
        per_block[-1] += time.perf_counter() - t
        heard += len(samples) / model.sample_rate
        equal += text == model.transcribe([samples])[0]
    ms = np.array(per_block) * 1000
    chunk = max(model.chunk - 1, 0)  # the first step of a chunk waits for its last
    lookahead = 25 + 10 * (model.subsample - 1) + 10 * model.subsample * (model.lookahead + model.head_lookahead + chunk)
    print(f"{len(prompts)} recordings, {heard:.0f} s of audio in blocks of {args.block_ms} ms, {args.threads} thread(s)")
    p99 = np.percentile(ms, 99)
    print(f"computing: {ms.sum() / heard:.1f} ms per second of audio; one block: median {np.median(ms):.2f} ms, p99 {p99:.2f} ms")
    total = args.block_ms + lookahead + p99
    parts = f"{args.block_ms} (block) + {lookahead} (window, look-ahead) + {p99:.1f} (computing)"
    print(f"latency of a character: at most {parts} = {total:.0f} ms")
    if model.warmup > 0:  # the first frames wait for the warmup's frames, then everything up to them is written
        start = args.block_ms + 25 + 1000 * model.warmup + p99
        print(f"in the first {model.warmup:g} s (the warmup): at most {max(start, total):.0f} ms")
    print(f"streamed text equal to the whole file's: {equal} of {len(prompts)}")


if __name__ == "__main__":
    main()
