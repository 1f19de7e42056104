"""Speech to text while the audio arrives: samples in blocks, log-mel frames as their windows fill, the causal
normalisation and the recurrent states carried along.

A ``SpeechStream`` needs a ``SpeechRecognizer`` trained with ``bidirectional=False`` and
``normalization="running"``. ``update(samples)`` takes the next block of samples at the model's
``sample_rate`` and returns the text so far; ``finish()`` the whole text (equal to ``transcribe`` of the
whole recording). What a character waits for before it can be written: the end of its 25 ms window, the
front end's look-ahead (``subsample - 1`` frames of 10 ms, and ``lookahead · subsample`` more with a
``lookahead``) and the block it arrives in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..recognition.stream import RecognizerStream
from .features import _mono, raw_frames, running_normalize


class SpeechStream:
    """Feeds a streaming ``SpeechRecognizer`` blocks of samples (see the module docstring)."""

    def __init__(self, recognizer: Any) -> None:  # a SpeechRecognizer
        if recognizer.normalization != "running":
            raise ConfigError(
                "stream() needs a model trained with normalization='running' (the per-utterance one reads the whole file)"
            )
        self.frames = RecognizerStream(recognizer)
        self.recognizer = recognizer
        rate = recognizer.sample_rate
        self.window, self.hop = int(round(rate * 0.025)), int(round(rate * 0.010))
        self.reset()

    def reset(self) -> None:
        """Forget the recording heard so far."""
        self.frames.reset()
        self.samples = np.zeros(0, dtype=np.float32)  # from the start of the next frame's window
        self.norm: dict[str, np.ndarray] | None = None
        self.heard = 0  # samples received

    def update(self, samples: Any) -> str:
        """Hear the next block of ``samples`` (1-D, at the model's ``sample_rate``); the text so far."""
        block = _mono(samples)
        self.heard += len(block)
        self.samples = np.concatenate([self.samples, block])
        if len(self.samples) < self.window:
            return self.frames.text
        count = 1 + (len(self.samples) - self.window) // self.hop
        rec = self.recognizer
        raw = raw_frames(self.samples[: self.window + (count - 1) * self.hop], rec.sample_rate, rec.n_mels, rec.cepstra)
        self.samples = self.samples[count * self.hop :]
        frames, self.norm = running_normalize(raw, self.recognizer.prior_, self.norm)
        return self.frames.update(frames)

    def finish(self) -> str:
        """The whole text, once the recording has ended. Call ``reset`` before the next one."""
        return self.frames.finish()

    @property
    def text(self) -> str:
        """The text recognised so far."""
        return self.frames.text

    @property
    def log_probabilities(self) -> np.ndarray:
        """CTC's log-probabilities of the frames read so far, ``(T', K)``."""
        return self.frames.log_probabilities
