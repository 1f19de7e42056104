"""``SequenceTagger``: one tag per token (aligned many to many), e.g. parts of speech, named entities in
BIO tags, or, at character level, the accent each letter of a text lost.

>>> tagger = SequenceTagger(cell="gru", units=8, embedding=8, epochs=2, validation=0.0)
>>> tagger = tagger.fit([["the", "dog"], ["a", "cat", "ran"]] * 4, [["D", "N"], ["D", "N", "V"]] * 4)
>>> len(tagger.predict([["the", "cat"]])[0])
2

Token sequences are lists of tokens, or strings split into words or characters (``level``). They are
padded with 0 to the longest in the batch and masked: the recurrent layers skip the padding, the loss
counts only real tokens, so every sequence is tagged as it would be alone. Without a CRF each token's
tag is the argmax of its scores; with ``crf=True`` a linear-chain CRF (``recurra.layers.CRF``) scores
whole tag sequences and ``predict`` returns the best one (Viterbi).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import torch

from ..checks import Boolean, Integer, Number, OneOf
from ..errors import InputValueError, ModelFileError
from ..estimator import Estimator, setting
from ..io import build_from_config
from ..limits import MAX_EPOCHS, MAX_FEATURES, MAX_LAYERS, MAX_STEPS, MAX_UNITS
from ..registry import register_format
from ..train.estimator_fit import LR_SCHEDULE_HELP, LR_SCHEDULES, fit_module
from ..train.trainer import set_seed
from .networks import check_cell
from .storage import WEIGHTS_FILE, load_module_state, read_text_directory, save_text_directory
from .tag_inputs import padded, padded_targets, pieces, tag_rows, token_rows
from .tagger_network import TaggerNetwork
from .tagging_metrics import TaggingReport, tagging_report
from .tokenizers import Tokenizer, make_tokenizer, normalize
from .vocab import Vocabulary

FORMAT = "recurra.sequence_tagger"
RATE = Number(0, 1, open_max=True)
POSITIVE_OR_NONE = Number(0, open_min=True, optional=True)


@dataclass(eq=False, repr=False)
class SequenceTagger(Estimator):
    """A recurrent tagger: one tag per token.

    The settings below are stored as given and checked together (``recurra.estimator``). ``fit`` learns
    ``tags_`` (the tags, in the order of the network's outputs), ``tokenizer_`` (how strings are split),
    ``vocab_``, ``network_`` and ``history_``.
    """

    cell: str = setting("lstm", "the recurrent cell (lstm, gru, rnn, indrnn, mingru, minlstm)", kw_only=False)
    units: int = setting(64, "units per recurrent layer (each direction)", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(1, "stacked recurrent layers", Integer(1, MAX_LAYERS), kw_only=False)
    bidirectional: bool = setting(True, "read each sequence both ways (a tag sees the tokens after it)", Boolean(), kw_only=False)
    crf: bool = setting(False, "score whole tag sequences with a linear-chain CRF (Viterbi at prediction)", Boolean())
    level: str = setting("word", "how strings are split into tokens: word or char", OneOf(("word", "char")))
    embedding: int = setting(64, "size of the token vectors", Integer(1, MAX_FEATURES))
    lower: bool = setting(False, "lowercase tokens before looking them up (tags still align with the tokens)", Boolean())
    min_count: int = setting(1, "keep tokens seen this often; rarer ones become <unk>", Integer(1))
    dropout: float = setting(0.0, "dropout on the token vectors, between layers and before the output", RATE)
    epochs: int = setting(10, "training epochs (at most: patience may stop earlier)", Integer(0, MAX_EPOCHS))
    batch_size: int = setting(32, "sequences per batch", Integer(1, MAX_STEPS))
    learning_rate: float = setting(2e-3, "Adam's learning rate", Number(0, open_min=True))
    lr_schedule: str = setting("constant", LR_SCHEDULE_HELP, OneOf(LR_SCHEDULES))
    clipnorm: float | None = setting(1.0, "the largest gradient norm (None: no clipping)", POSITIVE_OR_NONE)
    validation: float = setting(0.1, "the held-out share of sequences that picks the best epoch", RATE)
    patience: int | None = setting(3, "epochs without a better validation loss before stopping", Integer(1, optional=True))
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())
    max_length: int | None = setting(
        None, "train on pieces of at most this many tokens (longer sequences are cut; prediction reads them whole)",
        Integer(1, MAX_STEPS, optional=True),
    )  # fmt: skip

    fitted_attribute: ClassVar[str] = "network_"

    def check_together(self) -> None:
        check_cell(self.cell)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SequenceTagger:
        """A tagger saved by ``save`` (the same as ``recurra.load(path)``)."""
        return load_tagger(path)

    def _network(self) -> TaggerNetwork:
        """The network these settings, the learned vocabulary and the learned tags describe."""
        return TaggerNetwork(
            vocab_size=len(self.vocab_), tags=len(self.tags_), cell=self.cell, units=self.units, layers=self.layers,
            bidirectional=self.bidirectional, embedding=self.embedding, dropout=self.dropout, crf=self.crf,
        )  # fmt: skip

    # -- inputs -----------------------------------------------------------------------------------
    def splitter(self) -> Tokenizer:
        """How a string becomes tokens (words or characters, case kept): ``tokenize`` shows what ``predict`` tags."""
        return make_tokenizer(self.level, lower=False)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` that ``predict([text])`` gives one tag each."""
        return self.splitter().tokenize(text)

    def _ids(self, rows: Sequence[Sequence[str]]) -> list[list[int]]:
        return [self.vocab_.encode(normalize(t, self.lower) for t in row) for row in rows]

    def _tag_ids(self, tags: Sequence[Sequence[Any]], what: str) -> list[list[int]]:
        pos = {t: i for i, t in enumerate(self.tags_)}
        unseen = sorted({str(t) for row in tags for t in row if t not in pos})
        if unseen:
            raise InputValueError(
                f"{what} hold tags the tagger was not trained on: {unseen[:10]}; known tags: {[str(t) for t in self.tags_]}"
            )
        return [[pos[t] for t in row] for row in tags]

    def _tensors(self, rows: Sequence[Sequence[str]], tags: Sequence[Sequence[Any]], what: str) -> tuple[torch.Tensor, ...]:
        """Padded ids ``(N, T)`` and tag ids ``(N, T)`` (-1 on padding), rows cut to ``max_length``."""
        ids = pieces(self._ids(rows), self.max_length)
        targets = pieces(self._tag_ids(tags, what), self.max_length)
        return padded(ids, 0), padded_targets(targets)

    # -- training ---------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        validation_data: tuple[Any, Any] | None = None,
        epochs: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
    ) -> SequenceTagger:
        """Train on token sequences ``X`` with one tag per token in ``y``; returns ``self``. ``callbacks``: the
        engine's, beside the early stopping ``patience`` adds."""
        self.tokenizer_ = self.splitter()
        rows = token_rows(X, self.tokenizer_)
        tags = tag_rows(y, rows)
        self.tags_ = sorted({t for row in tags for t in row}, key=lambda t: (str(type(t)), t))
        idx = np.arange(len(rows))
        val_idx = idx[:0]
        if validation_data is None and self.validation and len(rows) >= 2:
            order = np.random.default_rng(self.seed).permutation(len(rows))
            n_val = min(max(1, round(self.validation * len(rows))), len(rows) - 1)
            idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])
        train_rows = [rows[i] for i in idx]
        self.vocab_ = Vocabulary.build(([normalize(t, self.lower) for t in row] for row in train_rows), min_count=self.min_count)
        xt, yt = self._tensors(train_rows, [tags[i] for i in idx], "the tag sequences")
        val = None
        if validation_data is not None:
            val_rows = token_rows(validation_data[0], self.tokenizer_)
            val = self._tensors(val_rows, tag_rows(validation_data[1], val_rows), "the validation tag sequences")
        elif len(val_idx):
            val = self._tensors([rows[i] for i in val_idx], [tags[i] for i in val_idx], "the tag sequences")
        set_seed(self.seed)
        self.network_ = self._network()
        self.history_ = fit_module(
            self.network_, self.network_.loss, xt, yt, learning_rate=self.learning_rate, clipnorm=self.clipnorm,
            lr_schedule=self.lr_schedule, patience=self.patience, epochs=self.epochs if epochs is None else int(epochs),
            seed=self.seed, batch_size=self.batch_size, validation_data=val, verbose=verbose, checkpoint_dir=checkpoint_dir,
            resume=resume, callbacks=callbacks, settings={k: v for k, v in self.get_params().items() if k != "epochs"},
        )  # fmt: skip
        return self

    # -- prediction -------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, X: Any, batch_size: int = 256) -> list[list[Any]]:
        """The tags of each token sequence, one per token (strings are split as ``tokenize`` shows)."""
        self._require_fitted("predict()")
        self.network_.eval()
        ids = self._ids(token_rows(X, self.tokenizer_))
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # batches of similar lengths pad little
        out: list[list[Any]] = [[] for _ in ids]
        for a in range(0, len(order), batch_size):
            batch = order[a : a + batch_size]
            xb = padded([ids[i] for i in batch], 0)  # (B, T_b)
            best = self.network_.decode(self.network_(xb), xb != 0)
            for i, row in zip(batch, best):
                out[i] = [self.tags_[k] for k in row]
        return out

    def evaluate(self, X: Any, y: Any) -> TaggingReport:
        """Token accuracy, each tag's precision, recall and F1, and span F1 when the tags are BIO."""
        self._require_fitted("evaluate()")
        rows = token_rows(X, self.tokenizer_)
        tags = tag_rows(y, rows)
        self._tag_ids(tags, "the tag sequences")  # unseen tags: a clear error
        return tagging_report(tags, self.predict(rows), self.tags_)

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``config.json`` (settings, tags), ``vocab.json`` and ``weights.safetensors`` to ``path``."""
        self._require_fitted("save()")
        doc = {"config": self.get_params(), "tokenizer": self.tokenizer_.get_config(), "tags": self.tags_}
        doc["history"] = self.history_
        return save_text_directory(path, FORMAT, doc, self.vocab_, self.network_, what="the tagger")


def load_tagger(path: str | os.PathLike) -> SequenceTagger:
    """Rebuild a ``SequenceTagger`` saved with ``save(path)``."""
    directory, vocab, state = read_text_directory(path, FORMAT)
    doc = directory.document

    def rebuild() -> SequenceTagger:
        tagger = SequenceTagger(**doc["config"])
        if vocab is None:
            raise ModelFileError(f"{path} is damaged: vocab.json is missing")
        tags = doc.get("tags")
        if not isinstance(tags, list) or not tags:
            raise ModelFileError(f"{directory.path / 'config.json'} is damaged: expected \"tags\" to be a non-empty list")
        tagger.tags_ = tags
        tagger.tokenizer_ = tagger.splitter()
        tagger.vocab_ = vocab
        tagger.history_ = dict(doc.get("history") or {})
        tagger.network_ = tagger._network()
        return tagger

    tagger = build_from_config(directory, rebuild, "a tagger")
    load_module_state(tagger.network_, state, directory.path / WEIGHTS_FILE)
    return tagger


register_format(FORMAT, load_tagger)

__all__ = ["SequenceTagger", "TaggingReport", "load_tagger"]
