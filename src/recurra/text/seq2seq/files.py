"""A ``Seq2Seq`` model directory: ``config.json`` (settings, tokenizer settings, history),
``source_vocab.json`` / ``target_vocab.json``, ``source_subword.json`` / ``target_subword.json`` (BPE
models, ``level='subword'``), ``weights.safetensors`` and ``manifest.json``; written whole or not at all,
checked when read, no pickle."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ModelFileError
from ...io import build_from_config, dump_json, open_model_directory
from ...io.models import module_tensors, save_directory
from ..storage import load_module_state
from ..tokenizers import tokenizer_from_config
from ..vocab import Vocabulary
from .subword import SubwordTokenizer

FORMAT = "recurra.seq2seq"
WEIGHTS_FILE = "weights.safetensors"
SIDES = ("source", "target")


def save_seq2seq(model: Any, path: str | os.PathLike) -> Path:
    extra: dict[str, bytes] = {}
    for side in SIDES:
        vocab: Vocabulary = getattr(model, f"{side}_vocab_")
        tok = getattr(model, f"{side}_tokenizer_")
        extra[f"{side}_vocab.json"] = dump_json(vocab.to_json(), f"the {side} vocabulary")
        if isinstance(tok, SubwordTokenizer):
            extra[f"{side}_subword.json"] = dump_json(tok.to_json(), f"the {side} subword model")
    doc = {
        "format": FORMAT,
        "format_version": 1,
        "config": model.get_params(),
        "tokenizers": {side: getattr(model, f"{side}_tokenizer_").get_config() for side in SIDES},
        "history": model.history_,
    }
    return save_directory(path, doc, module_tensors(model.network_), what="the seq2seq model", extra=extra, json_default=_number)


def _number(v: Any) -> Any:
    """A numpy scalar setting (``units=np.int64(256)``) as its Python number."""
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"cannot write {type(v).__name__} to JSON")


def read_seq2seq(path: str | os.PathLike, cls: type) -> Any:
    """Rebuild a ``cls`` (``Seq2Seq``) saved with ``save(path)``; a vocabulary that does not match the weights
    is refused."""
    directory = open_model_directory(path, FORMAT, what="recurra seq2seq model")
    doc = directory.document
    if not isinstance(doc.get("config"), dict) or not isinstance(doc.get("tokenizers"), dict):
        raise ModelFileError(f'{directory.path / "config.json"} is damaged: expected "config" and "tokenizers" objects')
    state = directory.tensors(WEIGHTS_FILE)

    def rebuild() -> Any:
        model = cls(**doc["config"])
        for side in SIDES:
            where = directory.path / f"{side}_vocab.json"
            vocab = Vocabulary.from_json(directory.json(f"{side}_vocab.json"), str(where))
            setattr(model, f"{side}_vocab_", vocab)
            config = doc["tokenizers"].get(side) or {}
            if config.get("level") == "subword":
                name = f"{side}_subword.json"
                tok = SubwordTokenizer.from_json(directory.json(name), str(directory.path / name))
            else:
                tok = tokenizer_from_config(config)
            setattr(model, f"{side}_tokenizer_", tok)
            rows = state.get(f"{side}_embed.embeddings")
            if rows is not None and rows.shape[0] != len(vocab):
                raise ModelFileError(
                    f"{where} does not match the weights: it holds {len(vocab)} tokens, the {side} embedding {rows.shape[0]} rows"
                )
        model.history_ = dict(doc.get("history") or {})
        model.network_ = model._network()
        return model

    model = build_from_config(directory, rebuild, "a seq2seq model")
    load_module_state(model.network_, state, directory.path / WEIGHTS_FILE)
    return model
