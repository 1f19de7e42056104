"""Directories for the text estimators: ``config.json`` + ``vocab.json`` + ``weights.safetensors`` +
``manifest.json``, written whole or not at all and checked when read (``recurra.io.directory``); no pickle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ModelFileError
from ..io import dump_json, load_state, open_model_directory, save_directory
from ..io.directory import ModelDirectory
from ..io.models import module_tensors
from .vocab import Vocabulary

CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE = "config.json", "vocab.json", "weights.safetensors"


def save_text_directory(
    path: str | os.PathLike, fmt: str, document: dict[str, Any], vocab: Vocabulary | None, module: nn.Module, *, what: str
) -> Path:
    extra = {VOCAB_FILE: dump_json(vocab.to_json(), f"{what}'s vocabulary")} if vocab is not None else {}
    doc = {"format": fmt, "format_version": 1, **document}
    return save_directory(path, doc, module_tensors(module), what=what, extra=extra)


def read_text_directory(path: str | os.PathLike, fmt: str) -> tuple[ModelDirectory, Vocabulary | None, dict[str, torch.Tensor]]:
    """The checked directory (``.document``: its config), the vocabulary (if saved) and the weights."""
    directory = open_model_directory(path, fmt, what="recurra " + fmt.removeprefix("recurra.").replace("_", " "))
    if not isinstance(directory.document.get("config"), dict):
        raise ModelFileError(f'{directory.path / CONFIG_FILE} is damaged: expected "config" to be a JSON object')
    vocab = (
        Vocabulary.from_json(directory.json(VOCAB_FILE), str(directory.path / VOCAB_FILE)) if directory.has(VOCAB_FILE) else None
    )
    return directory, vocab, directory.tensors(WEIGHTS_FILE)


def load_module_state(module: nn.Module, state: dict[str, torch.Tensor], where: Path | str) -> None:
    load_state(module, state, where)
    module.eval()
