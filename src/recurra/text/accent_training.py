"""Training a character tagger to restore Spanish accents: the pairs it learns from, the settings it
starts from, and a time limit.

A training pair is a window of stripped text and its tags (``recurra.text.accents.accent_tags``);
``restore_accents`` strips any text, tags its characters and puts the accents back.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from ..errors import InputValueError
from ..train.callbacks import Callback
from .accent_corpus import AccentCorpus, windows
from .accents import MostFrequentForm, accent_tags, restore, strip_accents
from .tagger import SequenceTagger

# A two-layer bidirectional GRU over characters: about 2 minutes an epoch of the corpus (4 M characters) on one CPU thread.
PRESET: dict[str, Any] = dict(
    cell="gru", units=96, layers=2, bidirectional=True, level="char", embedding=24, lower=True,
    dropout=0.1, epochs=4, batch_size=64, learning_rate=3e-3, patience=2,
)  # fmt: skip
WIDTH = 100  # characters per training window


def training_pairs(lines: Sequence[str], width: int = WIDTH) -> tuple[list[str], list[list[str]]]:
    """Stripped windows of ``width`` characters and one accent tag per character."""
    X, Y = [], []
    for window in windows(list(lines), width):
        stripped, tags = accent_tags(window)
        X.append(stripped)
        Y.append(tags)
    return X, Y


class TimeLimit(Callback):
    """Stops training after the batch during which ``seconds`` have passed since training began."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)
        self.start = 0.0
        self.stopped_at: tuple[int, int] | None = None  # (epoch, batch) where the limit stopped training
        self.epoch = 0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.stopped_at is None and time.perf_counter() - self.start > self.seconds:
            self.stopped_at = (self.epoch, batch)
            self.model.stop_training = True


def train_accent_tagger(
    corpus: AccentCorpus,
    *,
    width: int = WIDTH,
    seconds: float | None = None,
    verbose: int = 0,
    callbacks: Sequence[Callback] | None = None,
    settings: dict[str, Any] | None = None,
) -> SequenceTagger:
    """A character tagger (``PRESET``, updated by ``settings``) trained on the corpus's training block; the
    validation block picks the best epoch. ``seconds``: stop after this much training time."""
    X, Y = training_pairs(corpus.lines("train"), width)
    if not X:
        raise InputValueError(f"expected at least {width} characters of training text (one window), got fewer")
    validation = training_pairs(corpus.lines("validation"), width)
    validation = validation if validation[0] else None  # less than one window: no validation
    tagger = SequenceTagger(**{**PRESET, **(settings or {})})
    limit = [TimeLimit(seconds)] if seconds is not None else []
    return tagger.fit(X, Y, validation_data=validation, verbose=verbose, callbacks=[*(callbacks or []), *limit])


def restore_accents(
    tagger: SequenceTagger, texts: Sequence[str], batch_size: int = 256, seen: MostFrequentForm | None = None
) -> list[str]:
    """Each text stripped of its accents, then restored by ``tagger`` (tags that do not fit a letter leave it).
    ``seen``: a ``MostFrequentForm`` fitted on the training text; a restored word that is no form seen there
    (``públicó``), when its stripped form was seen, becomes the seen form closest to it (``publicó``)."""
    stripped = [strip_accents(t) for t in texts]
    keep = [i for i, s in enumerate(stripped) if s]
    tags = tagger.predict([stripped[i] for i in keep], batch_size=batch_size) if keep else []
    out = list(stripped)
    for i, row in zip(keep, tags):
        out[i] = restore(stripped[i], row, strict=False)
    return out if seen is None else [seen.to_seen_forms(t) for t in out]


__all__ = ["PRESET", "WIDTH", "TimeLimit", "training_pairs", "train_accent_tagger", "restore_accents"]
