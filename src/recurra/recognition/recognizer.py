"""``CTCRecognizer``: sequences of measured frames in, text out, with no alignment given (CTC).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> def frames(word):  # each letter: 3 frames of a one-hot signal with noise
...     clean = np.concatenate([np.tile(np.eye(4)[" ab".index(c) + 1], (3, 1)) for c in word])
...     return clean + rng.normal(0, 0.1, clean.shape)
>>> words = ["ab", "ba", "aab", "b a", "a", "bb"] * 10
>>> model = CTCRecognizer("gru", 16, layers=1, epochs=30, batch_size=8, learning_rate=1e-2, validation=0.0)
>>> model = model.fit([frames(w) for w in words], words)
>>> model.transcribe([frames("ab"), frames("b a")])
['ab', 'b a']

The frames are ``(T_i, F)`` arrays of any lengths — audio features, pen points, sensor readings — padded
and masked (a sequence gets the same output alone or in a batch). The network (``RecognizerNetwork``)
subsamples time by ``subsample``, runs ``layers`` recurrent layers of any cell of the family (bidirectional
by default), and gives CTC's per-frame log-probabilities over the ``alphabet_`` learned from the training
texts; ``transcribe`` decodes them greedily or by prefix beam search, with an optional character language
model; ``evaluate`` gives CER and WER.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ..checks import Boolean, Integer, Number, OneOf
from ..ctc.alphabet import Alphabet
from ..ctc.choices import best_choices
from ..ctc.decoding import NextLogProbs, greedy_decode, prefix_beam_search
from ..ctc.error_rates import cer, wer
from ..ctc.loss import frames_needed
from ..errors import ConfigError, InputValueError, ModelFileError, NotBuiltError, ShapeError
from ..estimator import Estimator, setting
from ..io import build_from_config
from ..limits import MAX_EPOCHS, MAX_FEATURES, MAX_LAYERS, MAX_STEPS, MAX_UNITS, MAX_VALUE
from ..registry import register_format
from ..text.networks import check_cell
from ..text.storage import WEIGHTS_FILE, load_module_state, read_text_directory, save_text_directory
from ..train.estimator_fit import LR_SCHEDULE_HELP, LR_SCHEDULES, fit_module
from ..train.trainer import set_seed
from .distill import DistillingNetwork, frame_kl_loss, teacher_targets
from .network import RecognizerNetwork, batch_ctc_loss, subsampled_length
from .stream import RecognizerStream

FORMAT = "recurra.ctc_recognizer"
RATE = Number(0, 1, open_max=True)
POSITIVE_OR_NONE = Number(0, open_min=True, optional=True)


@dataclass
class RecognitionScores:
    """``cer`` and ``wer`` (shares: 0.05 is 5 %) over ``count`` sequences."""

    cer: float
    wer: float
    count: int


@dataclass(eq=False, repr=False)
class CTCRecognizer(Estimator):
    """A recurrent recogniser trained by CTC: frames ``(T, F)`` -> text.

    ``fit`` learns ``alphabet_`` (the characters of the training texts, blank at 0), ``features_``,
    ``scaling_`` (each feature's training mean and std with ``standardize``), ``network_`` and ``history_``.
    """

    cell: str = setting("gru", "the recurrent cell (lstm, gru, rnn, indrnn, mingru, minlstm)", kw_only=False)
    units: int = setting(128, "units per recurrent layer (each direction)", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(2, "stacked recurrent layers", Integer(1, MAX_LAYERS))
    bidirectional: bool = setting(True, "read each sequence both ways (False: one way, for streaming)", Boolean())
    subsample: int = setting(1, "divide the frame rate by 1, 2 or 4 with strided convolutions first", OneOf((1, 2, 4)))
    conv_channels: int = setting(64, "channels of the subsampling convolutions", Integer(1, MAX_FEATURES))
    lookahead: int = setting(0, "subsampled frames a convolution reads ahead before the recurrent layers (0: none)",
                             Integer(0, 64))  # fmt: skip
    head_lookahead: int = setting(0, "steps of the recurrent layers' outputs the CTC head reads ahead (0: none)",
                                  Integer(0, 64))  # fmt: skip
    chunk: int = setting(0, "one-way models: a backward direction within chunks of this many subsampled steps (0: none)",
                         Integer(0, 256))  # fmt: skip
    distill_weight: float = setting(1.0, "λ: the weight of the teacher's per-frame KL divergence (fit(teacher=...))",
                                    Number(0))  # fmt: skip
    standardize: bool = setting(True, "scale each feature to mean 0 and std 1 (over the training frames)", Boolean())
    dropout: float = setting(0.1, "dropout before and between the recurrent layers", RATE)
    epochs: int = setting(20, "training epochs (at most: patience may stop earlier)", Integer(0, MAX_EPOCHS))
    batch_size: int = setting(32, "sequences per batch", Integer(1, MAX_STEPS))
    learning_rate: float = setting(2e-3, "Adam's learning rate", Number(0, open_min=True))
    lr_schedule: str = setting("constant", LR_SCHEDULE_HELP, OneOf(LR_SCHEDULES))
    clipnorm: float | None = setting(5.0, "the largest gradient norm (None: no clipping)", POSITIVE_OR_NONE)
    validation: float = setting(0.1, "the held-out share that picks the best epoch", RATE)
    patience: int | None = setting(3, "epochs without a better validation loss before stopping", Integer(1, optional=True))
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())

    fitted_attribute: ClassVar[str] = "network_"
    format_name: ClassVar[str] = FORMAT

    def check_together(self) -> None:
        check_cell(self.cell)
        if self.chunk > 0 and self.bidirectional:
            raise ConfigError(f"chunk={self.chunk} is for one-way models (a chunked backward direction): set bidirectional=False")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CTCRecognizer:
        """A recogniser saved by ``save`` (the same as ``recurra.load(path)``)."""
        return load_recognizer(path, cls)

    def _network(self) -> RecognizerNetwork:
        return RecognizerNetwork(
            features=self.features_, classes=len(self.alphabet_), cell=self.cell, units=self.units, layers=self.layers,
            bidirectional=self.bidirectional, subsample=self.subsample, conv_channels=self.conv_channels, dropout=self.dropout,
            spec_augment=self._spec_augment(), lookahead=self.lookahead,
            head_lookahead=self.head_lookahead, chunk=self.chunk,
        )  # fmt: skip

    def _spec_augment(self) -> dict[str, int] | None:
        """SpecAugment's settings for the network (None: no masking; ``SpeechRecognizer`` masks)."""
        return None

    # -- inputs -----------------------------------------------------------------------------------
    def _sequences(self, X: Any) -> list[np.ndarray]:
        """The inputs as checked ``(T, F)`` frame arrays (a subclass may compute frames from other inputs)."""
        return self._frame_sequences(X)

    def _frame_sequences(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 2:
            raise ShapeError(f"expected a list of (time, features) sequences, got one array of shape {X.shape}")
        seqs = [np.asarray(s, dtype=np.float64) for s in X]
        if not seqs:
            raise InputValueError("expected at least one sequence of frames, got none")
        width = getattr(self, "features_", None) or seqs[0].shape[-1]
        for i, s in enumerate(seqs):
            if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] != width:
                raise ShapeError(f"expected sequence {i} of shape (time >= 1, {width}), got {s.shape}")
            bad = np.argwhere(~np.isfinite(s) | (np.abs(s) > MAX_VALUE))
            if len(bad):
                step, col = bad[0]
                found = s[step, col]
                raise InputValueError(f"sequence {i} holds {found} at frame {step}, feature {col}; expected finite numbers")
        return seqs

    def _tensor(self, seqs: Sequence[np.ndarray]) -> torch.Tensor:
        """``(N, T, F + 1)``: the (scaled) frames right-padded with zeros, and the real-frame channel."""
        T = max(len(s) for s in seqs)
        out = np.zeros((len(seqs), T, self.features_ + 1), dtype=np.float32)
        mean, std = (np.asarray(self.scaling_[k]) for k in ("mean", "std")) if self.scaling_ else (0.0, 1.0)
        for i, s in enumerate(seqs):
            out[i, : len(s), :-1] = (s - mean) / std
            out[i, : len(s), -1] = 1.0
        return torch.from_numpy(out)

    def _labels(self, seqs: Sequence[np.ndarray], texts: Sequence[str], what: str) -> torch.Tensor:
        """``(N, L)`` label ids padded with the blank; each text checked against its frames."""
        if isinstance(texts, str) or len(texts) != len(seqs):
            found = "one string" if isinstance(texts, str) else f"{len(texts)} texts"
            raise InputValueError(f"expected one text per sequence ({len(seqs)}) in {what}, got {found}")
        rows = []
        for i, (s, text) in enumerate(zip(seqs, texts)):
            if not isinstance(text, str) or not text:
                raise InputValueError(f"expected a non-empty text for sequence {i} of {what}, got {text!r}")
            ids = self.alphabet_.encode(text, where=f"text {i} of {what}")
            frames = subsampled_length(len(s), self.subsample)
            if frames_needed(ids) > frames:
                raise InputValueError(
                    f"sequence {i} of {what} is too short for its text under CTC: {text!r} needs at least "
                    f"{frames_needed(ids)} frames, got {frames} ({len(s)} frames before subsampling by {self.subsample})"
                )
            rows.append(ids)
        out = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out

    # -- training ---------------------------------------------------------------------------------
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
    ) -> CTCRecognizer:
        """Train on sequences of frames ``X`` and their ``texts``; returns ``self``. With a fitted ``teacher`` (the
        same frames after subsampling, e.g. a bidirectional model for a one-way one) the model takes the teacher's
        alphabet and its loss adds ``distill_weight`` times the KL divergence from the teacher's per-frame
        posteriors (``recurra.recognition.distill``)."""
        self.features_, self.scaling_ = None, None
        seqs = self._sequences(X)
        self.features_ = int(seqs[0].shape[1])
        if isinstance(texts, str) or len(texts) != len(seqs):
            found = "one string" if isinstance(texts, str) else f"{len(texts)} texts"
            raise InputValueError(f"expected one text per sequence ({len(seqs)}), got {found}")
        texts = list(texts)
        empty = next((i for i, t in enumerate(texts) if not isinstance(t, str) or not t), None)
        if empty is not None:
            raise InputValueError(f"expected a non-empty text for sequence {empty} of the training data, got {texts[empty]!r}")
        self.alphabet_ = Alphabet.from_texts(t for t in texts if isinstance(t, str))
        if teacher is not None:  # the teacher's classes: the student's texts must be written in them
            if not getattr(teacher, "fitted", False):
                raise NotBuiltError("the teacher must be a fitted recogniser; call its fit() first")
            self.alphabet_ = teacher.alphabet_
        idx, val_idx = np.arange(len(seqs)), np.arange(0)
        if validation_data is None and self.validation and len(seqs) >= 2:
            order = np.random.default_rng(self.seed).permutation(len(seqs))
            n_val = min(max(1, round(self.validation * len(seqs))), len(seqs) - 1)
            idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])
        if self.standardize:
            frames = np.concatenate([seqs[i] for i in idx])
            std = frames.std(0)
            self.scaling_ = {"mean": frames.mean(0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}
        labels: Any = self._labels(seqs, texts, "the training data")
        x = self._tensor(seqs)
        if teacher is not None:
            labels = (labels, self._teacher_targets(teacher, X, seqs))
        train = (x[torch.from_numpy(idx)], _rows(labels, idx))
        val = None
        if validation_data is not None:
            vs = self._sequences(validation_data[0])
            val = (self._tensor(vs), self._labels(vs, list(validation_data[1]), "the validation data"))
            if teacher is not None:
                val = (val[0], (val[1], self._teacher_targets(teacher, validation_data[0], vs)))
        elif len(val_idx):
            val = (x[torch.from_numpy(val_idx)], _rows(labels, val_idx))
        set_seed(self.seed)
        self.network_ = self._network()
        module, loss = self.network_, batch_ctc_loss
        if teacher is not None:
            module, loss = DistillingNetwork(self.network_), [batch_ctc_loss, frame_kl_loss(self.distill_weight)]
        self.history_ = fit_module(
            module, loss, *train, learning_rate=self.learning_rate, clipnorm=self.clipnorm,
            lr_schedule=self.lr_schedule, patience=self.patience, epochs=self.epochs if epochs is None else int(epochs),
            seed=self.seed, batch_size=self.batch_size, validation_data=val, verbose=verbose, checkpoint_dir=checkpoint_dir,
            resume=resume, callbacks=callbacks, settings={k: v for k, v in self.get_params().items() if k != "epochs"},
        )  # fmt: skip
        return self

    def _teacher_targets(self, teacher: CTCRecognizer, X: Any, seqs: Sequence[np.ndarray]) -> torch.Tensor:
        frames = [subsampled_length(len(s), self.subsample) for s in seqs]
        return teacher_targets(teacher, X, frames, self.alphabet_)

    # -- recognition ------------------------------------------------------------------------------
    @torch.no_grad()
    def log_probabilities(self, X: Sequence[Any]) -> list[np.ndarray]:
        """CTC's per-frame log-probabilities of each sequence, ``(T'_i, len(alphabet_))`` (column 0: the blank)."""
        self._require_fitted("log_probabilities()")
        self.network_.eval()
        x = self._tensor(self._sequences(X))
        out = self.network_(x)
        return [out[i, : int(n)].double().numpy() for i, n in enumerate(self.network_.lengths(x))]

    def transcribe(
        self, X: Sequence[Any], beam: int = 1, lm: NextLogProbs | None = None, lm_weight: float = 0.0,
        insertion_bonus: float = 0.0, batch_size: int = 64, choices: Sequence[str] | None = None,
    ) -> list[str]:  # fmt: skip
        """The text of each sequence: greedy (``beam=1``, no ``lm``), prefix beam search with ``lm`` fused, or
        with ``choices`` the most probable of those texts (``recurra.ctc.best_choices``)."""
        candidates = None
        if choices is not None:
            if isinstance(choices, str) or not len(choices):
                raise InputValueError(f"expected a list of texts to choose from, got {choices!r}")
            candidates = [self.alphabet_.encode(c, where=f"choice {i}") for i, c in enumerate(choices)]
        texts: list[str] = []
        for a in range(0, len(X), batch_size):
            log_probs = self.log_probabilities(X[a : a + batch_size])
            if candidates is not None:
                texts.extend(choices[i] for i in best_choices(log_probs, candidates)[0])
                continue
            for lp in log_probs:
                if beam == 1 and lm is None:
                    ids = greedy_decode(lp[None])[0]
                else:
                    ids = prefix_beam_search(lp[None], beam=beam, lm=lm, lm_weight=lm_weight, insertion_bonus=insertion_bonus)[0]
                texts.append(self.alphabet_.decode(ids))
        return texts

    def stream(self) -> RecognizerStream:
        """A ``RecognizerStream`` that transcribes blocks of frames as they arrive (one-way layers only)."""
        return RecognizerStream(self)

    def evaluate(
        self, X: Sequence[Any], texts: Sequence[str], beam: int = 1, choices: Sequence[str] | None = None
    ) -> RecognitionScores:
        """CER and WER of ``transcribe(X, beam, choices=choices)`` against ``texts`` (in the model's alphabet)."""
        self._require_fitted("evaluate()")
        if isinstance(texts, str) or len(texts) != len(X):
            found = "one string" if isinstance(texts, str) else f"{len(texts)} texts"
            raise InputValueError(f"expected one text per sequence ({len(X)}), got {found}")
        for i, text in enumerate(texts):
            self.alphabet_.encode(text, where=f"text {i}")
        hyps = self.transcribe(X, beam=beam, choices=choices)
        return RecognitionScores(cer=cer(hyps, texts), wer=wer(hyps, texts), count=len(hyps))

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``config.json`` (settings, alphabet, scaling) and ``weights.safetensors`` to ``path``."""
        self._require_fitted("save()")
        config = {k: v.item() if isinstance(v, np.generic) else v for k, v in self.get_params().items()}
        doc = {"config": config, "alphabet": "".join(self.alphabet_.characters), "features": self.features_,
               "scaling": self.scaling_, "history": self.history_, **self._extra_document()}  # fmt: skip
        return save_text_directory(path, self.format_name, doc, None, self.network_, what="the recogniser")

    def _extra_document(self) -> dict[str, Any]:
        """What a subclass adds to ``config.json`` (read back by ``_read_extra_document``)."""
        return {}

    def _read_extra_document(self, doc: dict[str, Any], where: Path) -> None:
        """Restore what ``_extra_document`` wrote."""


def _rows(labels: Any, rows: np.ndarray) -> Any:
    """The ``rows`` of the targets: one tensor, or a (labels, teacher) pair."""
    take = torch.from_numpy(rows)
    return tuple(t[take] for t in labels) if isinstance(labels, tuple) else labels[take]


def load_recognizer(path: str | os.PathLike, cls: Callable[..., CTCRecognizer] = CTCRecognizer) -> CTCRecognizer:
    """Rebuild a ``CTCRecognizer`` (or the subclass ``cls``) saved with ``save(path)``."""
    directory, _, state = read_text_directory(path, getattr(cls, "format_name", FORMAT))
    doc = directory.document

    def rebuild() -> CTCRecognizer:
        model = cls(**doc["config"])
        if not isinstance(doc.get("alphabet"), str) or not isinstance(doc.get("features"), int):
            where = directory.path / "config.json"
            raise ModelFileError(f"{where} is damaged: expected an 'alphabet' string and a 'features' count")
        model.alphabet_ = Alphabet(doc["alphabet"])
        model.features_ = doc["features"]
        model.scaling_ = doc.get("scaling")
        model.history_ = dict(doc.get("history") or {})
        model._read_extra_document(doc, directory.path / "config.json")
        model.network_ = model._network()
        return model

    model = build_from_config(directory, rebuild, "a recogniser")
    load_module_state(model.network_, state, directory.path / WEIGHTS_FILE)
    return model


register_format(FORMAT, load_recognizer)
