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
from ..io import atomic_save_tensors, atomic_write_bytes, load_state, load_weights_file, read_document
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
    """The checked config document, the vocabulary (if saved) and the weights of a text model directory."""
    doc = read_document(path, fmt, what="recurra " + fmt.removeprefix("recurra.").replace("_", " "))
    if not isinstance(doc.get("config"), dict):
        raise ModelFileError(f'{Path(path) / CONFIG_FILE} is damaged: expected "config" to be a JSON object')
    path = Path(path)
    vocab = Vocabulary.load(path / VOCAB_FILE) if (path / VOCAB_FILE).exists() else None
    return doc, vocab, load_weights_file(path / WEIGHTS_FILE)


def load_module_state(module: nn.Module, state: dict[str, torch.Tensor], where: Path | str) -> None:
    load_state(module, state, where)
    module.eval()
