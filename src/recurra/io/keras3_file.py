"""Keras 3's own ``.keras`` files: a zip of ``config.json`` (the model), ``metadata.json`` (the Keras version)
and ``model.weights.h5`` (the weights, HDF5), read into a recurra ``Sequential`` or functional model.

Nothing in the file is run or unpickled: the configuration is JSON, translated layer by layer into recurra's
(``keras3_layers``: classes by name from recurra's registry, one table of Keras-only arguments), the graph is
replayed on symbolic tensors (``keras3_model``) and the weights are plain arrays read with h5py
(``keras3_weights``). What recurra cannot follow exactly is refused with the layer, argument and value named.
The model gets the dtype of Keras's dtype policy (float32 or float64), is frozen where Keras's was, and is
compiled as Keras's was when recurra has the same optimiser, loss and metrics (``keras3_compile``).
"""

from __future__ import annotations

import os
import warnings
import zipfile
from typing import Any

import torch
from torch import nn

from ..errors import ModelFileError, RecurraError, RecurraWarning
from .files import parse_json
from .keras3_compile import compile_arguments
from .keras3_layers import dtype_policies, frozen
from .keras3_model import Pairs, build_model
from .keras3_weights import load_model_weights, open_h5

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def is_keras3_file(names: set[str]) -> bool:
    """Whether a ``.keras`` zip holding ``names`` was written by Keras (recurra's hold ``weights.safetensors``)."""
    return METADATA in names or WEIGHTS in names


def _member(z: zipfile.ZipFile, name: str, path: Any) -> bytes:
    names = sorted(m.filename for m in z.infolist())
    if name not in names:
        raise ModelFileError(f"{path} is a Keras .keras file without {name}: expected {CONFIG}, {METADATA} and {WEIGHTS}, "
                             f"found {', '.join(names) or 'nothing'}")  # fmt: skip
    try:
        return z.read(name)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ModelFileError(f"{path} is damaged: {name} cannot be read ({e})") from None


def _check_version(z: zipfile.ZipFile, path: Any) -> None:
    if METADATA not in z.namelist():
        return
    version = parse_json(_member(z, METADATA, path), f"{path}/{METADATA}")
    version = version.get("keras_version") if isinstance(version, dict) else None
    if isinstance(version, str) and not version.startswith("3."):
        raise ModelFileError(f"{path} was written by Keras {version}; recurra reads the .keras files of Keras 3")


def model_dtype(pairs: Pairs) -> torch.dtype:
    """The one float dtype of the model's layers (Keras's dtype policies); several are refused."""
    found = set().union(*(dtype_policies(entry) for entry, _ in pairs)) if pairs else set()
    if len(found) > 1:
        raise ModelFileError(f"the layers' dtype policies are {', '.join(sorted(found))}: recurra runs a model in one dtype")
    return DTYPES[found.pop()] if found else torch.float32


def _compile(model: nn.Module, document: dict[str, Any], path: Any) -> None:
    config = document.get("compile_config")
    if not config:
        return
    try:
        model.compile(**compile_arguments(config))
    except (RecurraError, TypeError, ValueError, KeyError) as e:
        warnings.warn(RecurraWarning(f"{path}: loaded without compiling ({e}); call compile(...) before fit"), stacklevel=4)


def _load(z: zipfile.ZipFile, path: Any) -> tuple[nn.Module, dict[str, Any]]:
    _check_version(z, path)
    document = parse_json(_member(z, CONFIG, path), f"{path}/{CONFIG}")
    data = _member(z, WEIGHTS, path)
    if not isinstance(document, dict):
        raise ModelFileError(f"expected {CONFIG} to hold an object, got {type(document).__name__}")
    model, pairs = build_model(document)
    model.to(model_dtype(pairs))
    try:
        with open_h5(data, WEIGHTS) as h5:
            load_model_weights(h5, pairs)
    except (OSError, KeyError) as e:
        raise ModelFileError(f"{WEIGHTS} is damaged ({e})") from None
    for entry, layer in pairs:
        if frozen(entry):
            layer.requires_grad_(False)
    if (document.get("config") or {}).get("trainable") is False:
        model.requires_grad_(False)
    return model, document


def read_keras3_file(path: str | os.PathLike, z: zipfile.ZipFile, *, compile: bool = True) -> nn.Module:
    """The recurra model held in the Keras 3 ``.keras`` file ``path`` (opened as ``z``), in eval mode."""
    try:
        model, document = _load(z, path)
    except ModelFileError as e:
        message = str(e)
        raise ModelFileError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    model.eval()
    if compile:
        _compile(model, document, path)
    return model


__all__ = ["read_keras3_file", "is_keras3_file"]
