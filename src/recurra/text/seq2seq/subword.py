"""Subword tokens: a byte-pair-encoding model trained by Hugging Face's ``tokenizers`` on the training side
only, and saved as that library's JSON (no pickle, no code).

Text is NFC-normalised (and lowercased when asked); words are split at spaces, each word's first piece
carrying ``▁`` for the space before it (sentencepiece's convention), so joining the pieces and turning
``▁`` back into spaces gives the text again.

>>> tok = SubwordTokenizer.train(["el niño come", "la niña come pan"], vocab_size=40)
>>> tok.detokenize(tok.tokenize("el niño come pan"))
'el niño come pan'
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ...errors import ConfigError, ModelFileError
from ..vocab import SPECIALS, UNK


class SubwordTokenizer:
    """``tokenize(text) -> pieces``, ``detokenize(pieces) -> text``, ``to_json()`` / ``from_json()``."""

    level = "subword"

    def __init__(self, model: Any, lower: bool = False):
        self.model = model  # a tokenizers.Tokenizer
        self.lower = bool(lower)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, lower: bool = False) -> SubwordTokenizer:
        """A BPE model of at most ``vocab_size`` pieces learned from ``texts``."""
        from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ConfigError(f"expected subword_vocab as a positive integer, got {vocab_size!r}")
        model = Tokenizer(models.BPE(unk_token=UNK))
        model.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()]) if lower else normalizers.NFC()
        model.pre_tokenizer = pre_tokenizers.Metaspace()
        model.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS), show_progress=False)
        model.train_from_iterator(list(texts), trainer)
        return cls(model, lower)

    def tokenize(self, text: str) -> list[str]:
        return self.model.encode(text, add_special_tokens=False).tokens

    def detokenize(self, tokens: list[str]) -> str:
        return self.model.decoder.decode(tokens)

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "lower": self.lower, "normalization": "NFC"}

    def to_json(self) -> dict[str, Any]:
        """The model as JSON (``tokenizers``' own format) with the settings."""
        return {"config": self.get_config(), "model": json.loads(self.model.to_str())}

    @classmethod
    def from_json(cls, doc: Any, where: str) -> SubwordTokenizer:
        from tokenizers import Tokenizer

        if not isinstance(doc, dict) or not isinstance(doc.get("model"), dict) or not isinstance(doc.get("config"), dict):
            raise ModelFileError(f"{where} is not a subword tokenizer (expected 'config' and 'model' objects)")
        try:
            model = Tokenizer.from_str(json.dumps(doc["model"]))
        except Exception as e:  # the library's own parse error
            raise ModelFileError(f"{where} is damaged: the subword model does not load ({e})") from None
        return cls(model, bool(doc["config"].get("lower", False)))

    def __repr__(self) -> str:
        return f"SubwordTokenizer({self.model.get_vocab_size()} pieces, lower={self.lower})"
