"""``Seq2Seq``: an encoder–decoder with attention for text to text (translation, summarisation).

>>> s = Seq2Seq(level="char", units=16, embedding=8, epochs=1, validation=0.0)
>>> s = s.fit(["uno", "dos", "tres"] * 4, ["one", "two", "three"] * 4)
>>> len(s.translate(["uno"], beam=2))
1

Texts are split into tokens (``level``: characters, words, or subword pieces learned by BPE on the
training side only) with one vocabulary per side. Training is teacher forcing (``batches.py``): the
decoder reads the target shifted right and learns to predict it, with scheduled sampling optional
(``scheduled_sampling = p``: each decoder input is, with probability ``p``, replaced by the token the
model itself predicted there in a first pass without gradients — parallel scheduled sampling). The
network is ``network.py``; decoding (greedy, sampled, beam search with length normalisation) is
``decoding.py``; metrics (BLEU and chrF by sacrebleu, exact match, ROUGE) are ``metrics.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from ...checks import Boolean, Integer, Number, OneOf
from ...errors import InputValueError, ShapeError
from ...estimator import Estimator, setting
from ...layers.family import check_cell
from ...limits import MAX_EPOCHS, MAX_FEATURES, MAX_LAYERS, MAX_STEPS, MAX_UNITS
from ...registry import register_format
from ...train.estimator_fit import LR_SCHEDULE_HELP, LR_SCHEDULES, fit_module
from ...train.numerics import flush_denormals
from ...train.trainer import set_seed
from ..tokenizers import make_tokenizer
from ..vocab import Vocabulary
from .attention import ATTENTIONS
from .batches import Pair, pad, pair_loader
from .decoding import beam_search, greedy, sample
from .files import FORMAT, read_seq2seq, save_seq2seq
from .lexicon import translation_table
from .network import BRIDGES, Seq2SeqNetwork
from .pairs import check_pairs, read_pairs
from .subword import SubwordTokenizer

LEVELS = ("char", "word", "subword")
MAX_LEXICON = 100  # translations kept per source token


@dataclass
class TranslationScores:
    """Corpus ``bleu`` and ``chrf`` (sacrebleu, 0-100), ``exact_match`` (a share), over ``count`` pairs."""

    bleu: float
    chrf: float
    exact_match: float
    count: int

    def as_dict(self) -> dict[str, float]:
        return {"bleu": self.bleu, "chrf": self.chrf, "exact_match": self.exact_match, "count": self.count}


@dataclass(eq=False, repr=False)
class Seq2Seq(Estimator):
    """An encoder–decoder: ``fit(sources, targets)``, ``translate(texts)``, ``evaluate(sources, targets)``.

    ``fit`` learns ``source_tokenizer_`` / ``target_tokenizer_``, ``source_vocab_`` / ``target_vocab_``,
    ``network_`` (``Seq2SeqNetwork``) and ``history_``.
    """

    cell: str = setting("gru", "the recurrent cell (lstm, gru, rnn, indrnn, mingru, minlstm)", kw_only=False)
    units: int = setting(256, "units of the encoder's and decoder's layers", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(1, "stacked layers in the encoder and in the decoder", Integer(1, MAX_LAYERS), kw_only=False)
    bidirectional_encoder: bool = setting(True, "read the source both ways (units/2 each way)", Boolean())
    attention: str | None = setting("general", "general or dot (Luong), additive (Bahdanau: slower), or None",
                                    OneOf(ATTENTIONS, optional=True))  # fmt: skip
    bridge: str = setting("copy", "the decoder's first states: copy the encoder's, dense (tanh layer) or none", OneOf(BRIDGES))
    copy: bool = setting(False, "pointer-generator: the decoder may copy source tokens (needs attention)", Boolean())
    lexicon: int = setting(
        0, "bias the decoder towards the k likeliest translations (IBM Model 1 of the training pairs) of the source "
        "tokens it attends to (needs attention; 0: none)", Integer(0, MAX_LEXICON),
    )  # fmt: skip
    embedding: int = setting(128, "size of the token vectors", Integer(1, MAX_FEATURES))
    level: str = setting("subword", "tokens: char, word or subword (BPE learned on the training side)", OneOf(LEVELS))
    subword_vocab: int = setting(4000, "subword pieces per side (level='subword')", Integer(16, MAX_FEATURES))
    lower: bool = setting(False, "lowercase texts", Boolean())
    min_count: int = setting(1, "keep tokens seen this often; rarer ones become <unk>", Integer(1))
    max_vocab: int | None = setting(None, "keep at most this many tokens per side", Integer(1, MAX_FEATURES, optional=True))
    max_source_length: int = setting(200, "the longest source accepted, in tokens", Integer(1, MAX_STEPS))
    max_target_length: int = setting(200, "the longest target accepted and written, in tokens", Integer(1, MAX_STEPS))
    dropout: float = setting(0.1, "dropout on embeddings, between layers and before the output", Number(0, 1, open_max=True))
    scheduled_sampling: float = setting(0.0, "probability of feeding the decoder its own prediction", Number(0, 1))
    epochs: int = setting(10, "training epochs (at most: patience may stop earlier)", Integer(0, MAX_EPOCHS))
    batch_size: int = setting(64, "sentence pairs per batch (grouped by length)", Integer(1, MAX_STEPS))
    learning_rate: float = setting(2e-3, "Adam's learning rate", Number(0, open_min=True))
    lr_schedule: str = setting("constant", LR_SCHEDULE_HELP, OneOf(LR_SCHEDULES))
    clipnorm: float | None = setting(
        1.0, "the largest gradient norm (None: no clipping)", Number(0, open_min=True, optional=True)
    )
    validation: float = setting(0.05, "the held-out share of pairs that picks the best epoch", Number(0, 1, open_max=True))
    patience: int | None = setting(3, "epochs without a better validation loss before stopping", Integer(1, optional=True))
    length_penalty: float = setting(1.0, "beam search ranks finished sentences by score / length**length_penalty", Number(0))
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())

    fitted_attribute: ClassVar[str] = "network_"

    def check_together(self) -> None:
        check_cell(self.cell)
        if self.bidirectional_encoder and self.units % 2:
            from ...errors import ConfigError

            raise ConfigError(f"a bidirectional encoder splits units in two directions: expected even units, got {self.units}")
        if self.copy and self.attention is None:
            from ...errors import ConfigError

            raise ConfigError("copy=True copies where the decoder attends: it needs attention, got attention=None")
        if self.lexicon and self.attention is None:
            from ...errors import ConfigError

            raise ConfigError(f"lexicon={self.lexicon} reads where the decoder attends: it needs attention, got attention=None")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Seq2Seq:
        """A model saved by ``save`` (the same as ``recurra.load(path)``)."""
        return read_seq2seq(path, cls)

    def _network(self) -> Seq2SeqNetwork:
        net = Seq2SeqNetwork(
            len(self.source_vocab_), len(self.target_vocab_), cell=self.cell, units=self.units, layers=self.layers,
            embedding=self.embedding, bidirectional_encoder=self.bidirectional_encoder, attention=self.attention,
            bridge=self.bridge, dropout=self.dropout, copy=self.copy, lexicon=self.lexicon,
        )  # fmt: skip
        if self.copy:
            net.set_copy_map(self._copy_map())
        return net

    def _copy_map(self) -> torch.Tensor:
        """π: for each source token, the target token of the same text; 0 (dropped) when the target vocabulary
        lacks it, and for the four special tokens, which are never copied."""
        target = {t: i for i, t in enumerate(self.target_vocab_.tokens)}
        first = 4  # <pad>, <unk>, <start>, <end> are never copied
        return torch.tensor([target.get(t, 0) if i >= first else 0 for i, t in enumerate(self.source_vocab_.tokens)])

    def _lexicon(self, pairs: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
        """λ and p(w | x) of ``Seq2SeqNetwork``: for each source token, its ``lexicon`` likeliest target tokens
        and their probabilities under IBM Model 1 (``lexicon.translation_table``) of the training pairs' tokens;
        0 and 0 where a token has fewer (and for tokens never seen in a training source)."""
        table = translation_table([x for x, _ in pairs], [y for _, y in pairs]).top(self.lexicon)
        ids = torch.zeros(len(self.source_vocab_), self.lexicon, dtype=torch.long)
        probs = torch.zeros(len(self.source_vocab_), self.lexicon)
        for source, (targets, scores) in table.items():
            ids[source, : len(targets)] = torch.tensor(targets)
            probs[source, : len(scores)] = torch.tensor(scores)
        return ids, probs

    # -- tokens -----------------------------------------------------------------------------------
    def _tokenizers(self, sources: Sequence[str], targets: Sequence[str]) -> None:
        if self.level == "subword":
            self.source_tokenizer_ = SubwordTokenizer.train(sources, self.subword_vocab, self.lower)
            self.target_tokenizer_ = SubwordTokenizer.train(targets, self.subword_vocab, self.lower)
        else:
            self.source_tokenizer_ = make_tokenizer(self.level, self.lower)
            self.target_tokenizer_ = make_tokenizer(self.level, self.lower)

    def _ids(self, texts: Sequence[str], side: str, positions: Sequence[int] | None = None) -> list[list[int]]:
        """Id rows of ``texts``; a text longer than the side's maximum is refused, naming its position (in
        ``positions``, the caller's numbering, when given)."""
        tok, vocab = (
            (self.source_tokenizer_, self.source_vocab_) if side == "source" else (self.target_tokenizer_, self.target_vocab_)
        )
        limit = self.max_source_length if side == "source" else self.max_target_length
        rows = []
        for i, t in enumerate(texts):
            ids = vocab.encode(tok.tokenize(t))
            if len(ids) > limit:
                setting_name = f"max_{side}_length"
                raise InputValueError(
                    f"{side} {i if positions is None else int(positions[i])} is {len(ids)} tokens long, "
                    f"longer than {setting_name}={limit}: "
                    f"raise {setting_name} or leave out the longer pairs ({t[:60]!r}...)"
                )
            rows.append(ids)
        return rows

    def _texts(self, ids: Sequence[int]) -> str:
        return self.target_tokenizer_.detokenize(self.target_vocab_.decode(ids))

    # -- training ---------------------------------------------------------------------------------
    def fit(
        self,
        sources: Sequence[str] | str | os.PathLike,
        targets: Sequence[str] | None = None,
        *,
        validation_data: tuple[Sequence[str], Sequence[str]] | None = None,
        epochs: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
    ) -> Seq2Seq:
        """Learn to turn ``sources`` into ``targets`` (lists of strings of equal length, or ``sources`` a
        CSV/TSV file of two columns and ``targets`` None); returns ``self``."""
        if targets is None and isinstance(sources, (str, os.PathLike)):
            sources, targets = read_pairs(sources)
        sources, targets = check_pairs(sources, targets)
        idx = np.arange(len(sources))
        val_idx = np.array([], dtype=np.int64)
        if validation_data is None and self.validation and len(sources) >= 2:
            rng = np.random.default_rng(self.seed)
            idx = rng.permutation(len(sources))
            n_val = max(1, int(round(self.validation * len(sources))))
            idx, val_idx = np.sort(idx[n_val:]), np.sort(idx[:n_val])
        train_src, train_tgt = [sources[i] for i in idx], [targets[i] for i in idx]
        self._tokenizers(train_src, train_tgt)
        self.source_vocab_ = Vocabulary.build((self.source_tokenizer_.tokenize(t) for t in train_src), min_count=self.min_count,
                                              max_size=self.max_vocab)  # fmt: skip
        self.target_vocab_ = Vocabulary.build((self.target_tokenizer_.tokenize(t) for t in train_tgt), min_count=self.min_count,
                                              max_size=self.max_vocab)  # fmt: skip
        train = list(zip(self._ids(train_src, "source", idx), self._ids(train_tgt, "target", idx)))
        val_pairs: list[Pair] = []
        if validation_data is not None:
            vs, vt = check_pairs(*validation_data, what="validation")
            val_pairs = list(zip(self._ids(vs, "source"), self._ids(vt, "target")))
        elif len(val_idx):
            val_src, val_tgt = [sources[i] for i in val_idx], [targets[i] for i in val_idx]
            val_pairs = list(zip(self._ids(val_src, "source", val_idx), self._ids(val_tgt, "target", val_idx)))
        lexicon = self._lexicon(train) if self.lexicon else None
        set_seed(self.seed)
        self.network_ = self._network()
        if lexicon is not None:
            self.network_.set_lexicon(*lexicon)
        val = pair_loader(val_pairs, self.batch_size, shuffle=False) if val_pairs else None
        teacher = _Teacher(self.network_, self.scheduled_sampling)
        with flush_denormals():
            self.history_ = fit_module(
                teacher, sequence_loss, pair_loader(train, self.batch_size, shuffle=True),
                learning_rate=self.learning_rate, lr_schedule=self.lr_schedule, clipnorm=self.clipnorm, patience=self.patience,
                epochs=self.epochs if epochs is None else int(epochs), seed=self.seed, validation_data=val, verbose=verbose,
                checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks,
                settings={k: v for k, v in self.get_params().items() if k != "epochs"},
            )  # fmt: skip
        self.network_.eval()
        return self

    # -- decoding ---------------------------------------------------------------------------------
    def _source_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if isinstance(texts, str):
            raise InputValueError("expected a list of texts, got one string (wrap it in a list)")
        texts = list(texts.tolist() if isinstance(texts, (pd.Series, np.ndarray)) else texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise InputValueError(f"expected texts (strings), got {type(texts[bad]).__name__} at position {bad}")
        return [ids or [Vocabulary.unk_id] for ids in self._ids(texts, "source")]

    @torch.no_grad()
    def translate(
        self,
        texts: Sequence[str],
        *,
        beam: int = 1,
        max_length: int | None = None,
        temperature: float | None = None,
        seed: int = 0,
        batch_size: int = 64,
    ) -> list[str]:
        """The output text for each input: greedy (``beam=1``), beam search (``beam=k``), or sampled at
        ``temperature`` (drawn with ``seed``); at most ``max_length`` tokens (``max_target_length``)."""
        options = dict(beam=beam, max_length=max_length, temperature=temperature, seed=seed, batch_size=batch_size)
        rows = self.translate_ids(texts, **options)
        return [self._texts(ids) for ids in rows]

    @torch.no_grad()
    def translate_ids(
        self, texts: Sequence[str], *, beam: int = 1, max_length: int | None = None, temperature: float | None = None,
        seed: int = 0, batch_size: int = 64,
    ) -> list[list[int]]:  # fmt: skip
        """Like ``translate``, the target token ids of each output."""
        self._require_fitted("translate()")
        Integer(1, 1000)("beam", beam)
        Integer(1, MAX_STEPS, optional=True)("max_length", max_length)
        Number(0, open_min=True, optional=True)("temperature", temperature)
        if temperature is not None and beam != 1:
            raise InputValueError(f"sampling (temperature={temperature}) draws one output per text: expected beam=1, got {beam}")
        rows = self._source_batch(texts)
        limit = self.max_target_length if max_length is None else int(max_length)
        net = self.network_.eval()
        generator = torch.Generator().manual_seed(int(seed))
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # similar lengths together
        out: list[list[int]] = [[] for _ in rows]
        start, end = Vocabulary.start_id, Vocabulary.end_id
        with flush_denormals():
            for a in range(0, len(order), batch_size):
                chunk = order[a : a + batch_size]
                memory, states = net.encode(pad([rows[i] for i in chunk]))
                if temperature is not None:
                    ids = sample(net, memory, states, start, end, limit, float(temperature), generator)
                elif beam == 1:
                    ids = greedy(net, memory, states, start, end, limit)
                else:
                    ids = beam_search(net, memory, states, start, end, limit, beam, self.length_penalty)
                for i, row in zip(chunk, ids):
                    out[i] = row
        return out

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Greedy outputs (``translate(texts)``)."""
        return self.translate(texts)

    def evaluate(self, sources: Sequence[str], targets: Sequence[str], *, beam: int = 1) -> TranslationScores:
        """BLEU, chrF and exact match of the outputs for ``sources`` against ``targets``."""
        from .metrics import bleu, chrf, exact_match

        self._require_fitted("evaluate()")
        sources, targets = check_pairs(sources, targets)
        hyps = self.translate(sources, beam=beam)
        return TranslationScores(bleu(hyps, targets), chrf(hyps, targets), exact_match(hyps, targets), len(targets))

    @torch.no_grad()
    def attention_weights(self, source: str, output: str | None = None) -> tuple[list[str], list[str], np.ndarray]:
        """Where the decoder looked while writing ``output`` (the greedy translation when None): the source
        tokens, the output tokens (``<end>`` last) and the weights ``(output tokens, source tokens)``."""
        self._require_fitted("attention_weights()")
        if self.network_.attention is None:
            raise InputValueError("this model has no attention (attention=None): there are no weights to show")
        src = self._source_batch([source])[0]
        tgt = self.translate_ids([source])[0] if output is None else self._ids([output], "target")[0]
        net = self.network_.eval()
        memory, states = net.encode(pad([src]))
        target_in = torch.tensor([[Vocabulary.start_id, *tgt]])
        _, alpha, _ = net.decode(target_in, states, memory)  # (1, T, S)
        return self.source_vocab_.decode(src), self.target_vocab_.decode([*tgt, Vocabulary.end_id]), alpha[0].numpy()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the settings, both tokenizers and vocabularies (JSON) and the weights (safetensors) to ``path``."""
        self._require_fitted("save()")
        return save_seq2seq(self, path)


class _Teacher(torch.nn.Module):
    """The network under teacher forcing, with parallel scheduled sampling while training: a first pass
    without gradients predicts every target token, and each decoder input after ``<start>`` is replaced,
    with probability ``p``, by the prediction for that position."""

    def __init__(self, network: Seq2SeqNetwork, p: float):
        super().__init__()
        self.network = network
        self.p = float(p)

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        source, target_in = batch
        if self.training and self.p > 0:
            with torch.no_grad():
                guess = self.network(batch).argmax(-1)  # (B, T): the prediction of target_in[:, t + 1]
            swap = torch.rand(target_in.shape, device=target_in.device) < self.p
            swap[:, 0] = False
            shifted = torch.cat([target_in[:, :1], guess[:, :-1]], 1)  # (B, T)
            target_in = torch.where(swap & (target_in != 0), shifted, target_in)
        return self.network((source, target_in))


def sequence_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens (0 is padding): logits ``(B, T, V)``, target ``(B, T)``."""
    if logits.shape[:2] != target.shape:
        raise ShapeError(
            f"expected logits (B, T, V) matching targets (B, T), got {tuple(logits.shape)} and {tuple(target.shape)}"
        )
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1).long(), ignore_index=0)


def load_seq2seq(path: str | os.PathLike) -> Seq2Seq:
    """Rebuild a ``Seq2Seq`` saved with ``save(path)``."""
    return Seq2Seq.load(path)


register_format(FORMAT, load_seq2seq)
