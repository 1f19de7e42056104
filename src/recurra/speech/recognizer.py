"""``SpeechRecognizer``: speech to text — audio in, log-mel frames, a recurrent network trained by CTC, text out.

>>> import numpy as np
>>> from recurra.speech import SpeechRecognizer, synthetic_speech
>>> audio, texts = synthetic_speech(40, np.random.default_rng(0))
>>> model = SpeechRecognizer("gru", 16, layers=1, epochs=1, validation=0.0).fit(audio, texts)
>>> len(model.transcribe(audio[:2]))
2

A ``CTCRecognizer`` whose inputs are recordings: WAV paths, ``(samples, sampling_rate)`` pairs or 1-D
arrays at ``sample_rate``. Each is resampled to ``sample_rate`` and turned into ``n_mels`` log-mel
frames normalised per utterance (``normalization="utterance"``) or causally (``"running"``, for the
streaming model; see ``recurra.speech.features``); SpecAugment masks the frames while training. The
feature settings are saved with the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..checks import Boolean, Integer, Number, OneOf
from ..errors import ConfigError, InputValueError, ModelFileError
from ..estimator import setting
from ..recognition.recognizer import CTCRecognizer, load_recognizer
from ..registry import register_format
from .features import audio_samples, raw_frames, speech_frames
from .stream import SpeechStream

FORMAT = "recurra.speech_recognizer"


@dataclass(eq=False, repr=False)
class SpeechRecognizer(CTCRecognizer):
    """Speech to text by CTC (see the module docstring); ``prior_`` holds the running normalisation's prior."""

    subsample: int = setting(2, "divide the 100 frames per second by 1, 2 or 4 with strided convolutions first", OneOf((1, 2, 4)))
    sample_rate: int = setting(8000, "the rate (Hz) every recording is resampled to", Integer(4000, 48000))
    n_mels: int = setting(40, "mel bands per frame", Integer(8, 128))
    cepstra: int = setting(0, "0: log-mel frames; k: their first k cepstral coefficients (MFCC)", Integer(0, 128))
    normalization: str = setting("utterance", "per-band normalisation: utterance (whole file) or running (causal)",
                                 OneOf(("utterance", "running")))  # fmt: skip
    warmup: float = setting(0.0, "seconds the running normalisation gathers before normalising the first frames",
                            Number(0, 10))  # fmt: skip
    spec_augment: bool = setting(True, "mask runs of frames and bands while training (SpecAugment)", Boolean())

    format_name: ClassVar[str] = FORMAT

    def check_together(self) -> None:
        super().check_together()
        if self.normalization == "running" and self.bidirectional:
            raise ConfigError("normalization='running' is for the streaming model: set bidirectional=False too")
        if self.warmup > 0 and self.normalization != "running":
            raise ConfigError(f"warmup={self.warmup} is for normalization='running'; got normalization={self.normalization!r}")

    @classmethod
    def load(cls, path: str | os.PathLike) -> SpeechRecognizer:
        """A speech recogniser saved by ``save`` (the same as ``recurra.load(path)``)."""
        return load_recognizer(path, cls)

    def _spec_augment(self) -> dict[str, int] | None:
        return (
            {"time_masks": 2, "time_width": 8, "freq_masks": 2, "freq_width": max(1, (self.cepstra or self.n_mels) // 8)}
            if self.spec_augment
            else None
        )

    def frames(self, audio: Any) -> np.ndarray:
        """The normalised log-mel frames ``(T, n_mels)`` the network reads for one recording."""
        samples = audio_samples(audio, self.sample_rate)
        prior = getattr(self, "prior_", None)
        return speech_frames(
            samples, self.sample_rate, self.n_mels, self.normalization, prior, self.cepstra, self.warmup_frames
        )

    @property
    def warmup_frames(self) -> int:
        """``warmup`` in frames of 10 ms."""
        return int(round(self.warmup * 100))

    def _sequences(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, (str, os.PathLike)) or (isinstance(X, np.ndarray) and X.ndim == 1):
            raise InputValueError("expected a list of recordings (WAV paths, (samples, rate) pairs or arrays), got one recording")
        return self._frame_sequences([self.frames(a) for a in X])

    def fit(
        self,
        X: Sequence[Any],
        texts: Sequence[str],
        *,
        validation_data: tuple[Sequence[Any], Sequence[str]] | None = None,
        epochs: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
        teacher: CTCRecognizer | None = None,
    ) -> SpeechRecognizer:
        """Train on recordings ``X`` and their ``texts``; returns ``self``. A fitted ``teacher`` (say the
        bidirectional model, teaching a streaming one) adds its per-frame posteriors to learn from (see
        ``CTCRecognizer.fit``); it reads the recordings with its own feature settings."""
        self.prior_ = None
        if self.normalization == "running":
            raw = np.concatenate(
                [raw_frames(audio_samples(a, self.sample_rate), self.sample_rate, self.n_mels, self.cepstra) for a in X]
            )
            self.prior_ = {"mean": raw.mean(0).tolist(), "var": raw.var(0).tolist()}
        return super().fit(X, texts, validation_data=validation_data, epochs=epochs, verbose=verbose,
                           checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks, teacher=teacher)  # fmt: skip

    def stream(self) -> SpeechStream:  # type: ignore[override]
        """A ``SpeechStream`` that transcribes blocks of samples as they arrive (one-way, running normalisation)."""
        return SpeechStream(self)

    def _extra_document(self) -> dict[str, Any]:
        return {"prior": self.prior_}

    def _read_extra_document(self, doc: dict[str, Any], where: Path) -> None:
        prior = doc.get("prior")
        if self.normalization == "running" and not (isinstance(prior, dict) and {"mean", "var"} <= set(prior)):
            raise ModelFileError(f"{where} is damaged: a model with running normalisation needs its 'prior' mean and var")
        self.prior_ = prior


register_format(FORMAT, lambda path: load_recognizer(path, SpeechRecognizer))
