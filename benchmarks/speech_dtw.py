"""The classic isolated-word recogniser as a baseline for ``benchmarks/speech.py``: 1-nearest-neighbour DTW over
MFCC templates spoken by eSpeak NG, choosing among the test vocabulary (it is told the words that can occur).

Templates: every word of the vocabulary spoken by ``variants`` × the ``es`` and ``es-419`` voices at the
default speed and pitch, through the 8 kHz telephone band; frames: 13 MFCCs normalised per utterance.
The distance of two utterances: the cost of the best monotone alignment (DTW, steps (1,0), (0,1), (1,1),
Euclidean frame cost) divided by the sum of their lengths.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import butter, sosfilt

from recurra.signals.audio import resample
from recurra.signals.speech_synth import synthesize
from recurra.speech.features import audio_samples, speech_frames


def mfcc(samples: np.ndarray, rate: int = 8000) -> np.ndarray:
    return speech_frames(samples, rate, 40, "utterance", None, cepstra=13)


def template(word: str, voice: str, variant: str) -> np.ndarray:
    x, found = synthesize(word, voice=voice, variant=variant)
    x = resample(x, found, 8000)
    return mfcc(sosfilt(butter(2, [200, 3400], btype="bandpass", fs=8000, output="sos"), x).astype(np.float32))


def dtw_distances(query: np.ndarray, templates: Sequence[np.ndarray]) -> np.ndarray:
    """The normalised DTW distance of ``query`` ``(T, D)`` to each template ``(T_k, D)``, all templates at once."""
    T2 = max(len(t) for t in templates)
    N, T1 = len(templates), len(query)
    cost = np.full((N, T1, T2), np.inf)
    for k, t in enumerate(templates):
        cost[k, :, : len(t)] = np.sqrt(((query[:, None, :] - t[None, :, :]) ** 2).sum(-1))
    D = np.full((N, T1 + 1, T2 + 1), np.inf)
    D[:, 0, 0] = 0.0
    for i in range(1, T1 + 1):
        for j in range(1, T2 + 1):
            D[:, i, j] = cost[:, i - 1, j - 1] + np.minimum(np.minimum(D[:, i - 1, j], D[:, i, j - 1]), D[:, i - 1, j - 1])
    lengths = np.array([len(t) for t in templates])
    return D[np.arange(N), T1, lengths] / (T1 + lengths)


def dtw_transcribe(paths: Sequence[str], vocabulary: Sequence[str], variants: Sequence[str]) -> list[str]:
    """The nearest template's word for each recording."""
    words, templates = [], []
    for word in vocabulary:
        for voice in ("es", "es-419"):
            for variant in variants:
                words.append(word)
                templates.append(template(word, voice, variant))
    return [words[int(dtw_distances(mfcc(audio_samples(p, 8000)), templates).argmin())] for p in paths]
