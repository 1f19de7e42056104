"""Directories for the text estimators: ``config.json`` + ``vocab.json`` + ``weights.safetensors``.

Written atomically (each file to a temporary name, fsynced, renamed); read without pickle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ModelFileError
from ..io import atomic_save_tensors, atomic_write_bytes, load_state, load_weights_file
from .vocab import Vocabulary

CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE = "config.json", "vocab.json", "weights.safetensors"


def save_directory(
    path: str | os.PathLike, fmt: str, document: dict[str, Any], vocab: Vocabulary | None, module: nn.Module
) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    atomic_save_tensors(tensors, path / WEIGHTS_FILE, {"format": fmt})
    if vocab is not None:
        vocab.save(path / VOCAB_FILE)
    doc = {"format": fmt, "format_version": 1, **document}
    atomic_write_bytes(path / CONFIG_FILE, json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
    return path


def read_directory(path: str | os.PathLike, fmt: str) -> tuple[dict[str, Any], Vocabulary | None, dict[str, torch.Tensor]]:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model at {path}: the path does not exist")
    if not path.is_dir():
        raise ModelFileError(f"expected a model directory (holding {CONFIG_FILE} and {WEIGHTS_FILE}), got the file {path}")
    cfg = path / CONFIG_FILE
    if not cfg.exists():
        raise ModelFileError(f"{path} is not a recurra model: {CONFIG_FILE} is missing")
    try:
        doc = json.loads(cfg.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{cfg} is damaged: not valid JSON ({e})") from None
    found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
    if found != fmt:
        raise ModelFileError(f"{cfg} holds {found!r}; expected a {fmt!r} directory")
    if not isinstance(doc.get("config"), dict):
        raise ModelFileError(f'{cfg} is damaged: expected "config" to be a JSON object')
    if int(doc.get("format_version", 0)) > 1:
        raise ModelFileError(f"{cfg} has format version {doc['format_version']}; this recurra reads up to 1")
    vocab = Vocabulary.load(path / VOCAB_FILE) if (path / VOCAB_FILE).exists() else None
    return doc, vocab, load_weights_file(path / WEIGHTS_FILE)


def load_module_state(module: nn.Module, state: dict[str, torch.Tensor], where: Path | str) -> None:
    load_state(module, state, where)
    module.eval()
