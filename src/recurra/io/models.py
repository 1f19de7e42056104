"""Model directories of ``Sequential`` and registered models: ``config.json`` (what to build) +
``weights.safetensors`` (the numbers) + ``manifest.json`` (their checksums).

No pickle anywhere: loading reads JSON and raw tensors and builds only classes registered with
recurra (``recurra.registry``), so opening a file never runs code from it. The directory is written
whole or not at all and checked when read (``recurra.io.directory``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from .. import registry
from .._version import __version__
from ..errors import ConfigError, InputValueError, ModelFileError, RecurraError, UnknownNameError
from ..registry import register_format
from .directory import CONFIG_FILE, ModelDirectory, check_finite, open_model_directory, tensor_bytes, write_model_directory
from .files import atomic_write_bytes, dump_json, read_json
from .keras_file import is_single_file, read_single_file, write_single_file

FORMAT = "recurra.model"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"


def module_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module``'s state dict, detached, on the CPU, contiguous: what a weights file holds."""
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_directory(path: str | os.PathLike, document: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                   what: str, extra: dict[str, bytes] | None = None, json_default: Any = None) -> Path:  # fmt: skip
    """Write ``config.json`` (``document`` plus the recurra version), ``weights.safetensors`` and the
    ``extra`` files into ``path`` as one unit. Refuses non-finite weights and config values, naming them."""
    check_finite(tensors, f"cannot save {what}: the weights", InputValueError)
    document = {**document, "recurra_version": __version__}
    files = {CONFIG_FILE: dump_json(document, what, default=json_default)}
    files[WEIGHTS_FILE] = tensor_bytes(tensors, {"format": str(document.get("format"))})
    files.update(extra or {})
    return write_model_directory(path, files)


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save a ``Sequential``, a functional model or a registered ``Model`` subclass to the directory
    ``path``, or, when ``path`` ends in ``.keras``, to one zip file holding the same files (``keras_file``)."""
    if type(model).__name__ not in registry.MODELS or not hasattr(model, "get_config"):
        raise ConfigError(
            f"cannot save {type(model).__name__} as a model directory: only Sequential and models registered "
            "with recurra.register_model are; use save_weights(module, path) for any module"
        )
    config = model.get_config()
    if not getattr(model, "built", True):
        raise ConfigError("cannot save a model without weights: train it, call it on an input, or build() it first")
    compile_config = model.compile_config() if hasattr(model, "compile_config") else None
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class_name": type(model).__name__,
        "config": config,
        "compile_config": compile_config,
    }
    build_config = model.build_config() if hasattr(model, "build_config") else None
    if build_config is not None:
        document["build_config"] = build_config
    what = f"the {type(model).__name__}"
    if is_single_file(path):
        return write_single_file(path, lambda d: save_directory(d, document, module_tensors(model), what=what))
    return save_directory(path, document, module_tensors(model), what=what)


def read_document(
    path: str | os.PathLike, fmt: str, *, what: str = "recurra model", max_version: int = FORMAT_VERSION
) -> dict[str, Any]:
    """The checked ``config.json`` of the model directory ``path`` (see ``open_model_directory``)."""
    return open_model_directory(path, fmt, what=what).document


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``path/config.json`` of a model saved by ``save_model``."""
    document = read_document(path, FORMAT)
    if not isinstance(document.get("config"), dict):
        raise ModelFileError(f'{Path(path) / CONFIG_FILE} is damaged: expected "config" to be a JSON object, got None')
    return document


def load_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of one safetensors file; refused when damaged or holding NaN or infinite values."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"weights file {path} is missing")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path} is damaged or not a safetensors file ({e})") from None
    check_finite(tensors, path)
    return tensors


def build_from_config(directory: ModelDirectory, make: Any, what: str) -> Any:
    """``make()`` with the errors a bad config gives turned into a ``ModelFileError`` naming the file."""
    try:
        return make()
    except (RecurraError, TypeError, KeyError, ValueError, RecursionError) as e:
        if isinstance(e, ModelFileError):
            raise
        reason = "configurations nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise ModelFileError(f"{directory.path / CONFIG_FILE} describes {what} recurra cannot build: {reason}") from None


def load_model(path: str | os.PathLike, *, compile: bool = True) -> nn.Module:
    """Rebuild a saved model (a directory, or a ``.keras`` file): from its config, then its weights;
    compiled again if it was."""
    if is_single_file(path):
        return read_single_file(path, lambda d: load_model(d, compile=compile), compile=compile)
    directory = open_model_directory(path, FORMAT)
    document = directory.document
    if not isinstance(document.get("config"), dict):
        raise ModelFileError(f'{directory.path / CONFIG_FILE} is damaged: expected "config" to be a JSON object, got None')
    name = document.get("class_name")
    if name not in registry.MODELS:
        raise ModelFileError(
            f"{directory.path / CONFIG_FILE} names the model class {name!r}; known: {', '.join(sorted(registry.MODELS))}"
        )
    model = build_from_config(directory, lambda: registry.MODELS[name].from_config(document["config"]), "a model")
    state = directory.tensors(WEIGHTS_FILE)
    if hasattr(model, "build") and not model.built:
        build_from_config(directory, model.build, "a model")
    elif isinstance(document.get("build_config"), dict) and hasattr(model, "build_from_config"):
        build_from_config(directory, lambda: model.build_from_config(document["build_config"]), "a model")
    load_state(model, state, directory.path / WEIGHTS_FILE)
    model.eval()
    if compile and document.get("compile_config"):
        cc = document["compile_config"]
        try:
            model.compile(
                cc["optimizer"], cc["loss"], cc.get("metrics"), clipnorm=cc.get("clipnorm"), clipvalue=cc.get("clipvalue")
            )
        except (UnknownNameError, ConfigError, TypeError, KeyError) as e:
            raise ModelFileError(f"{directory.path / CONFIG_FILE} holds compile settings recurra cannot use: {e}") from None
    return model


def load_state(module: nn.Module, state: dict[str, torch.Tensor], where: Path | str) -> None:
    """Load ``state`` into ``module`` after checking that every key and shape fits, naming the first misfit."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ModelFileError(
            f"{where} does not fit the model: missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
        )
    for k, expected in own.items():  # in the model's order: the first misfit a reader looks for
        if tuple(expected.shape) != tuple(state[k].shape):
            raise ModelFileError(f"{where}: {k} has shape {tuple(state[k].shape)}, the model expects {tuple(expected.shape)}")
    module.load_state_dict(state)


def save_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Save any module's ``state_dict`` to one ``.safetensors`` file, atomically."""
    tensors = module_tensors(module)
    check_finite(tensors, f"cannot save the weights of {type(module).__name__} to {path}: the weights", InputValueError)
    atomic_write_bytes(path, tensor_bytes(tensors, {"format": FORMAT + ".weights"}))


def load_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load a file written by ``save_weights`` into a module of the same structure."""
    load_state(module, load_weights_file(path), path)


def atomic_save_tensors(
    tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to the safetensors file ``path`` atomically."""
    atomic_write_bytes(path, tensor_bytes(tensors, metadata))


__all__ = [
    "FORMAT",
    "WEIGHTS_FILE",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "save_directory",
    "read_document",
    "read_config",
    "read_json",
    "load_weights_file",
    "load_state",
    "module_tensors",
    "build_from_config",
    "atomic_write_bytes",
    "atomic_save_tensors",
]
register_format(FORMAT, load_model)
