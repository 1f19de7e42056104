"""Speech to text while the audio arrives: samples in blocks, log-mel frames as their windows fill, the causal
normalisation and the recurrent states carried along.

A ``SpeechStream`` needs a ``SpeechRecognizer`` trained with ``bidirectional=False`` and
``normalization="running"``. ``update(samples)`` takes the next block of samples at the model's
``sample_rate`` and returns the text so far; ``finish()`` the whole text (equal to ``transcribe`` of the
whole recording). What a character waits for before it can be written: the end of its 25 ms window, the
front end's look-ahead (``subsample - 1`` frames of 10 ms, ``lookahead · subsample`` more with a ``lookahead``),
the head's (``head_lookahead · subsample`` frames), with a ``chunk`` the rest of its chunk (up to
``(chunk - 1) · subsample`` frames) and the block it arrives in; with a ``warmup``, the first
frames wait until ``warmup`` seconds have arrived (or the recording ends), to be normalised together.
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
        self.held = np.zeros((0, 0), dtype=np.float32)  # raw frames waiting for the warmup to fill
        self.heard = 0  # samples received

    def prepare(self) -> None:
        """Build (or load) the compiled loops the stream runs by hearing half a second of silence, then forget
        it: the first build takes seconds once per machine, which a live or timed stream should not wait for."""
        self.reset()
        self.update(np.zeros(self.recognizer.sample_rate // 2, dtype=np.float32))
        self.finish()
        self.reset()

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
        if self.norm is None:  # still in the warmup: the first frames are normalised together
            raw = np.concatenate([self.held, raw]) if len(self.held) else raw
            if len(raw) < self.recognizer.warmup_frames:
                self.held = raw
                return self.frames.text
            self.held = raw[:0]
        return self._read(raw)

    def _read(self, raw: np.ndarray) -> str:
        frames, self.norm = running_normalize(raw, self.recognizer.prior_, self.norm, self.recognizer.warmup_frames)
        return self.frames.update(frames)

    def finish(self) -> str:
        """The whole text, once the recording has ended. Call ``reset`` before the next one."""
        if len(self.held):  # a recording shorter than the warmup
            self._read(self.held)
            self.held = self.held[:0]
        return self.frames.finish()

    @property
    def text(self) -> str:
        """The text recognised so far."""
        return self.frames.text

    @property
    def log_probabilities(self) -> np.ndarray:
        """CTC's log-probabilities of the frames read so far, ``(T', K)``."""
        return self.frames.log_probabilities
