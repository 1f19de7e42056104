"""Files: model directories written whole or not at all and checked when read; no pickle.

- ``save_model`` / ``load_model``: ``Sequential`` and registered models (``config.json`` +
  ``weights.safetensors`` + ``manifest.json``); ``save_weights`` / ``load_weights``: any module's
  weights as one safetensors file;
- ``load(path)``: any saved recurra directory (model, forecaster, language model, classifier),
  opened by the format its ``config.json`` records;
- ``write_model_directory`` / ``open_model_directory``: the atomic, checksummed directory every kind
  of saved object uses (``recurra.io.directory`` explains how a crash can never leave a mix).
"""

from .directory import ModelDirectory, check_finite, open_model_directory, tensor_bytes, write_model_directory
from .files import atomic_write_bytes, dump_json, parse_json, read_json, save_figure
from .load import load
from .models import (
    atomic_save_tensors,
    build_from_config,
    load_model,
    load_state,
    load_weights,
    load_weights_file,
    module_tensors,
    read_config,
    read_document,
    save_directory,
    save_model,
    save_weights,
)

__all__ = [
    "load",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "ModelDirectory",
    "open_model_directory",
    "write_model_directory",
    "save_directory",
    "check_finite",
    "tensor_bytes",
    "atomic_write_bytes",
    "save_figure",
    "atomic_save_tensors",
    "dump_json",
    "parse_json",
    "read_json",
    "read_document",
    "read_config",
    "load_weights_file",
    "load_state",
    "build_from_config",
    "module_tensors",
]
