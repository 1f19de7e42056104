"""Training throughput of ``SpeechRecognizer.fit`` against a hand-written PyTorch loop of the same network.

Both train one epoch on the same ``--utterances`` synthetic Spanish utterances (``synthetic_speech``), from
the audio: frames computed by ``recurra.speech.features.speech_frames`` (13 MFCCs normalised per
utterance) in both, batches of 32, Adam (2e-3), gradient clipping at norm 5, dropout 0.1, no SpecAugment:

- recurra: ``SpeechRecognizer("gru", 128, layers=2, subsample=2, cepstra=13, spec_augment=False)``;
- PyTorch: ``Conv1d(13, 64, 3, stride=2, padding=1)`` + ReLU, ``nn.GRU(64, 128, num_layers=2,
  bidirectional=True, dropout=0.1)`` over packed sequences, ``nn.Linear`` + ``log_softmax``, ``F.ctc_loss``;
  the batches padded to their longest utterance.

The two alternate over ``--rounds`` rounds; the medians of seconds of audio per second are compared
(goal: recurra at least 0.9 of PyTorch). Run: ``python benchmarks/speech_throughput.py --threads 2``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from recurra.ctc import Alphabet
from recurra.speech import SpeechRecognizer, synthetic_speech
from recurra.speech.features import speech_frames


class TorchSpeech(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(features, 64, 3, stride=2, padding=1)
        self.rnn = nn.GRU(64, 128, num_layers=2, bidirectional=True, dropout=0.1, batch_first=True)
        self.out = nn.Linear(256, classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (B, T', 64)
        lengths = (lengths + 1) // 2
        packed = nn.utils.rnn.pack_padded_sequence(
            F.dropout(h, 0.1, self.training), lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return F.log_softmax(self.out(F.dropout(out, 0.1, self.training)), -1), lengths


def torch_epoch(audio: list[np.ndarray], texts: list[str], seed: int) -> float:
    start = time.perf_counter()
    frames = [torch.from_numpy(speech_frames(a, 8000, 40, "utterance", None, cepstra=13)) for a in audio]
    alphabet = Alphabet.from_texts(texts)
    labels = [torch.tensor(alphabet.encode(t)) for t in texts]
    torch.manual_seed(seed)
    model = TorchSpeech(13, len(alphabet))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for batch in torch.randperm(len(frames)).split(32):
        x = nn.utils.rnn.pad_sequence([frames[i] for i in batch], batch_first=True)
        lengths = torch.tensor([len(frames[i]) for i in batch])
        log_probs, out_lengths = model(x, lengths)
        y = torch.cat([labels[i] for i in batch])
        y_lengths = torch.tensor([len(labels[i]) for i in batch])
        loss = F.ctc_loss(log_probs.transpose(0, 1), y, out_lengths, y_lengths, blank=0, reduction="mean")
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utterances", type=int, default=1500)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    audio, texts = synthetic_speech(args.utterances, np.random.default_rng(0))
    seconds = sum(len(a) for a in audio) / 8000
    settings = dict(cell="gru", units=128, layers=2, subsample=2, cepstra=13, spec_augment=False, epochs=1, batch_size=32,
                    validation=0.0, patience=None, dropout=0.1, clipnorm=5.0, learning_rate=2e-3)  # fmt: skip
    SpeechRecognizer(**settings).fit(audio[:64], texts[:64])  # builds the compiled kernels once
    ours, theirs = [], []
    for r in range(args.rounds):
        t = time.perf_counter()
        SpeechRecognizer(**settings, seed=r).fit(audio, texts)
        ours.append(seconds / (time.perf_counter() - t))
        theirs.append(seconds / torch_epoch(audio, texts, r))
        print(f"round {r + 1}: recurra {ours[-1]:,.1f} s of audio/s, PyTorch {theirs[-1]:,.1f}", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"median: recurra SpeechRecognizer.fit {a:,.1f} s of audio/s, hand-written PyTorch {b:,.1f}", end="")
    print(f"; ratio {a / b:.2f} (goal >= 0.90)")


if __name__ == "__main__":
    main()
